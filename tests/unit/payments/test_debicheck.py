"""DebiCheck mandates: request rules, the mandate's life, signed callbacks and the sandbox gateway."""

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from rapport.payments.debicheck import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AuthenticationType,
    BankAccountType,
    DebiCheckGateway,
    Mandate,
    MandateCallbackError,
    MandateEvent,
    MandateFrequency,
    MandateNotFoundError,
    MandateRequest,
    MandateSignatureError,
    MandateStatus,
    MandateTransitionError,
    MandateValidationError,
    SandboxDebiCheckGateway,
    apply_mandate_event,
    create_mandate,
    mandate_request_for_plan,
    max_collection_cents,
    parse_mandate_callback,
    sign_mandate_callback,
    transition_mandate,
    validate_mandate_for_plan,
)
from rapport.payments.plans import PayDay, PaymentPlan, PlanFrequency, SassaGrant, propose_plan

Tamper = Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]]
SECRET = b"sandbox-signing-secret"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ACCOUNT_NUMBER = "62812345670"
BRANCH_CODE = "250655"


def plan(frequency: PlanFrequency = PlanFrequency.MONTHLY, pay_day: PayDay | None = None) -> PaymentPlan:
    """R1,000.01 in three instalments (R334, R334, R332.01), from March 2026."""
    return propose_plan(
        100_001, frequency, date(2026, 3, 1), pay_day or PayDay.of_month(25), None,
        instalments=3, plan_id="plan-1", account_id="acc-1",
    )


def request_for(
    a_plan: PaymentPlan | None = None,
    account_number: str = ACCOUNT_NUMBER,
    authentication: AuthenticationType = AuthenticationType.TT1,
    mandate_id: str = "mandate-1",
) -> MandateRequest:
    return mandate_request_for_plan(
        a_plan or plan(),
        mandate_id=mandate_id,
        account_number=account_number,
        branch_code=BRANCH_CODE,
        account_type=BankAccountType.CURRENT,
        authentication=authentication,
    )


def request_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = dict(request_for()) | {
        "account_number": ACCOUNT_NUMBER,
        "branch_code": BRANCH_CODE,
    }
    fields.update(changes)
    return fields


def callback(status: str, *, event_id: str = "evt-1", occurred_at: datetime = NOW, **extra: object) -> bytes:
    body = {
        "event_id": event_id,
        "mandate_id": "mandate-1",
        "provider_reference": "prv-1",
        "status": status,
        "occurred_at": occurred_at.isoformat(),
        "reason_code": None,
    }
    body.update(extra)
    return json.dumps(body).encode()


# --------------------------------------------------------------------------------------------------
# The request


def test_a_plan_mandate_covers_its_instalments() -> None:
    # Given a monthly plan on the 25th
    request = request_for()
    # Then the mandate collects the regular instalment, up to 1.5 times it, from the first due date
    assert request.instalment_cents == 33_400
    assert request.maximum_cents == 50_100
    assert request.frequency is MandateFrequency.MONTHLY
    assert request.collection_day == 25
    assert request.first_collection_date == date(2026, 3, 25)
    assert request.account_id == "acc-1"
    validate_mandate_for_plan(request, plan())


@pytest.mark.parametrize(
    ("pay_day", "frequency", "collection_day"),
    [
        (PayDay.last_working_day(), PlanFrequency.MONTHLY, 31),
        (PayDay.weekly(4), PlanFrequency.WEEKLY, 5),
        (PayDay.fortnightly(date(2026, 2, 27)), PlanFrequency.FORTNIGHTLY, 5),
        (PayDay.sassa(SassaGrant.OLDER_PERSONS), PlanFrequency.MONTHLY, 3),  # 3 March 2026
    ],
)
def test_the_collection_day_follows_the_pay_day(
    pay_day: PayDay, frequency: PlanFrequency, collection_day: int
) -> None:
    a_plan = plan(frequency, pay_day)
    request = request_for(a_plan)
    assert request.collection_day == collection_day
    validate_mandate_for_plan(request, a_plan)


