"""Which payment rails a client stack runs, built from its payment secret and its client file.

The payment secret (Secrets Manager ``rapport/<client>/payments``, see
``rapport_infra.catalogue.payment_secret_name``) is one JSON object. Every key is optional; a
provider is wired exactly when its keys are present::

    {
      "sandbox_webhook_secret": "<random>",                      # Rapport's own local rail
      "webhook_base_url": "https://<api>.execute-api.<region>.amazonaws.com/v1",
      "plan_token_secret": "<random, 16 bytes or more>",         # signs plan acceptance links
      "debicheck": {"provider": "sandbox", "callback_secret": "<random>"},
        # or, through Stitch: {"provider": "stitch", "webhook_secret": "whsec_...",
        #                      "client_id": "...", "client_secret": "..."}
      "paystack": {"secret_key": "sk_..."},
      "stitch": {"webhook_secret": "whsec_...", "client_id": "...", "client_secret": "..."},
      "ozow": {"site_code": "...", "private_key": "...", "api_key": "...", "is_test": false},
      "payfast": {"merchant_id": "...", "merchant_key": "...", "passphrase": "...", "sandbox": false},
      "peach": {"secret_token": "...", "entity_id": "...", "client_id": "...",
                "client_secret": "...", "merchant_id": "..."}
    }

Ozow, PayFast and Peach are told per request where to post their notifications: the provider's
own ``notify_url``, else ``<webhook_base_url>/webhooks/<provider>`` (the stack's ``WebhookUrl``
output). Paystack and Stitch take the webhook URL in their dashboards.

DebiCheck mandates go through the sandbox gateway or through Stitch (``debicheck.provider``). Its
callbacks arrive at ``/webhooks/debicheck``: the sandbox's signed with ``callback_secret``,
Stitch's through Svix with the ``whsec_`` secret of the Svix endpoint subscribed to Stitch's
``payment-consent-request`` and ``transaction`` events at that URL (its own endpoint, apart from the
Stitch link payments at ``/webhooks/stitch``, so each URL has one secret). With Stitch,
``callback_secret`` is optional: a verified Stitch callback is restated in our own signed shape
before it is recorded, with ``callback_secret`` or, without one, a random key held by the process.

The client file's ``[payments] provider`` names the rail that makes links; it must be among the
wired ones, or :class:`PaymentConfigurationError` says which fields are missing. The sandbox
stays the default: a client file that names no provider uses it. Nothing here reads the
environment or calls AWS: :class:`PaymentWiring` is handed a loader and builds everything on first
use, so a function that never touches payments never reads the secret.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from rapport.payments.debicheck import DebiCheckGateway, SandboxDebiCheckGateway
from rapport.payments.errors import PaymentConfigurationError
from rapport.payments.models import PaymentEvent, PaymentLinkRequest
from rapport.payments.providers import (
    HttpTransport,
    OzowProvider,
    PayFastProvider,
    PayFastServerValidator,
    PayFastValidator,
    PaymentProvider,
    PaystackProvider,
    PeachProvider,
    ProviderRegistry,
    SandboxProvider,
    StitchProvider,
    UrllibTransport,
)
from rapport.payments.providers.stitch_debicheck import StitchDebiCheckGateway
from rapport.payments.tokens import PlanTokenSigner

logger = Logger(child=True)

_URL = r"^https?://\S+$"


class _Keys(BaseModel):
    # Validation errors must never echo a key back into a log.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class PaystackKeys(_Keys):
    secret_key: SecretStr
    api_base_url: str = Field(default="https://api.paystack.co", pattern=_URL)


class StitchKeys(_Keys):
    webhook_secret: SecretStr
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    beneficiary: dict[str, Any] | None = None


class OzowKeys(_Keys):
    site_code: str = Field(min_length=1)
    private_key: SecretStr
    api_key: SecretStr
    is_test: bool = False
    notify_url: str | None = Field(default=None, pattern=_URL)


class PayFastKeys(_Keys):
    merchant_id: str = Field(min_length=1)
    merchant_key: SecretStr
    passphrase: SecretStr | None = None
    sandbox: bool = False
    notify_url: str | None = Field(default=None, pattern=_URL)


class PeachKeys(_Keys):
    secret_token: SecretStr
    entity_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    merchant_id: str = Field(min_length=1)
    notify_url: str | None = Field(default=None, pattern=_URL)


class DebiCheckKeys(_Keys):
    """The DebiCheck gateway: the sandbox (``callback_secret`` signs its callbacks) or Stitch (its
    Svix ``webhook_secret`` and API client credentials; ``callback_secret`` optional)."""

    provider: Literal["sandbox", "stitch"] = "sandbox"
    callback_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    client_id: str | None = Field(default=None, min_length=1)
    client_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _keys_of_the_provider(self) -> DebiCheckKeys:
        if self.provider == "sandbox" and self.callback_secret is None:
            raise ValueError("the sandbox gateway needs callback_secret")
        if self.provider == "stitch" and (
            self.webhook_secret is None or self.client_id is None or self.client_secret is None
        ):
            raise ValueError("the Stitch gateway needs webhook_secret, client_id and client_secret")
        return self


PROVIDER_NAMES = ("sandbox", "paystack", "stitch", "ozow", "payfast", "peach")


class PaymentKeys(BaseModel):
    """The payment secret's JSON, modelled. Unknown top-level keys are ignored (and named in a
    warning) so that adding a rail to the secret never breaks a running stack."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    sandbox_webhook_secret: SecretStr | None = None
    webhook_base_url: str | None = Field(default=None, pattern=_URL)
    plan_token_secret: SecretStr | None = None
    debicheck: DebiCheckKeys | None = None
    paystack: PaystackKeys | None = None
    stitch: StitchKeys | None = None
    ozow: OzowKeys | None = None
    payfast: PayFastKeys | None = None
    peach: PeachKeys | None = None

    @classmethod
    def from_secret_string(cls, text: str) -> PaymentKeys:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise PaymentConfigurationError("unreadable_secret", "the payment secret is not JSON") from error
        if not isinstance(document, Mapping):
            raise PaymentConfigurationError("unreadable_secret", "the payment secret is not a JSON object")
        unknown = sorted(set(document) - set(cls.model_fields))
        if unknown:
            logger.warning("payment secret has keys rapport does not use", extra={"keys": unknown})
        try:
            return cls.model_validate(document)
        except ValidationError as error:
            fields = sorted({".".join(str(part) for part in problem["loc"]) for problem in error.errors()})
            raise PaymentConfigurationError("invalid_secret", "fields: " + ", ".join(fields)) from None

    @property
    def provider_names(self) -> tuple[str, ...]:
        """The providers whose keys are present, in a fixed order."""
        present = {"sandbox": self.sandbox_webhook_secret is not None}
        present.update({name: getattr(self, name) is not None for name in PROVIDER_NAMES[1:]})
        return tuple(name for name in PROVIDER_NAMES if present[name])


