"""The dependencies a handler needs, built lazily once per process and replaceable in tests.

Handlers call :func:`services`. The first call reads the environment (:mod:`rapport.settings`),
binds the tables and builds the clients; nothing is built at import time. Tests and the local
cloud install their own :class:`Services` with :func:`use_services` (for example a simulated
clock, or a fake of a channel that moto does not model).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from rapport.clock import Clock, SystemClock
from rapport.models.enums import Channel
from rapport.settings import Settings, load_settings
from rapport.store.models import IDEMPOTENCY_TABLE, bind_tables
from rapport.store.repositories import Repositories
from rapport.strategy.config import ClientConfig, load_client_config

_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 5})


@dataclass
class Services:
    settings: Settings
    client: ClientConfig
    clock: Clock
    repos: Repositories
    senders: Mapping[Channel, Any]
    renderer: Any
    payments: Any  # rapport.payments.wiring.PaymentWiring (answers like a ProviderRegistry)
    analyser: Any  # rapport.analysis.ReplyAnalyser
    stepfunctions: Any
    # Where DebiCheck collection files go (rapport.payments.collection_delivery.CollectionDelivery):
    # built on first use by rapport.journey.collection_submission.delivery_for, or installed by a test.
    collection_delivery: Any = None
    # The timings a journey started by a reply runs with (rapport.journey.resume.start_reply_journey):
    # none in AWS, so the client's own apply; the local run installs its short ones, as it passes them
    # to the journeys its campaign starts.
    reply_journey_timings: dict[str, Any] = field(default_factory=dict)
    _idempotency: Any = field(default=None, repr=False)

    @property
    def payment_provider(self) -> Any:
        return self.payments.get(self.client.payments.provider)

    @property
    def debicheck(self) -> Any:
        """The DebiCheck gateway (rapport.payments.debicheck.DebiCheckGateway), or None."""
        return getattr(self.payments, "debicheck", None)

    @property
    def plan_tokens(self) -> Any:
        """The signer of plan acceptance links (rapport.payments.tokens.PlanTokenSigner), or None."""
        return getattr(self.payments, "plan_tokens", None)

    def idempotency_store(self) -> Any:
        """Powertools' DynamoDB persistence layer on the client's idempotency table, built on first use."""
        if self._idempotency is None:
            with _build_lock:
                if self._idempotency is None:
                    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

                    self._idempotency = DynamoDBPersistenceLayer(
                        table_name=self.settings.table_name(IDEMPOTENCY_TABLE),
                        boto3_client=_client(self.settings, "dynamodb"),
                    )
        return self._idempotency


_lock = threading.Lock()
_build_lock = threading.Lock()
_current: Services | None = None


def _client(settings: Settings, service: str) -> Any:
    return boto3.client(
        service, region_name=settings.region, endpoint_url=settings.endpoint_url, config=_RETRIES
    )


def aws_client(settings: Settings, service: str) -> Any:
    """A boto3 client in the function's region (and local endpoint), with adaptive retries."""
    return _client(settings, service)


def build_senders(settings: Settings) -> dict[Channel, Any]:
    from rapport.messaging.channels import (
        EumSmsConfig,
        EumSmsSender,
        FallbackSender,
        PushConfig,
        PushSender,
        SesEmailConfig,
        SesEmailSender,
        SnsSmsConfig,
        SnsSmsSender,
        WhatsAppConfig,
        WhatsAppSender,
    )

    senders: dict[Channel, Any] = {
        Channel.EMAIL: SesEmailSender(
            _client(settings, "sesv2"),
            SesEmailConfig(
                from_address=settings.email_from, configuration_set=settings.ses_configuration_set
            ),
        )
    }
    sns_sms = SnsSmsSender(_client(settings, "sns"), SnsSmsConfig())
    if settings.sms_origination_identity:
        eum = EumSmsSender(
            _client(settings, "pinpoint-sms-voice-v2"),
            EumSmsConfig(
                origination_identity=settings.sms_origination_identity,
                configuration_set=settings.sms_configuration_set,
            ),
        )
        senders[Channel.SMS] = FallbackSender(eum, sns_sms)
    else:
        senders[Channel.SMS] = sns_sms
    if settings.whatsapp_phone_number_id:
        senders[Channel.WHATSAPP] = WhatsAppSender(
            _client(settings, "socialmessaging"),
            WhatsAppConfig(origination_phone_number_id=settings.whatsapp_phone_number_id),
        )
    if settings.push_application_id:
        senders[Channel.PUSH] = PushSender(
            _client(settings, "pinpoint"), PushConfig(application_id=settings.push_application_id)
        )
    return senders


