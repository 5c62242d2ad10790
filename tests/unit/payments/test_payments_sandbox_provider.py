"""The sandbox rail: its signature scheme, checked with signatures computed here from the spec."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest

from rapport.payments import (
    LinkLedger,
    LinkSnapshot,
    MalformedWebhookError,
    PaymentEventKind,
    PaymentLinkRequest,
    SandboxProvider,
    StaleWebhookError,
    WebhookSignatureError,
)

SECRET = "sandbox-secret-for-tests"


def signed(body: dict | bytes, at: int, secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    """Sign as the spec says: hex HMAC-SHA256 over "<t>." + raw body."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha256).hexdigest()
    return {"Rapport-Signature": f"t={at},v1={digest}"}, raw


def body(event_id: str = "evt_1", kind: str = "succeeded", at: int = 0) -> dict:
    return {
        "id": event_id,
        "type": f"payment.{kind}",
        "created": at,
        "data": {
            "transaction_id": "txn_1",
            "link_id": "lnk_0001abcd",
            "amount_cents": 150_050,
            "currency": "ZAR",
            "status": kind,
            "refund_id": None,
        },
    }


@pytest.fixture
def provider(webhook_now: datetime) -> SandboxProvider:
    return SandboxProvider(SECRET, clock=lambda: webhook_now)


def test_create_link_points_at_the_local_pay_page(
    provider: SandboxProvider, payment_link_request: PaymentLinkRequest
) -> None:
    # When a link is created
    link = provider.create_link(payment_link_request)
    # Then it is a local URL carrying our link id
    assert link.url == "http://localhost:8080/pay/lnk_0001abcd"
    assert (link.provider, link.link_id, link.expires_at) == (
        "sandbox",
        "lnk_0001abcd",
        payment_link_request.expires_at,
    )


def test_a_delivery_signed_per_the_spec_is_accepted(provider: SandboxProvider, webhook_now: datetime) -> None:
    # Given a body signed here from the documented scheme
    at = int(webhook_now.timestamp())
    headers, raw = signed(body(at=at), at)
    # When parsed
    event = provider.parse_webhook(headers, raw, webhook_now)
    # Then the event carries exactly what was signed
    assert (event.event_id, event.transaction_id, event.link_id) == ("evt_1", "txn_1", "lnk_0001abcd")
    assert (event.kind, event.amount_cents, event.currency) == (PaymentEventKind.SUCCEEDED, 150_050, "ZAR")
    assert event.occurred_at == webhook_now


def test_header_names_match_case_insensitively(provider: SandboxProvider, webhook_now: datetime) -> None:
    at = int(webhook_now.timestamp())
    headers, raw = signed(body(at=at), at)
    lowered = {key.lower(): value for key, value in headers.items()}
    assert provider.parse_webhook(lowered, raw, webhook_now).event_id == "evt_1"


def test_one_changed_byte_in_the_body_is_a_forgery(provider: SandboxProvider, webhook_now: datetime) -> None:
    # Given a valid delivery whose amount is then changed by one byte
    at = int(webhook_now.timestamp())
    headers, raw = signed(body(at=at), at)
    forged = raw.replace(b"150050", b"950050")
    # When parsed, Then it is refused with 401
    with pytest.raises(WebhookSignatureError) as caught:
        provider.parse_webhook(headers, forged, webhook_now)
    assert (caught.value.reason, caught.value.http_status) == ("bad_signature", 401)


def test_a_signature_made_with_another_secret_is_refused(
    provider: SandboxProvider, webhook_now: datetime
) -> None:
    at = int(webhook_now.timestamp())
    headers, raw = signed(body(at=at), at, secret="someone-else")
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook(headers, raw, webhook_now)


