"""Paystack: hosted checkout through the Initialize Transaction API, events by signed webhook.

Verification (Paystack's documented scheme): header ``x-paystack-signature`` is the lower-case hex
HMAC-SHA512 of the raw body, keyed with the account's secret key. The body carries no delivery id
and no signed delivery time, so:

- replay is stopped by deduplication, not by a clock: the event id is derived from the signed
  content (``<event>:<data.id>``), so a redelivery or a replay derives the same id and the ledger
  answers ``duplicate``;
- there is no staleness check for this form.

Paystack's public code snippets also show a timestamped form of the same header
(``t=<unix>,v1=<key id>:<hex>``, HMAC-SHA512 over ``"<t>." + body``, 5-minute tolerance). When the
header has that form it is verified that way, staleness included.

Events modelled: ``charge.success`` (succeeded), ``refund.processed`` (refunded),
``refund.pending`` / ``refund.failed`` (pending: a status, no money moves). Any other authentic
event raises ``IgnoredWebhookError`` (answer 200, drop it).

References: Paystack takes one payment per transaction ``reference``. A plain link's reference is
our link id. A plan's link takes one payment per instalment, so each instalment's checkout carries
a reference of its own, ``<link id>.i<instalment>.a<attempt>``
(:func:`rapport.payments.models.instalment_reference`), deterministic so that a retried creation
asks for the same transaction (Paystack then answers "Duplicate Transaction Reference", raised as
``DuplicateReferenceError``). The link id also goes in ``metadata``. ``transaction_id`` of every
event is the reference, so each instalment is its own transaction in the link's ledger, and a
refund (which names the refunded transaction by ``transaction_reference``, without metadata) finds
its link by reading the link id back from the reference.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from rapport.payments.errors import (
    DuplicateReferenceError,
    IgnoredWebhookError,
    MalformedWebhookError,
    ProviderRequestError,
    WebhookSignatureError,
)
from rapport.payments.models import (
    PaymentEvent,
    PaymentEventKind,
    PaymentLinkRequest,
    ProviderLink,
    link_id_of_reference,
)
from rapport.payments.providers.base import (
    DEFAULT_TOLERANCE,
    HttpTransport,
    check_timestamp,
    json_request,
    parse_json_object,
    parse_timestamp,
    parse_unix_seconds,
    require_currency,
    require_mapping,
    require_minor_units,
    require_signature_header,
    require_str,
    response_json,
    response_str,
)

SIGNATURE_HEADER = "x-paystack-signature"
_REFUND_STATUS_EVENTS = {"refund.pending", "refund.failed"}


class PaystackProvider:
    name = "paystack"

    def __init__(
        self,
        secret_key: str,
        transport: HttpTransport,
        customer_email: Callable[[PaymentLinkRequest], str],
        api_base_url: str = "https://api.paystack.co",
        tolerance: timedelta = DEFAULT_TOLERANCE,
    ) -> None:
        """``customer_email`` resolves the debtor's email for a link: Paystack requires one to
        initialise a transaction, and we keep personal data out of ``PaymentLinkRequest``."""
        if not secret_key:
            raise ValueError("the Paystack provider needs its secret key")
        self._secret_key = secret_key
        self._transport = transport
        self._customer_email = customer_email
        self._api_base_url = api_base_url.rstrip("/")
        self._tolerance = tolerance

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        payload: dict[str, Any] = {
            "email": self._customer_email(request),
            "amount": str(request.amount_cents),
            "currency": request.currency,
            "reference": request.provider_reference,
            "metadata": {
                "link_id": request.link_id,
                "account_id": request.account_id,
                "purpose": request.purpose.value,
            },
        }
        if request.return_url is not None:
            payload["callback_url"] = request.return_url
        response = self._transport.send(
            json_request(
                f"{self._api_base_url}/transaction/initialize",
                payload,
                {"Authorization": f"Bearer {self._secret_key}"},
            )
        )
        _refuse_duplicate_reference(response.body)
        document = response_json(response, self.name)
        data = document.get("data")
        if document.get("status") is not True or not isinstance(data, Mapping):
            raise ProviderRequestError("provider_refused", self.name)
        # NOTE: Paystack's initialised transactions carry no expiry of their own; Rapport enforces
        # expires_at by marking the link expired. Paystack's Payment Request API would carry a
        # due date, but it needs a Paystack customer record per debtor, which we do not keep.
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=response_str(data, "authorization_url", self.name),
            provider_reference=response_str(data, "access_code", self.name),
            expires_at=request.expires_at,
        )

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> PaymentEvent:
        signature = require_signature_header(headers, SIGNATURE_HEADER)
        if signature.startswith("t="):
            self._verify_timestamped(signature, raw_body, now)
        else:
            expected = hmac.new(self._secret_key.encode(), raw_body, hashlib.sha512).hexdigest()
            if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
                raise WebhookSignatureError("bad_signature")
        return self._event(parse_json_object(raw_body), now)

    def _verify_timestamped(self, signature: str, raw_body: bytes, now: datetime) -> None:
        signed_at: int | None = None
        candidates: list[str] = []
        for part in signature.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t":
                signed_at = parse_unix_seconds(value)
            elif key == "v1":
                # The value is "<key id>:<hex>"; the key id only names which secret signed it.
                candidates.append(value.rpartition(":")[2].strip().lower())
        if signed_at is None or not candidates:
            raise WebhookSignatureError("malformed_signature_header")
        expected = hmac.new(
            self._secret_key.encode(), f"{signed_at}.".encode() + raw_body, hashlib.sha512
        ).hexdigest()
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(expected.encode(), candidate.encode())
        if not matched:
            raise WebhookSignatureError("bad_signature")
        check_timestamp(signed_at, now, self._tolerance)

    def _event(self, document: Mapping[str, Any], now: datetime) -> PaymentEvent:
        event_name = require_str(document, "event")
        data = require_mapping(document, "data")
        if event_name == "charge.success":
            reference = require_str(data, "reference")
            metadata = data.get("metadata")
            created_at = parse_timestamp(data.get("created_at"), now)
            link_id = metadata.get("link_id") if isinstance(metadata, Mapping) else None
            return PaymentEvent(
                provider=self.name,
                event_id=f"{event_name}:{require_str(data, 'id')}",
                transaction_id=reference,
                link_id=link_id if isinstance(link_id, str) and link_id else link_id_of_reference(reference),
                kind=PaymentEventKind.SUCCEEDED,
                amount_cents=require_minor_units(data, "amount"),
                currency=require_currency(data.get("currency")),
                occurred_at=parse_timestamp(data.get("paid_at"), created_at),
                provider_status=event_name,
            )
        if event_name == "refund.processed" or event_name in _REFUND_STATUS_EVENTS:
            reference = require_str(data, "transaction_reference")
            refund_id = _refund_id(data)
            processed = event_name == "refund.processed"
            return PaymentEvent(
                provider=self.name,
                event_id=f"{event_name}:{refund_id}",
                transaction_id=reference,
                link_id=link_id_of_reference(reference),
                kind=PaymentEventKind.REFUNDED if processed else PaymentEventKind.PENDING,
                amount_cents=require_minor_units(data, "amount"),
                currency=require_currency(data.get("currency")),
                occurred_at=now,
                provider_status=event_name,
                refund_id=refund_id if processed else None,
            )
        raise IgnoredWebhookError("unsupported_event", event_name)


def _refund_id(data: Mapping[str, Any]) -> str:
    for key in ("refund_reference", "id"):
        value = data.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    raise MalformedWebhookError("missing_field", "refund_reference")


def _refuse_duplicate_reference(body: bytes) -> None:
    """Paystack refuses a reference it already holds with this message (and ``status`` false)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return
    message = document.get("message") if isinstance(document, Mapping) else None
    if isinstance(message, str) and "duplicate transaction reference" in message.lower():
        raise DuplicateReferenceError("duplicate_reference", "paystack")
