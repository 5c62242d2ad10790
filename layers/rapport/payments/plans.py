"""Payment plans: what a debtor can afford, a schedule aligned to their pay day, and the plan's life.

Pure domain code: no AWS, no clock (every function is told the time), money in integer cents.
Every value is frozen; every state change returns a new value.

Rules, with the choices this module makes where the brief left one open:

- **Business days.** Monday to Friday, less the public holidays of the debtor's country from the
  ``holidays`` library (South Africa by default, with its Sunday-to-Monday observed holidays).
- **Pay days.** A pay date that falls on a weekend or public holiday moves to the *previous*
  business day, as payroll does, and an instalment is due on the pay date itself. SASSA grant
  dates are already business days (see ``SassaGrant``).
- **Instalment amounts.** The regular instalment is ``ceil(total / count)``, rounded up to whole
  rands when that keeps the number of instalments; every instalment but the last is the regular
  amount and the *last* carries the remainder, so it is never larger than the others. The amounts
  always sum exactly to the plan total (the balance, less any settlement discount).
- **How many instalments.** With an affordability assessment: the fewest instalments whose regular
  amount fits under the debtor's affordable maximum for the plan's frequency. Without one: the
  strategy's default term. Never more than the rules' maximum term allows.
- **Misses.** A missed instalment is retried once, either on the debtor's next pay day or at the
  end of the plan (``MissPolicy``). A second miss of the same instalment, or the
  ``max_consecutive_misses``-th miss without a fully paid instalment in between, cancels the plan.
- **Payments** go to the oldest unpaid instalment first; what is left rolls forward to the next
  ones; anything beyond the plan total is reported as ``overpaid_cents``, never applied.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import islice
from typing import TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from rapport.models.enums import Jurisdiction

CURRENCY_PATTERN = r"^[A-Z]{3}$"
BASIS_POINTS = 10_000
MONTHS_PER_YEAR = 12
WEEKS_PER_YEAR = 52
FORTNIGHTS_PER_YEAR = 26


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


ModelT = TypeVar("ModelT", bound=BaseModel)


def _evolve(model: ModelT, **changes: object) -> ModelT:
    """A validated copy of a model with some fields changed (``model_copy`` would skip validation)."""
    return type(model).model_validate({**dict(model), **changes})


# --------------------------------------------------------------------------------------------------
# Errors


class PlanError(Exception):
    """Base of every payment-plan failure."""


class InvalidPlanRequestError(PlanError, ValueError):
    """The request for a plan is malformed: a non-positive balance or an impossible instalment count."""


class PayDayMismatchError(PlanError, ValueError):
    """The pay day cannot carry the plan's frequency (for example weekly instalments on a monthly salary)."""


class PlanNotAffordableError(PlanError):
    """No plan within the rules fits under the debtor's affordable maximum.

    ``smallest_viable_instalment_cents`` is the smallest instalment, at the plan's frequency, that
    clears the total within the longest term the rules allow: any affordable maximum at or above it
    yields a plan.
    """

    def __init__(
        self,
        *,
        total_cents: int,
        frequency: PlanFrequency,
        max_instalment_cents: int,
        smallest_viable_instalment_cents: int,
        max_instalments: int,
    ) -> None:
        self.total_cents = total_cents
        self.frequency = frequency
        self.max_instalment_cents = max_instalment_cents
        self.smallest_viable_instalment_cents = smallest_viable_instalment_cents
        self.max_instalments = max_instalments
        super().__init__(
            f"no affordable {frequency} plan: at most {max_instalment_cents} cents per instalment is "
            f"affordable, at least {smallest_viable_instalment_cents} cents over {max_instalments} "
            "instalments is needed"
        )


class PlanStateError(PlanError):
    """The plan is not in a state that allows this operation (for example a payment on a cancelled plan)."""


class PlanOutdatedError(PlanError):
    """The plan's first instalment is already in the past: propose a new plan instead."""


class InstalmentNotFoundError(PlanError, LookupError):
    """The plan has no instalment with that number."""


class InstalmentNotDueError(PlanError):
    """An instalment cannot be missed before its due date."""


class InstalmentAlreadyPaidError(PlanError):
    """A paid instalment cannot be missed."""


class InvalidPaymentError(PlanError, ValueError):
    """A payment with a non-positive amount or a naive timestamp."""


class OfferExpiredError(PlanError):
    """The self-service offer was accepted at or after its expiry."""


class OfferAlreadyUsedError(PlanError):
    """The self-service offer was accepted before; a link works once."""


