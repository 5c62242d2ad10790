"""DebiCheck mandates for plan instalments: the request, its rules, its life, and its provider port.

DebiCheck is South Africa's authenticated debit order: before the first collection the debtor
approves a mandate with their bank, in the banking app in real time (TT1), in a batch cycle (TT2)
or with card and PIN (TT3). The creditor reaches the clearing system through a sponsoring bank or a
payment provider; ``DebiCheckGateway`` is our port to it. ``SandboxDebiCheckGateway`` is a
deterministic in-memory adapter for tests and the local cloud; a real sponsoring-bank or provider
adapter implements the same three methods and translates its own status codes to
``MandateStatus`` (``rapport.payments.providers.stitch_debicheck`` for Stitch). A provider that signs
its callbacks its own way also implements ``ProviderMandateCallbacks``: it verifies a delivery and
reads it as a ``MandateEvent`` (the mandate's status) or a ``MandateCollection`` (the result of a
debit order run against the mandate).

The debtor's bank details are ``SecretStr``: their ``repr``, ``str`` and JSON show asterisks, and
nothing in this module logs them. Adapters read them with ``get_secret_value()`` only to send them.

Mandate life (``ALLOWED_TRANSITIONS``)::

    created -> sent_for_approval -> approved | rejected | expired
    approved -> suspended | cancelled;  suspended -> approved | cancelled

Beyond the basic life, a mandate can be cancelled before the debtor answers (``created`` or
``sent_for_approval`` -> ``cancelled``) so a plan cancelled early withdraws its mandate, and a
suspended mandate can be reinstated (``suspended`` -> ``approved``) once a dispute is resolved.
``rejected``, ``expired`` and ``cancelled`` are final.

Status callbacks (our documented shape for a provider's webhook)::

    POST body (JSON, UTF-8):
      {"event_id": "evt_123", "mandate_id": "m-1", "provider_reference": "prv-9",
       "status": "approved", "occurred_at": "2026-03-02T10:15:00Z", "reason_code": null}
    headers:
      X-Mandate-Timestamp: 1772446500                       (Unix seconds when signed)
      X-Mandate-Signature: v1=<hex HMAC-SHA256 of "<timestamp>." + raw body, keyed by the secret>

``status`` is one of approved, rejected, expired, suspended, cancelled. Several ``v1=`` values,
separated by spaces, may be sent while a secret is rotated; one match is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal, Protocol, TypeVar, runtime_checkable

from aws_lambda_powertools import Logger
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from rapport.payments.models import CURRENCY_PATTERN, PaymentEventKind
from rapport.payments.plans import (
    BusinessCalendar,
    PayDayKind,
    PaymentPlan,
    PlanFrequency,
    PlanStatus,
    business_calendar,
)

logger = Logger(child=True)

TIMESTAMP_HEADER = "X-Mandate-Timestamp"
SIGNATURE_HEADER = "X-Mandate-Signature"
SIGNATURE_VERSION = "v1"
CALLBACK_TOLERANCE = timedelta(minutes=5)
# The mandate's maximum collection amount may be at most one and a half times the instalment.
MAX_AMOUNT_NUMERATOR, MAX_AMOUNT_DENOMINATOR = 3, 2
# NOTE: real account numbers are validated by the bank's check-digit (CDV) routine, which the
# sponsoring bank runs. We only check the shape: digits, 6 to 11 of them (the clearing record's
# account number field is 11 wide).
ACCOUNT_NUMBER_PATTERN = r"^[0-9]{6,11}$"
BRANCH_CODE_PATTERN = r"^[0-9]{6}$"
MAX_TRACKING_DAYS = 10
MONTH_END_COLLECTION_DAY = 31

ModelT = TypeVar("ModelT", bound=BaseModel)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _evolve(model: ModelT, **changes: object) -> ModelT:
    return type(model).model_validate({**dict(model), **changes})


# --------------------------------------------------------------------------------------------------
# Errors


class DebiCheckError(Exception):
    """Base of every DebiCheck failure."""


class MandateValidationError(DebiCheckError, ValueError):
    """A mandate request does not fit its plan. ``problems`` lists every rule it breaks."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("mandate request is invalid: " + "; ".join(problems))


