"""Properties of payment plans that must hold for every balance, pay day, rule and event sequence."""

import math
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rapport.payments.plans import (
    Affordability,
    AffordabilityReason,
    InstalmentStatus,
    MissPolicy,
    PayDay,
    PaymentPlan,
    PlanFrequency,
    PlanNotAffordableError,
    PlanRules,
    PlanStatus,
    SassaGrant,
    SettlementRule,
    accept_plan,
    business_calendar,
    mark_missed,
    propose_plan,
    record_payment,
)

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CALENDAR = business_calendar()

monthly_pay_days = st.one_of(
    st.integers(min_value=1, max_value=31).map(PayDay.of_month),
    st.just(PayDay.last_day_of_month()),
    st.just(PayDay.last_working_day()),
    st.sampled_from(list(SassaGrant)).map(PayDay.sassa),
)
weekly_pay_days = st.integers(min_value=0, max_value=6).map(PayDay.weekly)
fortnightly_pay_days = st.dates(date(2020, 1, 1), date(2030, 12, 31)).map(PayDay.fortnightly)


@st.composite
def frequency_and_pay_day(draw: st.DrawFn) -> tuple[PlanFrequency, PayDay]:
    frequency = draw(st.sampled_from(list(PlanFrequency)))
    if frequency is PlanFrequency.MONTHLY:
        return frequency, draw(monthly_pay_days)
    if frequency is PlanFrequency.WEEKLY:
        return frequency, draw(weekly_pay_days)
    if frequency is PlanFrequency.FORTNIGHTLY:
        return frequency, draw(st.one_of(weekly_pay_days, fortnightly_pay_days))
    return frequency, draw(st.one_of(monthly_pay_days, weekly_pay_days, fortnightly_pay_days))


@st.composite
def plan_rules(draw: st.DrawFn) -> PlanRules:
    max_term = draw(st.integers(min_value=1, max_value=36))
    return PlanRules(
        max_term_months=max_term,
        default_term_months=draw(st.integers(min_value=1, max_value=max_term)),
        min_instalment_cents=draw(st.integers(min_value=1, max_value=50_000)),
        round_to_cents=draw(st.sampled_from([1, 100, 1_000])),
        miss_policy=draw(st.sampled_from(list(MissPolicy))),
        settlement=SettlementRule(discount_bps=draw(st.integers(min_value=0, max_value=5_000))),
    )


def _affordable(monthly_max_cents: int) -> Affordability:
    return Affordability(
        disposable_cents=monthly_max_cents,
        max_instalment_cents=monthly_max_cents,
        reason=AffordabilityReason.SHARE_OF_DISPOSABLE_INCOME,
    )


affordabilities = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=2_000_000).map(_affordable),
)
balances = st.integers(min_value=1, max_value=50_000_000)
start_dates = st.dates(date(2024, 1, 1), date(2030, 12, 31))


@st.composite
def proposals(draw: st.DrawFn) -> PaymentPlan:
    """A proposed plan that the rules and affordability allow (unaffordable draws are discarded)."""
    frequency, pay_day = draw(frequency_and_pay_day())
    try:
        return propose_plan(
            draw(balances), frequency, draw(start_dates), pay_day, draw(affordabilities), draw(plan_rules())
        )
    except PlanNotAffordableError:
        assume(False)
        raise


@SETTINGS
@given(
    balance=balances,
    frequency_pay_day=frequency_and_pay_day(),
    start_after=start_dates,
    affordability=affordabilities,
    rules=plan_rules(),
)
def test_every_proposal_is_exact_positive_ordered_on_business_days_and_affordable(
    balance: int,
    frequency_pay_day: tuple[PlanFrequency, PayDay],
    start_after: date,
    affordability: Affordability | None,
    rules: PlanRules,
) -> None:
    frequency, pay_day = frequency_pay_day
    cap = rules.max_instalments(frequency)
    max_per = affordability.max_instalment_for(frequency) if affordability else None
    # When a plan is proposed
    try:
        plan = propose_plan(balance, frequency, start_after, pay_day, affordability, rules)
    except PlanNotAffordableError as error:
        # Then either no plan fits: the affordable maximum is below the smallest viable instalment,
        # and that instalment is exactly what clears the total within the maximum term
        assert max_per is not None
        assert max_per < error.smallest_viable_instalment_cents
        assert error.smallest_viable_instalment_cents == math.ceil(error.total_cents / cap)
        return
    amounts = [i.amount_cents for i in plan.instalments]
    dates = [i.due_date for i in plan.instalments]
    # Or the instalments sum exactly to the total, are all positive and within the term
    assert sum(amounts) == plan.total_cents == balance - plan.discount_cents
    assert all(amount > 0 for amount in amounts)
    assert 1 <= len(amounts) <= cap
    # And none is above the affordable maximum, and only the last differs from the regular amount
    if max_per is not None:
        assert max(amounts) <= max_per
    assert all(amount == amounts[0] for amount in amounts[:-1])
    assert amounts[-1] <= amounts[0]
    # And the dates are strictly increasing, after the start, on business days
    assert dates[0] > start_after
    assert all(earlier < later for earlier, later in pairwise(dates))
    assert all(CALENDAR.is_business_day(day) for day in dates)