# --------------------------------------------------------------------------------------------------
# Business calendar

_HOLIDAY_REGION: dict[Jurisdiction, tuple[str, str | None]] = {
    Jurisdiction.ZA: ("ZA", None),
    # NOTE: England's bank holidays stand for the UK; a debtor in Scotland or Northern Ireland has
    # a few others. Pass a BusinessCalendar("GB", "SCT") when the address says so.
    Jurisdiction.UK: ("GB", "ENG"),
    Jurisdiction.US: ("US", None),
}


class BusinessCalendar:
    """Days on which banks collect and payroll pays: Monday to Friday, less public holidays."""

    def __init__(self, country: str = "ZA", subdiv: str | None = None) -> None:
        self.country = country
        self.subdiv = subdiv
        # Imported here, not at module import: it costs about 0.3 s, which a Lambda that never
        # computes a date should not pay at init. The object computes a whole year on first lookup.
        from holidays import country_holidays

        self._holidays = country_holidays(country, subdiv=subdiv)

    def __repr__(self) -> str:
        return f"BusinessCalendar(country={self.country!r}, subdiv={self.subdiv!r})"

    def is_holiday(self, day: date) -> bool:
        return day in self._holidays

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def on_or_before(self, day: date) -> date:
        """The business day itself, or the last one before it (how payroll moves a pay date)."""
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        """The business day itself, or the first one after it (when a weekend payment is seen)."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def next_after(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        return self.on_or_after(day + timedelta(days=1))

    def nth_business_day(self, year: int, month: int, n: int) -> date:
        day = self.on_or_after(date(year, month, 1))
        for _ in range(n - 1):
            day = self.next_after(day)
        return day

    def last_business_day(self, year: int, month: int) -> date:
        return self.on_or_before(_last_day_of_month(year, month))


@functools.cache
def business_calendar(country: str = "ZA", subdiv: str | None = None) -> BusinessCalendar:
    """A shared calendar per country, built on first use (not at import)."""
    return BusinessCalendar(country, subdiv)


def calendar_for(jurisdiction: Jurisdiction) -> BusinessCalendar:
    country, subdiv = _HOLIDAY_REGION[jurisdiction]
    return business_calendar(country, subdiv)


def _last_day_of_month(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


# --------------------------------------------------------------------------------------------------
# Pay days


class PlanFrequency(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    SETTLEMENT = "settlement"


class PayDayKind(StrEnum):
    DAY_OF_MONTH = "day_of_month"
    LAST_DAY_OF_MONTH = "last_day_of_month"
    LAST_WORKING_DAY = "last_working_day"
    SASSA = "sassa"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"


MONTHLY_PAY_DAYS = frozenset(
    {PayDayKind.DAY_OF_MONTH, PayDayKind.LAST_DAY_OF_MONTH, PayDayKind.LAST_WORKING_DAY, PayDayKind.SASSA}
)

# Which pay days can carry which plan frequency. A fortnightly plan on a weekly wage takes every
# second pay day; a settlement is one payment on the next pay day of any kind.
_FREQUENCY_PAY_DAYS: dict[PlanFrequency, frozenset[PayDayKind]] = {
    PlanFrequency.MONTHLY: MONTHLY_PAY_DAYS,
    PlanFrequency.WEEKLY: frozenset({PayDayKind.WEEKLY}),
    PlanFrequency.FORTNIGHTLY: frozenset({PayDayKind.WEEKLY, PayDayKind.FORTNIGHTLY}),
    PlanFrequency.SETTLEMENT: frozenset(PayDayKind),
}


class SassaGrant(StrEnum):
    """Which social grant the debtor receives: SASSA pays them on consecutive days early each month.

    NOTE: SASSA publishes its payment dates month by month. The usual pattern is older persons'
    grants on the second business day of the month, disability grants the day after and children's
    (and other) grants the day after that, which is the rule used here. A table of published dates
    would replace it if a month ever departs from the pattern.
    """

    OLDER_PERSONS = "older_persons"
    DISABILITY = "disability"
    CHILDREN = "children"


_SASSA_BUSINESS_DAY = {SassaGrant.OLDER_PERSONS: 2, SassaGrant.DISABILITY: 3, SassaGrant.CHILDREN: 4}


class PayDay(_Value):
    """When the debtor is paid. Build one with the class methods, e.g. ``PayDay.of_month(25)``.

    ``day`` is the day of the month (31 means the last day in shorter months); ``weekday`` is
    Monday 0 to Sunday 6; ``anchor`` is any one known pay date of a fortnightly wage.
    """

    kind: PayDayKind
    day: int | None = Field(default=None, ge=1, le=31)
    weekday: int | None = Field(default=None, ge=0, le=6)
    grant: SassaGrant | None = None
    anchor: date | None = None

    @model_validator(mode="after")
    def _fields_match_kind(self) -> PayDay:
        needs = {
            PayDayKind.DAY_OF_MONTH: "day",
            PayDayKind.WEEKLY: "weekday",
            PayDayKind.SASSA: "grant",
            PayDayKind.FORTNIGHTLY: "anchor",
        }.get(self.kind)
        for name in ("day", "weekday", "grant", "anchor"):
            given = getattr(self, name) is not None
            if name == needs and not given:
                raise ValueError(f"a {self.kind} pay day needs {name}")
            if name != needs and given:
                raise ValueError(f"a {self.kind} pay day takes no {name}")
        return self

    @classmethod
    def of_month(cls, day: int) -> PayDay:
        return cls(kind=PayDayKind.DAY_OF_MONTH, day=day)

    @classmethod
    def last_day_of_month(cls) -> PayDay:
        return cls(kind=PayDayKind.LAST_DAY_OF_MONTH)

    @classmethod
    def last_working_day(cls) -> PayDay:
        return cls(kind=PayDayKind.LAST_WORKING_DAY)

    @classmethod
    def sassa(cls, grant: SassaGrant = SassaGrant.OLDER_PERSONS) -> PayDay:
        return cls(kind=PayDayKind.SASSA, grant=grant)

    @classmethod
    def weekly(cls, weekday: int) -> PayDay:
        return cls(kind=PayDayKind.WEEKLY, weekday=weekday)

    @classmethod
    def fortnightly(cls, anchor: date) -> PayDay:
        return cls(kind=PayDayKind.FORTNIGHTLY, anchor=anchor)


def _monthly_pay_date(pay_day: PayDay, year: int, month: int, calendar: BusinessCalendar) -> date:
    if pay_day.kind is PayDayKind.DAY_OF_MONTH:
        assert pay_day.day is not None
        last = _last_day_of_month(year, month)
        return calendar.on_or_before(date(year, month, min(pay_day.day, last.day)))
    if pay_day.kind is PayDayKind.SASSA:
        assert pay_day.grant is not None
        return calendar.nth_business_day(year, month, _SASSA_BUSINESS_DAY[pay_day.grant])
    # The last day of the month moved off a weekend or holiday is the last working day: a debtor
    # who says "month end" and one who says "last working day" are paid on the same date.
    return calendar.last_business_day(year, month)


def _nominal_dates(pay_day: PayDay, after: date) -> Iterator[date]:
    """Weekly and fortnightly pay dates before moving off holidays, from the first after ``after``."""
    if pay_day.kind is PayDayKind.WEEKLY:
        assert pay_day.weekday is not None
        day = after + timedelta(days=(pay_day.weekday - after.weekday()) % 7 or 7)
        step = timedelta(days=7)
    else:
        assert pay_day.anchor is not None
        periods = (after - pay_day.anchor).days // 14 + 1
        day = pay_day.anchor + timedelta(days=14 * periods)
        step = timedelta(days=14)
    while True:
        yield day
        day += step


def pay_dates(pay_day: PayDay, after: date, calendar: BusinessCalendar | None = None) -> Iterator[date]:
    """The debtor's pay dates strictly after ``after``, on business days, strictly increasing."""
    calendar = calendar or business_calendar()
    last = after
    if pay_day.kind in MONTHLY_PAY_DAYS:
        year, month = after.year, after.month
        while True:
            paid_on = _monthly_pay_date(pay_day, year, month, calendar)
            if paid_on > last:
                yield paid_on
                last = paid_on
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        for nominal in _nominal_dates(pay_day, after):
            paid_on = calendar.on_or_before(nominal)
            if paid_on > last:
                yield paid_on
                last = paid_on


