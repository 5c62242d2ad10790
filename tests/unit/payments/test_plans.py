"""Payment plans by example: pay days, affordability, proposals, offers, payments and misses."""

from datetime import UTC, date, datetime, timedelta
from itertools import islice

import pytest

from rapport.models.enums import Jurisdiction
from rapport.payments.plans import (
    Affordability,
    AffordabilityReason,
    AffordabilityRules,
    InstalmentAlreadyPaidError,
    InstalmentNotDueError,
    InstalmentNotFoundError,
    InstalmentStatus,
    InvalidPaymentError,
    InvalidPlanRequestError,
    MissPolicy,
    OfferAlreadyUsedError,
    OfferExpiredError,
    PayDay,
    PayDayMismatchError,
    PaymentPlan,
    PlanCancelReason,
    PlanFrequency,
    PlanNotAffordableError,
    PlanOutdatedError,
    PlanRules,
    PlanStateError,
    PlanStatus,
    SassaGrant,
    SettlementRule,
    accept_offer,
    accept_plan,
    assess_affordability,
    business_calendar,
    calendar_for,
    cancel_plan,
    mark_missed,
    next_pay_date,
    offer_plan,
    pay_dates,
    plan_dates,
    propose_plan,
    record_payment,
)

NOON = datetime(2026, 1, 1, 12, tzinfo=UTC)


def first_dates(pay_day: PayDay, after: date, count: int) -> list[date]:
    return list(islice(pay_dates(pay_day, after), count))


def affordable(monthly_max_cents: int) -> Affordability:
    return Affordability(
        disposable_cents=monthly_max_cents * 2,
        max_instalment_cents=monthly_max_cents,
        reason=AffordabilityReason.SHARE_OF_DISPOSABLE_INCOME,
    )


def active_plan(plan: PaymentPlan) -> PaymentPlan:
    accepted_at = datetime.combine(plan.instalments[0].due_date - timedelta(days=1), NOON.timetz())
    return accept_plan(plan, accepted_at)


def monthly_plan(**rules: object) -> PaymentPlan:
    """R900 in three monthly instalments of R300 on the 25th, from February 2026."""
    return active_plan(
        propose_plan(
            90_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None,
            PlanRules(**rules), instalments=3, plan_id="plan-1", account_id="acc-1",
        )
    )


# --------------------------------------------------------------------------------------------------
# Pay days


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # Given December 2026: the 16th (Wednesday) and the 25th (Friday) are public holidays,
        # the 26th is a Saturday
        (16, date(2026, 12, 15)),
        (25, date(2026, 12, 24)),
        (26, date(2026, 12, 24)),
        (24, date(2026, 12, 24)),
        (31, date(2026, 12, 31)),
    ],
)
def test_december_2026_pay_days_move_back_past_holidays_and_weekends(day: int, expected: date) -> None:
    # When the December pay date is worked out
    [paid_on] = first_dates(PayDay.of_month(day), date(2026, 11, 30), 1)
    # Then it is the business day on or before the nominal day
    assert paid_on == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # Given December 2027: the 25th is a Saturday, the 26th a Sunday, Monday 27th is the
        # observed Day of Goodwill
        (25, date(2027, 12, 24)),
        (26, date(2027, 12, 24)),
        (27, date(2027, 12, 24)),
        (28, date(2027, 12, 28)),
    ],
)
def test_december_2027_pay_days_skip_the_observed_day_of_goodwill(day: int, expected: date) -> None:
    [paid_on] = first_dates(PayDay.of_month(day), date(2027, 11, 30), 1)
    assert paid_on == expected


@pytest.mark.parametrize(
    ("day", "after", "expected"),
    [
        (31, date(2026, 1, 31), date(2026, 2, 27)),  # 28 Feb 2026 is a Saturday
        (30, date(2026, 1, 31), date(2026, 2, 27)),
        (29, date(2027, 1, 31), date(2027, 2, 26)),  # 28 Feb 2027 is a Sunday
        (31, date(2028, 1, 31), date(2028, 2, 29)),  # leap year, the 29th is a Tuesday
        (30, date(2028, 1, 31), date(2028, 2, 29)),
    ],
)
def test_february_pay_days_fall_back_to_the_month_end(day: int, after: date, expected: date) -> None:
    [paid_on] = first_dates(PayDay.of_month(day), after, 1)
    assert paid_on == expected