def test_the_maximum_is_at_most_one_and_a_half_times_the_instalment() -> None:
    assert max_collection_cents(33_401) == 50_101
    MandateRequest.model_validate(request_fields(instalment_cents=10_000, maximum_cents=15_000))
    with pytest.raises(ValidationError, match=r"1\.5 times"):
        MandateRequest.model_validate(request_fields(instalment_cents=10_000, maximum_cents=15_001))
    with pytest.raises(ValidationError, match="below the instalment"):
        MandateRequest.model_validate(request_fields(instalment_cents=10_000, maximum_cents=9_999))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"account_number": "6281234567X"}, "account number"),
        ({"account_number": "12345"}, "account number"),
        ({"account_number": "123456789012"}, "account number"),
        ({"branch_code": "25065"}, "branch code"),
        ({"branch_code": "25O655"}, "branch code"),
        ({"tracking_days": 11}, "tracking_days"),
        ({"first_collection_date": date(2026, 3, 28)}, "weekend"),
        ({"frequency": MandateFrequency.WEEKLY, "collection_day": 25}, "ISO weekday"),
        ({"authentication": "TT4"}, "authentication"),
    ],
)
def test_malformed_requests_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MandateRequest.model_validate(request_fields(**changes))


def test_bank_details_never_appear_in_repr_json_or_errors() -> None:
    request = request_for()
    for text in (repr(request), str(request), request.model_dump_json()):
        assert ACCOUNT_NUMBER not in text
        assert BRANCH_CODE not in text
    with pytest.raises(ValidationError) as raised:
        MandateRequest.model_validate(request_fields(account_number="6281234567X"))
    assert "6281234567X" not in str(raised.value)
    # And the adapter can still read them to send them
    assert request.account_number.get_secret_value() == ACCOUNT_NUMBER


def test_a_mandate_that_does_not_fit_its_plan_lists_every_problem() -> None:
    # Given a request for another plan's dates, amount and day
    other = MandateRequest.model_validate(
        request_fields(
            account_id="acc-2",
            instalment_cents=20_000,
            maximum_cents=30_000,
            collection_day=24,
            first_collection_date=date(2026, 4, 24),
            frequency=MandateFrequency.MONTHLY,
        )
    )
    # When it is checked against the plan
    with pytest.raises(MandateValidationError) as raised:
        validate_mandate_for_plan(other, plan())
    # Then every mismatch is named
    problems = " | ".join(raised.value.problems)
    assert "another account" in problems
    assert "next instalment date" in problems
    assert "regular instalment" in problems
    assert "exceeds the mandate's maximum" in problems
    assert "collection day" in problems


def test_a_first_collection_on_a_public_holiday_is_refused() -> None:
    request = MandateRequest.model_validate(request_fields(first_collection_date=date(2026, 4, 27)))
    with pytest.raises(MandateValidationError, match="not a business day"):
        validate_mandate_for_plan(request, plan())


def test_a_settlement_is_not_collected_by_debit_order() -> None:
    with pytest.raises(MandateValidationError, match="settlement"):
        request_for(
            propose_plan(100_000, PlanFrequency.SETTLEMENT, date(2026, 3, 1), PayDay.of_month(25), None)
        )


# --------------------------------------------------------------------------------------------------
# The mandate's life


def test_a_mandate_goes_from_created_to_approved_to_suspended_and_back() -> None:
    mandate = create_mandate(request_for(), NOW)
    assert mandate.status is MandateStatus.CREATED
    steps = [
        MandateStatus.SENT_FOR_APPROVAL,
        MandateStatus.APPROVED,
        MandateStatus.SUSPENDED,
        MandateStatus.APPROVED,
        MandateStatus.CANCELLED,
    ]
    for minutes, status in enumerate(steps, start=1):
        mandate = transition_mandate(mandate, status, NOW + timedelta(minutes=minutes))
    assert mandate.status is MandateStatus.CANCELLED
    assert [t.to_status for t in mandate.transitions] == steps
    assert mandate.transitions[0].from_status is MandateStatus.CREATED
    assert mandate.updated_at == NOW + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], MandateStatus.APPROVED),  # not sent for approval yet
        ([MandateStatus.SENT_FOR_APPROVAL, MandateStatus.REJECTED], MandateStatus.APPROVED),
        ([MandateStatus.SENT_FOR_APPROVAL, MandateStatus.EXPIRED], MandateStatus.SENT_FOR_APPROVAL),
        ([MandateStatus.SENT_FOR_APPROVAL], MandateStatus.SUSPENDED),
        ([MandateStatus.CANCELLED], MandateStatus.SENT_FOR_APPROVAL),
    ],
)
def test_transitions_outside_the_life_are_refused(path: list[MandateStatus], refused: MandateStatus) -> None:
    mandate = create_mandate(request_for(), NOW)
    for status in path:
        mandate = transition_mandate(mandate, status, NOW)
    with pytest.raises(MandateTransitionError) as raised:
        transition_mandate(mandate, refused, NOW)
    assert (raised.value.current, raised.value.target) == (mandate.status, refused)