def next_pay_date(pay_day: PayDay, after: date, calendar: BusinessCalendar | None = None) -> date:
    return next(pay_dates(pay_day, after, calendar))


def plan_dates(
    pay_day: PayDay, frequency: PlanFrequency, after: date, calendar: BusinessCalendar | None = None
) -> Iterator[date]:
    """Instalment due dates strictly after ``after`` for a plan of this frequency on this pay day."""
    _check_pay_day(frequency, pay_day)
    dates = pay_dates(pay_day, after, calendar)
    if frequency is PlanFrequency.SETTLEMENT:
        return islice(dates, 1)
    if frequency is PlanFrequency.FORTNIGHTLY and pay_day.kind is PayDayKind.WEEKLY:
        return islice(dates, 0, None, 2)
    return dates


def pay_day_carries(pay_day: PayDay, frequency: PlanFrequency) -> bool:
    """Whether instalments at ``frequency`` can be collected on this pay day (weekly instalments
    need a weekly wage; a fortnightly plan takes a weekly or fortnightly one; monthly any monthly)."""
    return pay_day.kind in _FREQUENCY_PAY_DAYS[frequency]


def _check_pay_day(frequency: PlanFrequency, pay_day: PayDay) -> None:
    if not pay_day_carries(pay_day, frequency):
        raise PayDayMismatchError(f"a {frequency} plan cannot be collected on a {pay_day.kind} pay day")


