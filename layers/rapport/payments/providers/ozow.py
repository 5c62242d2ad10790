"""Ozow (instant EFT): payment requests through the API, outcomes by notification post.

Verification (Ozow's documented response hash check): concatenate the notification fields, except
``Hash``, in the documented order

    SiteCode, TransactionId, TransactionReference, Amount, Status,
    Optional1, Optional2, Optional3, Optional4, Optional5, CurrencyCode, IsTest, StatusMessage

append the private key, lower-case the whole string, and take the lower-case hex SHA-512. A field
that is absent or null counts as an empty string. The notification may be form-encoded or JSON.

Ozow signs no delivery time and says duplicates happen, so replay and redelivery are handled by
deduplication: the event id is ``<TransactionId>:<Status>``. ``occurred_at`` is the time we
received the notification (Ozow's notification carries no time).

Statuses: ``Complete`` -> succeeded; ``Cancelled``, ``Error``, ``Abandoned`` -> failed;
``PendingInvestigation``, ``Pending`` -> pending. Anything else is ignored (200).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rapport.payments.errors import (
    IgnoredWebhookError,
    MalformedWebhookError,
    ProviderRequestError,
    WebhookSignatureError,
)
from rapport.payments.models import PaymentEvent, PaymentEventKind, PaymentLinkRequest, ProviderLink
from rapport.payments.providers.base import (
    HttpTransport,
    cents_to_decimal,
    decimal_to_cents,
    json_request,
    looks_like_json,
    parse_form,
    require_currency,
    response_json,
    response_str,
)

NOTIFICATION_FIELDS = (
    "SiteCode",
    "TransactionId",
    "TransactionReference",
    "Amount",
    "Status",
    "Optional1",
    "Optional2",
    "Optional3",
    "Optional4",
    "Optional5",
    "CurrencyCode",
    "IsTest",
    "StatusMessage",
)
_KINDS = {
    "complete": PaymentEventKind.SUCCEEDED,
    "cancelled": PaymentEventKind.FAILED,
    "error": PaymentEventKind.FAILED,
    "abandoned": PaymentEventKind.FAILED,
    "pendinginvestigation": PaymentEventKind.PENDING,
    "pending": PaymentEventKind.PENDING,
}


def ozow_hash(values: list[str], private_key: str) -> str:
    """Ozow's hash check: SHA-512 of the concatenated values plus the key, lower-cased first."""
    return hashlib.sha512(("".join(values) + private_key).lower().encode()).hexdigest()


class OzowProvider:
    name = "ozow"

    def __init__(
        self,
        site_code: str,
        private_key: str,
        api_key: str,
        transport: HttpTransport,
        notify_url: str,
        cancel_url: str,
        error_url: str,
        success_url: str,
        country_code: str = "ZA",
        is_test: bool = False,
        api_url: str = "https://api.ozow.com/PostPaymentRequest",
    ) -> None:
        if not private_key:
            raise ValueError("the Ozow provider needs its private key")
        self._site_code = site_code
        self._private_key = private_key
        self._api_key = api_key
        self._transport = transport
        self._notify_url = notify_url
        self._cancel_url = cancel_url
        self._error_url = error_url
        self._success_url = success_url
        self._country_code = country_code
        self._is_test = is_test
        self._api_url = api_url

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        success_url = request.return_url or self._success_url
        # Request fields in the order Ozow hashes them.
        ordered = [
            ("SiteCode", self._site_code),
            ("CountryCode", self._country_code),
            ("CurrencyCode", request.currency),
            ("Amount", cents_to_decimal(request.amount_cents)),
            ("TransactionReference", request.link_id),
            # The debtor's bank statement reference; Ozow allows 20 characters.
            ("BankReference", request.link_id[:20]),
            ("CancelUrl", self._cancel_url),
            ("ErrorUrl", self._error_url),
            ("SuccessUrl", success_url),
            ("NotifyUrl", self._notify_url),
            ("IsTest", "true" if self._is_test else "false"),
        ]
        payload: dict[str, Any] = {name[0].lower() + name[1:]: value for name, value in ordered}
        payload["isTest"] = self._is_test
        payload["hashCheck"] = ozow_hash([value for _, value in ordered], self._private_key)
        # NOTE: Ozow payment requests are not given our expires_at: the request hash's field order
        # for ExpiryDateUtc is not something we could confirm. Rapport enforces expiry itself.
        response = self._transport.send(json_request(self._api_url, payload, {"ApiKey": self._api_key}))
        document = response_json(response, self.name)
        if document.get("errorMessage"):
            raise ProviderRequestError("provider_refused", self.name)
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=response_str(document, "url", self.name),
            provider_reference=response_str(document, "paymentRequestId", self.name),
            expires_at=request.expires_at,
        )

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> PaymentEvent:
        fields = _notification_fields(headers, raw_body)
        received = fields.get("hash", "").strip().lower()
        if not received:
            raise WebhookSignatureError("missing_signature", "Hash")
        hashed_values = [fields.get(name.lower(), "") for name in NOTIFICATION_FIELDS]
        expected = ozow_hash(hashed_values, self._private_key)
        if not hmac.compare_digest(expected.encode(), received.encode()):
            raise WebhookSignatureError("bad_signature")
        if fields.get("sitecode") != self._site_code:
            raise MalformedWebhookError("site_mismatch")
        status = fields.get("status", "")
        kind = _KINDS.get(status.lower())
        if kind is None:
            raise IgnoredWebhookError("unsupported_event", status or "no status")
        transaction_id = _required(fields, "TransactionId")
        return PaymentEvent(
            provider=self.name,
            event_id=f"{transaction_id}:{status}",
            transaction_id=transaction_id,
            link_id=_required(fields, "TransactionReference"),
            kind=kind,
            amount_cents=decimal_to_cents(fields.get("amount"), "Amount"),
            currency=require_currency(fields.get("currencycode"), "CurrencyCode"),
            occurred_at=now,
            provider_status=status,
        )


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name.lower(), "").strip()
    if not value:
        raise MalformedWebhookError("missing_field", name)
    return value


def _notification_fields(headers: Mapping[str, str], raw_body: bytes) -> dict[str, str]:
    """Field values as the text Ozow hashed, keyed by lower-cased name."""
    if looks_like_json(headers, raw_body):
        try:
            document = json.loads(raw_body, parse_float=str, parse_int=str)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MalformedWebhookError("unparseable_body", "json") from error
        if not isinstance(document, Mapping):
            raise MalformedWebhookError("unparseable_body", "not a json object")
        pairs = [(str(key), _as_text(value)) for key, value in document.items()]
    else:
        pairs = parse_form(raw_body)
    return {key.lower(): value for key, value in pairs}


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise MalformedWebhookError("unparseable_body", "nested value in notification")