def test_pay_day_on_the_31st_follows_each_months_length() -> None:
    # Given a debtor paid on the 31st
    # When the pay dates from April 2026 are listed
    dates = first_dates(PayDay.of_month(31), date(2026, 3, 31), 4)
    # Then short months end on their last day, and weekends move back to Friday
    assert dates == [date(2026, 4, 30), date(2026, 5, 29), date(2026, 6, 30), date(2026, 7, 31)]


def test_month_end_and_last_working_day_are_the_same_dates() -> None:
    after = date(2026, 12, 1)
    month_end = first_dates(PayDay.last_day_of_month(), after, 3)
    assert month_end == first_dates(PayDay.last_working_day(), after, 3)
    # January 2027 ends on a Sunday
    assert month_end == [date(2026, 12, 31), date(2027, 1, 29), date(2027, 2, 26)]


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        # 1 January 2025 is a holiday: the 2nd is the first business day of the month
        (SassaGrant.OLDER_PERSONS, date(2025, 1, 3)),
        (SassaGrant.DISABILITY, date(2025, 1, 6)),
        (SassaGrant.CHILDREN, date(2025, 1, 7)),
    ],
)
def test_sassa_grant_dates_are_early_business_days(grant: SassaGrant, expected: date) -> None:
    [paid_on] = first_dates(PayDay.sassa(grant), date(2024, 12, 31), 1)
    assert paid_on == expected


def test_sassa_older_persons_dates_across_months() -> None:
    dates = first_dates(PayDay.sassa(), date(2025, 1, 31), 3)
    # 1 March 2025 is a Saturday: Monday 3rd is the first business day, Tuesday 4th the second
    assert dates == [date(2025, 2, 4), date(2025, 3, 4), date(2025, 4, 2)]


def test_weekly_pay_on_good_friday_moves_to_thursday() -> None:
    # Given a debtor paid every Friday, and Good Friday 2026 on 3 April
    dates = first_dates(PayDay.weekly(4), date(2026, 3, 25), 3)
    # Then that week's pay day is the Thursday
    assert dates == [date(2026, 3, 27), date(2026, 4, 2), date(2026, 4, 10)]


def test_fortnightly_pay_follows_its_anchor() -> None:
    pay_day = PayDay.fortnightly(date(2026, 1, 9))
    assert first_dates(pay_day, date(2026, 1, 20), 2) == [date(2026, 1, 23), date(2026, 2, 6)]


def test_a_fortnightly_plan_on_a_weekly_wage_takes_every_second_pay_day() -> None:
    dates = list(islice(plan_dates(PayDay.weekly(4), PlanFrequency.FORTNIGHTLY, date(2026, 3, 25)), 3))
    assert dates == [date(2026, 3, 27), date(2026, 4, 10), date(2026, 4, 24)]


def test_pay_dates_start_strictly_after_the_given_day() -> None:
    assert next_pay_date(PayDay.of_month(25), date(2026, 3, 25)) == date(2026, 4, 24)


def test_pay_day_fields_must_match_its_kind() -> None:
    with pytest.raises(ValueError, match="needs day"):
        PayDay(kind="day_of_month")
    with pytest.raises(ValueError, match="takes no weekday"):
        PayDay(kind="day_of_month", day=25, weekday=4)


def test_other_jurisdictions_use_their_own_holidays() -> None:
    # Given England's Boxing Day 2026 falls on a Saturday and is observed on Monday 28th
    assert calendar_for(Jurisdiction.UK).is_holiday(date(2026, 12, 28))
    assert not calendar_for(Jurisdiction.ZA).is_holiday(date(2026, 12, 28))
    # And the UK calendar moves a pay day accordingly
    [paid_on] = islice(pay_dates(PayDay.of_month(28), date(2026, 12, 1), calendar_for(Jurisdiction.UK)), 1)
    assert paid_on == date(2026, 12, 24)