# --------------------------------------------------------------------------------------------------
# Affordability


def _per_period(monthly_cents: int, frequency: PlanFrequency) -> int:
    """A monthly amount expressed per instalment period, rounded down (never more than affordable)."""
    if frequency is PlanFrequency.WEEKLY:
        return monthly_cents * MONTHS_PER_YEAR // WEEKS_PER_YEAR
    if frequency is PlanFrequency.FORTNIGHTLY:
        return monthly_cents * MONTHS_PER_YEAR // FORTNIGHTS_PER_YEAR
    return monthly_cents


class AffordabilityRules(_Value):
    """A strategy's affordability policy. All amounts are monthly.

    - ``disposable_share_bps``: the share of disposable income a plan may take (5000 = half),
      leaving the rest as a buffer for the unexpected.
    - ``floor_cents``: the smallest monthly instalment worth a regular plan. Below it, the debtor is
      offered a token payment instead, as UK CONC 7.3 forbearance expects of a lender.
    - ``token_payment_cents``: the token payment; 0 turns token payments off.
    - ``dependant_allowance_cents``: held back per dependant on top of declared expenses; leave it
      at 0 when the expenses already cover dependants.
    """

    disposable_share_bps: StrictInt = Field(default=5_000, ge=0, le=BASIS_POINTS)
    floor_cents: StrictInt = Field(default=5_000, ge=0)
    token_payment_cents: StrictInt = Field(default=1_000, ge=0)
    dependant_allowance_cents: StrictInt = Field(default=0, ge=0)


class AffordabilityReason(StrEnum):
    SHARE_OF_DISPOSABLE_INCOME = "share_of_disposable_income"
    TOKEN_PAYMENT = "token_payment"  # noqa: S105 (a token payment is money, not a credential)
    NOTHING_AFFORDABLE = "nothing_affordable"
    DEBTOR_OFFER = "debtor_offer"  # the debtor named what they can pay


class Affordability(_Value):
    """What a debtor can pay each month, and why. ``disposable_cents`` may be negative."""

    disposable_cents: StrictInt
    max_instalment_cents: StrictInt = Field(ge=0)
    reason: AffordabilityReason

    def max_instalment_for(self, frequency: PlanFrequency) -> int:
        """The affordable maximum per instalment at a frequency (a settlement is one month's)."""
        return _per_period(self.max_instalment_cents, frequency)


def assess_affordability(
    income_cents: int, expenses_cents: int, dependants: int, rules: AffordabilityRules | None = None
) -> Affordability:
    """Monthly affordability from declared net income, essential expenses and dependants."""
    rules = rules or AffordabilityRules()
    if income_cents < 0 or expenses_cents < 0 or dependants < 0:
        raise ValueError("income, expenses and dependants cannot be negative")
    disposable = income_cents - expenses_cents - dependants * rules.dependant_allowance_cents
    share = max(disposable, 0) * rules.disposable_share_bps // BASIS_POINTS
    if share > 0 and share >= rules.floor_cents:
        return Affordability(
            disposable_cents=disposable,
            max_instalment_cents=share,
            reason=AffordabilityReason.SHARE_OF_DISPOSABLE_INCOME,
        )
    if rules.token_payment_cents > 0:
        return Affordability(
            disposable_cents=disposable,
            max_instalment_cents=rules.token_payment_cents,
            reason=AffordabilityReason.TOKEN_PAYMENT,
        )
    return Affordability(
        disposable_cents=disposable, max_instalment_cents=0, reason=AffordabilityReason.NOTHING_AFFORDABLE
    )


# --------------------------------------------------------------------------------------------------
# Plan rules


