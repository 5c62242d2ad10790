"""Promises to pay: when to check one, whether it was kept, and when to stop accepting them.

Pure domain code: no AWS, no clock (every function is told the date), money in integer cents.

The rules:

- **Deadline.** A promise is kept when the promised amount is paid by its due date plus
  ``grace_days`` calendar days.
- **Check date.** ``promise_check_date`` is the first business day *after* the deadline (weekends
  and public holidays skipped). That is the day a scheduler looks at the promise; a payment made on
  any day before it still counts, so a debtor whose deadline is a Friday may pay over the weekend,
  when no bank would have reported the payment anyway.
- **Which payments count.** Those made at or after the moment the promise was made (earlier money
  was already part of the balance the debtor promised against) and, in the debtor's time zone,
  before the check date. Payments dated after ``today`` are ignored. A refund or chargeback in that
  window takes back what it reversed of a payment in it (``net_promise_payments``); one of a payment
  made before the promise takes nothing from it.
- **Verdict.** Paid in full: ``kept``, even before the check date. Otherwise ``pending`` until the
  check date, then ``partly_kept`` if anything was paid and ``broken`` if nothing was.
- **Eligibility.** A debtor with two broken promises whose check dates fall within the last 90 days
  is offered something other than a plain promise (a plan, or a conversation).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from rapport.payments.plans import BusinessCalendar, business_calendar

CURRENCY_PATTERN = r"^[A-Z]{3}$"
BROKEN_PROMISE_LIMIT = 2
BROKEN_PROMISE_WINDOW_DAYS = 90


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PromiseError(Exception):
    """Base of every promise failure."""


class InvalidPromisePaymentError(PromiseError, ValueError):
    """A payment offered as evidence has a naive timestamp or a non-positive amount.

    Reversed payments must be taken out by the ledger before a promise is evaluated, not passed in
    as negative amounts.
    """


class PromiseSource(StrEnum):
    REPLY = "reply"
    AGENT = "agent"
    SELF_SERVICE = "self_service"


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    PARTLY_KEPT = "partly_kept"
    BROKEN = "broken"
    # Set aside by a later promise the debtor made before this one was due ("not Friday, the 15th"):
    # never judged, so it counts neither as kept nor as broken.
    REPLACED = "replaced"
    # Left when the journey waiting for it ended first (the debtor was put on hold, opted out, asked for a
    # person, or took a plan): never judged, so it counts neither as kept nor as broken.
    SET_ASIDE = "set_aside"


# Statuses of a promise no verdict was reached on: it counts neither as kept nor as broken.
UNJUDGED = frozenset({PromiseStatus.PENDING, PromiseStatus.REPLACED, PromiseStatus.SET_ASIDE})


class PromiseToPay(_Value):
    """A debtor's promise to pay ``amount_cents`` by ``due_date``.

    ``amount_cents`` of ``None`` means "the balance": the balance when the promise was made, which
    is then required as ``balance_cents``. ``made_at`` must carry its time zone.
    """

    promise_id: str = Field(min_length=1)
    account_id: str = Field(min_length=1)
    amount_cents: StrictInt | None = Field(default=None, gt=0)
    balance_cents: StrictInt | None = Field(default=None, gt=0)
    currency: str = Field(default="ZAR", pattern=CURRENCY_PATTERN)
    due_date: date
    made_at: AwareDatetime
    source: PromiseSource
    grace_days: StrictInt = Field(default=0, ge=0, le=31)

    @model_validator(mode="after")
    def _amount_known(self) -> PromiseToPay:
        if self.amount_cents is None and self.balance_cents is None:
            raise ValueError("a promise of the balance needs balance_cents")
        return self

    @property
    def promised_cents(self) -> int:
        if self.amount_cents is not None:
            return self.amount_cents
        assert self.balance_cents is not None
        return self.balance_cents

    @property
    def deadline(self) -> date:
        """The last day a payment is on time: the due date plus the grace days."""
        return self.due_date + timedelta(days=self.grace_days)


class PromiseOutcome(_Value):
    """How a promise stands on ``checked_on``. ``check_date`` is when its verdict becomes final."""

    promise_id: str
    status: PromiseStatus
    promised_cents: StrictInt = Field(gt=0)
    paid_cents: StrictInt = Field(ge=0)
    shortfall_cents: StrictInt = Field(ge=0)
    check_date: date
    checked_on: date


def promise_check_date(promise: PromiseToPay, calendar: BusinessCalendar | None = None) -> date:
    """The first business day after the promise's deadline (due date plus grace days).

    Weekends and public holidays (South Africa's by default) are skipped forward, never back: the
    debtor always has the whole deadline day, and any non-business days after it, to pay.
    """
    calendar = calendar or business_calendar()
    return calendar.next_after(promise.deadline)


def _zone(timezone: tzinfo | str) -> tzinfo:
    return ZoneInfo(timezone) if isinstance(timezone, str) else timezone


def _counts(paid_at: datetime, made_at: datetime, zone: tzinfo, check_date: date, today: date) -> bool:
    """Whether money that moved at ``paid_at`` counts for a promise made at ``made_at``."""
    if paid_at.tzinfo is None or paid_at.utcoffset() is None:
        raise InvalidPromisePaymentError("a payment time must carry its time zone")
    paid_on = paid_at.astimezone(zone).date()
    return paid_at >= made_at and paid_on < check_date and paid_on <= today


def net_promise_payments(
    movements: Iterable[tuple[Hashable, datetime, int]],
    made_at: datetime,
    check_date: date,
    today: date,
    timezone: tzinfo | str,
) -> list[tuple[datetime, int]]:
    """What stayed paid towards a promise, one ``(paid_at, amount_cents)`` pair per payment, ready for
    :func:`evaluate_promise`.

    ``movements`` are the ledger's moves of the balance, ``(transaction, moved_at, delta_cents)``: a
    success is positive, a refund or chargeback negative, a failure zero. Only moves within the
    promise's window count (made at or after ``made_at``, on a day before ``check_date`` and not after
    ``today`` in the debtor's time zone); within it, each transaction's moves are added up, so a
    reversal takes back only what it reversed of a payment in the window, and a transaction whose
    moves come to nothing or less (a refund of money paid before the promise) adds nothing.
    """
    zone = _zone(timezone)
    nets: dict[Hashable, tuple[datetime, int]] = {}
    for transaction, moved_at, delta_cents in movements:
        if delta_cents == 0 or not _counts(moved_at, made_at, zone, check_date, today):
            continue
        latest, net = nets.get(transaction, (moved_at, 0))
        nets[transaction] = (max(latest, moved_at), net + delta_cents)
    return [(paid_at, net) for paid_at, net in nets.values() if net > 0]


def evaluate_promise(
    promise: PromiseToPay,
    payments: Sequence[tuple[datetime, int]],
    today: date,
    timezone: tzinfo | str,
    *,
    calendar: BusinessCalendar | None = None,
    check_date: date | None = None,
) -> PromiseOutcome:
    """Judge a promise on ``today`` (a date in the debtor's ``timezone``, e.g. "Africa/Johannesburg").

    ``payments`` are ``(paid_at, amount_cents)`` pairs for the account, in any order; ``paid_at``
    must carry its time zone and is converted to the debtor's to decide its day. Reversals are taken
    out first (:func:`net_promise_payments`). ``check_date`` is the one the promise was recorded with,
    where it was (it holds the grace days and the calendar of that day); else it is worked out.
    """
    zone = _zone(timezone)
    check_date = check_date or promise_check_date(promise, calendar)
    paid = 0
    for paid_at, amount_cents in payments:
        if amount_cents <= 0:
            raise InvalidPromisePaymentError("a payment amount must be positive")
        if _counts(paid_at, promise.made_at, zone, check_date, today):
            paid += amount_cents

    promised = promise.promised_cents
    if paid >= promised:
        status = PromiseStatus.KEPT
    elif today < check_date:
        status = PromiseStatus.PENDING
    elif paid > 0:
        status = PromiseStatus.PARTLY_KEPT
    else:
        status = PromiseStatus.BROKEN
    return PromiseOutcome(
        promise_id=promise.promise_id,
        status=status,
        promised_cents=promised,
        paid_cents=paid,
        shortfall_cents=max(promised - paid, 0),
        check_date=check_date,
        checked_on=today,
    )


class PromiseEligibilityReason(StrEnum):
    NO_RECENT_BROKEN_PROMISES = "no_recent_broken_promises"
    BROKEN_PROMISES_BELOW_LIMIT = "broken_promises_below_limit"
    TOO_MANY_BROKEN_PROMISES = "too_many_broken_promises"


class PromiseEligibility(_Value):
    """Whether a plain promise may be offered, and why. Truthy exactly when ``allowed``."""

    allowed: bool
    reason: PromiseEligibilityReason
    broken_in_window: StrictInt = Field(ge=0)

    def __bool__(self) -> bool:
        return self.allowed


def promise_allowed(
    history: Sequence[PromiseOutcome],
    today: date,
    *,
    max_broken: int = BROKEN_PROMISE_LIMIT,
    window_days: int = BROKEN_PROMISE_WINDOW_DAYS,
) -> PromiseEligibility:
    """May this debtor be offered a plain promise to pay today?

    Not when ``max_broken`` promises were broken (``partly_kept`` does not count) with check dates
    in the ``window_days`` days ending today. A promise judged more than once counts once.
    """
    window_start = today - timedelta(days=window_days)
    broken = {
        outcome.promise_id
        for outcome in history
        if outcome.status is PromiseStatus.BROKEN and window_start < outcome.check_date <= today
    }
    if len(broken) >= max_broken:
        reason = PromiseEligibilityReason.TOO_MANY_BROKEN_PROMISES
    elif broken:
        reason = PromiseEligibilityReason.BROKEN_PROMISES_BELOW_LIMIT
    else:
        reason = PromiseEligibilityReason.NO_RECENT_BROKEN_PROMISES
    return PromiseEligibility(
        allowed=len(broken) < max_broken, reason=reason, broken_in_window=len(broken)
    )