# --------------------------------------------------------------------------------------------------
# Affordability


def test_affordability_takes_a_share_of_disposable_income() -> None:
    # Given R12,000 income, R9,000 expenses and two dependants held back at R500 each
    rules = AffordabilityRules(disposable_share_bps=5_000, dependant_allowance_cents=50_000)
    # When affordability is assessed
    result = assess_affordability(1_200_000, 900_000, 2, rules)
    # Then half of the R2,000 left is the affordable instalment
    assert result.disposable_cents == 200_000
    assert result.max_instalment_cents == 100_000
    assert result.reason is AffordabilityReason.SHARE_OF_DISPOSABLE_INCOME


def test_below_the_floor_a_token_payment_is_offered() -> None:
    rules = AffordabilityRules(floor_cents=5_000, token_payment_cents=1_000)
    result = assess_affordability(500_000, 495_000, 0, rules)  # R50 left, half is R25
    assert result.max_instalment_cents == 1_000
    assert result.reason is AffordabilityReason.TOKEN_PAYMENT


def test_no_disposable_income_and_no_token_payments_means_nothing_is_affordable() -> None:
    rules = AffordabilityRules(token_payment_cents=0)
    result = assess_affordability(500_000, 600_000, 1, rules)
    assert result.disposable_cents == -100_000
    assert result.max_instalment_cents == 0
    assert result.reason is AffordabilityReason.NOTHING_AFFORDABLE


def test_affordability_per_week_and_fortnight_is_rounded_down() -> None:
    result = affordable(100_000)
    assert result.max_instalment_for(PlanFrequency.MONTHLY) == 100_000
    assert result.max_instalment_for(PlanFrequency.FORTNIGHTLY) == 46_153  # 1,200,000 / 26
    assert result.max_instalment_for(PlanFrequency.WEEKLY) == 23_076  # 1,200,000 / 52


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        assess_affordability(-1, 0, 0)


# --------------------------------------------------------------------------------------------------
# Proposals


def test_instalments_sum_to_the_balance_with_the_remainder_on_the_last() -> None:
    # Given R1,000.01 to be paid in three monthly instalments
    plan = propose_plan(
        100_001, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None, instalments=3
    )
    # Then the regular instalment is rounded up to whole rands and the last carries the rest
    assert [i.amount_cents for i in plan.instalments] == [33_400, 33_400, 33_201]
    assert [i.due_date for i in plan.instalments] == [date(2026, 2, 25), date(2026, 3, 25), date(2026, 4, 24)]
    assert plan.status is PlanStatus.PROPOSED


def test_rounding_to_rands_is_skipped_when_it_would_shorten_the_plan() -> None:
    plan = propose_plan(
        150, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None,
        PlanRules(min_instalment_cents=1), instalments=3,
    )
    # R1 instalments would clear R1.50 in two, not the three asked for
    assert [i.amount_cents for i in plan.instalments] == [50, 50, 50]


def test_affordability_sets_the_shortest_plan_that_fits() -> None:
    # Given R10,000 and R1,500 a month affordable
    plan = propose_plan(
        1_000_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), affordable(150_000)
    )
    # Then seven instalments of at most R1,500 clear it
    amounts = [i.amount_cents for i in plan.instalments]
    assert len(amounts) == 7
    assert max(amounts) <= 150_000
    assert sum(amounts) == 1_000_000


def test_without_affordability_the_default_term_is_used() -> None:
    plan = propose_plan(
        600_000, PlanFrequency.WEEKLY, date(2026, 5, 1), PayDay.weekly(4), None,
        PlanRules(default_term_months=3),
    )
    assert len(plan.instalments) == 13
    assert all(i.due_date.weekday() == 4 for i in plan.instalments)


def test_the_minimum_instalment_shortens_a_plan_for_a_small_balance() -> None:
    plan = propose_plan(
        12_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None,
        PlanRules(min_instalment_cents=5_000),
    )
    assert [i.amount_cents for i in plan.instalments] == [5_000, 5_000, 2_000]