class MissPolicy(StrEnum):
    """Where a missed instalment goes for its one retry."""

    RETRY_NEXT_PAY_DAY = "retry_next_pay_day"
    MOVE_TO_END = "move_to_end"


class SettlementRule(_Value):
    """A strategy's settlement offer: a discount in basis points, optionally capped in cents."""

    discount_bps: StrictInt = Field(default=0, ge=0, lt=BASIS_POINTS)
    max_discount_cents: StrictInt | None = Field(default=None, ge=0)

    def discount_for(self, balance_cents: int) -> int:
        discount = balance_cents * self.discount_bps // BASIS_POINTS
        if self.max_discount_cents is not None:
            discount = min(discount, self.max_discount_cents)
        # At least one cent is always left to pay.
        return min(discount, balance_cents - 1)


class PlanRules(_Value):
    """A strategy's plan policy.

    - ``max_term_months``: the longest plan (24 months = 24 monthly, 52 fortnightly or 104 weekly
      instalments).
    - ``default_term_months``: the term proposed when there is no affordability assessment.
    - ``min_instalment_cents``: the smallest regular instalment proposed, unless the debtor's
      affordable maximum is lower (a token arrangement), which wins.
    - ``round_to_cents``: the regular instalment is rounded up to a multiple of this (whole rands)
      when that keeps the number of instalments and stays affordable.
    """

    max_term_months: StrictInt = Field(default=24, ge=1, le=120)
    default_term_months: StrictInt = Field(default=6, ge=1, le=120)
    min_instalment_cents: StrictInt = Field(default=5_000, ge=1)
    round_to_cents: StrictInt = Field(default=100, ge=1)
    miss_policy: MissPolicy = MissPolicy.RETRY_NEXT_PAY_DAY
    max_consecutive_misses: StrictInt = Field(default=2, ge=1)
    settlement: SettlementRule = SettlementRule()
    currency: str = Field(default="ZAR", pattern=CURRENCY_PATTERN)

    @model_validator(mode="after")
    def _default_within_max(self) -> PlanRules:
        if self.default_term_months > self.max_term_months:
            raise ValueError("default_term_months cannot exceed max_term_months")
        return self

    def max_instalments(self, frequency: PlanFrequency) -> int:
        return _instalments_in(self.max_term_months, frequency)

    def default_instalments(self, frequency: PlanFrequency) -> int:
        return _instalments_in(self.default_term_months, frequency)


def _instalments_in(months: int, frequency: PlanFrequency) -> int:
    if frequency is PlanFrequency.SETTLEMENT:
        return 1
    if frequency is PlanFrequency.MONTHLY:
        return months
    per_year = WEEKS_PER_YEAR if frequency is PlanFrequency.WEEKLY else FORTNIGHTS_PER_YEAR
    return months * per_year // MONTHS_PER_YEAR


# --------------------------------------------------------------------------------------------------
# Plans and instalments


class PlanStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PlanCancelReason(StrEnum):
    CONSECUTIVE_MISSES = "consecutive_misses"
    RETRY_MISSED = "retry_missed"
    REQUESTED = "requested"


class InstalmentStatus(StrEnum):
    DUE = "due"
    PAID = "paid"
    # Only on a cancelled plan: the instalment whose miss ended it.
    MISSED = "missed"


class Instalment(_Value):
    """One collection. ``number`` is its identity and never changes, even when it is rescheduled."""

    number: StrictInt = Field(ge=1)
    due_date: date
    original_due_date: date
    amount_cents: StrictInt = Field(gt=0)
    paid_cents: StrictInt = Field(default=0, ge=0)
    status: InstalmentStatus = InstalmentStatus.DUE
    misses: StrictInt = Field(default=0, ge=0)
    paid_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _paid_within_amount(self) -> Instalment:
        if self.paid_cents > self.amount_cents:
            raise ValueError("an instalment cannot hold more than its amount")
        if (self.status is InstalmentStatus.PAID) != (self.paid_cents == self.amount_cents):
            raise ValueError("an instalment is paid exactly when its amount is paid")
        return self

    @property
    def outstanding_cents(self) -> int:
        return self.amount_cents - self.paid_cents


