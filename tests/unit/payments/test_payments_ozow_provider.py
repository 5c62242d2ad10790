"""Ozow: Hash = lower-case hex SHA-512 of the ordered notification fields plus the private key,
lower-cased before hashing."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from rapport.payments import (
    HttpResponse,
    IgnoredWebhookError,
    LinkLedger,
    LinkSnapshot,
    MalformedWebhookError,
    OzowProvider,
    PaymentEventKind,
    PaymentLinkRequest,
    ProviderRequestError,
    WebhookSignatureError,
)

PRIVATE_KEY = "Ozow-Private-KEY-123"
ORDER = [
    "SiteCode", "TransactionId", "TransactionReference", "Amount", "Status", "Optional1", "Optional2",
    "Optional3", "Optional4", "Optional5", "CurrencyCode", "IsTest", "StatusMessage",
]  # fmt: skip


def notification(
    status: str = "Complete", amount: str = "1500.50", key: str = PRIVATE_KEY, **changes: str
) -> dict:
    fields = {
        "SiteCode": "RAP-001",
        "TransactionId": "9a3c1f1e-77b2-4c1c-9d0e-3f1b2a4c5d6e",
        "TransactionReference": "lnk_0001abcd",
        "Amount": amount,
        "Status": status,
        "Optional1": "",
        "Optional2": "",
        "Optional3": "",
        "Optional4": "",
        "Optional5": "",
        "CurrencyCode": "ZAR",
        "IsTest": "false",
        "StatusMessage": "Payment Successful",
    }
    fields.update(changes)
    text = ("".join(fields[name] for name in ORDER) + key).lower()
    fields["Hash"] = hashlib.sha512(text.encode()).hexdigest()
    return fields


def form(fields: dict) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(fields).encode()


def provider_with(transport) -> OzowProvider:
    return OzowProvider(
        site_code="RAP-001",
        private_key=PRIVATE_KEY,
        api_key="api-key-1",
        transport=transport,
        notify_url="https://api.example.test/webhooks/ozow",
        cancel_url="https://pay.example.test/cancel",
        error_url="https://pay.example.test/error",
        success_url="https://pay.example.test/success",
    )


@pytest.fixture
def provider(recording_transport) -> OzowProvider:
    return provider_with(recording_transport())


def test_a_form_notification_hashed_per_the_spec_is_a_success(
    provider: OzowProvider, webhook_now: datetime
) -> None:
    event = provider.parse_webhook(*form(notification()), webhook_now)
    assert (event.kind, event.amount_cents, event.currency) == (PaymentEventKind.SUCCEEDED, 150_050, "ZAR")
    assert event.transaction_id == "9a3c1f1e-77b2-4c1c-9d0e-3f1b2a4c5d6e"
    assert event.link_id == "lnk_0001abcd"
    assert event.event_id == "9a3c1f1e-77b2-4c1c-9d0e-3f1b2a4c5d6e:Complete"
    assert event.occurred_at == webhook_now


def test_a_json_notification_is_accepted_too(provider: OzowProvider, webhook_now: datetime) -> None:
    # Given the same fields posted as JSON, with IsTest as a JSON boolean and optionals null
    fields = notification(Optional1="")
    document = {**fields, "IsTest": False, "Optional1": None}
    raw = json.dumps(document).encode()
    event = provider.parse_webhook({"content-type": "application/json"}, raw, webhook_now)
    assert event.amount_cents == 150_050


def test_a_json_amount_number_keeps_its_exact_text(provider: OzowProvider, webhook_now: datetime) -> None:
    # Given Amount sent as the JSON number 1500.50, hashed as Ozow would hash its text "1500.50"
    fields = notification(amount="1500.50")
    raw = json.dumps(fields).encode().replace(b'"Amount": "1500.50"', b'"Amount": 1500.50')
    assert provider.parse_webhook({}, raw, webhook_now).amount_cents == 150_050


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("Cancelled", PaymentEventKind.FAILED),
        ("Error", PaymentEventKind.FAILED),
        ("Abandoned", PaymentEventKind.FAILED),
        ("PendingInvestigation", PaymentEventKind.PENDING),
    ],
)
def test_statuses_map_to_kinds(provider: OzowProvider, webhook_now: datetime, status: str, kind) -> None:
    assert provider.parse_webhook(*form(notification(status)), webhook_now).kind is kind


def test_a_changed_amount_breaks_the_hash(provider: OzowProvider, webhook_now: datetime) -> None:
    fields = notification()
    fields["Amount"] = "9500.50"
    with pytest.raises(WebhookSignatureError) as caught:
        provider.parse_webhook(*form(fields), webhook_now)
    assert (caught.value.reason, caught.value.http_status) == ("bad_signature", 401)


def test_one_changed_byte_in_the_raw_body_breaks_the_hash(
    provider: OzowProvider, webhook_now: datetime
) -> None:
    headers, raw = form(notification())
    forged = raw.replace(b"lnk_0001abcd", b"lnk_0001abce")
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook(headers, forged, webhook_now)


def test_another_private_key_is_refused(provider: OzowProvider, webhook_now: datetime) -> None:
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook(*form(notification(key="someone-else")), webhook_now)


def test_a_missing_hash_is_refused(provider: OzowProvider, webhook_now: datetime) -> None:
    fields = notification()
    del fields["Hash"]
    with pytest.raises(WebhookSignatureError, match="missing_signature"):
        provider.parse_webhook(*form(fields), webhook_now)


def test_another_site_is_refused(provider: OzowProvider, webhook_now: datetime) -> None:
    with pytest.raises(MalformedWebhookError, match="site_mismatch"):
        provider.parse_webhook(*form(notification(SiteCode="OTHER-9")), webhook_now)


@pytest.mark.parametrize(
    ("fields", "error", "reason"),
    [
        (notification(amount="15.005"), MalformedWebhookError, "bad_amount"),
        (notification(TransactionId=""), MalformedWebhookError, "missing_field"),
        (notification(status="Teleported"), IgnoredWebhookError, "unsupported_event"),
    ],
)
def test_unusable_notifications(provider: OzowProvider, webhook_now: datetime, fields, error, reason) -> None:
    with pytest.raises(error) as caught:
        provider.parse_webhook(*form(fields), webhook_now)
    assert caught.value.reason == reason


@pytest.mark.parametrize("raw", [b"\xff\xfe=1", b"{not json", b"[1]"])
def test_unparseable_bodies_are_400(provider: OzowProvider, webhook_now: datetime, raw: bytes) -> None:
    with pytest.raises(MalformedWebhookError) as caught:
        provider.parse_webhook({}, raw, webhook_now)
    assert caught.value.http_status == 400


def test_a_duplicated_notification_counts_once(provider: OzowProvider, webhook_now: datetime) -> None:
    # Given Ozow sends the same notification twice, the second a day later (no signed time exists)
    first = provider.parse_webhook(*form(notification()), webhook_now)
    second = provider.parse_webhook(*form(notification()), webhook_now + timedelta(days=1))
    # When both are reconciled, Then only the first credits
    ledger, applied = LinkLedger(link=LinkSnapshot(link_id="lnk_0001abcd", amount_cents=150_050)).apply(first)
    _, duplicate = ledger.apply(second)
    assert applied.credit_delta_cents == 150_050 and duplicate.outcome.value == "duplicate"


def test_create_link_posts_a_hashed_payment_request(
    recording_transport, payment_link_request: PaymentLinkRequest
) -> None:
    # Given Ozow answers with its payment request shape
    transport = recording_transport(
        HttpResponse(
            status=200,
            body=b'{"paymentRequestId": "c0ffee00-1111-2222-3333-444455556666", "errorMessage": null, '
            b'"url": "https://pay.ozow.com/c0ffee00-1111-2222-3333-444455556666/Secure"}',
        )
    )
    # When a link is created
    link = provider_with(transport).create_link(payment_link_request)
    # Then the request carries the fields and a HashCheck computed here from the documented order
    (request,) = transport.requests
    assert (request.url, request.headers["ApiKey"]) == (
        "https://api.ozow.com/PostPaymentRequest",
        "api-key-1",
    )
    values = [
        "RAP-001", "ZA", "ZAR", "1500.50", "lnk_0001abcd", "lnk_0001abcd",
        "https://pay.example.test/cancel", "https://pay.example.test/error", "https://pay.example.test/thanks",
        "https://api.example.test/webhooks/ozow", "false",
    ]  # fmt: skip
    expected_hash = hashlib.sha512(("".join(values) + PRIVATE_KEY).lower().encode()).hexdigest()
    sent = request.json_body()
    assert sent["hashCheck"] == expected_hash
    assert (sent["siteCode"], sent["amount"], sent["transactionReference"], sent["isTest"]) == (
        "RAP-001",
        "1500.50",
        "lnk_0001abcd",
        False,
    )
    assert link.url == "https://pay.ozow.com/c0ffee00-1111-2222-3333-444455556666/Secure"
    assert link.provider_reference == "c0ffee00-1111-2222-3333-444455556666"


def test_create_link_surfaces_an_error_message(
    recording_transport, payment_link_request: PaymentLinkRequest
) -> None:
    transport = recording_transport(HttpResponse(status=200, body=b'{"errorMessage": "Invalid hash check"}'))
    with pytest.raises(ProviderRequestError, match="provider_refused"):
        provider_with(transport).create_link(payment_link_request)