def test_final_statuses_allow_nothing_further() -> None:
    assert {MandateStatus.REJECTED, MandateStatus.EXPIRED, MandateStatus.CANCELLED} == FINAL_STATUSES
    assert all(ALLOWED_TRANSITIONS[status] == frozenset() for status in FINAL_STATUSES)


def sent_mandate() -> Mandate:
    return transition_mandate(create_mandate(request_for(), NOW), MandateStatus.SENT_FOR_APPROVAL, NOW)


def event(status: MandateStatus, event_id: str = "evt-1", minutes: int = 1) -> MandateEvent:
    return MandateEvent(
        event_id=event_id,
        mandate_id="mandate-1",
        provider_reference="prv-1",
        status=status,
        occurred_at=NOW + timedelta(minutes=minutes),
    )


def test_an_event_moves_the_mandate_and_records_its_id() -> None:
    mandate = apply_mandate_event(sent_mandate(), event(MandateStatus.APPROVED))
    assert mandate.status is MandateStatus.APPROVED
    assert mandate.provider_reference == "prv-1"
    assert mandate.transitions[-1].event_id == "evt-1"


def test_a_redelivered_event_changes_nothing() -> None:
    approved = apply_mandate_event(sent_mandate(), event(MandateStatus.APPROVED))
    suspended = apply_mandate_event(approved, event(MandateStatus.SUSPENDED, "evt-2", minutes=2))
    assert apply_mandate_event(suspended, event(MandateStatus.APPROVED)) == suspended


def test_an_event_older_than_the_last_change_is_ignored() -> None:
    # Given a mandate suspended at minute 5
    approved = apply_mandate_event(sent_mandate(), event(MandateStatus.APPROVED))
    suspended = apply_mandate_event(approved, event(MandateStatus.SUSPENDED, "evt-2", minutes=5))
    # When a cancellation from minute 3 arrives late
    late = apply_mandate_event(suspended, event(MandateStatus.CANCELLED, "evt-3", minutes=3))
    # Then the mandate stays suspended
    assert late == suspended


def test_an_event_for_another_mandate_is_refused() -> None:
    other = event(MandateStatus.APPROVED).model_copy(update={"mandate_id": "mandate-2"})
    with pytest.raises(MandateCallbackError):
        apply_mandate_event(sent_mandate(), other)


def test_an_event_the_life_does_not_allow_raises() -> None:
    rejected = apply_mandate_event(sent_mandate(), event(MandateStatus.REJECTED))
    with pytest.raises(MandateTransitionError):
        apply_mandate_event(rejected, event(MandateStatus.APPROVED, "evt-2", minutes=2))


# --------------------------------------------------------------------------------------------------
# Signed callbacks


def test_a_signed_callback_becomes_an_event() -> None:
    body = callback("approved")
    headers = sign_mandate_callback(body, SECRET, int(NOW.timestamp()))
    parsed = parse_mandate_callback(body, headers, SECRET, NOW + timedelta(seconds=30))
    assert parsed == MandateEvent(
        event_id="evt-1", mandate_id="mandate-1", provider_reference="prv-1", status=MandateStatus.APPROVED,
        occurred_at=NOW,
    )


def test_header_names_are_case_insensitive() -> None:
    body = callback("approved")
    headers = {k.lower(): v for k, v in sign_mandate_callback(body, SECRET, int(NOW.timestamp())).items()}
    assert parse_mandate_callback(body, headers, SECRET, NOW).status is MandateStatus.APPROVED