def test_one_matching_signature_among_several_is_enough(
    provider: SandboxProvider, webhook_now: datetime
) -> None:
    # Given a header carrying an old-secret signature next to the current one (rotation)
    at = int(webhook_now.timestamp())
    headers, raw = signed(body(at=at), at)
    old, _ = signed(body(at=at), at, secret="old-secret")
    headers["Rapport-Signature"] = old["Rapport-Signature"] + "," + headers["Rapport-Signature"].split(",")[1]
    # Then it is accepted
    assert provider.parse_webhook(headers, raw, webhook_now).event_id == "evt_1"


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(minutes=-5, seconds=-1), "stale_timestamp"),
        (timedelta(minutes=5, seconds=1), "future_timestamp"),
    ],
)
def test_timestamps_outside_five_minutes_are_refused(
    provider: SandboxProvider, webhook_now: datetime, offset: timedelta, reason: str
) -> None:
    # Given a correctly signed delivery whose signed time is just outside the window
    at = int((webhook_now + offset).timestamp())
    headers, raw = signed(body(at=at), at)
    # Then it is refused as stale, with 401
    with pytest.raises(StaleWebhookError) as caught:
        provider.parse_webhook(headers, raw, webhook_now)
    assert (caught.value.reason, caught.value.http_status) == (reason, 401)


def test_a_timestamp_just_inside_the_window_is_accepted(
    provider: SandboxProvider, webhook_now: datetime
) -> None:
    at = int((webhook_now - timedelta(minutes=4, seconds=59)).timestamp())
    headers, raw = signed(body(at=at), at)
    assert provider.parse_webhook(headers, raw, webhook_now).event_id == "evt_1"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Rapport-Signature": ""}, {"Other": "t=1,v1=ab"}],
)
def test_missing_signature_is_refused(
    provider: SandboxProvider, webhook_now: datetime, headers: dict
) -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        provider.parse_webhook(headers, b"{}", webhook_now)
    assert caught.value.reason == "missing_signature"


@pytest.mark.parametrize("value", ["v1=abc", "t=notanumber,v1=abc", "t=1", "garbage", "t=1,t=2,v1=ab"])
def test_malformed_signature_headers_are_refused(
    provider: SandboxProvider, webhook_now: datetime, value: str
) -> None:
    with pytest.raises(WebhookSignatureError, match="malformed_signature_header"):
        provider.parse_webhook({"Rapport-Signature": value}, b"{}", webhook_now)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "unparseable_body"),
        (b"[1, 2]", "unparseable_body"),
        (json.dumps({"id": "evt_1", "type": "payment.succeeded", "created": 0}).encode(), "missing_field"),
        (
            json.dumps({"id": "evt_1", "type": "payment.teleported", "created": 0, "data": {}}).encode(),
            "unknown_event_type",
        ),
    ],
)
def test_signed_but_malformed_bodies_are_400(
    provider: SandboxProvider, webhook_now: datetime, raw: bytes, reason: str
) -> None:
    # Given a body that is correctly signed but unusable
    at = int(webhook_now.timestamp())
    headers, raw = signed(raw, at)
    # Then it is refused as malformed with 400
    with pytest.raises(MalformedWebhookError) as caught:
        provider.parse_webhook(headers, raw, webhook_now)
    assert (caught.value.reason, caught.value.http_status) == (reason, 400)


def test_a_float_amount_is_malformed(provider: SandboxProvider, webhook_now: datetime) -> None:
    at = int(webhook_now.timestamp())
    document = body(at=at)
    document["data"]["amount_cents"] = 1500.5
    headers, raw = signed(document, at)
    with pytest.raises(MalformedWebhookError, match="bad_amount"):
        provider.parse_webhook(headers, raw, webhook_now)


@pytest.mark.parametrize("amount", [10**13, 10**30, "10000000000000"])
def test_an_absurd_amount_is_malformed_even_when_signed(
    provider: SandboxProvider, webhook_now: datetime, amount: object
) -> None:
    # A provider's bug or a leaked key must not put R100 billion or more on the ledger
    at = int(webhook_now.timestamp())
    document = body(at=at)
    document["data"]["amount_cents"] = amount
    headers, raw = signed(document, at)
    with pytest.raises(MalformedWebhookError, match="bad_amount"):
        provider.parse_webhook(headers, raw, webhook_now)


def test_the_largest_plausible_amount_is_read(provider: SandboxProvider, webhook_now: datetime) -> None:
    at = int(webhook_now.timestamp())
    document = body(at=at)
    document["data"]["amount_cents"] = 10**13 - 1
    headers, raw = signed(document, at)
    assert provider.parse_webhook(headers, raw, webhook_now).amount_cents == 10**13 - 1