def test_a_token_arrangement_may_go_below_the_minimum_instalment() -> None:
    plan = propose_plan(
        10_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), affordable(1_000),
        PlanRules(min_instalment_cents=5_000),
    )
    assert [i.amount_cents for i in plan.instalments] == [1_000] * 10


def test_an_unaffordable_balance_raises_with_the_smallest_viable_instalment() -> None:
    # Given R100,000 and R1,000 a month affordable, over at most 24 months
    with pytest.raises(PlanNotAffordableError) as raised:
        propose_plan(
            10_000_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), affordable(100_000)
        )
    # Then the error names what would be needed
    error = raised.value
    assert error.smallest_viable_instalment_cents == 416_667
    assert error.max_instalments == 24
    assert error.max_instalment_cents == 100_000
    # And that amount is indeed enough
    plan = propose_plan(
        10_000_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), affordable(416_667)
    )
    assert len(plan.instalments) == 24


def test_nothing_affordable_raises_not_affordable() -> None:
    with pytest.raises(PlanNotAffordableError):
        propose_plan(10_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), affordable(0))


def test_a_requested_count_above_the_affordable_maximum_raises() -> None:
    with pytest.raises(PlanNotAffordableError):
        propose_plan(
            100_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), affordable(10_000),
            instalments=2,
        )


def test_a_requested_count_beyond_the_maximum_term_is_refused() -> None:
    with pytest.raises(InvalidPlanRequestError):
        propose_plan(
            100_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None,
            PlanRules(max_term_months=12), instalments=13,
        )


def test_weekly_instalments_need_a_weekly_wage() -> None:
    with pytest.raises(PayDayMismatchError):
        propose_plan(100_000, PlanFrequency.WEEKLY, date(2026, 1, 31), PayDay.of_month(25), None)


def test_a_settlement_is_one_discounted_payment_on_the_next_pay_day() -> None:
    # Given a 20 % settlement discount capped at R1,500
    rules = PlanRules(settlement=SettlementRule(discount_bps=2_000, max_discount_cents=150_000))
    # When R10,000 is settled, paid on a 25th
    plan = propose_plan(
        1_000_000, PlanFrequency.SETTLEMENT, date(2026, 12, 1), PayDay.of_month(25), None, rules
    )
    # Then one payment of R8,500 is due on Christmas Eve
    assert plan.discount_cents == 150_000
    assert plan.total_cents == 850_000
    assert [(i.due_date, i.amount_cents) for i in plan.instalments] == [(date(2026, 12, 24), 850_000)]


def test_a_settlement_above_the_affordable_maximum_is_not_affordable() -> None:
    with pytest.raises(PlanNotAffordableError) as raised:
        propose_plan(
            1_000_000, PlanFrequency.SETTLEMENT, date(2026, 12, 1), PayDay.of_month(25), affordable(100_000)
        )
    assert raised.value.smallest_viable_instalment_cents == 1_000_000


def test_a_non_positive_balance_is_refused() -> None:
    with pytest.raises(InvalidPlanRequestError):
        propose_plan(0, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None)


def test_a_plan_survives_a_json_round_trip() -> None:
    plan = monthly_plan()
    assert PaymentPlan.model_validate_json(plan.model_dump_json()) == plan


# --------------------------------------------------------------------------------------------------
# Offers


def test_accepting_an_offer_activates_the_plan_and_uses_the_offer() -> None:
    # Given an offer sent on 1 February, valid for three days
    plan = propose_plan(
        90_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None, instalments=3
    )
    offer = offer_plan(plan, datetime(2026, 2, 1, 9, tzinfo=UTC), offer_id="offer-1")
    # When the debtor accepts it on the 2nd
    accepted = accept_offer(offer, datetime(2026, 2, 2, 9, tzinfo=UTC))
    # Then the plan is active and the offer used
    assert accepted.plan.status is PlanStatus.ACTIVE
    assert accepted.plan.accepted_at == datetime(2026, 2, 2, 9, tzinfo=UTC)
    assert accepted.offer.used_at == datetime(2026, 2, 2, 9, tzinfo=UTC)
    # And the link cannot be used again
    with pytest.raises(OfferAlreadyUsedError):
        accept_offer(accepted.offer, datetime(2026, 2, 2, 10, tzinfo=UTC))


