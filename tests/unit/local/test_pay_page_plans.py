"""The sandbox pay page and a plan's link: it asks for the next instalment, and takes nothing once the
plan has ended (as the plan's own pay link answers)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from rapport_tables import rapport_tables

from rapport.payments.plans import PayDay, PlanFrequency, propose_plan
from rapport.store.models import ALL_MODELS, PaymentLinkModel, PlanModel
from rapport_local.pay_page import PayPage

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
ACCOUNT_ID = "ACC-000101"


@pytest.fixture
def page() -> Iterator[PayPage]:
    with rapport_tables("unit-pay-page"):
        services = SimpleNamespace(repos=None)
        from rapport.store.repositories import Repositories

        services.repos = Repositories()
        yield PayPage(SimpleNamespace(clock=SimpleNamespace(now=lambda: NOW), services=services))
        for model in ALL_MODELS:
            for item in model.scan():
                item.delete()


def _plan_link(status: str) -> PaymentLinkModel:
    plan = propose_plan(
        300_000, PlanFrequency.MONTHLY, date(2026, 12, 7), PayDay.of_month(25), None, None,
        plan_id="PL1", account_id=ACCOUNT_ID,
    )
    link = PaymentLinkModel(
        "Iplanlink0000000000001", account_id=ACCOUNT_ID, provider="sandbox", purpose="instalment",
        amount_cents=300_000, url="http://127.0.0.1/pay/Iplanlink0000000000001",
        created_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=200), status="open",
    )
    link.save()
    stored = {"link_id": link.link_id, "current": plan.model_dump(mode="json")}
    PlanModel(ACCOUNT_ID, "PL1", status=status, plan=stored, created_at=NOW).save()
    return link


def test_an_active_plans_link_asks_for_the_next_instalment_not_the_whole_plan(page):
    link = _plan_link("active")
    assert page.refusal(link) is None
    assert 0 < page.due_cents(link) < 300_000


@pytest.mark.parametrize("status", ["cancelled", "completed"])
def test_an_ended_plans_link_takes_no_payment(page, status):
    assert page.refusal(_plan_link(status)) is not None