def placeholder_email(request: PaymentLinkRequest) -> str:
    # NOTE: ".invalid" never delivers (RFC 2606), so Paystack's receipt cannot reach a stranger. A
    # debtor without an email on file gets no receipt; pass customer_email to use the account's.
    return f"{request.account_id.lower()}@debtor.invalid"


@dataclass(frozen=True)
class PaymentEnvironment:
    """What the adapters need besides their keys, injected by the runtime or a test."""

    clock: Callable[[], datetime]
    pay_page_base_url: str
    transport: HttpTransport | None = None
    customer_email: Callable[[PaymentLinkRequest], str] = placeholder_email
    payfast_validator: PayFastValidator | None = None
    # A mandate id -> its provider's reference, from the plan record (see runtime.build_payments).
    mandate_reference: Callable[[str], str | None] | None = None

    @property
    def http(self) -> HttpTransport:
        return self.transport or UrllibTransport()


def _notify_url(keys: PaymentKeys, own: str | None, provider: str) -> str:
    if own:
        return own
    if keys.webhook_base_url:
        return f"{keys.webhook_base_url.rstrip('/')}/webhooks/{provider}"
    raise PaymentConfigurationError(
        "missing_notify_url", f"{provider} needs {provider}.notify_url or webhook_base_url in the secret"
    )


