"""A promise is judged on the money that stayed paid between its making and its check date: grace days
count (the stored check date holds them), and a refund or chargeback takes back what it reversed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conversation_helpers import ACCOUNT_ID, NOW, save_account

from rapport.journey.steps import CheckPromiseInput, check_promise
from rapport.payments.promises import PromiseSource, PromiseToPay, promise_check_date
from rapport.store.models import PaymentModel, PromiseModel


def _stored_promise(due: str, grace_days: int, amount_cents: int = 50_000) -> str:
    """A promise stored as record_promise stores it: its check date already holds the grace days."""
    promise = PromiseToPay(
        promise_id="P1",
        account_id=ACCOUNT_ID,
        amount_cents=amount_cents,
        due_date=datetime.fromisoformat(due).date(),
        made_at=NOW - timedelta(days=10),
        source=PromiseSource.REPLY,
        grace_days=grace_days,
    )
    check_date = promise_check_date(promise).isoformat()
    PromiseModel(
        ACCOUNT_ID,
        "P1",
        amount_cents=amount_cents,
        due_date=due,
        check_date=check_date,
        made_at=NOW - timedelta(days=10),
        source="reply",
        journey_id="J1",
    ).save()
    return check_date


def _payment(key: str, at: datetime, delta: int, kind: str = "succeeded", transaction: str = "T1") -> None:
    PaymentModel(
        ACCOUNT_ID,
        key,
        provider="sandbox",
        link_id="L1",
        transaction_id=transaction,
        kind=kind,
        amount_cents=abs(delta),
        credit_delta_cents=delta,
        route="promise",
        occurred_at=at,
        recorded_at=at,
    ).save()


def _check(services) -> dict:
    step = CheckPromiseInput(account_id=ACCOUNT_ID, journey_id="J1", promise_id="P1", on_check_date=True)
    return check_promise(services, step)


def test_a_payment_within_the_grace_days_keeps_the_promise(services):
    # Given a promise due Wednesday 2 December with two grace days: deadline Friday 4, checked Monday 7
    save_account()
    assert _stored_promise("2026-12-02", grace_days=2) == "2026-12-07"
    # And the full amount paid on Thursday 3 December, after the due date but within the grace days
    _payment("sandbox#e1", datetime(2026, 12, 3, 10, 0, tzinfo=UTC), 50_000)

    # When the promise is checked on its check date
    result = _check(services)

    # Then it is kept, with every cent counted
    assert (result["status"], result["paid_cents"], result["shortfall_cents"]) == ("kept", 50_000, 0)
    assert PromiseModel.get(ACCOUNT_ID, "P1").status == "kept"


def test_a_payment_on_the_check_date_itself_is_too_late(services):
    # Given the same promise, paid only on Monday 7 December, its check date
    save_account()
    _stored_promise("2026-12-02", grace_days=2)
    _payment("sandbox#e1", datetime(2026, 12, 7, 7, 0, tzinfo=UTC), 50_000)

    # When it is checked, then it is broken: the grace days ended on Friday
    assert _check(services)["status"] == "broken"


def test_a_payment_refunded_in_full_does_not_keep_the_promise(services):
    # Given a promise paid in full and then refunded in full before its check date
    save_account()
    _stored_promise("2026-12-04", grace_days=0)
    _payment("sandbox#e1", datetime(2026, 12, 3, 10, 0, tzinfo=UTC), 50_000)
    _payment("sandbox#e2", datetime(2026, 12, 4, 10, 0, tzinfo=UTC), -50_000, kind="refunded")

    # When it is checked, then nothing stayed paid: broken
    result = _check(services)
    assert (result["status"], result["paid_cents"]) == ("broken", 0)


def test_a_part_refund_leaves_the_promise_partly_kept_by_what_stayed_paid(services):
    # Given a promise of R500 paid in full, then R200 of it charged back
    save_account()
    _stored_promise("2026-12-04", grace_days=0)
    _payment("sandbox#e1", datetime(2026, 12, 3, 10, 0, tzinfo=UTC), 50_000)
    _payment("sandbox#e2", datetime(2026, 12, 4, 9, 0, tzinfo=UTC), -20_000, kind="chargeback")

    # When it is checked, then R300 counts and R200 is short
    result = _check(services)
    expected = ("partly_kept", 30_000, 20_000)
    assert (result["status"], result["paid_cents"], result["shortfall_cents"]) == expected


def test_a_refund_of_money_paid_before_the_promise_takes_nothing_from_it(services):
    # Given a payment made before the promise (already in the balance promised against), refunded after it
    save_account()
    _stored_promise("2026-12-04", grace_days=0)
    _payment("sandbox#old", NOW - timedelta(days=20), 30_000, transaction="T0")
    refunded_at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    _payment("sandbox#old-refund", refunded_at, -30_000, kind="refunded", transaction="T0")
    # And the promised amount paid in full after the promise was made
    _payment("sandbox#e1", datetime(2026, 12, 3, 10, 0, tzinfo=UTC), 50_000)

    # When it is checked, then the promise is kept: the refund reversed an earlier payment, not this one
    result = _check(services)
    assert (result["status"], result["paid_cents"]) == ("kept", 50_000)


def test_a_refund_after_the_check_date_does_not_reopen_the_verdict(services):
    # Given a promise paid in full before its check date, refunded only after the check date
    save_account()
    check_date = _stored_promise("2026-12-02", grace_days=0)
    assert check_date == "2026-12-03"
    _payment("sandbox#e1", datetime(2026, 12, 2, 10, 0, tzinfo=UTC), 50_000)
    _payment("sandbox#e2", datetime(2026, 12, 4, 10, 0, tzinfo=UTC), -50_000, kind="refunded")

    # When the journey checks it late (now is 7 December), then it is judged as on its check date: kept
    assert _check(services)["status"] == "kept"