def test_an_expired_offer_is_refused() -> None:
    plan = propose_plan(90_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None)
    offer = offer_plan(plan, datetime(2026, 2, 1, 9, tzinfo=UTC), valid_for=timedelta(hours=24))
    with pytest.raises(OfferExpiredError):
        accept_offer(offer, datetime(2026, 2, 2, 9, tzinfo=UTC))


def test_a_plan_whose_first_instalment_has_passed_cannot_be_accepted() -> None:
    plan = propose_plan(90_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None)
    with pytest.raises(PlanOutdatedError):
        accept_plan(plan, datetime(2026, 2, 26, 9, tzinfo=UTC))


def test_an_active_plan_cannot_be_offered_or_accepted_again() -> None:
    plan = monthly_plan()
    with pytest.raises(PlanStateError):
        offer_plan(plan, NOON)
    with pytest.raises(PlanStateError):
        accept_plan(plan, NOON)


# --------------------------------------------------------------------------------------------------
# Payments


def test_a_payment_goes_to_the_oldest_instalment_and_rolls_forward() -> None:
    # Given three instalments of R300
    plan = monthly_plan()
    # When R450 is paid
    plan = record_payment(plan, datetime(2026, 2, 25, 8, tzinfo=UTC), 45_000)
    # Then the first is paid and half the second
    first, second, third = plan.instalments
    assert (first.status, first.paid_cents) == (InstalmentStatus.PAID, 30_000)
    assert (second.status, second.paid_cents) == (InstalmentStatus.DUE, 15_000)
    assert third.paid_cents == 0
    assert plan.paid_cents == 45_000
    assert plan.outstanding_cents == 45_000


def test_paying_everything_completes_the_plan_and_reports_the_overpayment() -> None:
    plan = monthly_plan()
    paid_at = datetime(2026, 2, 25, 8, tzinfo=UTC)
    plan = record_payment(plan, paid_at, 100_000)
    assert plan.status is PlanStatus.COMPLETED
    assert plan.account_can_close
    assert plan.completed_at == paid_at
    assert plan.paid_cents == 90_000
    assert plan.overpaid_cents == 10_000
    # And a later payment is all overpayment
    plan = record_payment(plan, paid_at + timedelta(days=1), 5_000)
    assert (plan.paid_cents, plan.overpaid_cents) == (90_000, 15_000)


def test_payments_on_a_proposed_or_cancelled_plan_are_refused() -> None:
    proposed = propose_plan(90_000, PlanFrequency.MONTHLY, date(2026, 1, 31), PayDay.of_month(25), None)
    with pytest.raises(PlanStateError):
        record_payment(proposed, NOON, 1_000)
    with pytest.raises(PlanStateError):
        record_payment(cancel_plan(monthly_plan(), date(2026, 2, 1)), NOON, 1_000)


def test_a_payment_must_be_positive_and_zoned() -> None:
    plan = monthly_plan()
    with pytest.raises(InvalidPaymentError):
        record_payment(plan, NOON, 0)
    with pytest.raises(InvalidPaymentError):
        record_payment(plan, datetime(2026, 2, 25, 8), 1_000)


# --------------------------------------------------------------------------------------------------
# Misses


def test_a_first_miss_is_retried_on_the_next_pay_day() -> None:
    # Given a plan with R300 due on 25 February, missed, noticed on the 26th
    plan = mark_missed(monthly_plan(), 1, date(2026, 2, 26))
    # Then it is retried on the next pay day (25 March, with instalment 2) and the plan stays active
    retried = plan.instalment(1)
    assert retried.due_date == date(2026, 3, 25)
    assert retried.original_due_date == date(2026, 2, 25)
    assert retried.misses == 1
    assert plan.status is PlanStatus.ACTIVE
    assert plan.consecutive_misses == 1
    # And the retried instalment comes first among those due that day
    assert [i.number for i in plan.instalments] == [1, 2, 3]


