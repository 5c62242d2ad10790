"""Stitch: pay-by-bank payment requests, events delivered by Svix.

Verification is done by the ``svix`` library (``Webhook.verify``): headers ``svix-id``,
``svix-timestamp`` and ``svix-signature`` (space-separated ``v1,<base64>`` entries), HMAC-SHA256
over ``"<id>.<timestamp>." + raw body`` keyed with the base64-decoded ``whsec_`` secret, and a
5-minute tolerance. Its errors are mapped to ours.

``svix`` checks the timestamp against the machine's clock, not an injected one, so this adapter
first checks the timestamp against the ``now`` it is given (which classifies stale and future
deliveries as ``StaleWebhookError``) and then lets ``svix`` check the signature; a timestamp
complaint from ``svix`` after ours passed means the injected clock and the machine's disagree,
reported as ``StaleWebhookError("clock_skew")``. Staleness is therefore checked before the
signature here; both answer 401.

Body shape assumed (Stitch's payment and refund webhooks, as we read their docs; confirm against a
sandbox delivery before going live):

- payment: ``{"id": <payment request id>, "externalReference": <our link id>,
  "status": {"__typename": "PaymentInitiationRequestCompleted" | ...Pending | ...Cancelled |
  ...Expired, "date": ...}, "amount": {"quantity": "150.00", "currency": "ZAR"}}``
- refund: ``{"id": <refund id>, "paymentRequestId": <payment request id>,
  "status": {"__typename": "RefundCompleted" | "RefundPending" | "RefundError"}, "amount": ...}``
  with no ``externalReference``: the event's ``link_id`` is then None and the webhook handler finds
  the link through the payment it names (``rapport.journey.webhooks``).

``status`` may also be the bare type name as a string. Any other status is ignored (200).

Links: a client-credentials token (scope ``client_paymentrequest``), then the GraphQL mutation
``clientPaymentInitiationRequestCreate`` with amount, payer and beneficiary references and our link
id as ``externalReference``; the answer's ``url`` is where the debtor pays, with our return URL
appended as ``redirect_uri``. Field names as we read Stitch's API; confirm in their sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from rapport.payments.errors import (
    IgnoredWebhookError,
    MalformedWebhookError,
    ProviderRequestError,
    StaleWebhookError,
    WebhookSignatureError,
)
from rapport.payments.models import PaymentEvent, PaymentEventKind, PaymentLinkRequest, ProviderLink
from rapport.payments.providers.base import (
    DEFAULT_TOLERANCE,
    HttpRequest,
    HttpTransport,
    cents_to_decimal,
    check_timestamp,
    decimal_to_cents,
    json_request,
    parse_timestamp,
    parse_unix_seconds,
    require_currency,
    require_mapping,
    require_signature_header,
    require_str,
    response_json,
    response_str,
)

_PAYMENT_KINDS = {
    "PaymentInitiationRequestCompleted": PaymentEventKind.SUCCEEDED,
    "PaymentInitiationRequestPending": PaymentEventKind.PENDING,
    "PaymentInitiationRequestCancelled": PaymentEventKind.FAILED,
    "PaymentInitiationRequestExpired": PaymentEventKind.FAILED,
}
_REFUND_KINDS = {
    "RefundCompleted": PaymentEventKind.REFUNDED,
    "RefundPending": PaymentEventKind.PENDING,
    "RefundError": PaymentEventKind.PENDING,
}

_CREATE_PAYMENT_REQUEST = """
mutation CreatePaymentRequest(
  $amount: MoneyInput!, $payerReference: String!, $beneficiaryReference: String!,
  $externalReference: String, $beneficiary: BeneficiaryInput
) {
  clientPaymentInitiationRequestCreate(input: {
    amount: $amount, payerReference: $payerReference, beneficiaryReference: $beneficiaryReference,
    externalReference: $externalReference, beneficiary: $beneficiary
  }) {
    paymentInitiationRequest { id url }
  }
}
""".strip()


class StitchProvider:
    name = "stitch"

    def __init__(
        self,
        webhook_secret: str,
        transport: HttpTransport,
        client_id: str,
        client_secret: str,
        beneficiary: Mapping[str, Any] | None = None,
        auth_endpoint: str = "https://secure.stitch.money/connect/token",
        api_url: str = "https://api.stitch.money/graphql",
        tolerance: timedelta = DEFAULT_TOLERANCE,
    ) -> None:
        """``beneficiary`` is our own receiving bank account as Stitch's ``BeneficiaryInput``;
        leave it out when Stitch settles into an account configured on their side."""
        if not webhook_secret.removeprefix("whsec_"):
            raise ValueError("the Stitch webhook secret is empty")
        # Imported here, not at module level: importing svix loads its whole API client (about a
        # second of Lambda init on a busy machine), which only a Stitch deployment should pay.
        from svix.webhooks import Webhook, WebhookVerificationError

        self._verification_error = WebhookVerificationError
        try:
            self._webhook = Webhook(webhook_secret)
        except (ValueError, RuntimeError) as error:
            raise ValueError("the Stitch webhook secret is not a valid whsec_ secret") from error
        self._transport = transport
        self._client_id = client_id
        self._client_secret = client_secret
        self._beneficiary = dict(beneficiary) if beneficiary is not None else None
        self._auth_endpoint = auth_endpoint
        self._api_url = api_url
        self._tolerance = tolerance

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        # NOTE: a client token is fetched per link. Links are created a few at a time per debtor
        # action; if bulk creation appears, cache the token until shortly before expires_in.
        token = self._client_token()
        variables: dict[str, Any] = {
            "amount": {"quantity": cents_to_decimal(request.amount_cents), "currency": request.currency},
            # Stitch caps the payer's statement reference at 12 characters.
            "payerReference": request.link_id[:12],
            "beneficiaryReference": request.link_id[:20],
            "externalReference": request.link_id,
            "beneficiary": self._beneficiary,
        }
        response = self._transport.send(
            json_request(
                self._api_url,
                {"query": _CREATE_PAYMENT_REQUEST, "variables": variables},
                {"Authorization": f"Bearer {token}"},
            )
        )
        document = response_json(response, self.name)
        if document.get("errors"):
            raise ProviderRequestError("provider_refused", "stitch graphql errors")
        try:
            created = document["data"]["clientPaymentInitiationRequestCreate"]["paymentInitiationRequest"]
        except (KeyError, TypeError) as error:
            raise ProviderRequestError("provider_unexpected_shape", self.name) from error
        if not isinstance(created, Mapping):
            raise ProviderRequestError("provider_unexpected_shape", self.name)
        url = response_str(created, "url", self.name)
        if request.return_url is not None:
            url = f"{url}?redirect_uri={quote(request.return_url, safe='')}"
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=url,
            provider_reference=response_str(created, "id", self.name),
            expires_at=request.expires_at,
        )

    def _client_token(self) -> str:
        scope = "client_paymentrequest"
        return client_token(self._transport, self._auth_endpoint, self._client_id, self._client_secret, scope)

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> PaymentEvent:
        message_id = require_signature_header(headers, "svix-id")
        timestamp_text = require_signature_header(headers, "svix-timestamp")
        signature = require_signature_header(headers, "svix-signature")
        check_timestamp(parse_unix_seconds(timestamp_text), now, self._tolerance)
        try:
            self._webhook.verify(
                raw_body,
                {"svix-id": message_id, "svix-timestamp": timestamp_text, "svix-signature": signature},
            )
        except self._verification_error as error:
            # svix reports clock problems as "Message timestamp too old/new"; all else is a forgery.
            if "timestamp" in str(error).lower():
                raise StaleWebhookError("clock_skew") from error
            raise WebhookSignatureError("bad_signature") from error
        return self._event(message_id, parse_json_with_exact_numbers(raw_body), now)

    def _event(self, message_id: str, document: Mapping[str, Any], now: datetime) -> PaymentEvent:
        status = document.get("status")
        type_name = status.get("__typename") if isinstance(status, Mapping) else status
        if not isinstance(type_name, str) or not type_name:
            raise MalformedWebhookError("missing_field", "status")
        amount = require_mapping(document, "amount")
        status_date = status.get("date") if isinstance(status, Mapping) else None
        occurred_at = parse_timestamp(status_date or document.get("updatedAt"), now)
        common = {
            "provider": self.name,
            "event_id": message_id,
            "amount_cents": decimal_to_cents(amount.get("quantity"), "amount.quantity"),
            "currency": require_currency(amount.get("currency"), "amount.currency"),
            "occurred_at": occurred_at,
            "provider_status": type_name,
        }
        reference = document.get("externalReference")
        link_id = reference if isinstance(reference, str) and reference else None
        if type_name in _PAYMENT_KINDS:
            return PaymentEvent(
                transaction_id=require_str(document, "id"),
                link_id=link_id,
                kind=_PAYMENT_KINDS[type_name],
                **common,
            )
        if type_name in _REFUND_KINDS:
            kind = _REFUND_KINDS[type_name]
            return PaymentEvent(
                transaction_id=require_str(document, "paymentRequestId"),
                link_id=link_id,
                kind=kind,
                refund_id=require_str(document, "id") if kind is PaymentEventKind.REFUNDED else None,
                **common,
            )
        raise IgnoredWebhookError("unsupported_event", type_name)


def client_token(
    transport: HttpTransport, auth_endpoint: str, client_id: str, client_secret: str, scope: str
) -> str:
    """A Stitch client-credentials token for ``scope`` (each Stitch API names the scope it needs)."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": scope,
        "audience": auth_endpoint,
    }
    response = transport.send(
        HttpRequest(
            method="POST",
            url=auth_endpoint,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            body=urlencode(form).encode(),
        )
    )
    return response_str(response_json(response, "stitch"), "access_token", "stitch")


def parse_json_with_exact_numbers(raw_body: bytes) -> Mapping[str, Any]:
    """JSON with every number kept as its text, so a ``quantity`` of 150.5 never becomes a float."""
    try:
        document = json.loads(raw_body, parse_float=str, parse_int=str)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedWebhookError("unparseable_body", "json") from error
    if not isinstance(document, Mapping):
        raise MalformedWebhookError("unparseable_body", "not a json object")
    return document
