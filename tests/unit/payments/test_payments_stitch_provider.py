"""Stitch via Svix: base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" with the decoded whsec_ key.

``svix`` checks timestamps against the machine's clock, so these tests use the real current time
as ``now`` (only the arithmetic around it is fixed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from rapport.payments import (
    HttpResponse,
    IgnoredWebhookError,
    LinkLedger,
    LinkSnapshot,
    MalformedWebhookError,
    PaymentEventKind,
    PaymentLinkRequest,
    ProviderRequestError,
    StaleWebhookError,
    StitchProvider,
    WebhookSignatureError,
)

KEY = b"stitch-unit-test-key-0123456789ab"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def svix_headers(raw: bytes, at: datetime, message_id: str = "msg_2f6Q", key: bytes = KEY) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return {
        "svix-id": message_id,
        "svix-timestamp": timestamp,
        "svix-signature": "v1," + base64.b64encode(digest).decode(),
    }


def payment_body(status: str = "PaymentInitiationRequestCompleted", quantity: str = "1500.50") -> bytes:
    return json.dumps(
        {
            "id": "cGF5cmVxLzAxMjM0",
            "externalReference": "lnk_0001abcd",
            "status": {"__typename": status, "date": "2026-03-02T09:59:00Z"},
            "amount": {"quantity": quantity, "currency": "ZAR"},
        }
    ).encode()


def refund_body() -> bytes:
    return json.dumps(
        {
            "id": "cmVmdW5kLzk5",
            "paymentRequestId": "cGF5cmVxLzAxMjM0",
            "status": {"__typename": "RefundCompleted"},
            "amount": {"quantity": 250.5, "currency": "ZAR"},
        }
    ).encode()


@pytest.fixture
def real_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def provider(recording_transport) -> StitchProvider:
    return StitchProvider(SECRET, recording_transport(), client_id="client", client_secret="client-secret")


def test_a_completed_payment_signed_per_the_spec_is_a_success(
    provider: StitchProvider, real_now: datetime
) -> None:
    raw = payment_body()
    event = provider.parse_webhook(svix_headers(raw, real_now), raw, real_now)
    assert (event.event_id, event.transaction_id, event.link_id) == (
        "msg_2f6Q",
        "cGF5cmVxLzAxMjM0",
        "lnk_0001abcd",
    )
    assert (event.kind, event.amount_cents, event.currency) == (PaymentEventKind.SUCCEEDED, 150_050, "ZAR")


def test_a_completed_refund_reverses_the_payment_it_names(
    provider: StitchProvider, real_now: datetime
) -> None:
    raw = refund_body()
    event = provider.parse_webhook(svix_headers(raw, real_now), raw, real_now)
    assert (event.kind, event.transaction_id, event.refund_id) == (
        PaymentEventKind.REFUNDED,
        "cGF5cmVxLzAxMjM0",
        "cmVmdW5kLzk5",
    )
    # A JSON number 250.5 is read as its text, never as a float: exactly R250.50.
    assert event.amount_cents == 25_050


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("PaymentInitiationRequestPending", PaymentEventKind.PENDING),
        ("PaymentInitiationRequestCancelled", PaymentEventKind.FAILED),
        ("PaymentInitiationRequestExpired", PaymentEventKind.FAILED),
    ],
)
def test_payment_statuses_map_to_kinds(
    provider: StitchProvider, real_now: datetime, status: str, kind: PaymentEventKind
) -> None:
    raw = payment_body(status)
    assert provider.parse_webhook(svix_headers(raw, real_now), raw, real_now).kind is kind


def test_headers_match_case_insensitively(provider: StitchProvider, real_now: datetime) -> None:
    raw = payment_body()
    headers = {key.upper(): value for key, value in svix_headers(raw, real_now).items()}
    assert provider.parse_webhook(headers, raw, real_now).kind is PaymentEventKind.SUCCEEDED


def test_one_valid_signature_among_several_is_enough(provider: StitchProvider, real_now: datetime) -> None:
    raw = payment_body()
    headers = svix_headers(raw, real_now)
    other = svix_headers(raw, real_now, key=b"previous-key-000000000000000000")["svix-signature"]
    headers["svix-signature"] = f"{other} {headers['svix-signature']}"
    assert provider.parse_webhook(headers, raw, real_now).event_id == "msg_2f6Q"


def test_one_changed_byte_is_a_forgery(provider: StitchProvider, real_now: datetime) -> None:
    raw = payment_body()
    headers = svix_headers(raw, real_now)
    with pytest.raises(WebhookSignatureError) as caught:
        provider.parse_webhook(headers, raw.replace(b"1500.50", b"9500.50"), real_now)
    assert (caught.value.reason, caught.value.http_status) == ("bad_signature", 401)


def test_another_secret_is_refused(provider: StitchProvider, real_now: datetime) -> None:
    raw = payment_body()
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook(
            svix_headers(raw, real_now, key=b"not-our-key-0000000000000000000"), raw, real_now
        )


def test_a_different_message_id_breaks_the_signature(provider: StitchProvider, real_now: datetime) -> None:
    # Given a valid delivery whose svix-id is swapped (an attempt to dodge deduplication)
    raw = payment_body()
    headers = svix_headers(raw, real_now)
    headers["svix-id"] = "msg_other"
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook(headers, raw, real_now)


@pytest.mark.parametrize("missing", ["svix-id", "svix-timestamp", "svix-signature"])
def test_each_missing_header_is_refused(provider: StitchProvider, real_now: datetime, missing: str) -> None:
    raw = payment_body()
    headers = svix_headers(raw, real_now)
    del headers[missing]
    with pytest.raises(WebhookSignatureError) as caught:
        provider.parse_webhook(headers, raw, real_now)
    assert caught.value.reason == "missing_signature"


@pytest.mark.parametrize(("minutes", "reason"), [(-6, "stale_timestamp"), (6, "future_timestamp")])
def test_stale_and_future_timestamps_are_refused(
    provider: StitchProvider, real_now: datetime, minutes: int, reason: str
) -> None:
    raw = payment_body()
    headers = svix_headers(raw, real_now + timedelta(minutes=minutes))
    with pytest.raises(StaleWebhookError) as caught:
        provider.parse_webhook(headers, raw, real_now)
    assert (caught.value.reason, caught.value.http_status) == (reason, 401)


def test_an_injected_clock_far_from_the_machine_clock_is_reported(provider: StitchProvider) -> None:
    # Given a delivery signed "now" by an injected clock that is a day behind the machine
    injected = datetime.now(UTC) - timedelta(days=1)
    raw = payment_body()
    # When parsed, Then svix's own clock check fires and is reported as clock skew
    with pytest.raises(StaleWebhookError, match="clock_skew"):
        provider.parse_webhook(svix_headers(raw, injected), raw, injected)


def test_a_malformed_timestamp_header_is_refused(provider: StitchProvider, real_now: datetime) -> None:
    raw = payment_body()
    headers = svix_headers(raw, real_now)
    headers["svix-timestamp"] = "yesterday"
    with pytest.raises(WebhookSignatureError, match="malformed_signature_header"):
        provider.parse_webhook(headers, raw, real_now)


@pytest.mark.parametrize(
    ("raw", "error", "reason"),
    [
        (b"\xff\xfe", MalformedWebhookError, "unparseable_body"),
        (b"[]", MalformedWebhookError, "unparseable_body"),
        (
            json.dumps({"id": "x", "amount": {"quantity": "1", "currency": "ZAR"}}).encode(),
            MalformedWebhookError,
            "missing_field",
        ),
        (payment_body(quantity="12.345"), MalformedWebhookError, "bad_amount"),
        (
            payment_body(status="PaymentInitiationRequestSomethingNew"),
            IgnoredWebhookError,
            "unsupported_event",
        ),
    ],
)
def test_signed_but_unusable_bodies(
    provider: StitchProvider, real_now: datetime, raw: bytes, error: type, reason: str
) -> None:
    with pytest.raises(error) as caught:
        provider.parse_webhook(svix_headers(raw, real_now), raw, real_now)
    assert caught.value.reason == reason


def test_an_invalid_secret_is_a_configuration_error(recording_transport) -> None:
    with pytest.raises(ValueError, match="Stitch webhook secret"):
        StitchProvider("whsec_", recording_transport(), client_id="c", client_secret="s")


def test_create_link_gets_a_token_then_creates_a_payment_request(
    recording_transport, payment_link_request: PaymentLinkRequest
) -> None:
    # Given Stitch answers the token call and the GraphQL mutation in their documented shapes
    transport = recording_transport(
        HttpResponse(
            status=200, body=b'{"access_token": "tok_abc", "expires_in": 3599, "token_type": "Bearer"}'
        ),
        HttpResponse(
            status=200,
            body=json.dumps(
                {
                    "data": {
                        "clientPaymentInitiationRequestCreate": {
                            "paymentInitiationRequest": {
                                "id": "cGF5cmVxLzAxMjM0",
                                "url": "https://secure.stitch.money/connect/payment-request/cGF5cmVxLzAxMjM0",
                            }
                        }
                    }
                }
            ).encode(),
        ),
    )
    provider = StitchProvider(
        SECRET,
        transport,
        client_id="client",
        client_secret="client-secret",
        beneficiary={"bankAccount": {"x": 1}},
    )
    # When a link is created
    link = provider.create_link(payment_link_request)
    # Then the first request is a client-credentials token request
    token_request, graphql_request = transport.requests
    assert token_request.url == "https://secure.stitch.money/connect/token"
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["client"],
        "client_secret": ["client-secret"],
        "scope": ["client_paymentrequest"],
        "audience": ["https://secure.stitch.money/connect/token"],
    }
    # And the second creates the payment request with the token, our reference and exact amount
    assert graphql_request.url == "https://api.stitch.money/graphql"
    assert graphql_request.headers["Authorization"] == "Bearer tok_abc"
    sent = graphql_request.json_body()
    assert "clientPaymentInitiationRequestCreate" in sent["query"]
    assert sent["variables"] == {
        "amount": {"quantity": "1500.50", "currency": "ZAR"},
        "payerReference": "lnk_0001abcd",
        "beneficiaryReference": "lnk_0001abcd",
        "externalReference": "lnk_0001abcd",
        "beneficiary": {"bankAccount": {"x": 1}},
    }
    assert link.url == (
        "https://secure.stitch.money/connect/payment-request/cGF5cmVxLzAxMjM0"
        "?redirect_uri=https%3A%2F%2Fpay.example.test%2Fthanks"
    )
    assert link.provider_reference == "cGF5cmVxLzAxMjM0"


def test_create_link_surfaces_graphql_errors(
    recording_transport, payment_link_request: PaymentLinkRequest
) -> None:
    transport = recording_transport(
        HttpResponse(status=200, body=b'{"access_token": "tok_abc"}'),
        HttpResponse(status=200, body=b'{"errors": [{"message": "amount too large"}]}'),
    )
    provider = StitchProvider(SECRET, transport, client_id="client", client_secret="client-secret")
    with pytest.raises(ProviderRequestError, match="provider_refused"):
        provider.create_link(payment_link_request)


def test_a_redelivered_message_counts_once(provider: StitchProvider, real_now: datetime) -> None:
    # Given Svix retries one message (same svix-id), re-signed a minute later
    raw = payment_body()
    first = provider.parse_webhook(svix_headers(raw, real_now), raw, real_now)
    later = real_now + timedelta(minutes=1)
    retry = provider.parse_webhook(svix_headers(raw, later), raw, later)
    # When both are reconciled, Then the retry is a duplicate
    ledger, _ = LinkLedger(link=LinkSnapshot(link_id="lnk_0001abcd", amount_cents=150_050)).apply(first)
    _, decision = ledger.apply(retry)
    assert decision.outcome.value == "duplicate" and ledger.credited_cents == 150_050