def test_pay_posts_what_the_provider_then_accepts(
    provider: SandboxProvider, payment_link_request: PaymentLinkRequest, webhook_now: datetime
) -> None:
    # Given a link issued by the sandbox
    link = provider.create_link(payment_link_request)
    # When the simulated debtor pays half, and the pay page posts its webhook
    headers, raw = provider.pay(link, 75_025)
    event = provider.parse_webhook(headers, raw, webhook_now)
    # Then the event is the payment made
    assert (event.kind, event.amount_cents, event.link_id) == (
        PaymentEventKind.SUCCEEDED,
        75_025,
        link.link_id,
    )


def test_pay_gives_every_delivery_a_unique_event_id(
    provider: SandboxProvider, payment_link_request: PaymentLinkRequest, webhook_now: datetime
) -> None:
    link = provider.create_link(payment_link_request)
    ids = {provider.parse_webhook(*provider.pay(link, 100), webhook_now).event_id for _ in range(200)}
    assert len(ids) == 200


def test_pay_can_refund_a_named_transaction(
    provider: SandboxProvider, payment_link_request: PaymentLinkRequest, webhook_now: datetime
) -> None:
    # Given a paid link
    link = provider.create_link(payment_link_request)
    payment = provider.parse_webhook(*provider.pay(link, 150_050), webhook_now)
    # When part of it is refunded
    refund = provider.parse_webhook(
        *provider.pay(link, 50_000, PaymentEventKind.REFUNDED, transaction_id=payment.transaction_id),
        webhook_now,
    )
    # Then the refund names the payment and has its own refund id
    assert refund.kind is PaymentEventKind.REFUNDED
    assert refund.transaction_id == payment.transaction_id and refund.refund_id
    with pytest.raises(ValueError, match="names the transaction"):
        provider.pay(link, 1, PaymentEventKind.REFUNDED)


def test_a_replayed_delivery_is_counted_once(
    provider: SandboxProvider, payment_link_request: PaymentLinkRequest, webhook_now: datetime
) -> None:
    # Given one signed payment delivery, posted twice within the window (a replay or a retry)
    link = provider.create_link(payment_link_request)
    headers, raw = provider.pay(link, 150_050)
    first = provider.parse_webhook(headers, raw, webhook_now)
    second = provider.parse_webhook(headers, raw, webhook_now + timedelta(minutes=1))
    # When both are reconciled
    ledger = LinkLedger(link=LinkSnapshot(link_id=link.link_id, amount_cents=150_050))
    ledger, applied = ledger.apply(first)
    ledger, replayed = ledger.apply(second)
    # Then the money counts once
    assert applied.credit_delta_cents == 150_050 and replayed.outcome.value == "duplicate"
    assert ledger.credited_cents == 150_050


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        SandboxProvider("")


def test_out_of_order_deliveries_reconcile_to_the_same_balance(
    provider: SandboxProvider, payment_link_request: PaymentLinkRequest, webhook_now: datetime
) -> None:
    # Given a payment, a late failure report for it, and a partial refund, as signed deliveries
    link = provider.create_link(payment_link_request)
    payment = provider.pay(link, 150_050, transaction_id="txn_9")
    failure = provider.pay(link, 150_050, PaymentEventKind.FAILED, transaction_id="txn_9")
    refund = provider.pay(link, 50_000, PaymentEventKind.REFUNDED, transaction_id="txn_9")
    events = [provider.parse_webhook(*delivery, webhook_now) for delivery in (payment, failure, refund)]
    snapshot = LinkSnapshot(link_id=link.link_id, amount_cents=150_050)
    # When they arrive in order, and when they arrive refund first and failure last
    in_order = LinkLedger.fold(snapshot, events)
    reversed_order = LinkLedger.fold(snapshot, list(reversed(events)))
    # Then both end with R1000.50 credited and the link partly paid
    assert in_order.credited_cents == reversed_order.credited_cents == 100_050
    assert reversed_order.status.value == "partly_paid"
