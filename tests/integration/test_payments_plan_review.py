"""The daily overdue sweep on the local cloud: the ``review_plans`` function, invoked as its
schedule invokes it, over plans accepted, paid and missed through the real handlers.

``plans.due-index`` is kept in step by every write of a plan, so the tests follow ``next_due``
through a plan's life as well as what the sweep does with the plans it lists.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from journey_helpers import MONDAY_MORNING, account, load

from rapport.clock import SimulatedClock
from rapport.journey.steps import OfferPlanInput, offer_plan
from rapport.payments.plans import PaymentPlan
from rapport.store.models import AccountModel, AuditModel
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_local.cloud import LocalCloud
from rapport_local.payments_page import (
    accept_latest_offer,
    enable_payments,
    latest_plan,
    pay_next_instalment,
    sweep_due_plans,
)

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Africa/Johannesburg")
GRACE_DAYS = 2  # acme-za's payments.plan_review.grace_days


@pytest.fixture(scope="module")
def cloud():
    cloud = LocalCloud(CLIENTS_DIR / "acme-za.toml", SimulatedClock(MONDAY_MORNING, scale=1))
    cloud.__enter__()
    enable_payments(cloud)
    yield cloud
    cloud.__exit__(None, None, None)


@pytest.fixture
def clock_restored(cloud):
    yield
    cloud.clock.rebase(MONDAY_MORNING)


_numbers = itertools.count(900)


def accepted(cloud) -> str:
    """A debtor offered a plan by the journey's OfferPlan step, who accepts it: the account id."""
    debtor = account(next(_numbers), balance_cents=240_000)
    load(cloud, debtor)
    step = OfferPlanInput(
        account_id=debtor.account_id,
        journey_id=f"{debtor.account_id}-test",
        assessment={"max_plan_months": 12},
        analysis={"reply_id": "r1", "amount_cents": 60_000},
    )
    assert offer_plan(cloud.services, step)["offered"]
    assert latest_plan(debtor.account_id).next_due is None  # an offer is not in the index
    assert accept_latest_offer(cloud, debtor.account_id)["statusCode"] == 200
    return debtor.account_id


def current(account_id: str) -> PaymentPlan:
    return PaymentPlan.model_validate(latest_plan(account_id).plan["current"])


def morning_after_grace(due: date) -> datetime:
    """06:00 local on the first day an instalment due on ``due`` counts as missed."""
    day = due + timedelta(days=GRACE_DAYS + 1)
    return datetime.combine(day, datetime.min.time(), ZONE) + timedelta(hours=6)


def test_next_due_follows_the_oldest_unpaid_instalment_and_leaves_with_the_plan(cloud):
    # Given an accepted plan: it enters the index at its first instalment's date
    account_id = accepted(cloud)
    plan = current(account_id)
    assert latest_plan(account_id).next_due == plan.instalments[0].due_date.isoformat()
    # When the first instalment is paid: the plan moves on to the second
    pay_next_instalment(cloud, account_id)
    assert latest_plan(account_id).next_due == plan.instalments[1].due_date.isoformat()
    # When everything else is paid: the plan completes and leaves the index
    while pay_next_instalment(cloud, account_id) is not None:
        pass
    stored = latest_plan(account_id)
    assert (stored.status, stored.next_due) == ("completed", None)


def test_the_daily_sweep_reviews_the_plans_due_and_a_second_run_changes_nothing(cloud, clock_restored):
    # Given three accepted plans: one left unpaid, one whose first instalment is paid, one paid off
    unpaid, paid_first, paid_off = accepted(cloud), accepted(cloud), accepted(cloud)
    pay_next_instalment(cloud, paid_first)
    while pay_next_instalment(cloud, paid_off) is not None:
        pass
    first_due = current(unpaid).instalments[0].due_date
    assert current(paid_first).instalments[1].due_date > morning_after_grace(first_due).date()
    # When the schedule fires on the morning the unpaid instalment counts as missed
    cloud.clock.rebase(morning_after_grace(first_due))
    result = sweep_due_plans(cloud)
    # Then the unpaid plan's first instalment is missed once and retried on a later pay day
    assert result["finished"] and result["accounts_failed"] == 0
    assert result["accounts"] >= 1 and result["instalments_missed"] >= 1
    retried = current(unpaid).instalment(1)
    assert (latest_plan(unpaid).status, retried.misses) == ("active", 1)
    assert latest_plan(unpaid).next_due == retried.due_date.isoformat() > cloud.clock.now().date().isoformat()
    missed = [a for a in AuditModel.query(unpaid) if a.action == "instalment_missed"]
    assert [a.inputs["instalments"] for a in missed] == [[1]]
    # And the plans that owed nothing overdue were left as they were
    assert all(i.misses == 0 for i in current(paid_first).instalments)
    assert latest_plan(paid_off).status == "completed"
    # When the schedule's retry runs again the same day
    before = {a: (latest_plan(a).plan, latest_plan(a).next_due) for a in (unpaid, paid_first, paid_off)}
    again = sweep_due_plans(cloud)
    # Then nothing is due any more and nothing changes
    assert (again["accounts"], again["instalments_missed"], again["plans_cancelled"]) == (0, 0, 0)
    assert {a: (latest_plan(a).plan, latest_plan(a).next_due) for a in before} == before
    assert len([a for a in AuditModel.query(unpaid) if a.action == "instalment_missed"]) == 1


def test_a_second_miss_cancels_the_plan_which_leaves_the_index(cloud, clock_restored):
    # Given an accepted plan whose first instalment was missed once and retried
    account_id = accepted(cloud)
    cloud.clock.rebase(morning_after_grace(current(account_id).instalments[0].due_date))
    sweep_due_plans(cloud)
    retried = current(account_id).instalment(1)
    assert retried.misses == 1
    # When the retry is not paid either and the sweep runs after it
    cloud.clock.rebase(morning_after_grace(retried.due_date))
    result = sweep_due_plans(cloud)
    # Then the plan is cancelled, out of the index, and the account is back in the campaigns
    assert result["plans_cancelled"] >= 1
    stored = latest_plan(account_id)
    assert (stored.status, stored.next_due) == ("cancelled", None)
    assert AccountModel.get(account_id).status == "active"
