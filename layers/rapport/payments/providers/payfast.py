"""PayFast: hosted checkout, outcomes by ITN (Instant Transaction Notification) form post.

PayFast asks a receiver to make four checks on every ITN. Here is who does each:

1. Signature, in ``PayFastProvider.parse_webhook``: the MD5 (lower-case hex) of the posted fields
   in the order received, up to and excluding ``signature``, each as ``name=urlencode(value)``
   joined by ``&`` (blank values included), with ``&passphrase=urlencode(passphrase)`` appended
   when a passphrase is set. ``urlencode`` is PHP's: spaces become ``+``, everything but
   ``A-Za-z0-9-_.`` is percent-encoded with upper-case hex.
2. Source: the request came from a PayFast host, and
3. Server-side confirmation: POSTing the same parameter string back to PayFast's
   ``/eng/query/validate`` answers ``VALID``. Both are done by the injected ``PayFastValidator``
   port, called only after the signature holds. ``PayFastServerValidator`` is the honest default;
   it needs DNS and HTTPS, so unit tests inject a fake instead.
4. Amount: the amount paid matches what was asked. The caller does this against the link: the
   ledger's decision reports ``is_partial`` / ``is_overpayment`` for every credit.

The source IP is read from a header the handler sets from the trusted request context (API
Gateway's ``requestContext.identity.sourceIp``); it must never be copied from a client-supplied
header such as ``X-Forwarded-For``.

PayFast retries an ITN until it gets HTTP 200 and signs no delivery time, so redeliveries are
handled by deduplication: the event id is ``<pf_payment_id>:<payment_status>``. ``occurred_at`` is
the time we received the ITN.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol
from urllib.parse import quote_plus

from rapport.payments.errors import (
    IgnoredWebhookError,
    MalformedWebhookError,
    ProviderRequestError,
    WebhookSignatureError,
)
from rapport.payments.models import PaymentEvent, PaymentEventKind, PaymentLinkRequest, ProviderLink
from rapport.payments.providers.base import (
    HttpRequest,
    HttpTransport,
    cents_to_decimal,
    decimal_to_cents,
    header,
    parse_form,
)

_KINDS = {
    "COMPLETE": PaymentEventKind.SUCCEEDED,
    "CANCELLED": PaymentEventKind.FAILED,
    "FAILED": PaymentEventKind.FAILED,
    "PENDING": PaymentEventKind.PENDING,
}
LIVE_HOST = "www.payfast.co.za"
SANDBOX_HOST = "sandbox.payfast.co.za"
# Hosts PayFast documents as the senders of ITNs.
ITN_SOURCE_HOSTS = ("www.payfast.co.za", "sandbox.payfast.co.za", "w1w.payfast.co.za", "w2w.payfast.co.za")


def php_urlencode(value: str) -> str:
    """PHP's ``urlencode``: like ``quote_plus`` but ``~`` is encoded too."""
    return quote_plus(value, safe="").replace("~", "%7E")


def payfast_signature(pairs: list[tuple[str, str]], passphrase: str | None) -> str:
    text = "&".join(f"{name}={php_urlencode(value)}" for name, value in pairs)
    if passphrase:
        text += f"&passphrase={php_urlencode(passphrase.strip())}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class PayFastValidator(Protocol):
    """Confirms an ITN with PayFast itself. Raises ``WebhookSignatureError`` when PayFast does
    not vouch for it and ``ProviderRequestError`` when PayFast cannot be asked."""

    def validate(self, param_string: str, source_ip: str | None) -> None: ...


def _resolve_host(host: str) -> list[str]:
    return socket.gethostbyname_ex(host)[2]


