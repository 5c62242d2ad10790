"""Paystack: x-paystack-signature = hex HMAC-SHA512 of the raw body, keyed with the secret key."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest

from rapport.payments import (
    DuplicateReferenceError,
    HttpResponse,
    IgnoredWebhookError,
    LinkLedger,
    LinkSnapshot,
    MalformedWebhookError,
    PaymentEventKind,
    PaymentLinkRequest,
    PaystackProvider,
    ProviderRequestError,
    StaleWebhookError,
    WebhookSignatureError,
    instalment_reference,
    link_id_of_reference,
    parse_instalment_reference,
)

SECRET = "sk_test_0123456789abcdef"


def sign(raw: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha512).hexdigest()


def charge_success(reference: str = "lnk_0001abcd", amount: object = 150_050) -> bytes:
    document = {
        "event": "charge.success",
        "data": {
            "id": 4099260516,
            "domain": "test",
            "status": "success",
            "reference": reference,
            "amount": amount,
            "currency": "ZAR",
            "paid_at": "2026-03-02T09:58:11.000Z",
            "created_at": "2026-03-02T09:57:40.000Z",
            "metadata": {"link_id": reference, "purpose": "settlement"},
        },
    }
    return json.dumps(document).encode()


def refund_processed(amount: int = 50_000) -> bytes:
    document = {
        "event": "refund.processed",
        "data": {
            "status": "processed",
            "transaction_reference": "lnk_0001abcd",
            "refund_reference": "RFD_8812",
            "amount": amount,
            "currency": "ZAR",
        },
    }
    return json.dumps(document).encode()


@pytest.fixture
def provider(recording_transport) -> PaystackProvider:
    return PaystackProvider(SECRET, recording_transport(), customer_email=lambda _: "debtor@example.test")


def test_charge_success_signed_per_the_spec_becomes_a_success(
    provider: PaystackProvider, webhook_now: datetime
) -> None:
    raw = charge_success()
    event = provider.parse_webhook({"x-paystack-signature": sign(raw)}, raw, webhook_now)
    assert (event.kind, event.amount_cents, event.currency) == (PaymentEventKind.SUCCEEDED, 150_050, "ZAR")
    assert (event.transaction_id, event.link_id) == ("lnk_0001abcd", "lnk_0001abcd")
    assert event.event_id == "charge.success:4099260516"
    assert event.occurred_at.isoformat() == "2026-03-02T09:58:11+00:00"


def test_header_name_is_case_insensitive(provider: PaystackProvider, webhook_now: datetime) -> None:
    raw = charge_success()
    assert (
        provider.parse_webhook({"X-Paystack-Signature": sign(raw).upper()}, raw, webhook_now).amount_cents
        == 150_050
    )


def test_refund_processed_names_the_refunded_transaction(
    provider: PaystackProvider, webhook_now: datetime
) -> None:
    raw = refund_processed()
    event = provider.parse_webhook({"x-paystack-signature": sign(raw)}, raw, webhook_now)
    assert (event.kind, event.transaction_id, event.refund_id) == (
        PaymentEventKind.REFUNDED,
        "lnk_0001abcd",
        "RFD_8812",
    )
    assert event.event_id == "refund.processed:RFD_8812"


def test_one_changed_byte_is_a_forgery(provider: PaystackProvider, webhook_now: datetime) -> None:
    raw = charge_success()
    forged = raw.replace(b"150050", b"150051")
    with pytest.raises(WebhookSignatureError) as caught:
        provider.parse_webhook({"x-paystack-signature": sign(raw)}, forged, webhook_now)
    assert (caught.value.reason, caught.value.http_status) == ("bad_signature", 401)


def test_another_secret_is_refused(provider: PaystackProvider, webhook_now: datetime) -> None:
    raw = charge_success()
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook({"x-paystack-signature": sign(raw, "sk_test_other")}, raw, webhook_now)


def test_missing_signature_is_refused(provider: PaystackProvider, webhook_now: datetime) -> None:
    with pytest.raises(WebhookSignatureError, match="missing_signature"):
        provider.parse_webhook({"content-type": "application/json"}, charge_success(), webhook_now)


def test_a_redelivery_derives_the_same_event_id_and_counts_once(
    provider: PaystackProvider, webhook_now: datetime
) -> None:
    # Given the legacy form signs no time, an old delivery replayed days later still verifies
    raw = charge_success()
    first = provider.parse_webhook({"x-paystack-signature": sign(raw)}, raw, webhook_now)
    replay = provider.parse_webhook({"x-paystack-signature": sign(raw)}, raw, webhook_now + timedelta(days=3))
    # When both reach the ledger, Then the replay is a duplicate: dedupe, not a clock, stops it
    ledger, _ = LinkLedger(link=LinkSnapshot(link_id="lnk_0001abcd", amount_cents=150_050)).apply(first)
    _, decision = ledger.apply(replay)
    assert replay.event_id == first.event_id and decision.outcome.value == "duplicate"


def _timestamped(raw: bytes, at: int, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha512).hexdigest()
    return f"t={at},v1=key1:{digest}"


def test_the_timestamped_form_is_verified(provider: PaystackProvider, webhook_now: datetime) -> None:
    raw = charge_success()
    header_value = _timestamped(raw, int(webhook_now.timestamp()))
    assert (
        provider.parse_webhook({"x-paystack-signature": header_value}, raw, webhook_now).amount_cents
        == 150_050
    )


@pytest.mark.parametrize(("minutes", "reason"), [(-6, "stale_timestamp"), (6, "future_timestamp")])
def test_the_timestamped_form_rejects_stale_and_future_times(
    provider: PaystackProvider, webhook_now: datetime, minutes: int, reason: str
) -> None:
    raw = charge_success()
    header_value = _timestamped(raw, int((webhook_now + timedelta(minutes=minutes)).timestamp()))
    with pytest.raises(StaleWebhookError, match=reason):
        provider.parse_webhook({"x-paystack-signature": header_value}, raw, webhook_now)


def test_the_timestamped_form_with_a_forged_body_is_refused(
    provider: PaystackProvider, webhook_now: datetime
) -> None:
    raw = charge_success()
    header_value = _timestamped(raw, int(webhook_now.timestamp()))
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider.parse_webhook({"x-paystack-signature": header_value}, raw + b" ", webhook_now)


def test_events_we_do_not_model_are_acknowledged_and_ignored(
    provider: PaystackProvider, webhook_now: datetime
) -> None:
    raw = json.dumps({"event": "transfer.success", "data": {"id": 1}}).encode()
    with pytest.raises(IgnoredWebhookError) as caught:
        provider.parse_webhook({"x-paystack-signature": sign(raw)}, raw, webhook_now)
    assert caught.value.http_status == 200


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "unparseable_body"),
        (json.dumps({"event": "charge.success"}).encode(), "missing_field"),
        (charge_success(amount=1500.5), "bad_amount"),
        (charge_success(amount=-10), "bad_amount"),
        (charge_success(reference=""), "missing_field"),
    ],
)
def test_signed_malformed_bodies_are_400(
    provider: PaystackProvider, webhook_now: datetime, raw: bytes, reason: str
) -> None:
    with pytest.raises(MalformedWebhookError) as caught:
        provider.parse_webhook({"x-paystack-signature": sign(raw)}, raw, webhook_now)
    assert (caught.value.reason, caught.value.http_status) == (reason, 400)


def test_create_link_initialises_a_transaction(
    recording_transport, payment_link_request: PaymentLinkRequest
) -> None:
    # Given Paystack answers with its documented initialize shape
    transport = recording_transport(
        HttpResponse(
            status=200,
            body=json.dumps(
                {
                    "status": True,
                    "message": "Authorization URL created",
                    "data": {
                        "authorization_url": "https://checkout.paystack.com/3ni8kdavz62431k",
                        "access_code": "3ni8kdavz62431k",
                        "reference": "lnk_0001abcd",
                    },
                }
            ).encode(),
        )
    )
    provider = PaystackProvider(SECRET, transport, customer_email=lambda _: "debtor@example.test")
    # When a link is created
    link = provider.create_link(payment_link_request)
    # Then the request is Paystack's initialize call with our link id as reference
    (request,) = transport.requests
    assert (request.method, request.url) == ("POST", "https://api.paystack.co/transaction/initialize")
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json_body() == {
        "email": "debtor@example.test",
        "amount": "150050",
        "currency": "ZAR",
        "reference": "lnk_0001abcd",
        "callback_url": "https://pay.example.test/thanks",
        "metadata": {"link_id": "lnk_0001abcd", "account_id": "acc_42", "purpose": "settlement"},
    }
    assert link.url == "https://checkout.paystack.com/3ni8kdavz62431k"
    assert link.provider_reference == "3ni8kdavz62431k"


@pytest.mark.parametrize(
    "response",
    [
        HttpResponse(status=401, body=b'{"status": false, "message": "Invalid key"}'),
        HttpResponse(status=200, body=b'{"status": false, "message": "Duplicate Transaction Reference"}'),
        HttpResponse(status=200, body=b"<html>"),
        HttpResponse(status=200, body=b'{"status": true, "data": {"access_code": "x"}}'),
    ],
)
def test_create_link_surfaces_provider_errors(
    recording_transport, payment_link_request: PaymentLinkRequest, response: HttpResponse
) -> None:
    provider = PaystackProvider(
        SECRET, recording_transport(response), customer_email=lambda _: "d@example.test"
    )
    with pytest.raises(ProviderRequestError) as caught:
        provider.create_link(payment_link_request)
    assert caught.value.http_status == 502


# --- a plan's instalments: one Paystack reference each ---------------------------------------------

PLAN_LINK = "I0123456789abcdef0123"


def instalment_success(reference: str, charge_id: int, amount: int = 80_000, metadata: bool = True) -> bytes:
    data: dict = {
        "id": charge_id,
        "status": "success",
        "reference": reference,
        "amount": amount,
        "currency": "ZAR",
        "paid_at": "2026-03-25T08:00:00.000Z",
    }
    if metadata:
        data["metadata"] = {"link_id": PLAN_LINK, "purpose": "instalment"}
    return json.dumps({"event": "charge.success", "data": data}).encode()


def test_instalment_references_are_deterministic_and_name_their_link():
    first = instalment_reference(PLAN_LINK, 1, 1)
    assert first == instalment_reference(PLAN_LINK, 1, 1) == f"{PLAN_LINK}.i1.a1"
    assert len({first, instalment_reference(PLAN_LINK, 2, 1), instalment_reference(PLAN_LINK, 1, 2)}) == 3
    assert parse_instalment_reference(instalment_reference(PLAN_LINK, 12, 3)) == (PLAN_LINK, 12, 3)
    assert link_id_of_reference(instalment_reference(PLAN_LINK, 2, 1)) == PLAN_LINK
    # A plain link's reference is its link id, and nothing else is read as an instalment
    assert link_id_of_reference("lnk_0001abcd") == "lnk_0001abcd"
    assert parse_instalment_reference(f"{PLAN_LINK}.i0.a1") is None
    assert parse_instalment_reference(f"{PLAN_LINK}.i1") is None
    with pytest.raises(ValueError):
        instalment_reference(PLAN_LINK, 0, 1)


def test_a_checkout_reference_must_name_its_own_link(payment_link_request: PaymentLinkRequest):
    fields = payment_link_request.model_dump()
    with pytest.raises(ValueError, match="must name its link"):
        PaymentLinkRequest(**{**fields, "reference": instalment_reference("Iother", 1, 1)})
    own = PaymentLinkRequest(**{**fields, "reference": instalment_reference(fields["link_id"], 2, 1)})
    assert own.provider_reference == "lnk_0001abcd.i2.a1"
    assert payment_link_request.provider_reference == "lnk_0001abcd"


def test_an_instalment_checkout_is_initialised_under_its_own_reference(
    recording_transport, payment_link_request: PaymentLinkRequest
) -> None:
    # Given a request for the second instalment of a plan's link
    reference = instalment_reference("lnk_0001abcd", 2, 1)
    request = PaymentLinkRequest(**{**payment_link_request.model_dump(), "reference": reference})
    transport = recording_transport(
        HttpResponse(
            status=200,
            body=json.dumps(
                {
                    "status": True,
                    "data": {"authorization_url": "https://checkout.paystack.com/i2", "access_code": "i2"},
                }
            ).encode(),
        )
    )
    provider = PaystackProvider(SECRET, transport, customer_email=lambda _: "debtor@example.test")
    # When the checkout is created
    provider.create_link(request)
    # Then Paystack is given the instalment's reference, and the link id travels in the metadata
    (sent,) = transport.requests
    assert sent.json_body()["reference"] == "lnk_0001abcd.i2.a1"
    assert sent.json_body()["metadata"]["link_id"] == "lnk_0001abcd"


@pytest.mark.parametrize("status", [200, 400])
def test_a_reference_paystack_already_holds_is_a_duplicate_reference_error(
    recording_transport, payment_link_request: PaymentLinkRequest, status: int
) -> None:
    refusal = b'{"status": false, "message": "Duplicate Transaction Reference"}'
    answer = HttpResponse(status=status, body=refusal)
    provider = PaystackProvider(SECRET, recording_transport(answer), customer_email=lambda _: "d@x.test")
    with pytest.raises(DuplicateReferenceError) as caught:
        provider.create_link(payment_link_request)
    assert (caught.value.reason, caught.value.http_status) == ("duplicate_reference", 502)


def test_two_instalments_of_one_link_are_two_transactions_each_credited_once(
    provider: PaystackProvider, webhook_now: datetime
) -> None:
    # Given the first and second instalments of one plan paid through their own checkouts
    first_raw = instalment_success(instalment_reference(PLAN_LINK, 1, 1), 5001)
    second_raw = instalment_success(instalment_reference(PLAN_LINK, 2, 1), 5002)
    first = provider.parse_webhook({"x-paystack-signature": sign(first_raw)}, first_raw, webhook_now)
    second = provider.parse_webhook({"x-paystack-signature": sign(second_raw)}, second_raw, webhook_now)
    # Then both map back to the plan's link, as distinct transactions
    assert first.link_id == second.link_id == PLAN_LINK
    assert (first.transaction_id, second.transaction_id) == (f"{PLAN_LINK}.i1.a1", f"{PLAN_LINK}.i2.a1")
    # When the ledger of the link takes both, and the second is delivered again
    ledger = LinkLedger(link=LinkSnapshot(link_id=PLAN_LINK, amount_cents=240_000))
    ledger, one = ledger.apply(first)
    ledger, two = ledger.apply(second)
    _, again = ledger.apply(
        provider.parse_webhook({"x-paystack-signature": sign(second_raw)}, second_raw, webhook_now)
    )
    # Then each instalment is credited once and the redelivery is a duplicate
    assert [one.credit_delta_cents, two.credit_delta_cents, again.credit_delta_cents] == [80_000, 80_000, 0]
    assert again.outcome.value == "duplicate"


def test_an_instalment_event_without_metadata_and_its_refund_find_the_link_from_the_reference(
    provider: PaystackProvider, webhook_now: datetime
) -> None:
    reference = instalment_reference(PLAN_LINK, 3, 2)
    raw = instalment_success(reference, 5003, metadata=False)
    event = provider.parse_webhook({"x-paystack-signature": sign(raw)}, raw, webhook_now)
    assert (event.link_id, event.transaction_id) == (PLAN_LINK, reference)
    refund = json.dumps(
        {
            "event": "refund.processed",
            "data": {
                "transaction_reference": reference,
                "refund_reference": "RFD_9",
                "amount": 100,
                "currency": "ZAR",
            },
        }
    ).encode()
    refunded = provider.parse_webhook({"x-paystack-signature": sign(refund)}, refund, webhook_now)
    assert (refunded.link_id, refunded.transaction_id, refunded.kind) == (
        PLAN_LINK, reference, PaymentEventKind.REFUNDED,
    )