def test_a_first_miss_can_move_to_the_end_of_the_plan() -> None:
    plan = mark_missed(monthly_plan(miss_policy=MissPolicy.MOVE_TO_END), 1, date(2026, 2, 26))
    assert plan.instalment(1).due_date == date(2026, 5, 25)
    assert [i.number for i in plan.instalments] == [2, 3, 1]


def test_two_misses_in_a_row_cancel_the_plan() -> None:
    plan = mark_missed(monthly_plan(miss_policy=MissPolicy.MOVE_TO_END), 1, date(2026, 2, 26))
    plan = mark_missed(plan, 2, date(2026, 3, 26))
    assert plan.status is PlanStatus.CANCELLED
    assert plan.cancel_reason is PlanCancelReason.CONSECUTIVE_MISSES
    assert plan.cancelled_on == date(2026, 3, 26)
    assert plan.instalment(2).status is InstalmentStatus.MISSED
    assert not plan.account_can_close


def test_a_paid_instalment_between_misses_resets_the_run() -> None:
    plan = mark_missed(monthly_plan(miss_policy=MissPolicy.MOVE_TO_END), 1, date(2026, 2, 26))
    plan = record_payment(plan, datetime(2026, 3, 25, 8, tzinfo=UTC), 30_000)  # pays instalment 2
    plan = mark_missed(plan, 3, date(2026, 4, 25))
    assert plan.status is PlanStatus.ACTIVE
    assert plan.consecutive_misses == 1


def test_missing_a_retried_instalment_cancels_the_plan() -> None:
    # Given instalment 1 missed and moved to the end, then instalments 2 and 3 paid
    plan = mark_missed(monthly_plan(miss_policy=MissPolicy.MOVE_TO_END), 1, date(2026, 2, 26))
    plan = record_payment(plan, datetime(2026, 3, 25, 8, tzinfo=UTC), 30_000)
    plan = record_payment(plan, datetime(2026, 4, 24, 8, tzinfo=UTC), 30_000)
    assert plan.consecutive_misses == 0
    # When the retry is missed too
    plan = mark_missed(plan, 1, date(2026, 5, 26))
    # Then the plan is cancelled because the one retry was used
    assert plan.status is PlanStatus.CANCELLED
    assert plan.cancel_reason is PlanCancelReason.RETRY_MISSED


def test_an_instalment_cannot_be_missed_before_it_is_due_or_after_it_is_paid() -> None:
    plan = monthly_plan()
    with pytest.raises(InstalmentNotDueError):
        mark_missed(plan, 1, date(2026, 2, 24))
    paid = record_payment(plan, datetime(2026, 2, 25, 8, tzinfo=UTC), 30_000)
    with pytest.raises(InstalmentAlreadyPaidError):
        mark_missed(paid, paid.instalment(1), date(2026, 2, 26))
    with pytest.raises(InstalmentNotFoundError):
        mark_missed(plan, 9, date(2026, 2, 26))


def test_a_partly_paid_instalment_keeps_its_payment_when_retried() -> None:
    plan = record_payment(monthly_plan(), datetime(2026, 2, 25, 8, tzinfo=UTC), 10_000)
    plan = mark_missed(plan, 1, date(2026, 2, 26))
    assert plan.instalment(1).paid_cents == 10_000
    assert plan.instalment(1).outstanding_cents == 20_000


def test_a_cancelled_plan_takes_no_more_misses() -> None:
    plan = cancel_plan(monthly_plan(), date(2026, 2, 1))
    assert plan.cancel_reason is PlanCancelReason.REQUESTED
    with pytest.raises(PlanStateError):
        mark_missed(plan, 1, date(2026, 2, 26))
    with pytest.raises(PlanStateError):
        cancel_plan(plan, date(2026, 2, 2))


def test_the_default_calendar_is_south_african() -> None:
    assert business_calendar().is_holiday(date(2026, 12, 16))
