"""Peach: signature = hex HMAC-SHA256, keyed with the secret token, of the parameters sorted by
name and concatenated as name + value (signature itself excluded)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from rapport.payments import (
    HttpResponse,
    IgnoredWebhookError,
    MalformedWebhookError,
    PaymentEventKind,
    PaymentLinkRequest,
    PeachProvider,
    WebhookSignatureError,
)

TOKEN = "3fcd7cf22f55119eadbe02d14de18c0c"


def webhook(secret: str = TOKEN, **changes: str) -> dict[str, str]:
    params = {
        "amount": "1500.50",
        "checkoutId": "0fa125d002044484b0fbfb43c1c5c554",
        "currency": "ZAR",
        "id": "8ac7a4a184123d86018413e098f32192",
        "merchantTransactionId": "lnk0001abcd",
        "paymentBrand": "VISA",
        "paymentType": "DB",
        "result.code": "000.100.110",
        "result.description": "Request successfully processed in 'Merchant in Integrator Test Mode'",
        "timestamp": "2026-03-02T09:59:46.916519Z",
    }
    params.update(changes)
    message = "".join(name + params[name] for name in sorted(params))
    params["signature"] = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return params


def form(params: dict[str, str]) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(params).encode()


def provider_with(transport, clock=None) -> PeachProvider:
    return PeachProvider(
        secret_token=TOKEN,
        entity_id="8ac7a4ca68c22c4d0168c2caab2e0025",
        transport=transport,
        client_id="client-1",
        client_secret="client-secret",
        merchant_id="merchant-9",
        notification_url="https://api.example.test/webhooks/peach",
        **({"clock": clock} if clock else {}),
    )


@pytest.fixture
def provider(recording_transport) -> PeachProvider:
    return provider_with(recording_transport())


def test_a_debit_signed_per_the_spec_is_a_success(provider: PeachProvider, webhook_now: datetime) -> None:
    event = provider.parse_webhook(*form(webhook()), webhook_now)
    assert (event.kind, event.amount_cents, event.currency) == (PaymentEventKind.SUCCEEDED, 150_050, "ZAR")
    assert (event.transaction_id, event.link_id) == ("8ac7a4a184123d86018413e098f32192", "lnk0001abcd")
    assert event.event_id == "8ac7a4a184123d86018413e098f32192:000.100.110"
    assert event.occurred_at.isoformat() == "2026-03-02T09:59:46.916519+00:00"


def test_a_flat_json_body_is_accepted(provider: PeachProvider, webhook_now: datetime) -> None:
    raw = json.dumps(webhook()).encode()
    assert (
        provider.parse_webhook({"Content-Type": "application/json"}, raw, webhook_now).amount_cents == 150_050
    )


def test_a_refund_reverses_the_payment_it_references(provider: PeachProvider, webhook_now: datetime) -> None:
    params = webhook(
        paymentType="RF", id="refund-77", referencedId="8ac7a4a184123d86018413e098f32192", amount="200.00"
    )
    event = provider.parse_webhook(*form(params), webhook_now)
    assert (event.kind, event.transaction_id, event.refund_id, event.amount_cents) == (
        PaymentEventKind.REFUNDED,
        "8ac7a4a184123d86018413e098f32192",
        "refund-77",
        20_000,
    )


def test_a_chargeback_is_reported_as_such(provider: PeachProvider, webhook_now: datetime) -> None:
    params = webhook(paymentType="CB", id="cb-1", referencedId="8ac7a4a184123d86018413e098f32192")
    assert provider.parse_webhook(*form(params), webhook_now).kind is PaymentEventKind.CHARGEBACK


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("000.000.000", PaymentEventKind.SUCCEEDED),
        ("000.200.000", PaymentEventKind.PENDING),
        ("800.400.500", PaymentEventKind.PENDING),
        ("000.400.000", PaymentEventKind.PENDING),
        ("800.100.151", PaymentEventKind.FAILED),
        ("100.396.101", PaymentEventKind.FAILED),
    ],
)
def test_result_codes_map_to_kinds(provider: PeachProvider, webhook_now: datetime, code: str, kind) -> None:
    assert provider.parse_webhook(*form(webhook(**{"result.code": code})), webhook_now).kind is kind


def test_a_failed_refund_moves_no_money(provider: PeachProvider, webhook_now: datetime) -> None:
    params = webhook(paymentType="RF", id="r-2", referencedId="orig", **{"result.code": "700.400.200"})
    event = provider.parse_webhook(*form(params), webhook_now)
    assert event.kind is PaymentEventKind.PENDING and event.refund_id is None


def test_one_changed_byte_is_a_forgery(provider: PeachProvider, webhook_now: datetime) -> None:
    headers, raw = form(webhook())
    with pytest.raises(WebhookSignatureError) as caught:
        provider.parse_webhook(headers, raw.replace(b"1500.50", b"1500.51"), webhook_now)
    assert (caught.value.reason, caught.value.http_status) == ("bad_signature", 401)


def test_an_added_parameter_is_a_forgery(provider: PeachProvider, webhook_now: datetime) -> None:
    headers, raw = form(webhook())
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook(headers, raw + b"&merchantInvoiceId=x", webhook_now)


def test_another_secret_is_refused(provider: PeachProvider, webhook_now: datetime) -> None:
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook(*form(webhook(secret="not-our-token")), webhook_now)


def test_a_missing_signature_is_refused(provider: PeachProvider, webhook_now: datetime) -> None:
    params = webhook()
    del params["signature"]
    with pytest.raises(WebhookSignatureError, match="missing_signature"):
        provider.parse_webhook(*form(params), webhook_now)


def test_a_redelivery_days_later_derives_the_same_event_id(
    provider: PeachProvider, webhook_now: datetime
) -> None:
    # The signed timestamp is the transaction's; Peach retries for days, so dedupe does the work.
    first = provider.parse_webhook(*form(webhook()), webhook_now)
    again = provider.parse_webhook(*form(webhook()), webhook_now + timedelta(days=2))
    assert first.event_id == again.event_id


@pytest.mark.parametrize(
    ("params", "error", "reason"),
    [
        (webhook(paymentType="PA"), IgnoredWebhookError, "unsupported_event"),
        (webhook(paymentType="RF", id="r-3"), MalformedWebhookError, "missing_field"),
        (webhook(amount="1.5.0"), MalformedWebhookError, "bad_amount"),
        (webhook(currency="R"), MalformedWebhookError, "missing_field"),
    ],
)
def test_unusable_webhooks(provider: PeachProvider, webhook_now: datetime, params, error, reason) -> None:
    with pytest.raises(error) as caught:
        provider.parse_webhook(*form(params), webhook_now)
    assert caught.value.reason == reason


@pytest.mark.parametrize("raw", [b'{"a": {"nested": 1}, "signature": "x"}', b"\xff=\xfe", b"{oops"])
def test_unparseable_bodies_are_400(provider: PeachProvider, webhook_now: datetime, raw: bytes) -> None:
    with pytest.raises(MalformedWebhookError) as caught:
        provider.parse_webhook({}, raw, webhook_now)
    assert caught.value.http_status == 400


def test_create_link_gets_a_token_then_creates_a_payment_link(
    recording_transport, payment_link_request: PaymentLinkRequest, webhook_now: datetime
) -> None:
    # Given Peach answers the token and payment link calls
    transport = recording_transport(
        HttpResponse(
            status=200, body=b'{"access_token": "eyJtok", "expires_in": 14400, "token_type": "Bearer"}'
        ),
        HttpResponse(status=201, body=b'{"id": "b5b0b6a0-pl-77", "url": "https://l.ppay.io/a1b2c3"}'),
    )
    # When a link expiring in three days is created
    link = provider_with(transport, clock=lambda: webhook_now).create_link(payment_link_request)
    # Then the token request carries our credentials, and the link request our terms
    token_request, link_request = transport.requests
    assert token_request.url == "https://dashboard.peachpayments.com/api/oauth/token"
    assert token_request.json_body() == {
        "clientId": "client-1",
        "clientSecret": "client-secret",
        "merchantId": "merchant-9",
    }
    assert link_request.url == (
        "https://links.peachpayments.com/api/channels/8ac7a4ca68c22c4d0168c2caab2e0025/payments"
    )
    assert link_request.headers["Authorization"] == "Bearer eyJtok"
    assert link_request.json_body() == {
        "payment": {
            "merchantInvoiceId": "lnk_0001abcd",
            "amount": "1500.50",
            "currency": "ZAR",
            "notes": "Settlement of account 42",
        },
        "options": {
            "expiryTime": 3 * 24 * 60,
            "notificationUrl": "https://api.example.test/webhooks/peach",
            "sendEmail": False,
            "sendSms": False,
        },
    }
    assert (link.url, link.provider_reference) == ("https://l.ppay.io/a1b2c3", "b5b0b6a0-pl-77")
