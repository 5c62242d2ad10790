"""The daily overdue sweep of plans: ``plans.due-index`` lists exactly the plans due, and the
``review_plans`` function reviews them once (moto's DynamoDB, the real handler, a fixed clock).

Today is Monday 2 March 2026 in Johannesburg and the grace is two days, so an instalment still
unpaid is missed when it fell due on or before Friday 27 February.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from rapport_tables import rapport_tables

from rapport.journey import plan_review
from rapport.journey.plan_review import PlanReviewIncompleteError, PlanReviewRun, run_plan_review
from rapport.payments.plans import (
    PayDay,
    PaymentPlan,
    PlanFrequency,
    accept_plan,
    cancel_plan,
    propose_plan,
    record_payment,
)
from rapport.runtime import Services, use_services
from rapport.store.models import ALL_MODELS, AccountModel, AuditModel, Debtor, PlanModel
from rapport.store.repositories import PlanChange, Repositories, plan_next_due
from rapport.strategy.config import load_client_config
from rapport_infra.catalogue import CLIENTS_DIR, function_spec

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DUE_BY = date(2026, 2, 27)
ACCEPTED_AT = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
PREFIX = "unit-plan-review"


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@dataclass
class FakeContext:
    """The parts of a Lambda context the handler and Powertools read."""

    remaining_ms: int = 900_000
    function_name: str = "rapport-acme-za-review-plans"
    invoked_function_arn: str = "arn:aws:lambda:af-south-1:123456789012:function:rapport-acme-za-review-plans"
    aws_request_id: str = "req-1"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(scope="module")
def tables() -> Iterator[None]:
    with rapport_tables(PREFIX):
        yield


@pytest.fixture
def services(tables: None) -> Iterator[Services]:
    path = CLIENTS_DIR / "acme-za.toml"
    from rapport.settings import Settings

    built = Services(
        settings=Settings(client_id="acme-za", client_config_path=path, table_prefix=PREFIX),
        client=load_client_config(path),
        clock=FixedClock(NOW),
        repos=Repositories(),
        senders={},
        renderer=None,
        payments=None,
        analyser=None,
        stepfunctions=None,
    )
    use_services(built)
    yield built
    use_services(None)
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)


_numbers = itertools.count(1)


def _plan(start_after: date, pay_day: int, account_id: str, plan_id: str) -> PaymentPlan:
    proposed = propose_plan(
        300_000, PlanFrequency.MONTHLY, start_after, PayDay.of_month(pay_day), None,
        instalments=3, plan_id=plan_id, account_id=account_id,
    )
    return accept_plan(proposed, ACCEPTED_AT)


def stored_plan(services: Services, start_after: date, pay_day: int = 25, *, status: str = "active",
                paid_instalments: int = 0) -> str:
    """An account in plan with a plan stored as the journey and acceptance store it; its account id."""
    number = next(_numbers)
    account_id, plan_id = f"ACC-{number}", f"plan{number:04d}"
    AccountModel(
        account_id, debtor=Debtor(first_name="Test", last_name="Debtor"), balance_cents=300_000,
        days_past_due=60, segment="needs_help", status="plan",
    ).save()
    plan = _plan(start_after, pay_day, account_id, plan_id)
    for instalment in plan.instalments[:paid_instalments]:
        plan = record_payment(plan, ACCEPTED_AT + timedelta(days=1), instalment.amount_cents)
    if status == "cancelled":
        plan = cancel_plan(plan, ACCEPTED_AT.date())
    PlanModel(account_id, plan_id, status="offered", plan={"offered": True}, created_at=ACCEPTED_AT).save()
    offered = services.repos.plans.find(account_id, plan_id)
    if status != "offered":
        document = {"current": plan.model_dump(mode="json"), "link_id": f"I{number:020d}"}
        services.repos.plans.change(PlanChange(offered, status, document), ACCEPTED_AT)
    return account_id


def due_accounts(services: Services, due_by: date = DUE_BY) -> set[str]:
    return {plan.account_id for plan in services.repos.plans.due_for_review(due_by).plans}


def plans_now(account_ids: list[str]) -> dict[str, Any]:
    return {
        account_id: [(p.status, p.next_due, p.plan) for p in PlanModel.query(account_id)]
        for account_id in account_ids
    }


def load_handler() -> Any:
    path = function_spec("review_plans").folder / "handler.py"
    module_spec = importlib.util.spec_from_file_location("rapport_function_review_plans_under_test", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.handler


# --- the index -------------------------------------------------------------------------------------


def test_the_index_lists_exactly_the_active_plans_with_an_instalment_due_by_the_date(services):
    # Given plans of every kind
    overdue_twice = stored_plan(services, date(2026, 1, 1))  # 23 Jan and 25 Feb unpaid
    overdue_once = stored_plan(services, date(2026, 2, 1))  # 25 Feb unpaid
    on_the_day = stored_plan(services, date(2026, 2, 1), pay_day=27)  # 27 Feb unpaid
    within_grace = stored_plan(services, date(2026, 2, 3), pay_day=2)  # due today, 2 Mar
    future = stored_plan(services, date(2026, 3, 1))  # first due 25 Mar
    paid_up = stored_plan(services, date(2026, 2, 1), paid_instalments=1)  # next due 25 Mar
    completed = stored_plan(services, date(2026, 1, 1), status="completed", paid_instalments=3)
    cancelled = stored_plan(services, date(2026, 1, 1), status="cancelled")
    offered = stored_plan(services, date(2026, 1, 1), status="offered")
    # When the plans due by Friday 27 February are queried
    listed = due_accounts(services)
    # Then exactly the active ones with an unpaid instalment due by then are listed
    assert listed == {overdue_twice, overdue_once, on_the_day}
    # And the closed and offered ones are not in the index at all, whatever the date
    everything = due_accounts(services, date(2099, 12, 31))
    assert everything == {overdue_twice, overdue_once, on_the_day, within_grace, future, paid_up}
    assert {completed, cancelled, offered}.isdisjoint(everything)
    assert next(iter(PlanModel.query(paid_up))).next_due == "2026-03-25"


def test_the_index_pages_without_losing_a_plan(services):
    accounts = {stored_plan(services, date(2026, 2, 1)) for _ in range(5)}
    seen, last_key, pages = [], None, 0
    while True:
        page = services.repos.plans.due_for_review(DUE_BY, limit=2, last_key=last_key)
        seen.extend(plan.account_id for plan in page.plans)
        pages, last_key = pages + 1, page.last_key
        if last_key is None:
            break
    assert sorted(seen) == sorted(accounts) and pages >= 3


def test_next_due_follows_the_oldest_unpaid_instalment_and_only_while_active():
    document = {"current": {"instalments": [
        {"due_date": "2026-03-25", "status": "due"},
        {"due_date": "2026-02-25", "status": "paid"},
        {"due_date": "2026-04-24", "status": "due"},
    ]}}
    assert plan_next_due("active", document) == "2026-03-25"
    assert plan_next_due("completed", document) is None
    assert plan_next_due("cancelled", document) is None
    assert plan_next_due("offered", {"offered": {}}) is None
    paid_off = {"current": {"instalments": [{"due_date": "2026-02-25", "status": "paid"}]}}
    assert plan_next_due("active", paid_off) is None


# --- the sweep -------------------------------------------------------------------------------------


def test_the_handler_reviews_every_plan_due_and_a_second_run_the_same_day_changes_nothing(services):
    # Given two plans overdue (one twice), one within its grace, one paid up and one cancelled
    overdue_twice = stored_plan(services, date(2026, 1, 1))
    overdue_once = stored_plan(services, date(2026, 2, 1))
    within_grace = stored_plan(services, date(2026, 2, 3), pay_day=2)
    paid_up = stored_plan(services, date(2026, 2, 1), paid_instalments=1)
    cancelled = stored_plan(services, date(2026, 1, 1), status="cancelled")
    handler = load_handler()
    untouched = plans_now([within_grace, paid_up, cancelled])
    # When the schedule invokes the function
    result = handler({}, FakeContext())
    # Then both plans due were reviewed: two misses cancel the first, one miss retries the second
    assert result == {
        "due_by": "2026-02-27", "accounts": 2, "plans_reviewed": 2, "plans_unchanged": 0,
        "instalments_missed": 3, "plans_cancelled": 1, "plans_completed": 0, "accounts_failed": 0,
        "pages": 1, "finished": True,
    }
    (first,) = PlanModel.query(overdue_twice)
    assert (first.status, first.next_due) == ("cancelled", None)
    assert AccountModel.get(overdue_twice).status == "active"
    (second,) = PlanModel.query(overdue_once)
    retried = PaymentPlan.model_validate(second.plan["current"]).instalment(1)
    assert (second.status, retried.misses, second.next_due) == ("active", 1, retried.due_date.isoformat())
    assert retried.due_date > NOW.date()
    # And the plans not due were not touched
    assert plans_now([within_grace, paid_up, cancelled]) == untouched
    # When it runs again the same day
    before = plans_now([overdue_twice, overdue_once])
    audit_before = len(list(AuditModel.scan()))
    again = handler({}, FakeContext())
    # Then nothing is due any more and nothing changes
    assert (again["accounts"], again["plans_reviewed"], again["instalments_missed"]) == (0, 0, 0)
    assert plans_now([overdue_twice, overdue_once]) == before
    assert len(list(AuditModel.scan())) == audit_before


def test_one_failing_account_does_not_stop_the_sweep_and_fails_the_run(services, monkeypatch):
    # Given three plans due, the second of which cannot be reviewed
    accounts = [stored_plan(services, date(2026, 2, 1)) for _ in range(3)]
    real = plan_review.review_account_plans

    def review(services: Services, account_id: str, **options: Any) -> Any:
        if account_id == accounts[1]:
            raise RuntimeError("storage unavailable")
        return real(services, account_id, **options)

    monkeypatch.setattr(plan_review, "review_account_plans", review)
    # When the sweep runs
    with pytest.raises(PlanReviewIncompleteError) as raised:
        run_plan_review(services, PlanReviewRun())
    # Then the others were reviewed, and the run reports the one failure so that it is retried
    assert (raised.value.failed, raised.value.out_of_time) == (1, False)
    assert due_accounts(services) == {accounts[1]}
    # And the retry, once the account can be read again, finishes the sweep
    monkeypatch.setattr(plan_review, "review_account_plans", real)
    assert run_plan_review(services, PlanReviewRun())["accounts"] == 1
    assert due_accounts(services) == set()


def test_a_run_out_of_time_stops_between_pages_and_the_next_run_finishes(services):
    # Given three plans due, one page each, and a run with no time to spare after its first page
    accounts = {stored_plan(services, date(2026, 2, 1)) for _ in range(3)}
    # When the sweep runs
    with pytest.raises(PlanReviewIncompleteError) as raised:
        run_plan_review(services, PlanReviewRun(page_size=1), time_left_ms=lambda: 0)
    # Then it stopped after one page, and reviewed what it had read
    assert raised.value.out_of_time and raised.value.failed == 0
    assert len(due_accounts(services)) == 2
    # And a run with time finishes the rest: reviewed plans have left the index's range
    result = run_plan_review(services, PlanReviewRun(page_size=1))
    assert result["accounts"] == 2 and due_accounts(services) == set()
    assert all(next(iter(PlanModel.query(a))).next_due > NOW.date().isoformat() for a in accounts)
