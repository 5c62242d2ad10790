"""Promises to pay: check dates, verdicts and when a plain promise is no longer offered."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.payments.plans import BusinessCalendar
from rapport.payments.promises import (
    InvalidPromisePaymentError,
    PromiseEligibilityReason,
    PromiseOutcome,
    PromiseSource,
    PromiseStatus,
    PromiseToPay,
    evaluate_promise,
    net_promise_payments,
    promise_allowed,
    promise_check_date,
)

SAST = ZoneInfo("Africa/Johannesburg")


def promise(
    due: date = date(2026, 3, 6), amount: int | None = 50_000, grace: int = 0, **fields: object
) -> PromiseToPay:
    """By default: R500 promised on Monday 2 March 2026 for Friday 6 March."""
    values: dict[str, object] = {
        "promise_id": "ptp-1",
        "account_id": "acc-1",
        "amount_cents": amount,
        "due_date": due,
        "made_at": datetime(2026, 3, 2, 10, tzinfo=SAST),
        "source": PromiseSource.REPLY,
        "grace_days": grace,
    }
    values.update(fields)
    return PromiseToPay.model_validate(values)


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SAST)


def broken(promise_id: str, check_date: date) -> PromiseOutcome:
    return PromiseOutcome(
        promise_id=promise_id,
        status=PromiseStatus.BROKEN,
        promised_cents=10_000,
        paid_cents=0,
        shortfall_cents=10_000,
        check_date=check_date,
        checked_on=check_date,
    )


# --------------------------------------------------------------------------------------------------
# Check dates


@pytest.mark.parametrize(
    ("due", "grace", "expected"),
    [
        (date(2026, 3, 6), 0, date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 3, 4), 2, date(2026, 3, 9)),  # Wednesday + 2 = Friday -> Monday
        (date(2026, 3, 4), 0, date(2026, 3, 5)),  # Wednesday -> Thursday
        (date(2026, 12, 24), 0, date(2026, 12, 28)),  # past Christmas (Fri) and the weekend
        (date(2026, 12, 15), 0, date(2026, 12, 17)),  # past the Day of Reconciliation (Wed 16th)
        (date(2027, 12, 24), 0, date(2027, 12, 28)),  # past the observed Day of Goodwill (Mon 27th)
        (date(2026, 4, 2), 0, date(2026, 4, 7)),  # past Good Friday, the weekend and Family Day
    ],
)
def test_the_check_date_is_the_first_business_day_after_the_deadline(
    due: date, grace: int, expected: date
) -> None:
    assert promise_check_date(promise(due=due, grace=grace)) == expected


def test_the_check_date_uses_the_given_calendar() -> None:
    # Given a promise due on Christmas Eve 2026 in England, where Boxing Day is observed on the 28th
    check = promise_check_date(promise(due=date(2026, 12, 24)), BusinessCalendar("GB", "ENG"))
    assert check == date(2026, 12, 29)


# --------------------------------------------------------------------------------------------------
# Verdicts


def test_paid_in_full_by_the_deadline_is_kept() -> None:
    outcome = evaluate_promise(promise(), [(at(6), 50_000)], date(2026, 3, 9), SAST)
    assert outcome.status is PromiseStatus.KEPT
    assert (outcome.paid_cents, outcome.shortfall_cents) == (50_000, 0)
    assert outcome.check_date == date(2026, 3, 9)
    assert outcome.checked_on == date(2026, 3, 9)


def test_paid_in_full_early_is_kept_before_the_check_date() -> None:
    outcome = evaluate_promise(promise(), [(at(3), 30_000), (at(4), 25_000)], date(2026, 3, 4), SAST)
    assert outcome.status is PromiseStatus.KEPT
    assert outcome.paid_cents == 55_000


def test_before_the_check_date_an_unpaid_promise_is_pending() -> None:
    outcome = evaluate_promise(promise(), [(at(3), 10_000)], date(2026, 3, 8), SAST)
    assert outcome.status is PromiseStatus.PENDING
    assert (outcome.paid_cents, outcome.shortfall_cents) == (10_000, 40_000)


def test_something_paid_but_short_is_partly_kept() -> None:
    outcome = evaluate_promise(promise(), [(at(5), 20_000)], date(2026, 3, 9), SAST)
    assert outcome.status is PromiseStatus.PARTLY_KEPT
    assert outcome.shortfall_cents == 30_000


def test_nothing_paid_by_the_check_date_is_broken() -> None:
    outcome = evaluate_promise(promise(), [], date(2026, 3, 9), SAST)
    assert outcome.status is PromiseStatus.BROKEN
    assert outcome.shortfall_cents == 50_000


def test_a_weekend_payment_after_a_friday_deadline_still_counts() -> None:
    outcome = evaluate_promise(promise(), [(at(8), 50_000)], date(2026, 3, 9), SAST)
    assert outcome.status is PromiseStatus.KEPT


def test_a_payment_on_the_check_date_is_late() -> None:
    outcome = evaluate_promise(promise(), [(at(9, hour=8), 50_000)], date(2026, 3, 9), SAST)
    assert outcome.status is PromiseStatus.BROKEN


def test_grace_days_extend_the_deadline() -> None:
    # Given a promise due Wednesday 4 March with two grace days
    made = promise(due=date(2026, 3, 4), grace=2)
    # When the money arrives on Friday
    outcome = evaluate_promise(made, [(at(6), 50_000)], date(2026, 3, 9), SAST)
    # Then the promise is kept
    assert outcome.status is PromiseStatus.KEPT


def test_payments_before_the_promise_was_made_do_not_count() -> None:
    # Given a payment at 09:00 and a promise made at 10:00 the same day
    outcome = evaluate_promise(promise(), [(at(2, hour=9), 50_000)], date(2026, 3, 9), SAST)
    assert outcome.status is PromiseStatus.BROKEN


def test_the_payment_day_is_the_debtors_local_day() -> None:
    # Given a payment at 22:30 UTC on Sunday 8 March: 00:30 on Monday the 9th in Johannesburg
    paid_at = datetime(2026, 3, 8, 22, 30, tzinfo=UTC)
    # Then in the debtor's zone it falls on the check date and is late
    assert evaluate_promise(promise(), [(paid_at, 50_000)], date(2026, 3, 9), SAST).status is (
        PromiseStatus.BROKEN
    )
    # While a debtor in UTC paid on Sunday, in time
    assert evaluate_promise(promise(), [(paid_at, 50_000)], date(2026, 3, 9), "UTC").status is (
        PromiseStatus.KEPT
    )


def test_payments_dated_after_today_are_ignored() -> None:
    outcome = evaluate_promise(promise(), [(at(5), 50_000)], date(2026, 3, 4), SAST)
    assert outcome.status is PromiseStatus.PENDING
    assert outcome.paid_cents == 0


def test_a_promise_of_the_balance_uses_the_balance_when_it_was_made() -> None:
    made = promise(amount=None, balance_cents=123_456)
    assert made.promised_cents == 123_456
    outcome = evaluate_promise(made, [(at(5), 123_455)], date(2026, 3, 9), SAST)
    assert outcome.status is PromiseStatus.PARTLY_KEPT
    assert outcome.shortfall_cents == 1


def test_a_promise_of_the_balance_needs_the_balance() -> None:
    with pytest.raises(ValueError, match="needs balance_cents"):
        promise(amount=None)


def test_a_promise_needs_a_zoned_time_of_making() -> None:
    with pytest.raises(ValueError, match="timezone"):
        promise(made_at=datetime(2026, 3, 2, 10))


def test_naive_or_non_positive_payments_are_refused() -> None:
    with pytest.raises(InvalidPromisePaymentError):
        evaluate_promise(promise(), [(datetime(2026, 3, 5, 12), 100)], date(2026, 3, 9), SAST)
    with pytest.raises(InvalidPromisePaymentError):
        evaluate_promise(promise(), [(at(5), -100)], date(2026, 3, 9), SAST)


@settings(max_examples=100, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=60_000), max_size=5),
    day_offsets=st.lists(st.integers(min_value=-3, max_value=10), min_size=5, max_size=5),
    today_offset=st.integers(min_value=0, max_value=12),
)
def test_verdict_is_consistent_with_what_was_counted(
    amounts: list[int], day_offsets: list[int], today_offset: int
) -> None:
    made = promise()
    payments = [
        (at(2) + timedelta(days=offset), amount) for amount, offset in zip(amounts, day_offsets, strict=False)
    ]
    today = date(2026, 3, 2) + timedelta(days=today_offset)
    outcome = evaluate_promise(made, payments, today, SAST)
    # Then paid and shortfall add up, and the status follows from them and the date
    assert outcome.paid_cents + outcome.shortfall_cents >= outcome.promised_cents
    assert outcome.shortfall_cents == max(outcome.promised_cents - outcome.paid_cents, 0)
    if outcome.paid_cents >= outcome.promised_cents:
        assert outcome.status is PromiseStatus.KEPT
    elif today < outcome.check_date:
        assert outcome.status is PromiseStatus.PENDING
    else:
        expected = PromiseStatus.PARTLY_KEPT if outcome.paid_cents else PromiseStatus.BROKEN
        assert outcome.status is expected
    # And no payment from before the promise or on or after the check date was counted
    counted = sum(
        amount
        for paid_at, amount in payments
        if paid_at >= made.made_at and paid_at.date() < outcome.check_date and paid_at.date() <= today
    )
    assert outcome.paid_cents == counted


# --------------------------------------------------------------------------------------------------
# Eligibility


def test_two_broken_promises_in_90_days_stop_plain_promises() -> None:
    today = date(2026, 6, 1)
    history = [broken("a", today - timedelta(days=10)), broken("b", today - timedelta(days=89))]
    eligibility = promise_allowed(history, today)
    assert not eligibility
    assert eligibility.allowed is False
    assert eligibility.reason is PromiseEligibilityReason.TOO_MANY_BROKEN_PROMISES
    assert eligibility.broken_in_window == 2


def test_a_broken_promise_older_than_90_days_is_forgiven() -> None:
    today = date(2026, 6, 1)
    history = [broken("a", today - timedelta(days=10)), broken("b", today - timedelta(days=90))]
    eligibility = promise_allowed(history, today)
    assert eligibility
    assert eligibility.reason is PromiseEligibilityReason.BROKEN_PROMISES_BELOW_LIMIT
    assert eligibility.broken_in_window == 1


def test_partly_kept_promises_and_repeat_verdicts_do_not_add_up_to_two() -> None:
    today = date(2026, 6, 1)
    partly = broken("c", today).model_copy(update={"status": PromiseStatus.PARTLY_KEPT})
    history = [broken("a", today), broken("a", today), partly]
    assert promise_allowed(history, today).allowed


def test_no_history_allows_a_promise() -> None:
    eligibility = promise_allowed([], date(2026, 6, 1))
    assert eligibility.allowed
    assert eligibility.reason is PromiseEligibilityReason.NO_RECENT_BROKEN_PROMISES


# --------------------------------------------------------------------------------------------------
# What stayed paid: the ledger's moves netted per transaction within the promise's window


def test_a_reversal_takes_back_only_what_it_reversed_of_a_payment_made_for_the_promise() -> None:
    made, check = datetime(2026, 3, 2, 10, tzinfo=SAST), date(2026, 3, 9)
    moves = [
        ("t1", at(3), 50_000),  # paid for the promise...
        ("t1", at(4), -20_000),  # ...R200 of it charged back
        ("t0", at(1), 30_000),  # paid before the promise was made...
        ("t0", at(5), -30_000),  # ...and refunded after: takes nothing from the promise
        ("t2", at(5), 0),  # a failure moves nothing
        ("t3", at(9, hour=8), 10_000),  # on the check date: too late
    ]
    netted = net_promise_payments(moves, made, check, date(2026, 3, 9), SAST)
    assert netted == [(at(4), 30_000)]
    outcome = evaluate_promise(promise(), netted, date(2026, 3, 9), SAST)
    assert (outcome.status, outcome.paid_cents) == (PromiseStatus.PARTLY_KEPT, 30_000)


def test_a_refund_recorded_before_its_payment_is_already_in_the_payments_net_credit() -> None:
    # The ledger holds a R200 refund that arrives first (it moves nothing) and credits the R500 payment net
    made, check = datetime(2026, 3, 2, 10, tzinfo=SAST), date(2026, 3, 9)
    moves = [("t1", at(3), 0), ("t1", at(4), 50_000 - 20_000)]
    assert net_promise_payments(moves, made, check, date(2026, 3, 9), SAST) == [(at(4), 30_000)]


def test_the_stored_check_date_decides_which_payments_count() -> None:
    # A promise recorded with two grace days (checked Tuesday 10 March), judged on that date
    stored_check = date(2026, 3, 10)
    outcome = evaluate_promise(promise(), [(at(9), 50_000)], stored_check, SAST, check_date=stored_check)
    assert (outcome.status, outcome.check_date) == (PromiseStatus.KEPT, stored_check)
    # Without it, the promise's own (no grace) check date, Monday 9 March, would leave that payment out
    assert evaluate_promise(promise(), [(at(9), 50_000)], stored_check, SAST).status is PromiseStatus.BROKEN