class PaymentPlan(_Value):
    """A schedule of instalments and where it stands.

    ``total_cents`` is what the debtor pays: the balance less ``discount_cents`` (a settlement
    discount). ``paid_cents`` counts money applied to instalments and never exceeds the total;
    money beyond it is ``overpaid_cents``. ``account_can_close`` is true once the plan completed.
    """

    plan_id: str = Field(min_length=1)
    account_id: str | None = None
    currency: str = Field(default="ZAR", pattern=CURRENCY_PATTERN)
    frequency: PlanFrequency
    pay_day: PayDay
    calendar_country: str = "ZA"
    calendar_subdiv: str | None = None
    balance_cents: StrictInt = Field(gt=0)
    discount_cents: StrictInt = Field(default=0, ge=0)
    total_cents: StrictInt = Field(gt=0)
    instalments: tuple[Instalment, ...] = Field(min_length=1)
    miss_policy: MissPolicy = MissPolicy.RETRY_NEXT_PAY_DAY
    max_consecutive_misses: StrictInt = Field(default=2, ge=1)
    status: PlanStatus = PlanStatus.PROPOSED
    paid_cents: StrictInt = Field(default=0, ge=0)
    overpaid_cents: StrictInt = Field(default=0, ge=0)
    consecutive_misses: StrictInt = Field(default=0, ge=0)
    accepted_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    cancelled_on: date | None = None
    cancel_reason: PlanCancelReason | None = None

    @model_validator(mode="after")
    def _amounts_add_up(self) -> PaymentPlan:
        if self.total_cents != self.balance_cents - self.discount_cents:
            raise ValueError("total_cents must be the balance less the discount")
        if sum(i.amount_cents for i in self.instalments) != self.total_cents:
            raise ValueError("instalments must sum exactly to total_cents")
        if sum(i.paid_cents for i in self.instalments) != self.paid_cents:
            raise ValueError("paid_cents must be the sum paid on the instalments")
        if len({i.number for i in self.instalments}) != len(self.instalments):
            raise ValueError("instalment numbers must be unique")
        return self

    @property
    def account_can_close(self) -> bool:
        return self.status is PlanStatus.COMPLETED

    @property
    def outstanding_cents(self) -> int:
        return self.total_cents - self.paid_cents

    @property
    def regular_instalment_cents(self) -> int:
        """The largest instalment: what a debit-order mandate is set up for."""
        return max(i.amount_cents for i in self.instalments)

    @property
    def unpaid(self) -> tuple[Instalment, ...]:
        """Unpaid instalments, oldest due first."""
        return tuple(i for i in self.instalments if i.status is not InstalmentStatus.PAID)

    @property
    def calendar(self) -> BusinessCalendar:
        return business_calendar(self.calendar_country, self.calendar_subdiv)

    def instalment(self, number: int) -> Instalment:
        for instalment in self.instalments:
            if instalment.number == number:
                return instalment
        raise InstalmentNotFoundError(f"plan has no instalment {number}")


def _in_due_order(instalments: list[Instalment]) -> tuple[Instalment, ...]:
    return tuple(sorted(instalments, key=lambda i: (i.due_date, i.number)))


def _instalment_amounts(
    total: int, frequency: PlanFrequency, affordability: Affordability | None, rules: PlanRules,
    requested: int | None,
) -> list[int]:
    cap = rules.max_instalments(frequency)
    max_per = affordability.max_instalment_for(frequency) if affordability is not None else None

    def not_affordable() -> PlanNotAffordableError:
        return PlanNotAffordableError(
            total_cents=total,
            frequency=frequency,
            max_instalment_cents=max_per or 0,
            smallest_viable_instalment_cents=math.ceil(total / cap),
            max_instalments=cap,
        )

    if requested is not None:
        if not 1 <= requested <= cap:
            raise InvalidPlanRequestError(f"a {frequency} plan has between 1 and {cap} instalments")
        count = requested
    elif max_per is not None:
        if max_per <= 0 or math.ceil(total / max_per) > cap:
            raise not_affordable()
        count = math.ceil(total / max_per)
    else:
        count = rules.default_instalments(frequency)

    regular = math.ceil(total / count)
    if max_per is not None and regular > max_per:
        raise not_affordable()
    floor = rules.min_instalment_cents if max_per is None else min(rules.min_instalment_cents, max_per)
    regular = min(max(regular, floor), total)
    rounded = math.ceil(regular / rules.round_to_cents) * rules.round_to_cents
    fits = rounded <= total and (max_per is None or rounded <= max_per)
    if fits and math.ceil(total / rounded) == math.ceil(total / regular):
        regular = rounded
    count = math.ceil(total / regular)
    return [regular] * (count - 1) + [total - regular * (count - 1)]