def test_a_rotated_secret_is_accepted_among_several_signatures() -> None:
    body = callback("approved")
    timestamp = int(NOW.timestamp())
    old = sign_mandate_callback(body, b"old-secret", timestamp)[SIGNATURE_HEADER]
    new = sign_mandate_callback(body, SECRET, timestamp)[SIGNATURE_HEADER]
    headers = {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"{old} {new}"}
    assert parse_mandate_callback(body, headers, SECRET, NOW).event_id == "evt-1"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, headers: (body.replace(b"approved", b"rejected"), headers), id="body"),
        pytest.param(
            lambda body, headers: (body, sign_mandate_callback(body, b"wrong", int(NOW.timestamp()))),
            id="secret",
        ),
        pytest.param(
            lambda body, headers: (body, headers | {TIMESTAMP_HEADER: str(int(NOW.timestamp()) + 1)}),
            id="timestamp",
        ),
        pytest.param(
            lambda body, headers: (body, {TIMESTAMP_HEADER: headers[TIMESTAMP_HEADER]}), id="missing"
        ),
        pytest.param(lambda body, headers: (body, headers | {TIMESTAMP_HEADER: "soon"}), id="not-a-number"),
        pytest.param(
            lambda body, headers: (body, headers | {SIGNATURE_HEADER: headers[SIGNATURE_HEADER][3:]}),
            id="no-version",
        ),
    ],
)
def test_a_tampered_callback_is_refused(tamper: Tamper) -> None:
    body = callback("approved")
    headers = sign_mandate_callback(body, SECRET, int(NOW.timestamp()))
    body, headers = tamper(body, headers)
    with pytest.raises(MandateSignatureError):
        parse_mandate_callback(body, headers, SECRET, NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=6), -timedelta(minutes=6)])
def test_a_callback_outside_five_minutes_is_refused(skew: timedelta) -> None:
    body = callback("approved")
    headers = sign_mandate_callback(body, SECRET, int(NOW.timestamp()))
    with pytest.raises(MandateSignatureError, match="tolerance"):
        parse_mandate_callback(body, headers, SECRET, NOW + skew)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        callback("created"),
        callback("approved", occurred_at=datetime(2026, 3, 2, 10)),  # naive time
        json.dumps({"event_id": "evt-1", "status": "approved"}).encode(),
    ],
)
def test_an_authentic_callback_with_a_bad_body_is_malformed(body: bytes) -> None:
    headers = sign_mandate_callback(body, SECRET, int(NOW.timestamp()))
    with pytest.raises(MandateCallbackError):
        parse_mandate_callback(body, headers, SECRET, NOW)


def test_unknown_fields_in_a_callback_are_ignored() -> None:
    body = callback("suspended", bank_code="ABC")
    headers = sign_mandate_callback(body, SECRET, int(NOW.timestamp()))
    assert parse_mandate_callback(body, headers, SECRET, NOW).status is MandateStatus.SUSPENDED


# --------------------------------------------------------------------------------------------------
# The sandbox gateway


def run_to_answer(gateway: SandboxDebiCheckGateway, steps: int) -> list[MandateEvent]:
    events: list[MandateEvent] = []
    for step in range(steps):
        now = NOW + timedelta(minutes=step + 1)
        for signed in gateway.step(now):
            events.append(parse_mandate_callback(signed.body, signed.headers, SECRET, now))
    return events


def test_the_sandbox_is_a_gateway() -> None:
    gateway: DebiCheckGateway = SandboxDebiCheckGateway(SECRET)
    assert gateway.request_mandate(request_for()).status is MandateStatus.SENT_FOR_APPROVAL


def test_a_tt1_mandate_is_approved_on_the_next_step_and_the_callback_applies() -> None:
    # Given a mandate sent through the sandbox
    gateway = SandboxDebiCheckGateway(SECRET)
    mandate = create_mandate(request_for(), NOW)
    submission = gateway.request_mandate(mandate.request)
    mandate = transition_mandate(
        mandate, submission.status, NOW, provider_reference=submission.provider_reference
    )
    # When one simulated step passes
    [answer] = run_to_answer(gateway, 1)
    # Then the signed callback approves it, and applying it approves our mandate
    assert answer.status is MandateStatus.APPROVED
    assert answer.provider_reference == submission.provider_reference
    mandate = apply_mandate_event(mandate, answer)
    assert mandate.status is MandateStatus.APPROVED
    assert gateway.mandate_status("mandate-1") is MandateStatus.APPROVED


