"""Stitch DebiCheck (rapport.payments.providers.stitch_debicheck): mandates as payment consent
requests over a faked HTTP layer, and Svix-signed callbacks built here from the documented scheme:
base64 HMAC-SHA256 of "<svix-id>.<svix-timestamp>.<raw body>" keyed with the decoded whsec_ secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from rapport.payments import (
    HttpResponse,
    IgnoredWebhookError,
    MalformedWebhookError,
    PaymentEventKind,
    ProviderRequestError,
    StaleWebhookError,
    WebhookSignatureError,
)
from rapport.payments.debicheck import (
    AuthenticationType,
    BankAccountType,
    DebiCheckGateway,
    MandateCollection,
    MandateEvent,
    MandateNotFoundError,
    MandateRequest,
    MandateStatus,
    MandateTransitionError,
    MandateValidationError,
    ProviderMandateCallbacks,
    SandboxDebiCheckGateway,
    mandate_request_for_plan,
    parse_mandate_callback,
    restate_mandate_event,
)
from rapport.payments.plans import PayDay, PlanFrequency, propose_plan
from rapport.payments.providers import stitch_debicheck
from rapport.payments.providers.stitch_debicheck import (
    StitchDebiCheckGateway,
    consent_nonce,
    contract_reference,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
KEY = b"stitch-debicheck-unit-key-0123456"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
ACCOUNT_NUMBER = "62812345670"
BRANCH_CODE = "250655"
MANDATE_ID = "acc-1:plan-1"
CONSENT_ID = "cGF5Y29uc2VudC8xMjM0"
API = "https://api.stitch.money/graphql"
TOKEN_URL = "https://secure.stitch.money/connect/token"


# --- helpers ------------------------------------------------------------------------------------


def mandate_request(
    pay_day: PayDay | None = None,
    frequency: PlanFrequency = PlanFrequency.MONTHLY,
    authentication: AuthenticationType = AuthenticationType.TT1,
    account_type: BankAccountType = BankAccountType.CURRENT,
) -> MandateRequest:
    """R1,000.01 in three instalments (R334, R334, R332.01) from March 2026, on the 25th."""
    plan = propose_plan(
        100_001,
        frequency,
        date(2026, 3, 1),
        pay_day or PayDay.of_month(25),
        None,
        instalments=3,
        plan_id="plan-1",
        account_id="acc-1",
    )
    return mandate_request_for_plan(
        plan,
        mandate_id=MANDATE_ID,
        account_number=ACCOUNT_NUMBER,
        branch_code=BRANCH_CODE,
        account_type=account_type,
        authentication=authentication,
    )


def answer(document: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(status=status, body=json.dumps(document).encode())


def token() -> HttpResponse:
    return answer({"access_token": "client-token-1", "expires_in": 3600, "token_type": "bearer"})


def consent(type_name: str, field: str = "paymentConsentRequestCreate") -> HttpResponse:
    url = f"https://secure.stitch.money/v2/interaction?consentRequestId={CONSENT_ID}"
    node = {"id": CONSENT_ID, "url": url, "status": {"__typename": type_name}}
    return answer({"data": {field: node}})


def node(type_name: str | None) -> HttpResponse:
    found = None if type_name is None else {"id": CONSENT_ID, "status": {"__typename": type_name}}
    return answer({"data": {"node": found}})


def gateway(transport: Any, **options: Any) -> StitchDebiCheckGateway:
    return StitchDebiCheckGateway(
        SECRET,
        transport,
        "stitch-client",
        "stitch-client-secret",
        redirect_url="https://pay.example.test/pay/done",
        **options,
    )


def graphql(request) -> tuple[str, dict[str, Any]]:
    body = request.json_body()
    return body["query"], body["variables"]


def svix(body: bytes, at: datetime = NOW, message_id: str = "msg_2mD8", key: bytes = KEY) -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    digest = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "svix-id": message_id,
        "svix-timestamp": stamp,
        "svix-signature": "v1," + base64.b64encode(digest).decode(),
    }


def consent_body(type_name: str, **extra: Any) -> bytes:
    body = {
        "id": CONSENT_ID,
        "externalReference": MANDATE_ID,
        "status": {"__typename": type_name, "date": "2026-03-02T09:58:00Z"},
    }
    body.update(extra)
    return json.dumps(body).encode()


def collection_body(type_name: str = "TransactionSuccess", quantity: Any = "334.00", **extra: Any) -> bytes:
    body = {
        "id": "dHJhbnNhY3Rpb24vOTk=",
        "amount": {"quantity": quantity, "currency": "ZAR"},
        "state": {"__typename": type_name, "date": "2026-03-25T06:00:00Z"},
        "externalReference": "ignored-by-us",
        "paymentConsentRequest": {"id": CONSENT_ID, "externalReference": MANDATE_ID},
    }
    body.update(extra)
    return json.dumps(body).encode()


# --- the mandate request --------------------------------------------------------------------------


def test_the_gateway_answers_its_own_callbacks_and_the_sandbox_does_not(recording_transport: Any) -> None:
    stitch: DebiCheckGateway = gateway(recording_transport())
    assert isinstance(stitch, ProviderMandateCallbacks)
    assert not isinstance(SandboxDebiCheckGateway(b"sandbox-secret"), ProviderMandateCallbacks)


def test_a_mandate_is_requested_as_a_debicheck_consent_with_the_plans_terms(recording_transport: Any) -> None:
    # Given Stitch answering a token, then a pending consent
    transport = recording_transport(token(), consent("PaymentConsentPending"))
    # When a monthly mandate on the 25th is requested for real-time approval
    submission = gateway(transport).request_mandate(mandate_request())

    # Then a client token with the consent scope was fetched first
    token_request, create = transport.requests
    assert (token_request.method, token_request.url) == ("POST", TOKEN_URL)
    form = parse_qs(token_request.body.decode())
    assert form["scope"] == ["client_recurringpaymentconsentrequest"]
    assert form["grant_type"] == ["client_credentials"] and form["client_id"] == ["stitch-client"]
    # And the consent was created with that token, naming our mandate and the plan's terms
    assert (create.method, create.url) == ("POST", API)
    assert create.headers["Authorization"] == "Bearer client-token-1"
    query, variables = graphql(create)
    assert "paymentConsentRequestCreate(input: $input)" in query
    consent_input = variables["input"]
    assert consent_input["externalReference"] == MANDATE_ID
    assert consent_input["nonce"] == consent_nonce(MANDATE_ID)
    assert consent_input["payerInformation"] == {"payerId": "acc-1"}
    debicheck = consent_input["paymentMethods"]["debicheck"]
    assert debicheck["enabled"] is True
    details = debicheck["details"]
    assert details["contractReference"] == contract_reference(MANDATE_ID)
    assert len(details["contractReference"]) == 14
    assert details["authenticationChannel"] == "authRealtime"
    assert details["collection"] == {
        "collectionFrequency": "monthly",
        "collectionDay": 25,
        "instalmentAmount": {"quantity": "334.00", "currency": "ZAR"},
        "maximumCollectionAmount": {"quantity": "501.00", "currency": "ZAR"},
        "firstCollectionDate": "2026-03-25",
    }
    assert details["payerBank"] == {
        "accountNumber": ACCOUNT_NUMBER,
        "branchCode": BRANCH_CODE,
        "accountType": "current",
    }
    # And the answer is the consent's id, sent for approval, with the page the debtor confirms on
    assert submission.provider_reference == CONSENT_ID
    assert submission.status is MandateStatus.SENT_FOR_APPROVAL
    assert submission.approval_url == (
        f"https://secure.stitch.money/v2/interaction?consentRequestId={CONSENT_ID}"
        "&redirect_uri=https%3A%2F%2Fpay.example.test%2Fpay%2Fdone"
    )


@pytest.mark.parametrize(
    ("frequency", "pay_day", "stitch_frequency", "day"),
    [
        (PlanFrequency.WEEKLY, PayDay.weekly(4), "weekly", 5),
        (PlanFrequency.FORTNIGHTLY, PayDay.fortnightly(date(2026, 3, 6)), "fortnightly", 5),
    ],
)
def test_weekly_and_fortnightly_mandates_name_the_weekday(
    frequency: PlanFrequency, pay_day: PayDay, stitch_frequency: str, day: int, recording_transport: Any
) -> None:
    transport = recording_transport(token(), consent("PaymentConsentPending"))
    gateway(transport).request_mandate(mandate_request(pay_day, frequency, AuthenticationType.TT2))
    collection = graphql(transport.requests[1])[1]["input"]["paymentMethods"]["debicheck"]["details"]
    assert collection["authenticationChannel"] == "auth48Hour"
    assert (collection["collection"]["collectionFrequency"], collection["collection"]["collectionDay"]) == (
        stitch_frequency,
        day,
    )


def test_a_repeated_request_returns_the_first_answer_without_calling_stitch_again(
    recording_transport: Any,
) -> None:
    transport = recording_transport(token(), consent("PaymentConsentPending"))
    stitch = gateway(transport)
    first = stitch.request_mandate(mandate_request())
    again = stitch.request_mandate(mandate_request())
    assert again == first
    assert len(transport.requests) == 2


def test_another_process_retrying_the_mandate_sends_the_same_nonce_and_contract(
    recording_transport: Any,
) -> None:
    # Given two gateways (two Lambda containers) asked for the same mandate
    inputs = []
    for _ in range(2):
        transport = recording_transport(token(), consent("PaymentConsentPending"))
        gateway(transport).request_mandate(mandate_request())
        inputs.append(graphql(transport.requests[1])[1]["input"])
    # Then Stitch sees the same nonce and contract reference twice, never a second fresh mandate
    assert inputs[0]["nonce"] == inputs[1]["nonce"]
    details = [i["paymentMethods"]["debicheck"]["details"]["contractReference"] for i in inputs]
    assert details[0] == details[1]
    assert consent_nonce("acc-2:plan-1") != inputs[0]["nonce"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"authentication": AuthenticationType.TT3}, "TT3 authentication is not offered"),
        ({"account_type": BankAccountType.TRANSMISSION}, "transmission account is not offered"),
        ({"pay_day": PayDay.last_day_of_month()}, "month-end collection day is not offered"),
    ],
)
def test_terms_stitch_cannot_carry_are_refused_before_any_call(
    changes: dict[str, Any], problem: str, recording_transport: Any
) -> None:
    transport = recording_transport()
    with pytest.raises(MandateValidationError, match=problem) as raised:
        gateway(transport).request_mandate(mandate_request(**changes))
    assert transport.requests == []
    assert ACCOUNT_NUMBER not in str(raised.value)


@pytest.mark.parametrize("type_name", ["PaymentConsentFailed", "PaymentConsentCancelled"])
def test_a_consent_refused_at_creation_is_a_provider_error(type_name: str, recording_transport: Any) -> None:
    transport = recording_transport(token(), consent(type_name))
    with pytest.raises(ProviderRequestError) as raised:
        gateway(transport).request_mandate(mandate_request())
    assert raised.value.reason == "provider_refused"


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (answer({"errors": [{"message": "nonce already used"}], "data": None}), "provider_refused"),
        (answer({"error": "boom"}, status=500), "provider_refused"),
        (answer({"data": {"paymentConsentRequestCreate": None}}), "provider_unexpected_shape"),
        (answer({"data": {"paymentConsentRequestCreate": {"id": CONSENT_ID}}}), "provider_unexpected_shape"),
    ],
)
def test_stitch_refusing_or_garbling_the_request_is_a_provider_error(
    response: HttpResponse, reason: str, recording_transport: Any
) -> None:
    transport = recording_transport(token(), response)
    with pytest.raises(ProviderRequestError) as raised:
        gateway(transport).request_mandate(mandate_request())
    assert raised.value.reason == reason


def test_a_refused_token_stops_before_the_consent_is_created(recording_transport: Any) -> None:
    transport = recording_transport(answer({"error": "invalid_client"}, status=401))
    with pytest.raises(ProviderRequestError):
        gateway(transport).request_mandate(mandate_request())
    assert len(transport.requests) == 1


def test_bank_details_are_sent_but_never_logged(
    caplog: pytest.LogCaptureFixture, recording_transport: Any
) -> None:
    # The module's records are caught where they are made, at DEBUG: a Powertools parent logger set up by
    # an earlier test may stop them propagating to the root logger, or raise the level they inherit.
    module_logger = logging.getLogger(stitch_debicheck.logger.name)
    module_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=module_logger.name)
    try:
        _request_and_check_logs(caplog, recording_transport)
    finally:
        module_logger.removeHandler(caplog.handler)


def _request_and_check_logs(caplog: pytest.LogCaptureFixture, recording_transport: Any) -> None:
    transport = recording_transport(token(), consent("PaymentConsentPending"))
    gateway(transport).request_mandate(mandate_request())
    assert ACCOUNT_NUMBER.encode() in transport.requests[1].body
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert "mandate requested" in logged and MANDATE_ID in logged
    assert ACCOUNT_NUMBER not in logged and BRANCH_CODE not in logged


# --- status and cancellation -----------------------------------------------------------------------


def test_a_mandate_requested_elsewhere_is_found_through_its_plan_record(recording_transport: Any) -> None:
    # Given a gateway that did not request the mandate, and a lookup that reads the plan record
    transport = recording_transport(token(), node("PaymentConsentGranted"))
    looked_up: list[str] = []

    def reference(mandate_id: str) -> str | None:
        looked_up.append(mandate_id)
        return CONSENT_ID

    # When its status is asked
    status = gateway(transport, mandate_reference=reference).mandate_status(MANDATE_ID)
    # Then the consent the plan names is queried, and a granted consent is an approved mandate
    assert status is MandateStatus.APPROVED and looked_up == [MANDATE_ID]
    query, variables = graphql(transport.requests[1])
    assert "node(id: $id)" in query and variables == {"id": CONSENT_ID}


def test_a_mandate_nobody_knows_is_not_found(recording_transport: Any) -> None:
    with pytest.raises(MandateNotFoundError):
        gateway(recording_transport(), mandate_reference=lambda _: None).mandate_status(MANDATE_ID)
    with pytest.raises(MandateNotFoundError):
        gateway(
            recording_transport(token(), node(None)), mandate_reference=lambda _: CONSENT_ID
        ).mandate_status(MANDATE_ID)


@pytest.mark.parametrize(
    ("current", "mutation", "after", "expected"),
    [
        (
            "PaymentConsentPending",
            "paymentConsentRequestCancel",
            "PaymentConsentCancelled",
            MandateStatus.CANCELLED,
        ),
        (
            "PaymentConsentGranted",
            "paymentConsentRequestRevoke",
            "PaymentConsentRevoked",
            MandateStatus.CANCELLED,
        ),
        (
            "PaymentConsentPaused",
            "paymentConsentRequestRevoke",
            "PaymentConsentRevoked",
            MandateStatus.CANCELLED,
        ),
        # A revocation still pending at the bank: the consent stays granted until the callback.
        (
            "PaymentConsentGranted",
            "paymentConsentRequestRevoke",
            "PaymentConsentGranted",
            MandateStatus.APPROVED,
        ),
    ],
)
def test_cancelling_withdraws_a_pending_consent_and_revokes_a_granted_one(
    current: str, mutation: str, after: str, expected: MandateStatus, recording_transport: Any
) -> None:
    transport = recording_transport(token(), node(current), consent(after, field=mutation))
    status = gateway(transport, mandate_reference=lambda _: CONSENT_ID).cancel_mandate(
        MANDATE_ID, "plan_ended"
    )
    assert status is expected
    query, variables = graphql(transport.requests[2])
    assert mutation in query
    assert variables == {"id": CONSENT_ID, "reason": "plan_ended"}
    # And one token served both calls
    assert [r.url for r in transport.requests].count(TOKEN_URL) == 1


def test_a_cancelled_consent_is_not_cancelled_again_and_a_rejected_one_cannot_be(
    recording_transport: Any,
) -> None:
    transport = recording_transport(token(), node("PaymentConsentRevoked"))
    stitch = gateway(transport, mandate_reference=lambda _: CONSENT_ID)
    assert stitch.cancel_mandate(MANDATE_ID, "plan_ended") is MandateStatus.CANCELLED
    assert len(transport.requests) == 2
    rejected = gateway(
        recording_transport(token(), node("PaymentConsentFailed")), mandate_reference=lambda _: CONSENT_ID
    )
    with pytest.raises(MandateTransitionError):
        rejected.cancel_mandate(MANDATE_ID, "plan_ended")


# --- mandate callbacks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "status"),
    [
        ("PaymentConsentGranted", MandateStatus.APPROVED),
        ("PaymentConsentFailed", MandateStatus.REJECTED),
        ("PaymentConsentExpired", MandateStatus.EXPIRED),
        ("PaymentConsentCancelled", MandateStatus.CANCELLED),
        ("PaymentConsentRevoked", MandateStatus.CANCELLED),
        ("PaymentConsentPaused", MandateStatus.SUSPENDED),
    ],
)
def test_a_signed_consent_update_is_the_mandates_new_status(
    type_name: str, status: MandateStatus, recording_transport: Any
) -> None:
    body = consent_body(type_name)
    event = gateway(recording_transport()).parse_callback(svix(body), body, NOW)
    assert isinstance(event, MandateEvent)
    assert (event.event_id, event.mandate_id, event.provider_reference) == (
        "msg_2mD8",
        MANDATE_ID,
        CONSENT_ID,
    )
    assert event.status is status
    assert event.occurred_at == datetime(2026, 3, 2, 9, 58, tzinfo=UTC)
    assert (event.reason_code is None) is (status is MandateStatus.APPROVED)


def test_a_rejection_keeps_the_banks_reason_code_but_never_free_text(recording_transport: Any) -> None:
    coded = consent_body("PaymentConsentFailed", consentDetails={"bankReasonCode": "MD12"})
    free_text = consent_body(
        "PaymentConsentFailed",
        statusReason="Mr X declined",
        consentDetails={"bankReasonCode": "declined by X"},
    )
    stitch = gateway(recording_transport())
    assert stitch.parse_callback(svix(coded), coded, NOW).reason_code == "bank_MD12"
    assert stitch.parse_callback(svix(free_text), free_text, NOW).reason_code == "stitch_PaymentConsentFailed"


def test_a_body_shaped_like_the_graphql_subscription_is_read_the_same(recording_transport: Any) -> None:
    inner = json.loads(consent_body("PaymentConsentGranted"))
    body = json.dumps({"data": {"client": {"paymentConsentRequests": {"node": inner}}}}).encode()
    event = gateway(recording_transport()).parse_callback(svix(body), body, NOW)
    assert (event.status, event.mandate_id) == (MandateStatus.APPROVED, MANDATE_ID)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (consent_body("PaymentConsentPending"), "mandate_pending"),
        (consent_body("PaymentConsentProcessing"), "mandate_pending"),
        (consent_body("PaymentConsentSomethingNew"), "unsupported_event"),
        (collection_body("TransactionCancelled"), "unsupported_event"),
        (
            json.dumps({"id": "x", "status": {"__typename": "PaymentInitiationRequestCompleted"}}).encode(),
            "unsupported_event",
        ),
    ],
)
def test_an_authentic_update_we_do_not_act_on_is_acknowledged_and_ignored(
    body: bytes, reason: str, recording_transport: Any
) -> None:
    with pytest.raises(IgnoredWebhookError) as raised:
        gateway(recording_transport()).parse_callback(svix(body), body, NOW)
    assert (raised.value.http_status, raised.value.reason) == (200, reason)


def test_a_restated_event_reads_back_as_the_same_event_under_our_own_signature(
    recording_transport: Any,
) -> None:
    body = consent_body("PaymentConsentGranted")
    event = gateway(recording_transport()).parse_callback(svix(body), body, NOW)
    restated = restate_mandate_event(event, b"internal-key", NOW)
    assert parse_mandate_callback(restated.body, restated.headers, b"internal-key", NOW) == event


# --- collections ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [
        ("TransactionSuccess", PaymentEventKind.SUCCEEDED),
        ("TransactionFailure", PaymentEventKind.FAILED),
        ("TransactionPending", PaymentEventKind.PENDING),
    ],
)
def test_a_collection_result_names_its_mandate_and_exact_amount(
    type_name: str, kind: PaymentEventKind, recording_transport: Any
) -> None:
    body = collection_body(type_name, quantity=334.1)
    result = gateway(recording_transport()).parse_callback(svix(body), body, NOW)
    assert isinstance(result, MandateCollection)
    assert (result.mandate_id, result.transaction_id, result.kind) == (
        MANDATE_ID,
        "dHJhbnNhY3Rpb24vOTk=",
        kind,
    )
    assert (result.amount_cents, result.currency) == (33_410, "ZAR")
    assert result.event_id == "msg_2mD8" and result.provider_status == type_name
    assert result.occurred_at == datetime(2026, 3, 25, 6, 0, tzinfo=UTC)


# --- refused callbacks ------------------------------------------------------------------------------


def test_a_callback_signed_with_another_secret_is_forged(recording_transport: Any) -> None:
    body = consent_body("PaymentConsentGranted")
    with pytest.raises(WebhookSignatureError) as raised:
        gateway(recording_transport()).parse_callback(svix(body, key=b"someone-else-entirely"), body, NOW)
    assert (raised.value.http_status, raised.value.reason) == (401, "bad_signature")


def test_a_tampered_body_or_message_id_is_forged(recording_transport: Any) -> None:
    body = consent_body("PaymentConsentFailed")
    headers = svix(body)
    stitch = gateway(recording_transport())
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        stitch.parse_callback(headers, body.replace(b"Failed", b"Granted"), NOW)
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        stitch.parse_callback({**headers, "svix-id": "msg_other"}, body, NOW)


@pytest.mark.parametrize("missing", ["svix-id", "svix-timestamp", "svix-signature"])
def test_an_unsigned_callback_is_refused(missing: str, recording_transport: Any) -> None:
    body = consent_body("PaymentConsentGranted")
    headers = {k: v for k, v in svix(body).items() if k != missing}
    with pytest.raises(WebhookSignatureError) as raised:
        gateway(recording_transport()).parse_callback(headers, body, NOW)
    assert (raised.value.http_status, raised.value.reason) == (401, "missing_signature")


def test_a_signature_header_without_a_v1_entry_or_a_timestamp_that_is_not_a_number_is_refused(
    recording_transport: Any,
) -> None:
    body = consent_body("PaymentConsentGranted")
    headers = svix(body)
    stitch = gateway(recording_transport())
    with pytest.raises(WebhookSignatureError, match="malformed_signature_header"):
        stitch.parse_callback({**headers, "svix-signature": "v2,abc"}, body, NOW)
    with pytest.raises(WebhookSignatureError, match="malformed_signature_header"):
        stitch.parse_callback({**headers, "svix-timestamp": "yesterday"}, body, NOW)


def test_a_rotated_secret_is_accepted_among_several_signatures_and_headers_are_case_insensitive(
    recording_transport: Any,
) -> None:
    body = consent_body("PaymentConsentGranted")
    old = svix(body, key=b"the-previous-secret-key-012345678")["svix-signature"]
    headers = {key.upper(): value for key, value in svix(body).items()}
    headers["SVIX-SIGNATURE"] = f"{old} {headers['SVIX-SIGNATURE']}"
    assert gateway(recording_transport()).parse_callback(headers, body, NOW).status is MandateStatus.APPROVED


@pytest.mark.parametrize(
    ("signed_at", "reason"),
    [
        (NOW - timedelta(minutes=5, seconds=1), "stale_timestamp"),
        (NOW + timedelta(minutes=6), "future_timestamp"),
    ],
)
def test_a_callback_outside_five_minutes_is_stale(
    signed_at: datetime, reason: str, recording_transport: Any
) -> None:
    # Given a genuine delivery, replayed (or sent) outside the five-minute tolerance
    body = consent_body("PaymentConsentGranted")
    with pytest.raises(StaleWebhookError) as raised:
        gateway(recording_transport()).parse_callback(svix(body, at=signed_at), body, NOW)
    assert (raised.value.http_status, raised.value.reason) == (401, reason)


def test_a_callback_at_the_edge_of_the_tolerance_is_accepted(recording_transport: Any) -> None:
    body = consent_body("PaymentConsentGranted")
    at_edge = svix(body, at=NOW - timedelta(minutes=5))
    assert gateway(recording_transport()).parse_callback(at_edge, body, NOW).status is MandateStatus.APPROVED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "json"),
        (b"[1, 2]", "not a json object"),
        (
            json.dumps({"id": CONSENT_ID, "status": {"__typename": "PaymentConsentGranted"}}).encode(),
            "externalReference",
        ),
        (collection_body(quantity="3.141"), "amount.quantity"),
        (collection_body(paymentConsentRequest={"id": CONSENT_ID}), "externalReference"),
        (collection_body(amount={"quantity": "10.00"}), "amount.currency"),
        (json.dumps({"data": {"client": {"a": {}, "b": {}}}}).encode(), "data.client"),
    ],
)
def test_an_authentic_callback_without_what_we_need_is_malformed(
    body: bytes, field: str, recording_transport: Any
) -> None:
    with pytest.raises(MalformedWebhookError) as raised:
        gateway(recording_transport()).parse_callback(svix(body), body, NOW)
    assert raised.value.http_status == 400
    assert raised.value.detail == field


@pytest.mark.parametrize("secret", ["whsec_", "", "whsec_not base64!"])
def test_an_unusable_webhook_secret_is_refused_when_built(secret: str, recording_transport: Any) -> None:
    with pytest.raises(ValueError):
        StitchDebiCheckGateway(secret, recording_transport(), "client", "secret")


def test_a_callback_both_forged_and_stale_is_refused_as_forged(recording_transport: Any) -> None:
    # Given a callback signed with another secret, and replayed outside the five-minute tolerance
    body = consent_body("PaymentConsentGranted")
    forged = svix(body, at=NOW - timedelta(hours=1), key=b"someone-else-entirely")
    # Then it is refused (401) and named a forgery: the signature is checked before the timestamp
    with pytest.raises(WebhookSignatureError) as raised:
        gateway(recording_transport()).parse_callback(forged, body, NOW)
    assert (raised.value.http_status, raised.value.reason) == (401, "bad_signature")


def test_a_genuine_callback_replayed_later_is_refused_as_stale(recording_transport: Any) -> None:
    body = consent_body("PaymentConsentGranted")
    genuine = svix(body, at=NOW - timedelta(hours=1))
    stitch = gateway(recording_transport())
    assert stitch.parse_callback(genuine, body, NOW - timedelta(hours=1)).status is MandateStatus.APPROVED
    with pytest.raises(StaleWebhookError) as raised:
        stitch.parse_callback(genuine, body, NOW)
    assert (raised.value.http_status, raised.value.reason) == (401, "stale_timestamp")


def test_callbacks_are_verified_as_the_svix_library_signs_them_with_any_secret_it_accepts(
    recording_transport: Any,
) -> None:
    # Given a whsec_ secret written without its base64 padding, which svix (and so Stitch's payment
    # adapter) accepts, and a callback signed by svix's own signer
    from svix.webhooks import Webhook

    unpadded = "whsec_" + base64.b64encode(b"stitch-debicheck-unit-key-01234").decode().rstrip("=")
    assert len(unpadded.removeprefix("whsec_")) % 4 != 0
    body = consent_body("PaymentConsentGranted")
    headers = {
        "svix-id": "msg_lib",
        "svix-timestamp": str(int(NOW.timestamp())),
        "svix-signature": Webhook(unpadded).sign("msg_lib", NOW, body),
    }
    stitch = StitchDebiCheckGateway(unpadded, recording_transport(), "client", "secret")
    # Then the gateway takes the same secret and verifies the library's signature
    assert stitch.parse_callback(headers, body, NOW).status is MandateStatus.APPROVED
    # And the same signature over another body is a forgery
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        stitch.parse_callback(headers, body.replace(b"Granted", b"Failed"), NOW)
