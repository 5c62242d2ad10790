"""The sandbox provider: Rapport's own local payment rail, the default when no real one is set.

It signs its webhooks like the real rails do, so the whole verify -> reconcile path is exercised
locally. Scheme:

- header ``Rapport-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is the lower-case hex
  HMAC-SHA256, keyed with the shared secret, of the bytes ``"<t>." + raw body``. Several ``v1``
  entries may be present (secret rotation); one match suffices.
- the timestamp must be within 5 minutes of the receiver's clock, either way.
- JSON body: ``{"id": "evt_...", "type": "payment.<kind>", "created": <unix>, "data":
  {"transaction_id", "link_id", "amount_cents", "currency", "status", "refund_id"}}``.

``pay`` plays the hosted pay page: it returns the headers and body it would POST to us.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from rapport.payments.errors import MalformedWebhookError, WebhookSignatureError
from rapport.payments.models import PaymentEvent, PaymentEventKind, PaymentLinkRequest, ProviderLink
from rapport.payments.providers.base import (
    DEFAULT_TOLERANCE,
    check_timestamp,
    parse_json_object,
    parse_unix_seconds,
    require_currency,
    require_mapping,
    require_minor_units,
    require_signature_header,
    require_str,
)

SIGNATURE_HEADER = "Rapport-Signature"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SandboxProvider:
    name = "sandbox"

    def __init__(
        self,
        secret: str,
        pay_page_base_url: str = "http://localhost:8080/pay",
        tolerance: timedelta = DEFAULT_TOLERANCE,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not secret:
            raise ValueError("the sandbox provider needs a non-empty secret")
        self._key = secret.encode()
        self._base_url = pay_page_base_url.rstrip("/")
        self._tolerance = tolerance
        self._clock = clock
        # Links this sandbox issued, so its pay page knows each link's currency.
        self._currencies: dict[str, str] = {}

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        self._currencies[request.link_id] = request.currency
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=f"{self._base_url}/{request.link_id}",
            provider_reference=f"sbx_{request.link_id}",
            expires_at=request.expires_at,
        )

    def pay(
        self,
        link: ProviderLink,
        amount_cents: int,
        outcome: PaymentEventKind | str = PaymentEventKind.SUCCEEDED,
        *,
        transaction_id: str | None = None,
        refund_id: str | None = None,
        currency: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The signed webhook the hosted pay page would post for one debtor action on ``link``.

        Every call carries a fresh event id. A success, failure or pending gets a fresh
        transaction id unless one is given; a refund or chargeback must name the transaction it
        reverses, and gets a fresh ``refund_id`` unless one is given.
        """
        kind = PaymentEventKind(outcome)
        if kind in (PaymentEventKind.REFUNDED, PaymentEventKind.CHARGEBACK):
            if transaction_id is None:
                raise ValueError("a refund or chargeback names the transaction it reverses")
            refund_id = refund_id or f"rfd_{uuid.uuid4().hex}"
        created = int(self._clock().timestamp())
        body = {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": f"payment.{kind.value}",
            "created": created,
            "data": {
                "transaction_id": transaction_id or f"txn_{uuid.uuid4().hex}",
                "link_id": link.link_id,
                "amount_cents": amount_cents,
                "currency": currency or self._currencies.get(link.link_id, "ZAR"),
                "status": kind.value,
                "refund_id": refund_id,
            },
        }
        raw_body = json.dumps(body, separators=(",", ":")).encode()
        return self._signed_headers(raw_body, created), raw_body

    def redelivery_headers(self, raw_body: bytes) -> dict[str, str]:
        """Headers for delivering the same event again: the body (and its event id) is unchanged and
        the signature is made afresh at the time of this attempt, as rails that retry do."""
        return self._signed_headers(raw_body, int(self._clock().timestamp()))

    def _signed_headers(self, raw_body: bytes, signed_at: int) -> dict[str, str]:
        digest = hmac.new(self._key, f"{signed_at}.".encode() + raw_body, hashlib.sha256).hexdigest()
        return {SIGNATURE_HEADER: f"t={signed_at},v1={digest}", "Content-Type": "application/json"}

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> PaymentEvent:
        signed_at, candidates = _parse_signature_header(require_signature_header(headers, SIGNATURE_HEADER))
        expected = hmac.new(self._key, f"{signed_at}.".encode() + raw_body, hashlib.sha256).hexdigest()
        # Compare every candidate, never stopping early, so timing says nothing about which failed.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(expected.encode(), candidate.encode())
        if not matched:
            raise WebhookSignatureError("bad_signature")
        check_timestamp(signed_at, now, self._tolerance)
        return self._event(parse_json_object(raw_body))

    def _event(self, document: Mapping[str, object]) -> PaymentEvent:
        data = require_mapping(document, "data")
        event_type = require_str(document, "type")
        prefix, _, kind_text = event_type.partition(".")
        try:
            kind = PaymentEventKind(kind_text)
        except ValueError as error:
            raise MalformedWebhookError("unknown_event_type", event_type) from error
        if prefix != "payment":
            raise MalformedWebhookError("unknown_event_type", event_type)
        created = document.get("created")
        if not isinstance(created, int) or isinstance(created, bool):
            raise MalformedWebhookError("missing_field", "created")
        refund_id = data.get("refund_id")
        return PaymentEvent(
            provider=self.name,
            event_id=require_str(document, "id"),
            transaction_id=require_str(data, "transaction_id"),
            link_id=require_str(data, "link_id"),
            kind=kind,
            amount_cents=require_minor_units(data, "amount_cents"),
            currency=require_currency(data.get("currency")),
            occurred_at=datetime.fromtimestamp(created, tz=UTC),
            provider_status=require_str(data, "status"),
            refund_id=refund_id if isinstance(refund_id, str) and refund_id else None,
        )


def _parse_signature_header(value: str) -> tuple[int, list[str]]:
    signed_at: int | None = None
    candidates: list[str] = []
    for part in value.split(","):
        key, separator, item = part.strip().partition("=")
        if not separator:
            continue
        if key == "t":
            if signed_at is not None:
                raise WebhookSignatureError("malformed_signature_header", "two timestamps")
            signed_at = parse_unix_seconds(item)
        elif key == "v1" and item:
            candidates.append(item.strip().lower())
    if signed_at is None or not candidates:
        raise WebhookSignatureError("malformed_signature_header")
    return signed_at, candidates