def _sandbox(keys: PaymentKeys, env: PaymentEnvironment) -> PaymentProvider:
    assert keys.sandbox_webhook_secret is not None
    secret = keys.sandbox_webhook_secret.get_secret_value()
    return SandboxProvider(secret, env.pay_page_base_url, clock=env.clock)


def _paystack(keys: PaymentKeys, env: PaymentEnvironment) -> PaymentProvider:
    own = keys.paystack
    assert own is not None
    return PaystackProvider(
        own.secret_key.get_secret_value(), env.http, env.customer_email, api_base_url=own.api_base_url
    )


def _stitch(keys: PaymentKeys, env: PaymentEnvironment) -> PaymentProvider:
    own = keys.stitch
    assert own is not None
    return StitchProvider(
        own.webhook_secret.get_secret_value(),
        env.http,
        own.client_id,
        own.client_secret.get_secret_value(),
        beneficiary=own.beneficiary,
    )


def _ozow(keys: PaymentKeys, env: PaymentEnvironment) -> PaymentProvider:
    own = keys.ozow
    assert own is not None
    page = env.pay_page_base_url.rstrip("/")
    return OzowProvider(
        own.site_code,
        own.private_key.get_secret_value(),
        own.api_key.get_secret_value(),
        env.http,
        notify_url=_notify_url(keys, own.notify_url, "ozow"),
        cancel_url=f"{page}/cancelled",
        error_url=f"{page}/failed",
        success_url=f"{page}/done",
        is_test=own.is_test,
    )


def _payfast(keys: PaymentKeys, env: PaymentEnvironment) -> PaymentProvider:
    own = keys.payfast
    assert own is not None
    validator = env.payfast_validator or PayFastServerValidator(env.http, sandbox=own.sandbox)
    return PayFastProvider(
        own.merchant_id,
        own.merchant_key.get_secret_value(),
        own.passphrase.get_secret_value() if own.passphrase else None,
        validator,
        notify_url=_notify_url(keys, own.notify_url, "payfast"),
        cancel_url=f"{env.pay_page_base_url.rstrip('/')}/cancelled",
        sandbox=own.sandbox,
    )


def _peach(keys: PaymentKeys, env: PaymentEnvironment) -> PaymentProvider:
    own = keys.peach
    assert own is not None
    return PeachProvider(
        own.secret_token.get_secret_value(),
        own.entity_id,
        env.http,
        own.client_id,
        own.client_secret.get_secret_value(),
        own.merchant_id,
        notification_url=_notify_url(keys, own.notify_url, "peach"),
        clock=env.clock,
    )


_BUILDERS: dict[str, Callable[[PaymentKeys, PaymentEnvironment], PaymentProvider]] = {
    "sandbox": _sandbox,
    "paystack": _paystack,
    "stitch": _stitch,
    "ozow": _ozow,
    "payfast": _payfast,
    "peach": _peach,
}


def build_registry(keys: PaymentKeys, configured: str, env: PaymentEnvironment) -> ProviderRegistry:
    """Every provider whose keys are present; ``configured`` (the one that makes links) must be one."""
    if configured not in _BUILDERS:
        raise PaymentConfigurationError("unknown_provider", f"{configured} is not a provider rapport knows")
    if configured not in keys.provider_names:
        field = "sandbox_webhook_secret" if configured == "sandbox" else configured
        raise PaymentConfigurationError(
            "provider_without_keys", f"{configured} is configured but the payment secret has no {field}"
        )
    providers = []
    for name in keys.provider_names:
        try:
            providers.append(_BUILDERS[name](keys, env))
        except ValueError as error:
            # The adapters refuse empty or malformed secrets with ValueError; name the provider only.
            raise PaymentConfigurationError("invalid_provider_keys", name) from error
    logger.info(
        "payment providers wired", extra={"providers": list(keys.provider_names), "links_by": configured}
    )
    return ProviderRegistry(providers)