@SETTINGS
@given(
    balance=balances,
    frequency_pay_day=frequency_and_pay_day(),
    start_after=start_dates,
    rules=plan_rules(),
    max_cents=st.integers(min_value=0, max_value=2_000_000),
)
def test_the_smallest_viable_instalment_is_always_enough(
    balance: int,
    frequency_pay_day: tuple[PlanFrequency, PayDay],
    start_after: date,
    rules: PlanRules,
    max_cents: int,
) -> None:
    # Given a proposal refused as not affordable
    frequency, pay_day = frequency_pay_day
    affordability = _affordable(max_cents)
    try:
        propose_plan(balance, frequency, start_after, pay_day, affordability, rules)
    except PlanNotAffordableError as error:
        smallest = error.smallest_viable_instalment_cents
    else:
        return
    # When the debtor could afford the smallest viable instalment (per period; expressed monthly,
    # rounded up so the per-period figure is not lost to rounding down)
    periods = {PlanFrequency.WEEKLY: 52, PlanFrequency.FORTNIGHTLY: 26}.get(frequency)
    monthly = math.ceil(smallest * periods / 12) if periods else smallest
    enough = _affordable(monthly)
    # Then a plan is proposed
    plan = propose_plan(balance, frequency, start_after, pay_day, enough, rules)
    assert sum(i.amount_cents for i in plan.instalments) == plan.total_cents


def _activate(plan: PaymentPlan) -> PaymentPlan:
    first = plan.instalments[0].due_date
    return accept_plan(plan, datetime.combine(first, time(8), tzinfo=UTC))


# An event on an active plan: pay an amount, or miss the oldest unpaid instalment.
events = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(min_value=1, max_value=5_000_000)),
        st.tuples(st.just("miss"), st.integers(min_value=0, max_value=20)),
    ),
    max_size=12,
)


@SETTINGS
@given(plan=proposals(), sequence=events)
def test_payments_and_misses_keep_the_books_and_two_misses_in_a_row_cancel(
    plan: PaymentPlan, sequence: list[tuple[str, int]]
) -> None:
    plan = _activate(plan)
    total_paid = 0
    misses_in_a_row = 0
    for kind, value in sequence:
        if plan.status is not PlanStatus.ACTIVE:
            break
        oldest = plan.unpaid[0]
        when = oldest.due_date + timedelta(days=value if kind == "miss" else 0)
        paid_before = sum(1 for i in plan.instalments if i.status is InstalmentStatus.PAID)
        if kind == "pay":
            plan = record_payment(plan, datetime.combine(when, time(9), tzinfo=UTC), value)
            total_paid += value
            if sum(1 for i in plan.instalments if i.status is InstalmentStatus.PAID) > paid_before:
                misses_in_a_row = 0
        else:
            plan = mark_missed(plan, oldest, when)
            misses_in_a_row += 1
            # Then two misses without a fully paid instalment between them always cancel the plan
            if misses_in_a_row >= 2:
                assert plan.status is PlanStatus.CANCELLED
        # And money is never applied beyond the plan total without being reported as overpaid
        assert plan.paid_cents <= plan.total_cents
        assert plan.paid_cents + plan.overpaid_cents == total_paid
        assert plan.paid_cents == sum(i.paid_cents for i in plan.instalments)
        # And a plan is completed exactly when everything is paid
        assert (plan.status is PlanStatus.COMPLETED) == (plan.paid_cents == plan.total_cents)
        assert plan.account_can_close == (plan.status is PlanStatus.COMPLETED)
        # And rescheduled instalments stay on business days, in due order
        assert all(CALENDAR.is_business_day(i.due_date) for i in plan.instalments)
        keys = [(i.due_date, i.number) for i in plan.instalments]
        assert keys == sorted(keys)
