"""Peach Payments: Payment Links API for links, Checkout-style signed webhooks for outcomes.

What we assumed, and why (confirm each against a Peach sandbox before going live):

- Webhook signature: Peach documents for Checkout that webhooks are signed like requests: take
  every parameter except ``signature``, sort by name, concatenate ``name + value`` with no
  separators, and HMAC-SHA256 the result keyed with the secret token; ``signature`` is the
  lower-case hex digest. Payment Links accept payments through Checkout and Peach sends Checkout
  webhooks for them, so this adapter verifies that form. The body is form-encoded (as Peach's
  examples show) or a flat JSON object of the same parameters.
- Peach has since added opt-in, header-based webhook signing for Checkout and Payment Links. We
  could not confirm its exact message layout from public material, so it is not implemented;
  NOTE: when a merchant turns it on, this adapter needs a second verification path.
- Parameters used: ``id`` (Peach's payment id), ``merchantTransactionId`` (our link id),
  ``paymentType`` (``DB`` debit, ``RF`` refund, ``CB`` chargeback; anything else is ignored),
  ``amount`` (major units, ``"150.00"``), ``currency``, ``result.code``, ``timestamp``. A refund or
  chargeback must carry ``referencedId``, the id of the payment it reverses; when it has no
  ``merchantTransactionId`` its link is found through that payment (``rapport.journey.webhooks``).
- Result codes follow Peach's published patterns: ``000.000.*``, ``000.100.1*``, ``000.3*``,
  ``000.6*`` and ``000.400.110``/``000.400.120`` are successful; ``000.200.*``, ``800.400.5*`` and
  ``100.400.500`` are pending, as are the "successful, review manually" ``000.400.0*`` codes;
  everything else is a failure.
- The signed ``timestamp`` is the transaction's time, not the delivery's: Peach retries for days,
  so it is not used to reject stale deliveries. Redeliveries are handled by deduplication on
  ``<id>:<result.code>``.
- Payment Links API: an OAuth token from ``/api/oauth/token`` (client id, secret, merchant id),
  then ``POST /api/channels/<entity id>/payments`` with ``payment`` (``merchantInvoiceId``,
  ``amount``, ``currency``, ``notes``) and ``options`` (``expiryTime`` in minutes,
  ``notificationUrl``); the answer carries ``id`` and ``url``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from rapport.payments.errors import (
    IgnoredWebhookError,
    MalformedWebhookError,
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
    parse_timestamp,
    require_currency,
    response_json,
    response_str,
)

_SUCCESS = re.compile(r"^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.1[12]0)")
_PENDING = re.compile(r"^(000\.200|800\.400\.5|100\.400\.500|000\.400\.0[^3]|000\.400\.100)")


def peach_signature(params: Mapping[str, str], secret_token: str) -> str:
    message = "".join(name + params[name] for name in sorted(params) if name != "signature")
    return hmac.new(secret_token.encode(), message.encode(), hashlib.sha256).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PeachProvider:
    name = "peach"

    def __init__(
        self,
        secret_token: str,
        entity_id: str,
        transport: HttpTransport,
        client_id: str,
        client_secret: str,
        merchant_id: str,
        notification_url: str,
        links_api_url: str = "https://links.peachpayments.com",
        auth_url: str = "https://dashboard.peachpayments.com/api/oauth/token",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not secret_token:
            raise ValueError("the Peach provider needs its secret token")
        self._secret_token = secret_token
        self._entity_id = entity_id
        self._transport = transport
        self._client_id = client_id
        self._client_secret = client_secret
        self._merchant_id = merchant_id
        self._notification_url = notification_url
        self._links_api_url = links_api_url.rstrip("/")
        self._auth_url = auth_url
        self._clock = clock

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        credentials = {
            "clientId": self._client_id,
            "clientSecret": self._client_secret,
            "merchantId": self._merchant_id,
        }
        token_response = self._transport.send(json_request(self._auth_url, credentials, {}))
        token = response_str(response_json(token_response, self.name), "access_token", self.name)
        minutes_left = max(1, math.ceil((request.expires_at - self._clock()).total_seconds() / 60))
        payload = {
            "payment": {
                "merchantInvoiceId": request.link_id,
                # NOTE: sent as decimal text, never a float; if Peach insists on a JSON number,
                # emit the Decimal through a custom encoder rather than converting to float.
                "amount": cents_to_decimal(request.amount_cents),
                "currency": request.currency,
                "notes": request.description,
            },
            "options": {
                "expiryTime": minutes_left,
                "notificationUrl": self._notification_url,
                "sendEmail": False,
                "sendSms": False,
            },
        }
        response = self._transport.send(
            json_request(
                f"{self._links_api_url}/api/channels/{self._entity_id}/payments",
                payload,
                {"Authorization": f"Bearer {token}"},
            )
        )
        document = response_json(response, self.name)
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=response_str(document, "url", self.name),
            provider_reference=response_str(document, "id", self.name),
            expires_at=request.expires_at,
        )

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> PaymentEvent:
        params = _params(headers, raw_body)
        received = params.get("signature", "").strip().lower()
        if not received:
            raise WebhookSignatureError("missing_signature", "signature")
        expected = peach_signature(params, self._secret_token)
        if not hmac.compare_digest(expected.encode(), received.encode()):
            raise WebhookSignatureError("bad_signature")

        payment_type = params.get("paymentType", "")
        code = _required(params, "result.code")
        outcome = _classify(code)
        if payment_type == "DB":
            kind = outcome
            transaction_id = _required(params, "id")
            refund_id = None
        elif payment_type in ("RF", "CB"):
            reversal = PaymentEventKind.REFUNDED if payment_type == "RF" else PaymentEventKind.CHARGEBACK
            # A failed or pending reversal moves no money: it is a status of the original payment.
            kind = reversal if outcome is PaymentEventKind.SUCCEEDED else PaymentEventKind.PENDING
            transaction_id = _required(params, "referencedId")
            refund_id = _required(params, "id") if kind is reversal else None
        else:
            raise IgnoredWebhookError("unsupported_event", payment_type or "no payment type")
        link_id = params.get("merchantTransactionId", "").strip() or None
        return PaymentEvent(
            provider=self.name,
            event_id=f"{_required(params, 'id')}:{code}",
            transaction_id=transaction_id,
            link_id=link_id,
            kind=kind,
            amount_cents=decimal_to_cents(params.get("amount"), "amount"),
            currency=require_currency(params.get("currency")),
            occurred_at=parse_timestamp(params.get("timestamp"), now),
            provider_status=code,
            refund_id=refund_id,
        )


def _classify(code: str) -> PaymentEventKind:
    if _SUCCESS.match(code):
        return PaymentEventKind.SUCCEEDED
    if _PENDING.match(code):
        return PaymentEventKind.PENDING
    return PaymentEventKind.FAILED


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise MalformedWebhookError("missing_field", name)
    return value


def _params(headers: Mapping[str, str], raw_body: bytes) -> dict[str, str]:
    if not looks_like_json(headers, raw_body):
        return dict(parse_form(raw_body))
    try:
        document = json.loads(raw_body, parse_float=str, parse_int=str)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedWebhookError("unparseable_body", "json") from error
    if not isinstance(document, Mapping):
        raise MalformedWebhookError("unparseable_body", "not a json object")
    params: dict[str, str] = {}
    for key, value in document.items():
        if isinstance(value, bool):
            params[str(key)] = "true" if value else "false"
        elif isinstance(value, str):
            params[str(key)] = value
        elif value is None:
            params[str(key)] = ""
        else:
            raise MalformedWebhookError("unparseable_body", "nested value in webhook")
    return params