def build_debicheck(keys: PaymentKeys, env: PaymentEnvironment) -> DebiCheckGateway | None:
    """The DebiCheck gateway the secret names, or None when it names none."""
    own = keys.debicheck
    if own is None:
        return None
    if own.provider == "stitch":
        assert own.webhook_secret is not None and own.client_id is not None and own.client_secret is not None
        try:
            return StitchDebiCheckGateway(
                own.webhook_secret.get_secret_value(),
                env.http,
                own.client_id,
                own.client_secret.get_secret_value(),
                redirect_url=f"{env.pay_page_base_url.rstrip('/')}/done",
                mandate_reference=env.mandate_reference,
            )
        except ValueError as error:
            raise PaymentConfigurationError("invalid_provider_keys", "debicheck") from error
    assert own.callback_secret is not None
    return SandboxDebiCheckGateway(own.callback_secret.get_secret_value().encode())


def _callback_secret(keys: DebiCheckKeys) -> bytes:
    """The key mandate callbacks in our own shape are signed with (see the module's docstring)."""
    if keys.callback_secret is not None:
        return keys.callback_secret.get_secret_value().encode()
    return secrets.token_bytes(32)


class PaymentWiring:
    """The stack's payment services, built from the secret once, on first use, thread-safely.

    It answers like a :class:`ProviderRegistry` (``names``, ``get``, ``parse_webhook``), so code
    that was handed a registry keeps working, and adds the DebiCheck gateway, the mandate callback
    secret and the plan token signer, which come from the same secret.
    """

    def __init__(self, load_keys: Callable[[], PaymentKeys], provider: str, env: PaymentEnvironment) -> None:
        self.provider = provider
        self._load_keys = load_keys
        self._env = env
        self._lock = threading.Lock()
        self._keys: PaymentKeys | None = None
        self._registry: ProviderRegistry | None = None
        self._debicheck: DebiCheckGateway | None = None
        self._callback_secret: bytes | None = None
        self._plan_tokens: PlanTokenSigner | None = None

    @classmethod
    def from_keys(cls, keys: PaymentKeys, provider: str, env: PaymentEnvironment) -> PaymentWiring:
        return cls(lambda: keys, provider, env)

    def _build(self) -> ProviderRegistry:
        with self._lock:
            if self._registry is None:
                keys = self._load_keys()
                registry = build_registry(keys, self.provider, self._env)
                self._debicheck = build_debicheck(keys, self._env)
                if keys.debicheck is not None:
                    self._callback_secret = _callback_secret(keys.debicheck)
                if keys.plan_token_secret is not None:
                    try:
                        self._plan_tokens = PlanTokenSigner(keys.plan_token_secret.get_secret_value())
                    except ValueError as error:
                        detail = "plan_token_secret is shorter than 16 bytes"
                        raise PaymentConfigurationError("invalid_secret", detail) from error
                self._keys, self._registry = keys, registry
            return self._registry

    @property
    def keys(self) -> PaymentKeys:
        self._build()
        assert self._keys is not None
        return self._keys

    @property
    def registry(self) -> ProviderRegistry:
        return self._build()

    @property
    def debicheck(self) -> DebiCheckGateway | None:
        """The DebiCheck gateway, or None when the secret names none."""
        self._build()
        return self._debicheck

    @property
    def mandate_callback_secret(self) -> bytes | None:
        """The key of mandate callbacks in our own shape, or None when the secret names no gateway."""
        self._build()
        return self._callback_secret

    @property
    def plan_tokens(self) -> PlanTokenSigner | None:
        """The plan token signer, or None when the secret has no ``plan_token_secret``."""
        self._build()
        return self._plan_tokens

    # -- the registry's interface ----------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return self.registry.names

    def get(self, name: str) -> PaymentProvider:
        return self.registry.get(name)

    def parse_webhook(
        self, name: str, headers: Mapping[str, str], raw_body: bytes, now: datetime
    ) -> PaymentEvent:
        return self.registry.parse_webhook(name, headers, raw_body, now)