def propose_plan(
    balance_cents: int,
    frequency: PlanFrequency,
    start_after: date,
    pay_day: PayDay,
    affordability: Affordability | None,
    rules: PlanRules | None = None,
    *,
    instalments: int | None = None,
    plan_id: str | None = None,
    account_id: str | None = None,
    calendar: BusinessCalendar | None = None,
) -> PaymentPlan:
    """A plan for ``balance_cents`` with instalments on the debtor's pay days after ``start_after``.

    ``instalments`` asks for a number of instalments (an agent's "over three months"); the
    rules' minimum instalment may shorten it. A settlement is one instalment of the balance less
    the strategy's settlement discount. Raises ``PlanNotAffordableError`` when no plan within the
    rules fits under the affordable maximum, and ``PayDayMismatchError`` when the pay day cannot
    carry the frequency.
    """
    rules = rules or PlanRules()
    calendar = calendar or business_calendar()
    if balance_cents <= 0:
        raise InvalidPlanRequestError("a plan needs a positive balance")
    _check_pay_day(frequency, pay_day)
    discount = rules.settlement.discount_for(balance_cents) if frequency is PlanFrequency.SETTLEMENT else 0
    total = balance_cents - discount
    amounts = _instalment_amounts(total, frequency, affordability, rules, instalments)
    dates = list(islice(plan_dates(pay_day, frequency, start_after, calendar), len(amounts)))
    return PaymentPlan(
        plan_id=plan_id or uuid.uuid4().hex,
        account_id=account_id,
        currency=rules.currency,
        frequency=frequency,
        pay_day=pay_day,
        calendar_country=calendar.country,
        calendar_subdiv=calendar.subdiv,
        balance_cents=balance_cents,
        discount_cents=discount,
        total_cents=total,
        instalments=tuple(
            Instalment(number=n, due_date=d, original_due_date=d, amount_cents=a)
            for n, (d, a) in enumerate(zip(dates, amounts, strict=True), start=1)
        ),
        miss_policy=rules.miss_policy,
        max_consecutive_misses=rules.max_consecutive_misses,
    )


# --------------------------------------------------------------------------------------------------
# Offers and acceptance


class PlanOffer(_Value):
    """A proposed plan sent to the debtor as a self-service link; it works once, until it expires."""

    offer_id: str = Field(min_length=1)
    plan: PaymentPlan
    expires_at: AwareDatetime
    used_at: AwareDatetime | None = None


class OfferAcceptance(_Value):
    """The result of accepting an offer: the offer, now used, and the plan, now active."""

    offer: PlanOffer
    plan: PaymentPlan


def offer_plan(
    plan: PaymentPlan,
    offered_at: datetime,
    *,
    valid_for: timedelta = timedelta(days=3),
    offer_id: str | None = None,
) -> PlanOffer:
    if plan.status is not PlanStatus.PROPOSED:
        raise PlanStateError(f"only a proposed plan can be offered, not a {plan.status} one")
    return PlanOffer(offer_id=offer_id or uuid.uuid4().hex, plan=plan, expires_at=offered_at + valid_for)


def accept_plan(plan: PaymentPlan, accepted_at: datetime) -> PaymentPlan:
    """Make a proposed plan active (an agent's acceptance on the debtor's behalf, or an offer's)."""
    if plan.status is not PlanStatus.PROPOSED:
        raise PlanStateError(f"only a proposed plan can be accepted, not a {plan.status} one")
    if plan.instalments[0].due_date < accepted_at.date():
        raise PlanOutdatedError("the first instalment of this plan is already past")
    return _evolve(plan, status=PlanStatus.ACTIVE, accepted_at=accepted_at)


def accept_offer(offer: PlanOffer, accepted_at: datetime) -> OfferAcceptance:
    """Accept an offer through its link. Raises ``OfferAlreadyUsedError`` or ``OfferExpiredError``."""
    if offer.used_at is not None:
        raise OfferAlreadyUsedError("this plan offer was already accepted")
    if accepted_at >= offer.expires_at:
        raise OfferExpiredError("this plan offer has expired")
    plan = accept_plan(offer.plan, accepted_at)
    return OfferAcceptance(offer=_evolve(offer, used_at=accepted_at, plan=plan), plan=plan)


# --------------------------------------------------------------------------------------------------
# Payments, misses, completion, cancellation