class PayFastServerValidator:
    """The real check: source IP among PayFast's hosts' addresses, then PayFast's validate call.

    Needs DNS and outbound HTTPS; never used in unit tests (they inject a fake validator).
    """

    def __init__(
        self,
        transport: HttpTransport,
        sandbox: bool = False,
        resolve: Callable[[str], list[str]] = _resolve_host,
    ) -> None:
        self._transport = transport
        self._host = SANDBOX_HOST if sandbox else LIVE_HOST
        self._resolve = resolve

    def validate(self, param_string: str, source_ip: str | None) -> None:
        if source_ip is None:
            raise WebhookSignatureError("untrusted_source", "no source address")
        try:
            trusted = {address for host in ITN_SOURCE_HOSTS for address in self._resolve(host)}
        except OSError as error:
            raise ProviderRequestError("transport_failed", "payfast host lookup") from error
        if source_ip not in trusted:
            raise WebhookSignatureError("untrusted_source")
        response = self._transport.send(
            HttpRequest(
                method="POST",
                url=f"https://{self._host}/eng/query/validate",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                body=param_string.encode(),
            )
        )
        if not response.ok:
            raise ProviderRequestError("provider_refused", f"payfast validate answered {response.status}")
        if response.body.strip() != b"VALID":
            raise WebhookSignatureError("validation_failed")


class PayFastProvider:
    name = "payfast"

    def __init__(
        self,
        merchant_id: str,
        merchant_key: str,
        passphrase: str | None,
        validator: PayFastValidator,
        notify_url: str,
        cancel_url: str | None = None,
        sandbox: bool = False,
        source_ip_header: str = "x-rapport-source-ip",
    ) -> None:
        self._merchant_id = merchant_id
        self._merchant_key = merchant_key
        self._passphrase = passphrase or None
        self._validator = validator
        self._notify_url = notify_url
        self._cancel_url = cancel_url
        self._host = SANDBOX_HOST if sandbox else LIVE_HOST
        self._source_ip_header = source_ip_header

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        """A signed hosted-checkout URL. PayFast has no API call for this: the checkout takes its
        fields as a form post or, for a link, as the same fields in a query string."""
        # Checkout fields in PayFast's documented order; blank ones are left out of the signature.
        candidates = [
            ("merchant_id", self._merchant_id),
            ("merchant_key", self._merchant_key),
            ("return_url", request.return_url or ""),
            ("cancel_url", self._cancel_url or ""),
            ("notify_url", self._notify_url),
            ("m_payment_id", request.link_id),
            ("amount", cents_to_decimal(request.amount_cents)),
            ("item_name", request.description[:100]),
            ("custom_str1", request.purpose.value),
        ]
        pairs = [(name, value.strip()) for name, value in candidates if value.strip()]
        signature = payfast_signature(pairs, self._passphrase)
        query = "&".join(f"{name}={php_urlencode(value)}" for name, value in pairs)
        # NOTE: PayFast settles in ZAR only; a link in another currency is refused by PayFast.
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=f"https://{self._host}/eng/process?{query}&signature={signature}",
            provider_reference=request.link_id,
            expires_at=request.expires_at,
        )

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> PaymentEvent:
        pairs = parse_form(raw_body)
        signed: list[tuple[str, str]] = []
        received: str | None = None
        for name, value in pairs:
            if name == "signature":
                received = value.strip().lower()
                break
            signed.append((name, value))
        if not received:
            raise WebhookSignatureError("missing_signature", "signature")
        expected = payfast_signature(signed, self._passphrase)
        if not hmac.compare_digest(expected.encode(), received.encode()):
            raise WebhookSignatureError("bad_signature")

        fields = dict(signed)
        if fields.get("merchant_id") != self._merchant_id:
            raise MalformedWebhookError("merchant_mismatch")
        param_string = "&".join(f"{name}={php_urlencode(value)}" for name, value in signed)
        self._validator.validate(param_string, header(headers, self._source_ip_header))

        status = fields.get("payment_status", "")
        kind = _KINDS.get(status.upper())
        if kind is None:
            raise IgnoredWebhookError("unsupported_event", status or "no status")
        transaction_id = _required(fields, "pf_payment_id")
        return PaymentEvent(
            provider=self.name,
            event_id=f"{transaction_id}:{status.upper()}",
            transaction_id=transaction_id,
            link_id=_required(fields, "m_payment_id"),
            kind=kind,
            amount_cents=decimal_to_cents(fields.get("amount_gross"), "amount_gross"),
            currency="ZAR",
            occurred_at=now,
            provider_status=status,
        )


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise MalformedWebhookError("missing_field", name)
    return value