def test_a_callback_delivered_again_later_is_signed_afresh_for_the_same_event() -> None:
    # Given the bank's answer on a mandate, signed when it was first sent
    gateway = SandboxDebiCheckGateway(SECRET)
    gateway.request_mandate(request_for())
    [first] = gateway.step(NOW)
    later = NOW + timedelta(hours=1)
    # Then an hour later its first signature is stale, and the redelivery is accepted as the same event
    with pytest.raises(MandateSignatureError, match="outside the tolerance"):
        parse_mandate_callback(first.body, first.headers, SECRET, later)
    again = gateway.redelivery(first, later)
    assert again.body == first.body
    assert parse_mandate_callback(again.body, again.headers, SECRET, later).event_id == (
        parse_mandate_callback(first.body, first.headers, SECRET, NOW).event_id
    )


def test_a_tt2_mandate_waits_for_the_batch_cycle() -> None:
    gateway = SandboxDebiCheckGateway(SECRET)
    gateway.request_mandate(request_for(authentication=AuthenticationType.TT2))
    assert gateway.step(NOW) == []
    assert gateway.mandate_status("mandate-1") is MandateStatus.SENT_FOR_APPROVAL
    assert len(gateway.step(NOW + timedelta(minutes=1))) == 1
    assert gateway.mandate_status("mandate-1") is MandateStatus.APPROVED


@pytest.mark.parametrize(
    ("account_number", "status"),
    [("62812345679", MandateStatus.REJECTED), ("62812345678", MandateStatus.EXPIRED)],
)
def test_the_sandbox_rejects_or_expires_by_the_last_digit(account_number: str, status: MandateStatus) -> None:
    gateway = SandboxDebiCheckGateway(SECRET)
    gateway.request_mandate(request_for(account_number=account_number))
    [answer] = run_to_answer(gateway, 1)
    assert answer.status is status
    assert answer.reason_code == f"sandbox_{status}"


def test_a_repeated_request_returns_the_first_answer() -> None:
    gateway = SandboxDebiCheckGateway(SECRET)
    first = gateway.request_mandate(request_for())
    run_to_answer(gateway, 1)
    again = gateway.request_mandate(request_for())
    assert again.provider_reference == first.provider_reference
    assert again.status is MandateStatus.APPROVED


def test_cancelling_and_suspending_in_the_sandbox() -> None:
    gateway = SandboxDebiCheckGateway(SECRET)
    gateway.request_mandate(request_for())
    run_to_answer(gateway, 1)
    signed = gateway.force_status("mandate-1", MandateStatus.SUSPENDED, NOW)
    assert parse_mandate_callback(signed.body, signed.headers, SECRET, NOW).status is MandateStatus.SUSPENDED
    assert gateway.cancel_mandate("mandate-1", "plan_cancelled") is MandateStatus.CANCELLED
    assert gateway.cancel_mandate("mandate-1", "plan_cancelled") is MandateStatus.CANCELLED
    with pytest.raises(MandateTransitionError):
        gateway.force_status("mandate-1", MandateStatus.APPROVED, NOW)


def test_a_rejected_mandate_cannot_be_cancelled_and_unknown_ones_are_not_found() -> None:
    gateway = SandboxDebiCheckGateway(SECRET)
    gateway.request_mandate(request_for(account_number="62812345679"))
    run_to_answer(gateway, 1)
    with pytest.raises(MandateTransitionError):
        gateway.cancel_mandate("mandate-1", "plan_cancelled")
    with pytest.raises(MandateNotFoundError):
        gateway.mandate_status("nope")


def test_nothing_logged_carries_bank_details(caplog: pytest.LogCaptureFixture) -> None:
    # Given a full sandbox round trip, and a callback refused for its signature
    caplog.set_level(logging.DEBUG)
    gateway = SandboxDebiCheckGateway(SECRET)
    mandate = transition_mandate(create_mandate(request_for(), NOW), MandateStatus.SENT_FOR_APPROVAL, NOW)
    gateway.request_mandate(mandate.request)
    [signed] = gateway.step(NOW)
    apply_mandate_event(mandate, parse_mandate_callback(signed.body, signed.headers, SECRET, NOW))
    with pytest.raises(MandateSignatureError):
        parse_mandate_callback(signed.body, {}, SECRET, NOW)
    # Then the logs say what happened, with context but without the account number or branch code
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["mandate status changed", "mandate status changed", "mandate callback rejected"]
    assert caplog.records[-1].reason == "missing_signature"
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert "mandate-1" in logged
    assert ACCOUNT_NUMBER not in logged
    assert BRANCH_CODE not in logged
