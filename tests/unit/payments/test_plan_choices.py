"""The debtor's choices when accepting a plan, and the strategy's default pay day for the offer.

A plan is offered by the journey's OfferPlan step (the 25th, monthly, by default) and accepted through
``handle_plan_acceptance``, the HTTP edge of ``POST /plans/{plan_id}/accept``, on moto's DynamoDB: with
the debtor's own pay day and frequency, and with affordability from a stated income and expenses.
Every instalment date is checked against the pay date it serves, computed here from the pay day's
own rule and moved to the business day before as the engine's calendar says.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rapport_tables import rapport_tables

from rapport.journey.plans import PlanAcceptance, accept_plan_offer, handle_plan_acceptance
from rapport.journey.steps import OfferPlanInput, offer_plan
from rapport.payments import PaymentLinkRequest, ProviderLink
from rapport.payments.debicheck import MONTH_END_COLLECTION_DAY, SandboxDebiCheckGateway
from rapport.payments.plans import PayDay, PaymentPlan, PlanFrequency, business_calendar
from rapport.payments.tokens import PlanTokenSigner
from rapport.runtime import Services
from rapport.settings import Settings
from rapport.store.models import ALL_MODELS, AccountModel, AuditModel, Debtor, PaymentLinkModel
from rapport.store.repositories import Repositories
from rapport.strategy.config import ClientConfig, ClientConfigError, load_client_config
from rapport_infra.catalogue import CLIENTS_DIR

PREFIX = "unit-plan-choices"
# A Monday. Ahead: Good Friday (3 April) and Workers' Day (Friday 1 May) are South African holidays.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
TOKEN_SECRET = "plan-token-secret-" + "5" * 16
BALANCE = 240_000
BANK = {"account_number": "1234567890", "branch_code": "250655"}
CALENDAR = business_calendar("ZA")
FRIDAY = 4
# Pay days as the acceptance page sends them.
FRIDAYS = {"kind": "weekly", "weekday": "friday"}
MONTH_END = {"kind": "last_working_day"}
TWENTY_FIFTH = {"kind": "day_of_month", "day": 25}


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class CheckoutProvider:
    """A fake of our PaymentProvider port: a checkout URL per reference."""

    name = "sandbox"

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        code = hashlib.sha256(request.provider_reference.encode()).hexdigest()[:12]
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=f"https://checkout.sandbox.test/{code}",
            provider_reference=code,
            expires_at=request.expires_at,
        )


class FakePayments:
    """What the acceptance reads of ``PaymentWiring``: a provider, the token signer, a DebiCheck gateway."""

    def __init__(self) -> None:
        self.provider = CheckoutProvider()
        self.plan_tokens = PlanTokenSigner(TOKEN_SECRET)
        self.debicheck = SandboxDebiCheckGateway(b"debicheck-callback-secret")

    def get(self, name: str) -> CheckoutProvider:
        return self.provider


@pytest.fixture(scope="module")
def tables() -> Iterator[None]:
    with rapport_tables(PREFIX):
        yield


def _services(client: ClientConfig, path: Path) -> Services:
    return Services(
        settings=Settings(client_id=client.client_id, client_config_path=path, table_prefix=PREFIX),
        client=client,
        clock=FixedClock(NOW),
        repos=Repositories(),
        senders={},
        renderer=None,
        payments=FakePayments(),
        analyser=None,
        stepfunctions=None,
    )


@pytest.fixture
def services(tables: None) -> Iterator[Services]:
    """The acme-za client as shipped, empty tables after each test."""
    path = CLIENTS_DIR / "acme-za.toml"
    yield _services(load_client_config(path), path)
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)


_numbers = itertools.count(1)


def offered(services: Services, segment: str = "needs_help", **analysis: Any) -> tuple[str, str, str]:
    """A debtor offered a plan by the OfferPlan step: (account id, plan id, acceptance token)."""
    account_id = f"ACC-{next(_numbers):04d}"
    AccountModel(
        account_id, debtor=Debtor(first_name="Test", last_name="Debtor"), balance_cents=BALANCE,
        days_past_due=60, segment=segment, variant="champion", status="active",
    ).save()
    treatment = services.client.strategy.treatments[services.client.strategy.default_segment]
    step = OfferPlanInput(
        account_id=account_id,
        journey_id=f"{account_id}-test",
        assessment={"segment": segment, "max_plan_months": treatment.max_plan_months},
        analysis={"reply_id": "r1", **analysis},
    )
    answer = offer_plan(services, step)
    assert answer["offered"]
    stored = services.repos.plans.find(account_id, answer["plan_id"])
    token = parse_qs(urlsplit(stored.plan["accept_url"]).query)["token"][0]
    return account_id, answer["plan_id"], token


def accept(services: Services, plan_id: str, token: str, **choices: Any) -> tuple[int, dict[str, Any]]:
    """The debtor's page posts the acceptance with their choices."""
    return handle_plan_acceptance(services, plan_id, json.dumps({"token": token, **choices}).encode())