class MandateTransitionError(DebiCheckError):
    """A status change the mandate life does not allow (e.g. a rejected mandate approved)."""

    def __init__(self, mandate_id: str, current: MandateStatus, target: MandateStatus) -> None:
        self.mandate_id = mandate_id
        self.current = current
        self.target = target
        super().__init__(f"mandate cannot move from {current} to {target}")


class MandateNotFoundError(DebiCheckError, LookupError):
    """The gateway knows no mandate with that id."""


class MandateSignatureError(DebiCheckError):
    """A status callback whose signature is missing, wrong or outside the time tolerance."""


class MandateCallbackError(DebiCheckError, ValueError):
    """A signed status callback whose body is not the documented shape, or names another mandate."""


# --------------------------------------------------------------------------------------------------
# The request


class AuthenticationType(StrEnum):
    """How the debtor approves the mandate."""

    TT1 = "TT1"  # real time: the debtor approves in the banking app (or USSD) within minutes
    TT2 = "TT2"  # batch: the bank asks the debtor and answers in a later processing cycle
    TT3 = "TT3"  # card and PIN, e.g. at a point-of-sale device


class BankAccountType(StrEnum):
    CURRENT = "current"  # cheque
    SAVINGS = "savings"
    TRANSMISSION = "transmission"


class MandateFrequency(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


_FREQUENCY_OF_PLAN = {
    PlanFrequency.WEEKLY: MandateFrequency.WEEKLY,
    PlanFrequency.FORTNIGHTLY: MandateFrequency.FORTNIGHTLY,
    PlanFrequency.MONTHLY: MandateFrequency.MONTHLY,
}


class MandateRequest(_Value):
    """What a mandate asks the debtor's bank to allow.

    ``collection_day`` is the nominal day of collection: the day of the month (1 to 31, where 31
    is month end) for monthly mandates, the ISO weekday (1 Monday to 7 Sunday) otherwise.
    ``maximum_cents`` is the most one collection may take, at most 1.5 times the instalment.
    ``tracking_days`` lets the debtor's bank retry a collection for that many days when funds are
    short on the day.
    """

    # Validation errors must not echo the bank details back into a log.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    mandate_id: str = Field(min_length=1, max_length=64)
    account_id: str = Field(min_length=1, max_length=64)
    account_number: SecretStr
    branch_code: SecretStr
    account_type: BankAccountType
    currency: Literal["ZAR"] = "ZAR"
    instalment_cents: StrictInt = Field(gt=0)
    maximum_cents: StrictInt = Field(gt=0)
    frequency: MandateFrequency
    collection_day: StrictInt = Field(ge=1, le=31)
    first_collection_date: date
    tracking_days: StrictInt = Field(default=0, ge=0, le=MAX_TRACKING_DAYS)
    authentication: AuthenticationType

    @field_validator("account_number")
    @classmethod
    def _account_number_digits(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(ACCOUNT_NUMBER_PATTERN, value.get_secret_value()):
            raise ValueError("account number must be 6 to 11 digits")
        return value

    @field_validator("branch_code")
    @classmethod
    def _branch_code_digits(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(BRANCH_CODE_PATTERN, value.get_secret_value()):
            raise ValueError("branch code must be 6 digits")
        return value

    @model_validator(mode="after")
    def _amounts_and_dates(self) -> MandateRequest:
        if self.maximum_cents < self.instalment_cents:
            raise ValueError("maximum amount cannot be below the instalment")
        if self.maximum_cents * MAX_AMOUNT_DENOMINATOR > self.instalment_cents * MAX_AMOUNT_NUMERATOR:
            raise ValueError("maximum amount cannot exceed 1.5 times the instalment")
        if self.frequency is not MandateFrequency.MONTHLY and self.collection_day > 7:
            raise ValueError("a weekly or fortnightly collection day is an ISO weekday, 1 to 7")
        if self.first_collection_date.weekday() >= 5:
            raise ValueError("the first collection cannot fall on a weekend")
        return self


def max_collection_cents(instalment_cents: int) -> int:
    """The largest maximum a mandate may carry for an instalment: 1.5 times it, rounded down."""
    return instalment_cents * MAX_AMOUNT_NUMERATOR // MAX_AMOUNT_DENOMINATOR


def nominal_collection_day(plan: PaymentPlan, first_collection_date: date) -> int:
    """The collection day a mandate for this plan names, from the plan's pay day."""
    pay_day = plan.pay_day
    if pay_day.kind is PayDayKind.DAY_OF_MONTH:
        assert pay_day.day is not None
        return pay_day.day
    if pay_day.kind in (PayDayKind.LAST_DAY_OF_MONTH, PayDayKind.LAST_WORKING_DAY):
        return MONTH_END_COLLECTION_DAY
    if pay_day.kind is PayDayKind.WEEKLY:
        assert pay_day.weekday is not None
        return pay_day.weekday + 1
    if pay_day.kind is PayDayKind.FORTNIGHTLY:
        assert pay_day.anchor is not None
        return pay_day.anchor.isoweekday()
    # NOTE: SASSA grant days move between the 2nd and about the 7th of the month, so no fixed
    # day fits; the first collection's day is used and tracking days cover later months. A
    # provider that supports a "business day of month" rule would carry the grant rule instead.
    return first_collection_date.day


def mandate_request_for_plan(
    plan: PaymentPlan,
    *,
    mandate_id: str,
    account_number: str,
    branch_code: str,
    account_type: BankAccountType,
    authentication: AuthenticationType,
    tracking_days: int = 0,
) -> MandateRequest:
    """The mandate a plan's instalments need: its regular instalment, 1.5 times that as maximum,
    its frequency and pay day, and its next unpaid instalment as the first collection."""
    frequency = _FREQUENCY_OF_PLAN.get(plan.frequency)
    if frequency is None:
        raise MandateValidationError([f"a {plan.frequency} plan is not collected by debit order"])
    if plan.account_id is None:
        raise MandateValidationError(["the plan names no account"])
    if not plan.unpaid:
        raise MandateValidationError(["the plan has nothing left to collect"])
    first = plan.unpaid[0].due_date
    instalment = max(i.amount_cents for i in plan.unpaid)
    return MandateRequest(
        mandate_id=mandate_id,
        account_id=plan.account_id,
        account_number=SecretStr(account_number),
        branch_code=SecretStr(branch_code),
        account_type=account_type,
        currency="ZAR",
        instalment_cents=instalment,
        maximum_cents=max_collection_cents(instalment),
        frequency=frequency,
        collection_day=nominal_collection_day(plan, first),
        first_collection_date=first,
        tracking_days=tracking_days,
        authentication=authentication,
    )


def validate_mandate_for_plan(
    request: MandateRequest, plan: PaymentPlan, calendar: BusinessCalendar | None = None
) -> None:
    """Check that a mandate collects what the plan schedules; raise ``MandateValidationError``.

    NOTE: a retried instalment can fall on the same day as the next one; the two together may
    exceed the mandate's maximum, and a collector then presents them as two collections.
    """
    calendar = calendar or business_calendar(plan.calendar_country, plan.calendar_subdiv)
    problems: list[str] = []
    if _FREQUENCY_OF_PLAN.get(plan.frequency) is not request.frequency:
        problems.append(f"frequency {request.frequency} does not match the {plan.frequency} plan")
    if plan.account_id is not None and plan.account_id != request.account_id:
        problems.append("the mandate is for another account")
    if plan.currency != request.currency:
        problems.append("the plan is not in rand")
    if plan.status not in (PlanStatus.PROPOSED, PlanStatus.ACTIVE):
        problems.append(f"a {plan.status} plan takes no mandate")
    unpaid = plan.unpaid
    if unpaid:
        first = unpaid[0].due_date
        if request.first_collection_date != first:
            problems.append("the first collection is not the plan's next instalment date")
        largest = max(i.amount_cents for i in unpaid)
        if request.instalment_cents != largest:
            problems.append("the instalment is not the plan's regular instalment")
        if largest > request.maximum_cents:
            problems.append("an instalment exceeds the mandate's maximum")
        if request.collection_day != nominal_collection_day(plan, first):
            problems.append("the collection day does not match the debtor's pay day")
    else:
        problems.append("the plan has nothing left to collect")
    if not calendar.is_business_day(request.first_collection_date):
        problems.append("the first collection is not a business day")
    if problems:
        raise MandateValidationError(problems)


# --------------------------------------------------------------------------------------------------
# The mandate's life


class MandateStatus(StrEnum):
    CREATED = "created"
    SENT_FOR_APPROVAL = "sent_for_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


ALLOWED_TRANSITIONS: Mapping[MandateStatus, frozenset[MandateStatus]] = {
    MandateStatus.CREATED: frozenset({MandateStatus.SENT_FOR_APPROVAL, MandateStatus.CANCELLED}),
    MandateStatus.SENT_FOR_APPROVAL: frozenset(
        {MandateStatus.APPROVED, MandateStatus.REJECTED, MandateStatus.EXPIRED, MandateStatus.CANCELLED}
    ),
    MandateStatus.APPROVED: frozenset({MandateStatus.SUSPENDED, MandateStatus.CANCELLED}),
    MandateStatus.SUSPENDED: frozenset({MandateStatus.APPROVED, MandateStatus.CANCELLED}),
    MandateStatus.REJECTED: frozenset(),
    MandateStatus.EXPIRED: frozenset(),
    MandateStatus.CANCELLED: frozenset(),
}
FINAL_STATUSES = frozenset(status for status, targets in ALLOWED_TRANSITIONS.items() if not targets)
CALLBACK_STATUSES = frozenset(
    {
        MandateStatus.APPROVED,
        MandateStatus.REJECTED,
        MandateStatus.EXPIRED,
        MandateStatus.SUSPENDED,
        MandateStatus.CANCELLED,
    }
)


def can_transition(current: MandateStatus, target: MandateStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


class MandateTransition(_Value):
    from_status: MandateStatus
    to_status: MandateStatus
    at: AwareDatetime
    reason_code: str | None = None
    event_id: str | None = None


class Mandate(_Value):
    """A mandate request and where it stands; ``transitions`` is its history, oldest first."""

    request: MandateRequest
    status: MandateStatus = MandateStatus.CREATED
    created_at: AwareDatetime
    provider_reference: str | None = None
    transitions: tuple[MandateTransition, ...] = ()

    @property
    def mandate_id(self) -> str:
        return self.request.mandate_id

    @property
    def updated_at(self) -> datetime:
        return self.transitions[-1].at if self.transitions else self.created_at


def create_mandate(request: MandateRequest, created_at: datetime) -> Mandate:
    return Mandate(request=request, created_at=created_at)


def transition_mandate(
    mandate: Mandate,
    target: MandateStatus,
    at: datetime,
    *,
    reason_code: str | None = None,
    event_id: str | None = None,
    provider_reference: str | None = None,
) -> Mandate:
    """Move a mandate to ``target``; raise ``MandateTransitionError`` if its life does not allow it."""
    if not can_transition(mandate.status, target):
        raise MandateTransitionError(mandate.mandate_id, mandate.status, target)
    step = MandateTransition(
        from_status=mandate.status, to_status=target, at=at, reason_code=reason_code, event_id=event_id
    )
    logger.info(
        "mandate status changed",
        extra={"mandate_id": mandate.mandate_id, "from_status": mandate.status, "to_status": target},
    )
    return _evolve(
        mandate,
        status=target,
        transitions=(*mandate.transitions, step),
        provider_reference=provider_reference or mandate.provider_reference,
    )


class MandateEvent(_Value):
    """A provider's verified report that a mandate changed status."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str = Field(min_length=1, max_length=128)
    mandate_id: str = Field(min_length=1, max_length=64)
    provider_reference: str | None = Field(default=None, max_length=128)
    status: MandateStatus
    occurred_at: AwareDatetime
    reason_code: str | None = Field(default=None, max_length=64)

    @field_validator("status")
    @classmethod
    def _reportable(cls, value: MandateStatus) -> MandateStatus:
        if value not in CALLBACK_STATUSES:
            raise ValueError("a callback reports approved, rejected, expired, suspended or cancelled")
        return value


def mandate_event_target(
    mandate_id: str,
    status: MandateStatus,
    updated_at: datetime,
    seen_event_ids: Iterable[str | None],
    event: MandateEvent,
) -> MandateStatus | None:
    """The status a provider's event moves a mandate to, or None when it changes nothing.

    Tolerates at-least-once and out-of-order delivery: a redelivered event (an id in
    ``seen_event_ids``), an event repeating the current status, and an event older than the last
    change (``updated_at``) change nothing. Anything else must be an allowed transition, or
    ``MandateTransitionError`` is raised. Shared by :func:`apply_mandate_event` and by records that
    keep a mandate's status without its bank details.
    """
    if event.mandate_id != mandate_id:
        raise MandateCallbackError("the event names another mandate")
    if event.event_id in set(seen_event_ids) or event.status is status:
        return None
    if event.occurred_at < updated_at:
        logger.info(
            "stale mandate event ignored", extra={"mandate_id": mandate_id, "event_status": event.status}
        )
        return None
    if not can_transition(status, event.status):
        raise MandateTransitionError(mandate_id, status, event.status)
    return event.status


def apply_mandate_event(mandate: Mandate, event: MandateEvent) -> Mandate:
    """Apply a provider's event, tolerating at-least-once and out-of-order delivery.

    A redelivered event (same ``event_id``), an event repeating the current status, and an event
    older than the mandate's last change leave the mandate as it is. Anything else must be an
    allowed transition, or ``MandateTransitionError`` is raised.
    """
    seen = [step.event_id for step in mandate.transitions]
    target = mandate_event_target(mandate.mandate_id, mandate.status, mandate.updated_at, seen, event)
    if target is None:
        return mandate
    return transition_mandate(
        mandate,
        target,
        event.occurred_at,
        reason_code=event.reason_code,
        event_id=event.event_id,
        provider_reference=event.provider_reference,
    )


# --------------------------------------------------------------------------------------------------
# Signed status callbacks


def sign_mandate_callback(body: bytes, secret: bytes, timestamp: int) -> dict[str, str]:
    """The headers a provider (or our sandbox) sends with a callback body."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"{SIGNATURE_VERSION}={digest}"}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify_mandate_callback(
    body: bytes,
    headers: Mapping[str, str],
    secret: bytes,
    now: datetime,
    tolerance: timedelta = CALLBACK_TOLERANCE,
) -> None:
    """Raise ``MandateSignatureError`` unless the raw body was signed with ``secret`` recently.

    ``now`` must carry its time zone; ``tolerance`` applies both ways (old and future timestamps).
    """
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    timestamp_text = _header(headers, TIMESTAMP_HEADER)
    signature_text = _header(headers, SIGNATURE_HEADER)
    if not timestamp_text or not signature_text:
        logger.warning("mandate callback rejected", extra={"reason": "missing_signature"})
        raise MandateSignatureError("the callback is not signed")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        logger.warning("mandate callback rejected", extra={"reason": "bad_timestamp"})
        raise MandateSignatureError("the callback timestamp is not a number") from None
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        logger.warning("mandate callback rejected", extra={"reason": "stale_timestamp"})
        raise MandateSignatureError("the callback timestamp is outside the tolerance")
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    prefix = f"{SIGNATURE_VERSION}="
    candidates = [part[len(prefix) :] for part in signature_text.split() if part.startswith(prefix)]
    if not any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates):
        logger.warning("mandate callback rejected", extra={"reason": "signature_mismatch"})
        raise MandateSignatureError("the callback signature does not match")


def parse_mandate_callback(
    body: bytes,
    headers: Mapping[str, str],
    secret: bytes,
    now: datetime,
    tolerance: timedelta = CALLBACK_TOLERANCE,
) -> MandateEvent:
    """Verify a status callback against its raw body, then read it as a ``MandateEvent``."""
    verify_mandate_callback(body, headers, secret, now, tolerance)
    try:
        return MandateEvent.model_validate_json(body)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        logger.warning("mandate callback malformed", extra={"fields": fields})
        raise MandateCallbackError("the callback body is not a mandate status event") from None


# --------------------------------------------------------------------------------------------------
# The port and its sandbox


class MandateSubmission(_Value):
    """The gateway's answer to a mandate request: its reference and the status it now has.

    ``approval_url`` is set when the provider needs the debtor on its own page before the bank
    asks them (Stitch does); None when the bank asks the debtor directly (the sandbox).
    """

    mandate_id: str
    provider_reference: str
    status: MandateStatus
    approval_url: str | None = None


COLLECTION_KINDS = frozenset({PaymentEventKind.SUCCEEDED, PaymentEventKind.FAILED, PaymentEventKind.PENDING})


class MandateCollection(_Value):
    """A provider's verified report on one collection against a mandate, in our terms.

    ``event_id`` is the provider's id of the delivery; ``transaction_id`` names the collection, so a
    report delivered again under a new id is still the same fact. ``amount_cents`` is not bounded
    here, like ``PaymentEvent``'s: the ledger refuses a non-positive collection with a reason.
    """

    event_id: str = Field(min_length=1, max_length=128)
    mandate_id: str = Field(min_length=1, max_length=64)
    transaction_id: str = Field(min_length=1, max_length=128)
    kind: PaymentEventKind
    amount_cents: StrictInt
    currency: str = Field(default="ZAR", pattern=CURRENCY_PATTERN)
    occurred_at: AwareDatetime
    provider_status: str = Field(min_length=1, max_length=64)

    @field_validator("kind")
    @classmethod
    def _collection_kind(cls, value: PaymentEventKind) -> PaymentEventKind:
        if value not in COLLECTION_KINDS:
            raise ValueError("a collection succeeds, fails or is pending")
        return value


class DebiCheckGateway(Protocol):
    """Our port to a sponsoring bank or DebiCheck provider.

    ``request_mandate`` must be idempotent on ``mandate_id`` (a retried request returns the first
    answer); final answers from the debtor's bank arrive later as signed status callbacks. It raises
    ``MandateValidationError`` for terms the provider cannot carry (Stitch: TT3, transmission
    accounts, month-end days) and ``ProviderRequestError`` when the provider refuses or is down.
    """

    def request_mandate(self, request: MandateRequest) -> MandateSubmission: ...

    def mandate_status(self, mandate_id: str) -> MandateStatus: ...

    def cancel_mandate(self, mandate_id: str, reason_code: str) -> MandateStatus: ...


@runtime_checkable
class ProviderMandateCallbacks(Protocol):
    """A gateway whose provider signs its callbacks its own way (``POST /webhooks/debicheck``).

    ``parse_callback`` verifies a delivery over its raw body and reads it. It raises the payment
    edge's errors (``rapport.payments.errors``), which carry the HTTP answer: a forged or unsigned
    delivery ``WebhookSignatureError`` (401), a stale one ``StaleWebhookError`` (401), an authentic
    one without the fields we need ``MalformedWebhookError`` (400), and an authentic one that
    reports nothing we act on ``IgnoredWebhookError`` (200).
    """

    def parse_callback(
        self, headers: Mapping[str, str], raw_body: bytes, now: datetime
    ) -> MandateEvent | MandateCollection: ...


@dataclass(frozen=True)
class SignedCallback:
    """A callback in our documented shape: the raw body and its headers."""

    body: bytes
    headers: dict[str, str]


def restate_mandate_event(event: MandateEvent, secret: bytes, now: datetime) -> SignedCallback:
    """A provider's event, already verified, restated as our own signed callback.

    Mandate changes are recorded by one path that reads our documented shape; a provider adapter's
    verified event is restated in that shape, signed with the stack's callback secret, and handed
    to the same path, so the provider's format never reaches the records.
    """
    body = event.model_dump_json().encode()
    return SignedCallback(body=body, headers=sign_mandate_callback(body, secret, int(now.timestamp())))


# How many simulated steps each authentication takes before the debtor's bank answers: real-time
# approvals answer on the next step, a batch cycle takes two.
SANDBOX_STEPS = {AuthenticationType.TT1: 1, AuthenticationType.TT3: 1, AuthenticationType.TT2: 2}


def sandbox_outcome(request: MandateRequest) -> MandateStatus:
    """The sandbox's rule, like test card numbers: an account number ending in 9 is rejected by the
    debtor, one ending in 8 is never answered (expires), every other one is approved."""
    last_digit = request.account_number.get_secret_value()[-1]
    if last_digit == "9":
        return MandateStatus.REJECTED
    if last_digit == "8":
        return MandateStatus.EXPIRED
    return MandateStatus.APPROVED


@dataclass
class _SandboxMandate:
    request: MandateRequest
    provider_reference: str
    status: MandateStatus
    steps_waited: int = 0


class SandboxDebiCheckGateway:
    """A deterministic, in-memory DebiCheck provider for tests and the local cloud.

    ``request_mandate`` puts a mandate in ``sent_for_approval``. Each ``step(now)`` is one
    simulated processing cycle: mandates whose authentication has waited long enough
    (``SANDBOX_STEPS``) get the ``outcome`` rule's answer, and every status change comes back as a
    ``SignedCallback`` signed with ``signing_secret``, ready for ``parse_mandate_callback``.
    """

    def __init__(
        self,
        signing_secret: bytes,
        outcome: Callable[[MandateRequest], MandateStatus] = sandbox_outcome,
    ) -> None:
        self._secret = signing_secret
        self._outcome = outcome
        self._mandates: dict[str, _SandboxMandate] = {}
        self._sequence = 0
        # The local cloud calls one gateway from many threads (acceptances, bank cycles).
        self._lock = threading.RLock()

    def request_mandate(self, request: MandateRequest) -> MandateSubmission:
        with self._lock:
            known = self._mandates.get(request.mandate_id)
            if known is None:
                reference = "sbx-" + hashlib.sha256(request.mandate_id.encode()).hexdigest()[:16]
                known = _SandboxMandate(request, reference, MandateStatus.SENT_FOR_APPROVAL)
                self._mandates[request.mandate_id] = known
            return MandateSubmission(
                mandate_id=request.mandate_id,
                provider_reference=known.provider_reference,
                status=known.status,
            )

    def mandate_status(self, mandate_id: str) -> MandateStatus:
        with self._lock:
            return self._get(mandate_id).status

    def cancel_mandate(self, mandate_id: str, reason_code: str) -> MandateStatus:
        with self._lock:
            mandate = self._get(mandate_id)
            if mandate.status is MandateStatus.CANCELLED:
                return mandate.status
            if not can_transition(mandate.status, MandateStatus.CANCELLED):
                raise MandateTransitionError(mandate_id, mandate.status, MandateStatus.CANCELLED)
            mandate.status = MandateStatus.CANCELLED
            return mandate.status

    def step(self, now: datetime) -> list[SignedCallback]:
        """Advance one simulated cycle; return the callbacks for every mandate the banks answered."""
        callbacks: list[SignedCallback] = []
        with self._lock:
            for mandate in self._mandates.values():
                if mandate.status is not MandateStatus.SENT_FOR_APPROVAL:
                    continue
                mandate.steps_waited += 1
                if mandate.steps_waited >= SANDBOX_STEPS[mandate.request.authentication]:
                    mandate.status = self._outcome(mandate.request)
                    callbacks.append(self._callback(mandate, now))
        return callbacks

    def force_status(self, mandate_id: str, status: MandateStatus, now: datetime) -> SignedCallback:
        """Simulate a bank-side change (a debtor disputes and the mandate is suspended, say)."""
        with self._lock:
            mandate = self._get(mandate_id)
            if not can_transition(mandate.status, status):
                raise MandateTransitionError(mandate_id, mandate.status, status)
            mandate.status = status
            return self._callback(mandate, now)

    def _get(self, mandate_id: str) -> _SandboxMandate:
        try:
            return self._mandates[mandate_id]
        except KeyError:
            raise MandateNotFoundError("no sandbox mandate with that id") from None

    def redelivery(self, callback: SignedCallback, now: datetime) -> SignedCallback:
        """The same callback delivered again at ``now``: its body (and event id) unchanged, signed afresh
        at the time of this attempt, as providers that retry do."""
        headers = sign_mandate_callback(callback.body, self._secret, int(now.timestamp()))
        return SignedCallback(body=callback.body, headers=headers)

    def _callback(self, mandate: _SandboxMandate, now: datetime) -> SignedCallback:
        self._sequence += 1
        payload = {
            "event_id": f"sbx-evt-{self._sequence}",
            "mandate_id": mandate.request.mandate_id,
            "provider_reference": mandate.provider_reference,
            "status": mandate.status.value,
            "occurred_at": now.isoformat(),
            "reason_code": None if mandate.status is MandateStatus.APPROVED else f"sandbox_{mandate.status}",
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = sign_mandate_callback(body, self._secret, int(now.timestamp()))
        return SignedCallback(body=body, headers=headers)