def load_payment_keys(settings: Settings) -> Any:
    """The client's payment secret, read and modelled (rapport.payments.wiring.PaymentKeys)."""
    from rapport.payments.wiring import PaymentKeys

    secret = _client(settings, "secretsmanager").get_secret_value(SecretId=settings.payment_secret_id)
    return PaymentKeys.from_secret_string(secret["SecretString"])


def _debtor_email(request: Any) -> str:
    """Paystack needs the payer's email to open a checkout: the account's, else a non-delivering one."""
    from rapport.payments.wiring import placeholder_email
    from rapport.store.models import AccountModel

    try:
        email = AccountModel.get(request.account_id).email
    except AccountModel.DoesNotExist:
        email = None
    return email or placeholder_email(request)


def plan_mandate_reference(mandate_id: str) -> str | None:
    """A DebiCheck mandate's reference at its provider, from the plan it belongs to (a mandate id
    is ``<account id>:<plan id>``, see rapport.journey.plans.mandate_id_for)."""
    from rapport.store.repositories import Plans

    account_id, _, plan_id = mandate_id.rpartition(":")
    stored = Plans().find(account_id, plan_id) if account_id and plan_id else None
    mandate = ((stored.plan or {}).get("mandate") or {}) if stored is not None else {}
    if mandate.get("mandate_id") != mandate_id:
        return None
    return mandate.get("provider_reference")


def build_payments(
    settings: Settings,
    clock: Clock,
    client: ClientConfig | None = None,
    *,
    keys: Any = None,
    transport: Any = None,
    payfast_validator: Any = None,
    customer_email: Callable[[Any], str] | None = None,
) -> Any:
    """The client's payment rails (rapport.payments.wiring.PaymentWiring), read from the secret on
    first use. Every provider with keys in the secret is wired; the client file's ``[payments]
    provider`` (else the settings') makes links and must be among them, or first use raises
    ``PaymentConfigurationError``. ``keys`` replaces the secret (tests, the local cloud)."""
    from rapport.payments.wiring import PaymentEnvironment, PaymentWiring

    provider = client.payments.provider if client is not None else settings.payment_provider
    environment = PaymentEnvironment(
        clock=clock.now,
        pay_page_base_url=settings.pay_page_base_url,
        transport=transport,
        customer_email=customer_email or _debtor_email,
        payfast_validator=payfast_validator,
        mandate_reference=plan_mandate_reference,
    )
    if keys is not None:
        return PaymentWiring.from_keys(keys, provider, environment)
    return PaymentWiring(lambda: load_payment_keys(settings), provider, environment)


def build_analyser(settings: Settings) -> Any:
    from rapport.analysis import ComprehendReplyAnalyser, LocalReplyAnalyser

    local = LocalReplyAnalyser()
    if settings.reply_analyser == "comprehend":
        return ComprehendReplyAnalyser(_client(settings, "comprehend"), fallback=local)
    return local


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    from rapport.messaging.templates import MessageRenderer, TemplateCatalogue

    clock = clock or SystemClock()
    client = load_client_config(settings.client_config_path)
    bind_tables(settings.table_prefix, settings.region, settings.endpoint_url)
    return Services(
        settings=settings,
        client=client,
        clock=clock,
        repos=Repositories(),
        senders=build_senders(settings),
        renderer=MessageRenderer(TemplateCatalogue.load(default=True)),
        payments=build_payments(settings, clock, client),
        analyser=build_analyser(settings),
        stepfunctions=_client(settings, "stepfunctions"),
    )


def services() -> Services:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = build_services(load_settings())
    return _current


def use_services(replacement: Services | None) -> None:
    """Install (or with None, forget) the process's services: for tests and the local cloud."""
    global _current
    with _lock:
        _current = replacement