def stored_plan(services: Services, account_id: str, plan_id: str, key: str = "current") -> PaymentPlan:
    return PaymentPlan.model_validate(services.repos.plans.find(account_id, plan_id).plan[key])


def audit(account_id: str, action: str) -> list[AuditModel]:
    return [entry for entry in AuditModel.query(account_id) if entry.action == action]


def nothing_written(services: Services, account_id: str, plan_id: str) -> bool:
    """The offer stands as it was: no live schedule, no link, nothing on the timeline since the offer."""
    stored = services.repos.plans.find(account_id, plan_id)
    links = [link for link in PaymentLinkModel.scan() if link.account_id == account_id]
    actions = [entry.action for entry in AuditModel.query(account_id)]
    untouched = stored.status == "offered" and "current" not in stored.plan
    return untouched and not links and actions == ["plan_offered"]


# --- an independent oracle of pay dates ---------------------------------------------------------


def paid_on(nominal: date) -> date:
    """Where payroll moves a pay date: the business day itself, or the last one before it."""
    day = nominal
    while day.weekday() >= 5 or CALENDAR.is_holiday(day):
        day -= timedelta(days=1)
    return day


def last_of_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def nth_business_day(year: int, month: int, n: int) -> date:
    day, seen = date(year, month, 1), 0
    while True:
        if day.weekday() < 5 and not CALENDAR.is_holiday(day):
            seen += 1
            if seen == n:
                return day
        day += timedelta(days=1)