def record_payment(plan: PaymentPlan, paid_at: datetime, amount_cents: int) -> PaymentPlan:
    """Apply a payment to the oldest unpaid instalment, rolling what is left forward.

    Money beyond the plan total is added to ``overpaid_cents`` (a refund or a credit for the
    ledger to decide); a payment on a completed plan is all overpayment. Paying an instalment in
    full ends a run of misses. Paying the last one completes the plan.
    """
    if amount_cents <= 0:
        raise InvalidPaymentError("a payment must be positive")
    if paid_at.tzinfo is None:
        raise InvalidPaymentError("a payment time must carry its time zone")
    if plan.status is PlanStatus.COMPLETED:
        return _evolve(plan, overpaid_cents=plan.overpaid_cents + amount_cents)
    if plan.status is not PlanStatus.ACTIVE:
        raise PlanStateError(f"payments apply to an active plan, not a {plan.status} one")

    remaining = amount_cents
    consecutive_misses = plan.consecutive_misses
    updated: list[Instalment] = []
    for instalment in plan.instalments:
        if remaining == 0 or instalment.status is InstalmentStatus.PAID:
            updated.append(instalment)
            continue
        applied = min(remaining, instalment.outstanding_cents)
        remaining -= applied
        paid = instalment.paid_cents + applied
        if paid == instalment.amount_cents:
            consecutive_misses = 0
            instalment = _evolve(instalment, paid_cents=paid, status=InstalmentStatus.PAID, paid_at=paid_at)
        else:
            instalment = _evolve(instalment, paid_cents=paid)
        updated.append(instalment)

    completed = all(i.status is InstalmentStatus.PAID for i in updated)
    return _evolve(
        plan,
        instalments=tuple(updated),
        paid_cents=plan.paid_cents + amount_cents - remaining,
        overpaid_cents=plan.overpaid_cents + remaining,
        consecutive_misses=consecutive_misses,
        status=PlanStatus.COMPLETED if completed else plan.status,
        completed_at=paid_at if completed else None,
    )


def mark_missed(plan: PaymentPlan, instalment: Instalment | int, today: date) -> PaymentPlan:
    """Record that an instalment (or its number) was not paid by its due date.

    The first miss of an instalment reschedules it once, by the plan's ``MissPolicy``: on the
    debtor's next pay day after ``today``, or on the plan's next collection date after its last
    instalment. The plan is cancelled instead when this miss is the instalment's second, or when it
    makes ``max_consecutive_misses`` misses without a fully paid instalment in between.
    """
    if plan.status is not PlanStatus.ACTIVE:
        raise PlanStateError(f"only an active plan can miss an instalment, not a {plan.status} one")
    number = instalment.number if isinstance(instalment, Instalment) else instalment
    missed = plan.instalment(number)
    if missed.status is InstalmentStatus.PAID:
        raise InstalmentAlreadyPaidError(f"instalment {number} is paid")
    if today < missed.due_date:
        raise InstalmentNotDueError(f"instalment {number} is not due until its due date")

    consecutive = plan.consecutive_misses + 1
    if consecutive >= plan.max_consecutive_misses or missed.misses >= 1:
        reason = (
            PlanCancelReason.CONSECUTIVE_MISSES
            if consecutive >= plan.max_consecutive_misses
            else PlanCancelReason.RETRY_MISSED
        )
        final = _evolve(missed, status=InstalmentStatus.MISSED, misses=missed.misses + 1)
        others = [i for i in plan.instalments if i.number != number]
        return _evolve(
            plan,
            instalments=_in_due_order([*others, final]),
            consecutive_misses=consecutive,
            status=PlanStatus.CANCELLED,
            cancelled_on=today,
            cancel_reason=reason,
        )

    if plan.miss_policy is MissPolicy.RETRY_NEXT_PAY_DAY:
        new_due = next_pay_date(plan.pay_day, today, plan.calendar)
    else:
        last_due = max(i.due_date for i in plan.instalments)
        new_due = next(plan_dates(plan.pay_day, plan.frequency, max(last_due, today), plan.calendar))
    retried = _evolve(missed, due_date=new_due, misses=missed.misses + 1)
    others = [i for i in plan.instalments if i.number != number]
    return _evolve(plan, instalments=_in_due_order([*others, retried]), consecutive_misses=consecutive)


def cancel_plan(
    plan: PaymentPlan, cancelled_on: date, reason: PlanCancelReason = PlanCancelReason.REQUESTED
) -> PaymentPlan:
    """Cancel a proposed or active plan (the debtor asked, or a hold such as debt review stops it)."""
    if plan.status not in (PlanStatus.PROPOSED, PlanStatus.ACTIVE):
        raise PlanStateError(f"a {plan.status} plan cannot be cancelled")
    return _evolve(plan, status=PlanStatus.CANCELLED, cancelled_on=cancelled_on, cancel_reason=reason)