def expected_dates(pay_day: PayDay, every: int, count: int) -> list[date]:
    """The first ``count`` pay dates after TODAY of ``pay_day`` (every ``every``-th for a weekly wage
    paid fortnightly), each moved off weekends and holidays."""
    if pay_day.kind in ("weekly", "fortnightly"):
        step = 7 if pay_day.kind == "weekly" else 14
        nominal = (
            TODAY + timedelta(days=(pay_day.weekday - TODAY.weekday()) % 7 or 7)
            if pay_day.kind == "weekly"
            else pay_day.anchor + timedelta(days=14 * ((TODAY - pay_day.anchor).days // 14 + 1))
        )
        dates = [paid_on(nominal + timedelta(days=step * i)) for i in range(count * every)]
        return dates[::every][:count]
    dates: list[date] = []
    month = TODAY.replace(day=1)
    while len(dates) < count:
        if pay_day.kind == "day_of_month":
            day = paid_on(month.replace(day=min(pay_day.day, last_of_month(month).day)))
        elif pay_day.kind == "sassa":
            nth = {"older_persons": 2, "disability": 3, "children": 4}[pay_day.grant]
            day = nth_business_day(month.year, month.month, nth)
        else:
            day = paid_on(last_of_month(month))
        if day > TODAY:
            dates.append(day)
        month = last_of_month(month) + timedelta(days=1)
    return dates


# --- the offer: the strategy's default pay day ---------------------------------------------------


def test_the_shipped_strategy_offers_monthly_instalments_on_the_25th(services):
    # Given the acme-za client as shipped, and a debtor who asks for a plan naming no amount
    account_id, plan_id, _ = offered(services)
    # Then the offer is the strategy's default term, monthly, on the 25th moved off weekends
    plan = stored_plan(services, account_id, plan_id, "offered")
    assert (plan.frequency, plan.pay_day) == (PlanFrequency.MONTHLY, PayDay.of_month(25))
    assert [i.due_date for i in plan.instalments] == expected_dates(PayDay.of_month(25), 1, 6)
    assert audit(account_id, "plan_offered")[0].inputs["pay_day"] == "day_of_month"


def _client_file(tmp_path: Path, plans: str, cant_pay: str = "") -> Path:
    text = (CLIENTS_DIR / "acme-za.toml").read_text(encoding="utf-8")
    start = text.index("[plans]\n")
    end = text.index("\n\n", start)
    text = text[:start] + "[plans]\n" + plans + text[end:]
    text = text.replace("[strategy.treatments.cant_pay]\n", "[strategy.treatments.cant_pay]\n" + cant_pay)
    path = tmp_path / "client.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_offers_follow_the_clients_default_and_a_segments_own_pay_day(tables, tmp_path):
    # Given a client whose plans fall on the last working day, and whose can't-pay segment is paid weekly
    path = _client_file(
        tmp_path,
        'default_pay_day = "last_working_day"\ndefault_frequency = "monthly"',
        'plan_pay_day = "weekly:friday"\nplan_frequency = "weekly"\n',
    )
    services = _services(load_client_config(path), path)
    # When a debtor in each segment asks for a plan
    needs_help = offered(services, "needs_help")
    cant_pay = offered(services, "cant_pay")
    # Then the first is offered monthly on the last working day, the second weekly on Fridays
    monthly = stored_plan(services, needs_help[0], needs_help[1], "offered")
    assert (monthly.frequency, monthly.pay_day) == (PlanFrequency.MONTHLY, PayDay.last_working_day())
    assert [i.due_date for i in monthly.instalments] == expected_dates(PayDay.last_working_day(), 1, 6)
    weekly = stored_plan(services, cant_pay[0], cant_pay[1], "offered")
    assert (weekly.frequency, weekly.pay_day) == (PlanFrequency.WEEKLY, PayDay.weekly(FRIDAY))
    # The strategy's default term of six months, in weeks
    assert len(weekly.instalments) == 26
    assert [i.due_date for i in weekly.instalments] == expected_dates(PayDay.weekly(FRIDAY), 1, 26)
    assert date(2026, 4, 2) in [i.due_date for i in weekly.instalments]  # Good Friday's instalment


@pytest.mark.parametrize(
    ("plans", "cant_pay", "named"),
    [
        ('default_pay_day = "25"\ndefault_frequency = "weekly"', "", "weekly on a day_of_month pay day"),
        ('default_pay_day = "weekly:fri"', "", "unknown pay day 'weekly:fri'"),
        ('default_pay_day = "32"', "", "unknown pay day '32'"),
        ('default_pay_day = "25"', 'plan_pay_day = "sassa:pension"\n', "unknown pay day 'sassa:pension'"),
        (
            'default_pay_day = "25"', 'plan_frequency = "fortnightly"\n',
            "the cant_pay plans cannot be fortnightly on a day_of_month pay day",
        ),
    ],
)
def test_a_plan_default_that_cannot_be_collected_is_refused_when_the_file_is_read(
    tmp_path, plans, cant_pay, named
):
    with pytest.raises(ClientConfigError) as error:
        load_client_config(_client_file(tmp_path, plans, cant_pay))
    assert named in str(error.value)


# --- the debtor's pay day and frequency ---------------------------------------------------------


@pytest.mark.parametrize(
    ("choices", "pay_day", "frequency", "every", "count"),
    [
        ({"pay_day": {"kind": "last_working_day"}}, PayDay.last_working_day(), "monthly", 1, 6),
        ({"pay_day": {"kind": "last_day_of_month"}}, PayDay.last_day_of_month(), "monthly", 1, 6),
        ({"pay_day": {"kind": "day_of_month", "day": 15}}, PayDay.of_month(15), "monthly", 1, 6),
        ({"pay_day": {"kind": "day_of_month", "day": 31}}, PayDay.of_month(31), "monthly", 1, 6),
        ({"pay_day": {"kind": "sassa", "grant": "disability"}}, PayDay.sassa("disability"), "monthly", 1, 6),
        (
            {"pay_day": {"kind": "weekly", "weekday": "friday"}, "frequency": "weekly"},
            PayDay.weekly(FRIDAY), "weekly", 1, 26,
        ),
        # A pay day alone takes its own frequency when the offer's (monthly) cannot go on it
        ({"pay_day": {"kind": "weekly", "weekday": "friday"}}, PayDay.weekly(FRIDAY), "weekly", 1, 26),
        (
            {"pay_day": {"kind": "weekly", "weekday": "friday"}, "frequency": "fortnightly"},
            PayDay.weekly(FRIDAY), "fortnightly", 2, 13,
        ),
        (
            {"pay_day": {"kind": "fortnightly", "anchor": "2026-02-20"}},
            PayDay.fortnightly(date(2026, 2, 20)), "fortnightly", 1, 13,
        ),
        (
            {"pay_day": {"kind": "weekly", "weekday": "saturday"}, "frequency": "weekly"},
            PayDay.weekly(5), "weekly", 1, 26,
        ),
    ],
    ids=[
        "last-working-day", "month-end", "15th", "31st", "sassa", "weekly", "weekly-by-pay-day",
        "fortnightly-on-weekly-wage", "fortnightly-wage", "saturday-wage",
    ],
)
def test_instalments_fall_on_the_debtors_pay_day_over_the_offers_term(
    services, choices, pay_day, frequency, every, count
):
    # Given a six-month monthly offer on the 25th
    account_id, plan_id, token = offered(services)
    # When the debtor accepts it on their own pay day
    status, body = accept(services, plan_id, token, **choices)
    # Then the plan has the offer's term at that frequency, each instalment on (or the business day
    # before) one of their pay dates, and the amounts add up to the balance
    assert status == 200, body
    plan = stored_plan(services, account_id, plan_id)
    assert (plan.frequency.value, plan.pay_day, body["frequency"]) == (frequency, pay_day, frequency)
    assert [i.due_date for i in plan.instalments] == expected_dates(pay_day, every, count)
    assert all(CALENDAR.is_business_day(i.due_date) for i in plan.instalments)
    assert sum(i.amount_cents for i in plan.instalments) == plan.total_cents == BALANCE
    assert body["instalments"] == count and body["first_due"] == plan.instalments[0].due_date.isoformat()
    # And the timeline says what was chosen, and that the offer, not a budget, set the amounts
    inputs = audit(account_id, "plan_accepted")[0].inputs
    assert inputs["frequency"] == frequency and inputs["rescheduled"] is True
    assert inputs["chosen"] == [name for name in ("pay_day", "frequency") if name in choices]
    assert inputs["affordability"] == "offer"
    # The pay day as far as it explains the dates: which grant a debtor receives is left out
    assert inputs["pay_day"]["kind"] == pay_day.kind.value and "grant" not in inputs["pay_day"]
    assert inputs["pay_day"].get("weekday") == pay_day.weekday and inputs["pay_day"].get("day") == pay_day.day


def test_a_frequency_alone_keeps_the_offers_pay_day(tables, tmp_path):
    # Given a client that offers weekly plans on Fridays, and a debtor offered one
    path = _client_file(tmp_path, 'default_pay_day = "weekly:friday"\ndefault_frequency = "weekly"')
    services = _services(load_client_config(path), path)
    account_id, plan_id, token = offered(services)
    # When the debtor would rather pay every second Friday
    status, body = accept(services, plan_id, token, frequency="fortnightly")
    # Then the plan keeps the offer's Fridays and its six-month term, a fortnight apart
    assert status == 200, body
    plan = stored_plan(services, account_id, plan_id)
    assert (plan.frequency, plan.pay_day) == (PlanFrequency.FORTNIGHTLY, PayDay.weekly(FRIDAY))
    assert [i.due_date for i in plan.instalments] == expected_dates(PayDay.weekly(FRIDAY), 2, 13)


def test_the_offers_own_pay_day_and_frequency_accept_the_offer_as_it_stands(services):
    account_id, plan_id, token = offered(services)
    status, _ = accept(services, plan_id, token, pay_day=TWENTY_FIFTH, frequency="monthly")
    assert status == 200
    assert stored_plan(services, account_id, plan_id).instalments == stored_plan(
        services, account_id, plan_id, "offered"
    ).instalments
    assert audit(account_id, "plan_accepted")[0].inputs["rescheduled"] is False


def test_a_settlement_falls_on_the_debtors_next_pay_day(services):
    # Given a can't-pay debtor (15% off a settlement) offered a plan
    account_id, plan_id, token = offered(services, "cant_pay")
    # When they take the settlement, paid at month end
    status, body = accept(services, plan_id, token, option="settlement", pay_day={"kind": "last_working_day"})
    # Then it is one payment of the discounted balance on the last working day of this month
    assert status == 200, body
    plan = stored_plan(services, account_id, plan_id)
    assert [(i.due_date, i.amount_cents) for i in plan.instalments] == [(date(2026, 3, 31), 204_000)]
    assert audit(account_id, "plan_accepted")[0].inputs["chosen"] == ["pay_day"]


@pytest.mark.parametrize(
    ("choices", "pay_day", "collection_day", "frequency"),
    [
        ({"pay_day": FRIDAYS, "frequency": "weekly"}, PayDay.weekly(FRIDAY), 5, "weekly"),
        ({"pay_day": MONTH_END}, PayDay.last_working_day(), MONTH_END_COLLECTION_DAY, "monthly"),
        ({"pay_day": {"kind": "day_of_month", "day": 15}}, PayDay.of_month(15), 15, "monthly"),
        (
            {"pay_day": {"kind": "fortnightly", "anchor": "2026-02-19"}},
            PayDay.fortnightly(date(2026, 2, 19)), 4, "fortnightly",
        ),
    ],
    ids=["weekly-friday", "last-working-day", "15th", "fortnightly-thursday"],
)
def test_the_debicheck_mandate_collects_on_the_chosen_pay_day(
    services, choices, pay_day, collection_day, frequency
):
    # Given an offer, accepted on the debtor's pay day with their bank account
    account_id, plan_id, token = offered(services)
    status, body = accept(services, plan_id, token, bank_account=BANK, **choices)
    # Then the mandate asks the bank for the plan's frequency, on that pay day, from the first instalment
    assert status == 200 and body["mandate_status"] == "sent_for_approval"
    mandate = services.repos.plans.find(account_id, plan_id).plan["mandate"]
    plan = stored_plan(services, account_id, plan_id)
    assert (mandate["frequency"], mandate["collection_day"]) == (frequency, collection_day)
    assert mandate["first_collection_date"] == plan.instalments[0].due_date.isoformat()
    assert mandate["instalment_cents"] == plan.regular_instalment_cents


# --- affordability from the debtor's statement ----------------------------------------------------


def test_less_spare_each_month_means_more_and_smaller_instalments(services):
    # Given two debtors offered the same plan, paid weekly on Fridays
    weekly = {"pay_day": FRIDAYS, "frequency": "weekly"}
    roomy, tight = offered(services), offered(services)
    # When one states R2,000 left each month and the other R1,000
    _, roomy_body = accept(services, *roomy[1:], income_cents=1_000_000, expenses_cents=800_000, **weekly)
    _, tight_body = accept(services, *tight[1:], income_cents=1_000_000, expenses_cents=900_000, **weekly)
    # Then each plan is the fewest weekly instalments half of what is left pays (R1,000 a month is
    # R230.76 a week; R500 a month R115.38), on their Fridays
    roomy_plan = stored_plan(services, roomy[0], roomy[1])
    tight_plan = stored_plan(services, tight[0], tight[1])
    assert (roomy_body["instalments"], tight_body["instalments"]) == (11, 21)
    assert roomy_plan.regular_instalment_cents <= 23_076 and tight_plan.regular_instalment_cents <= 11_538
    assert [i.due_date for i in tight_plan.instalments] == expected_dates(PayDay.weekly(FRIDAY), 1, 21)
    # And the timeline records that the debtor's statement set the amounts, never the figures
    for account_id in (roomy[0], tight[0]):
        entry = audit(account_id, "plan_accepted")[0]
        assert entry.inputs["affordability"] == "debtor_statement"
        assert entry.inputs["affordability_reason"] == "share_of_disposable_income"
        assert entry.inputs["chosen"] == ["pay_day", "frequency", "budget"]
        document = services.repos.plans.find(account_id, entry.inputs["plan_id"]).plan
        written = json.dumps(entry.inputs) + json.dumps(document)
        assert not any(figure in written for figure in ("1000000", "800000", "900000", "200000", "100000"))


def test_a_stated_budget_on_the_offers_own_schedule_shortens_it(services):
    # Given the six-month offer, and a debtor with R2,000 left each month
    account_id, plan_id, token = offered(services)
    status, body = accept(services, plan_id, token, income_cents=900_000, expenses_cents=700_000)
    # Then R1,000 a month clears R2,400 in three monthly instalments on the offer's 25th
    assert status == 200 and (body["instalments"], body["frequency"]) == (3, "monthly")
    plan = stored_plan(services, account_id, plan_id)
    assert [i.due_date for i in plan.instalments] == expected_dates(PayDay.of_month(25), 1, 3)


def test_a_clients_plan_rules_set_where_a_miss_goes_how_many_cancel_and_what_a_budget_affords(
    tables, tmp_path
):
    # Given a client whose plans move a missed instalment to the end and cancel on the third miss,
    # and whose plans may take only a fifth of what a stated budget leaves
    path = _client_file(
        tmp_path,
        'default_pay_day = "25"\nmiss_policy = "move_to_end"\nmax_consecutive_misses = 3\n'
        "affordable_share_percent = 20",
    )
    services = _services(load_client_config(path), path)
    # When a debtor asks for a plan, then accepts it with R2,000 left each month
    account_id, plan_id, token = offered(services)
    offer = stored_plan(services, account_id, plan_id, "offered")
    status, body = accept(services, plan_id, token, income_cents=900_000, expenses_cents=700_000)
    # Then the offer carries the client's rules for misses
    assert (offer.miss_policy.value, offer.max_consecutive_misses) == ("move_to_end", 3)
    # And R400 a month (a fifth of R2,000, where the default half would give R1,000 and three
    # instalments) clears R2,400 in six
    assert status == 200 and (body["instalments"], body["frequency"]) == (6, "monthly")
    accepted = stored_plan(services, account_id, plan_id)
    assert (accepted.miss_policy.value, accepted.max_consecutive_misses) == ("move_to_end", 3)
    # And a settlement taken on the page instead is held to the same rules
    other_account, other_plan, other_token = offered(services)
    status, _ = accept(services, other_plan, other_token, option="settlement")
    settlement = stored_plan(services, other_account, other_plan)
    assert status == 200
    assert (settlement.miss_policy.value, settlement.max_consecutive_misses) == ("move_to_end", 3)


@pytest.mark.parametrize(
    "rule",
    ['miss_policy = "skip"', "max_consecutive_misses = 0", "affordable_share_percent = 0",
     "affordable_share_percent = 101", "affordable_floor_cents = -1"],
)
def test_plan_rules_a_client_cannot_mean_are_refused_when_the_file_is_read(tmp_path, rule):
    path = _client_file(tmp_path, f'default_pay_day = "25"\n{rule}')
    with pytest.raises(ClientConfigError, match=rule.split(" ")[0]):
        load_client_config(path)


@pytest.mark.parametrize(
    ("income_cents", "expenses_cents"),
    [(800_000, 800_000), (800_000, 950_000), (800_000, 792_000), (800_000, 789_800)],
    ids=["nothing-left", "short-each-month", "below-the-floor", "too-little-for-the-longest-term"],
)
def test_a_budget_that_pays_no_plan_within_the_strategys_term_is_refused_with_alternatives(
    services, income_cents, expenses_cents, caplog
):
    # Given an offer to a needs-help debtor (the strategy's longest term: 12 months, 52 weeks)
    account_id, plan_id, token = offered(services)
    # When the debtor's budget leaves too little: nothing, less than nothing, half of R80 (below the
    # R50 floor), or half of R102 (R51 a month, R11.76 a week where R46.16 would clear R2,400 in 52)
    with caplog.at_level(logging.DEBUG):
        status, body = accept(
            services, plan_id, token, pay_day={"kind": "weekly", "weekday": "friday"},
            income_cents=income_cents, expenses_cents=expenses_cents,
        )
    # Then it is refused, and the answer offers the settlement or an agent
    assert status == 422
    assert body == {
        "outcome": "rejected",
        "reason": "plan_not_affordable",
        "alternatives": ["settlement", "agent"],
        "agent_phone": services.client.contact.agent_phone,
        "frequency": "weekly",
        "max_instalments": 52,
        "smallest_instalment_cents": 4_616,
    }
    # And the offer stands, with the refusal on the timeline but not the figures, in the audit or the logs
    stored = services.repos.plans.find(account_id, plan_id)
    assert stored.status == "offered" and "current" not in stored.plan
    entry = audit(account_id, "plan_not_affordable")[0]
    assert entry.rule == "plan.not_affordable.debtor_statement"
    assert entry.inputs["affordability"] == "debtor_statement"
    logged = " ".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for figure in (income_cents, expenses_cents):
        assert str(figure) not in json.dumps(entry.inputs) and str(figure) not in logged
    # And the debtor can still take the settlement through the same link
    status, body = accept(services, plan_id, token, option="settlement")
    assert (status, body["option"]) == (200, "settlement")


# --- idempotency and refusals ---------------------------------------------------------------------


def test_accepting_again_with_other_choices_answers_the_plan_accepted_first(services):
    # Given a plan accepted weekly on Fridays
    account_id, plan_id, token = offered(services)
    first_status, first = accept(services, plan_id, token, pay_day={"kind": "weekly", "weekday": "friday"})
    # When the debtor posts again, at month end with a budget
    second_status, second = accept(
        services, plan_id, token, pay_day=MONTH_END, income_cents=900_000, expenses_cents=100_000
    )
    # Then the answer is the first plan, unchanged, and it was accepted once
    assert (first_status, second_status) == (200, 200)
    assert (first["outcome"], second["outcome"]) == ("accepted", "already_accepted")
    for name in ("instalments", "instalment_cents", "first_due", "frequency", "pay_url"):
        assert second[name] == first[name]
    assert stored_plan(services, account_id, plan_id).pay_day == PayDay.weekly(FRIDAY)
    assert len(audit(account_id, "plan_accepted")) == 1


@pytest.mark.parametrize(
    ("choices", "fields"),
    [
        ({"pay_day": {"kind": "weekly"}}, ["pay_day"]),
        ({"pay_day": {"kind": "weekly", "weekday": "fri"}}, ["pay_day.weekday"]),
        ({"pay_day": {"kind": "weekly", "weekday": 4}}, ["pay_day.weekday"]),
        ({"pay_day": {"kind": "day_of_month", "day": 32}}, ["pay_day.day"]),
        ({"pay_day": {"kind": "day_of_month", "day": 15, "weekday": "friday"}}, ["pay_day"]),
        ({"pay_day": {"kind": "last_working_day", "day": 25}}, ["pay_day"]),
        ({"pay_day": {"kind": "sassa", "grant": "pension"}}, ["pay_day.grant"]),
        ({"pay_day": {"kind": "fortnightly", "anchor": "20-02-2026"}}, ["pay_day.anchor"]),
        ({"pay_day": {"kind": "payday"}}, ["pay_day.kind"]),
        ({"frequency": "daily"}, ["frequency"]),
        ({"frequency": "settlement"}, ["frequency"]),
        ({"income_cents": 1_234_567}, ["expenses_cents"]),
        ({"expenses_cents": 1_234_567}, ["expenses_cents"]),
        ({"income_cents": -1_234_567, "expenses_cents": 0}, ["income_cents"]),
        ({"income_cents": 1_234_567.5, "expenses_cents": 0}, ["income_cents"]),
        ({"income_cents": "1234567", "expenses_cents": 0}, ["income_cents"]),
        ({"income_cents": 10**13, "expenses_cents": 0}, ["income_cents"]),
        ({"option": "settlement", "frequency": "weekly"}, ["frequency"]),
        ({"option": "settlement", "income_cents": 1_234_567, "expenses_cents": 0}, ["income_cents"]),
        ({"pay_days": {"kind": "last_working_day"}}, ["pay_days"]),
    ],
)
def test_invalid_choices_are_refused_naming_the_field_and_nothing_is_written(services, choices, fields):
    account_id, plan_id, token = offered(services)
    status, body = accept(services, plan_id, token, **choices)
    assert (status, body["reason"], body["fields"]) == (422, "invalid_request", fields)
    assert "1234567" not in json.dumps(body)
    assert nothing_written(services, account_id, plan_id)


@pytest.mark.parametrize(
    "choices",
    [
        {"frequency": "weekly"},
        {"frequency": "fortnightly"},
        {"pay_day": {"kind": "sassa", "grant": "children"}, "frequency": "weekly"},
        {"pay_day": {"kind": "fortnightly", "anchor": "2026-02-20"}, "frequency": "weekly"},
        {"pay_day": {"kind": "weekly", "weekday": "friday"}, "frequency": "monthly"},
    ],
    ids=["weekly-on-25th", "fortnightly-on-25th", "weekly-on-grant", "weekly-on-fortnights", "monthly-weeks"],
)
def test_a_frequency_the_pay_day_cannot_carry_is_refused_and_nothing_is_written(services, choices):
    account_id, plan_id, token = offered(services)
    status, body = accept(services, plan_id, token, **choices)
    assert (status, body) == (422, {"outcome": "rejected", "reason": "pay_day_does_not_fit_frequency"})
    assert nothing_written(services, account_id, plan_id)


def test_the_acceptance_model_documents_every_field_a_front_end_sends():
    documented = PlanAcceptance.__doc__ or ""
    for name in PlanAcceptance.model_fields:
        assert f"``{name}``" in documented
    # And the domain call takes the same choices as the HTTP body
    assert accept_plan_offer.__doc__ and "PlanAcceptance" in accept_plan_offer.__doc__
