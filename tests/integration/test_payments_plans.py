"""Payment plans on the local cloud: offered by the journey, accepted through the signed link,
collected by DebiCheck instalments that arrive as webhooks, missed, cancelled or completed.

The first test runs the whole journey on moto's Step Functions interpreter (``make_cloud``). The
others share one cloud and create offers with the journey's own OfferPlan step, so each reads as
one rule of the plan's life: what the debtor does, then what the records say.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from journey_helpers import MONDAY_MORNING, account, finished, load, start

from rapport.clock import SimulatedClock
from rapport.journey.messages import _context
from rapport.journey.steps import OfferPlanInput, offer_plan
from rapport.messaging.templates import TemplateKey
from rapport.models.enums import Channel, Tone
from rapport.payments.debicheck import MandateStatus
from rapport.payments.plans import PaymentPlan, business_calendar
from rapport.store.models import AccountModel, AuditModel, ContactModel, HoldRecord, PaymentModel, WorklistModel
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_local.cloud import LocalCloud
from rapport_local.payments_page import (
    accept_latest_offer,
    accept_plan,
    acceptance_request,
    answer_mandates,
    enable_payments,
    follow_pay_link,
    latest_plan,
    pay_link,
    pay_next_instalment,
    review_plans,
)

pytestmark = pytest.mark.integration

BANK = {"account_number": "1234567890", "branch_code": "250655", "account_type": "savings"}
ZONE = ZoneInfo("Africa/Johannesburg")


def _actions(account_id: str) -> list[str]:
    return [entry.action for entry in sorted(AuditModel.query(account_id), key=lambda e: e.entry_id)]


def _current(account_id: str) -> PaymentPlan:
    return PaymentPlan.model_validate(latest_plan(account_id).plan["current"])


def test_a_plan_offered_by_the_journey_is_accepted_collected_and_closes_the_account(make_cloud):
    # Given a debtor in arrears whose journey is waiting for an answer
    cloud, waits = make_cloud()
    enable_payments(cloud)
    debtor = account(41, balance_cents=300_000)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30)
    waits.wait(debtor.account_id)
    # When they ask for instalments, are offered a plan, and accept it with their bank account
    cloud.reply_by_sms(AccountModel.get(debtor.account_id).phone, "is there an option to pay in instalments")
    waits.wait(debtor.account_id)
    accepted = accept_latest_offer(cloud, debtor.account_id, bank_account=BANK)
    # Then the plan is active with a DebiCheck mandate sent for approval, and the journey ends there
    assert accepted["statusCode"] == 200, accepted["json"]
    assert accepted["json"]["outcome"] == "accepted"
    assert accepted["json"]["mandate_status"] == "sent_for_approval"
    description = finished(cloud, journey_id)
    assert json.loads(description["output"])["outcome"]["name"] == "plan_accepted"
    stored = AccountModel.get(debtor.account_id)
    assert stored.status == "plan" and stored.arrears_segment is None
    # And the journey confirmed the plan where the offer was read, with the link that pays each instalment
    sent = sorted(
        (c for c in ContactModel.query(debtor.account_id) if c.direction == "out"), key=lambda c: (c.at, c.contact_id)
    )
    offer, confirmation = sent[-2], sent[-1]
    assert (offer.template_id, confirmation.template_id) == ("plan_offer", "plan_confirmation")
    assert confirmation.channel == offer.channel and confirmation.status == "sent"

    # When the debtor's bank approves the mandate
    answers = answer_mandates(cloud)
    # Then the plan records the approval
    assert [a["statusCode"] for a in answers] == [200]
    mandate = latest_plan(debtor.account_id).plan["mandate"]
    assert mandate["status"] == "approved" and "account_number" not in json.dumps(mandate)

    # When every instalment is collected and arrives as a webhook on the plan's link
    while (response := pay_next_instalment(cloud, debtor.account_id)) is not None:
        assert response["statusCode"] == 200
    # Then the plan is complete, the account is closed with nothing owed, the mandate is cancelled
    plan = latest_plan(debtor.account_id)
    assert plan.status == "completed"
    stored = AccountModel.get(debtor.account_id)
    assert (stored.status, stored.balance_cents, stored.collected_cents) == ("settled", 0, 300_000)
    routes = {p.route for p in PaymentModel.query(debtor.account_id) if p.credit_delta_cents > 0}
    assert routes == {"instalment"}
    assert cloud.services.debicheck.mandate_status(mandate["mandate_id"]) is MandateStatus.CANCELLED
    assert {"plan_accepted", "mandate_status_changed", "plan_completed"} <= set(_actions(debtor.account_id))


# --- one cloud for the rules of the plan's life ---------------------------------------------------


@pytest.fixture(scope="module")
def cloud():
    cloud = LocalCloud(CLIENTS_DIR / "acme-za.toml", SimulatedClock(MONDAY_MORNING, scale=1))
    cloud.__enter__()
    enable_payments(cloud)
    yield cloud
    cloud.__exit__(None, None, None)


_numbers = itertools.count(700)


def offered(cloud, balance_cents: int = 240_000, **changes) -> str:
    """A debtor who has just been offered a plan by the journey's OfferPlan step."""
    debtor = account(next(_numbers), balance_cents=balance_cents)
    load(cloud, debtor, **changes)
    step = OfferPlanInput(
        account_id=debtor.account_id,
        journey_id=f"{debtor.account_id}-test",
        assessment={"max_plan_months": 12},
        analysis={"reply_id": "r1", "amount_cents": 60_000},
    )
    assert offer_plan(cloud.services, step)["offered"]
    return debtor.account_id


def at(cloud, moment: datetime):
    """Move the simulated clock (and the sandbox's signatures with it) to ``moment``."""
    cloud.clock.rebase(moment)


@pytest.fixture
def clock_restored(cloud):
    yield
    cloud.clock.rebase(MONDAY_MORNING)


def test_the_offer_carries_a_signed_link_and_the_schedule_not_the_token(cloud):
    account_id = offered(cloud)
    plan = latest_plan(account_id)
    assert plan.status == "offered" and plan.plan["accept_url"].startswith("https://")
    assert PaymentPlan.model_validate(plan.plan["offered"]).total_cents == 240_000
    audit = next(a for a in AuditModel.query(account_id) if a.action == "plan_offered")
    assert "token" not in json.dumps(audit.inputs)


def test_a_forged_or_misdirected_token_is_refused_and_nothing_changes(cloud):
    account_id = offered(cloud)
    plan_id, token = acceptance_request(latest_plan(account_id))
    other_id = offered(cloud)
    other_plan_id, _ = acceptance_request(latest_plan(other_id))
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert accept_plan(cloud, plan_id, {"token": forged})["statusCode"] == 401
    answer = accept_plan(cloud, other_plan_id, {"token": token})
    assert (answer["statusCode"], answer["json"]["reason"]) == (401, "bad_signature")
    assert latest_plan(account_id).status == "offered" and latest_plan(other_id).status == "offered"


def test_an_expired_offer_cannot_be_accepted(cloud, clock_restored):
    account_id = offered(cloud)
    plan_id, token = acceptance_request(latest_plan(account_id))
    at(cloud, MONDAY_MORNING + timedelta(days=4))
    answer = accept_plan(cloud, plan_id, {"token": token})
    assert (answer["statusCode"], answer["json"]["reason"]) == (410, "token_expired")
    assert latest_plan(account_id).status == "offered"


def test_bad_requests_are_refused_without_echoing_bank_details(cloud):
    account_id = offered(cloud)
    plan_id, token = acceptance_request(latest_plan(account_id))
    unparseable = cloud.invoke("accept_plan", {"pathParameters": {"plan_id": plan_id}, "body": "{not json"})
    assert unparseable["statusCode"] == 400
    bad_bank = accept_plan(
        cloud, plan_id, {"token": token, "bank_account": {**BANK, "account_number": "12ab"}}
    )
    assert bad_bank["statusCode"] == 422
    assert bad_bank["json"]["fields"] == ["bank_account.account_number"] and "12ab" not in bad_bank["body"]
    assert latest_plan(account_id).status == "offered"


def test_accepting_twice_answers_the_same_plan_and_raises_one_link(cloud):
    account_id = offered(cloud)
    plan_id, token = acceptance_request(latest_plan(account_id))
    first = accept_plan(cloud, plan_id, {"token": token})
    second = accept_plan(cloud, plan_id, {"token": token})
    assert (first["json"]["outcome"], second["json"]["outcome"]) == ("accepted", "already_accepted")
    assert first["json"]["pay_url"] == second["json"]["pay_url"]
    assert _actions(account_id).count("plan_accepted") == 1


def test_a_token_from_a_plain_link_in_the_query_string_is_accepted(cloud):
    account_id = offered(cloud)
    plan_id, token = acceptance_request(latest_plan(account_id))
    answer = accept_plan(cloud, plan_id, {}, query={"token": token})
    assert (answer["statusCode"], answer["json"]["outcome"]) == (200, "accepted")
    assert latest_plan(account_id).status == "active"


def test_a_balance_paid_down_since_the_offer_is_rescheduled_to_what_is_owed(cloud):
    # Given an offer for R2,400, then a R400 payment on a plain link before the debtor accepts
    account_id = offered(cloud)
    AccountModel(account_id).update(actions=[AccountModel.balance_cents.set(200_000)])
    accepted = accept_latest_offer(cloud, account_id)
    # Then the accepted plan is for the R2,000 still owed, over no more instalments than offered
    offered_plan = PaymentPlan.model_validate(latest_plan(account_id).plan["offered"])
    assert accepted["json"]["total_cents"] == 200_000
    assert accepted["json"]["instalments"] <= len(offered_plan.instalments)
    rescheduled = next(a for a in AuditModel.query(account_id) if a.action == "plan_accepted")
    assert rescheduled.inputs["rescheduled"] is True


def test_a_settlement_takes_the_strategys_discount_and_closes_the_account_when_paid(cloud):
    # Given a can't-pay debtor (the strategy allows 15% off a settlement) offered a plan
    account_id = offered(cloud, balance_cents=300_000, segment="cant_pay", variant="champion")
    # When they take the settlement instead, and pay it on its link
    accepted = accept_latest_offer(cloud, account_id, option="settlement")
    assert (accepted["json"]["option"], accepted["json"]["total_cents"]) == ("settlement", 255_000)
    paid = pay_next_instalment(cloud, account_id)
    # Then the settlement is credited on the settlement route, the discount written off, the account closed
    assert paid["statusCode"] == 200
    stored = AccountModel.get(account_id)
    assert (stored.status, stored.balance_cents, stored.collected_cents) == ("settled", 0, 255_000)
    assert {p.route for p in PaymentModel.query(account_id)} == {"settlement"}
    completed = next(a for a in AuditModel.query(account_id) if a.action == "plan_completed")
    assert completed.inputs["written_off_cents"] == 45_000


def test_a_missed_instalment_is_retried_and_a_second_miss_cancels_the_plan(cloud):
    # Given an accepted plan with a DebiCheck mandate, and its first instalment unpaid
    account_id = offered(cloud)
    accept_latest_offer(cloud, account_id, bank_account=BANK)
    first = _current(account_id).instalments[0]
    # When the daily sweep runs three days after the first due date
    review_plans(cloud, [account_id], first.due_date + timedelta(days=3))
    # Then the instalment is missed once and retried on the next pay day; the plan stands
    retried = _current(account_id).instalment(first.number)
    assert (retried.misses, latest_plan(account_id).status) == (1, "active")
    assert retried.due_date > first.due_date + timedelta(days=3)
    # When the retry is missed too
    statuses = review_plans(cloud, [account_id], retried.due_date + timedelta(days=3))
    # Then the plan is cancelled, the account goes back to the campaigns and to an agent, the
    # mandate is withdrawn
    assert set(statuses.values()) == {"cancelled"}
    stored = AccountModel.get(account_id)
    assert stored.status == "active" and stored.arrears_segment == stored.segment
    assert any(
        w.account_id == account_id and w.reason == "plan_cancelled" for w in WorklistModel.query("agents")
    )
    mandate_id = latest_plan(account_id).plan["mandate"]["mandate_id"]
    assert cloud.services.debicheck.mandate_status(mandate_id) is MandateStatus.CANCELLED


def test_a_sweep_on_time_or_after_a_payment_misses_nothing(cloud):
    account_id = offered(cloud)
    accept_latest_offer(cloud, account_id)
    first = _current(account_id).instalments[0]
    pay_next_instalment(cloud, account_id)
    review_plans(cloud, [account_id], first.due_date + timedelta(days=10))
    plan = _current(account_id)
    assert plan.consecutive_misses == 0 and all(i.misses == 0 for i in plan.instalments)
    assert plan.paid_cents == first.amount_cents


def test_a_failed_collection_on_the_due_date_misses_the_instalment(cloud, clock_restored):
    # Given an accepted plan
    account_id = offered(cloud)
    accept_latest_offer(cloud, account_id)
    plan = latest_plan(account_id)
    first = _current(account_id).instalments[0]
    # When the debit order is presented on the due date and the bank reports it unpaid
    at(cloud, datetime.combine(first.due_date, datetime.min.time(), ZONE) + timedelta(hours=10))
    answer = pay_link(cloud, plan.plan["link_id"], first.amount_cents, "failed")
    # Then nothing is credited and the instalment is missed (retried on the next pay day)
    assert answer["statusCode"] == 200
    assert AccountModel.get(account_id).collected_cents == 0
    assert _current(account_id).instalment(first.number).misses == 1
    assert "instalment_missed" in _actions(account_id)


def test_a_failed_attempt_before_the_due_date_misses_nothing(cloud):
    account_id = offered(cloud)
    accept_latest_offer(cloud, account_id)
    plan = latest_plan(account_id)
    pay_link(cloud, plan.plan["link_id"], 10_000, "failed")
    assert all(i.misses == 0 for i in _current(account_id).instalments)


def test_paying_more_than_the_plan_completes_it_and_keeps_the_rest_as_credit(cloud):
    account_id = offered(cloud)
    accept_latest_offer(cloud, account_id)
    plan = latest_plan(account_id)
    pay_link(cloud, plan.plan["link_id"], 250_000)
    assert latest_plan(account_id).status == "completed"
    assert _current(account_id).overpaid_cents == 10_000
    stored = AccountModel.get(account_id)
    assert (stored.status, stored.balance_cents) == ("settled", -10_000)


def test_a_rejected_mandate_leaves_the_plan_payable_by_link_and_tells_an_agent(cloud):
    account_id = offered(cloud)
    accept_latest_offer(cloud, account_id, bank_account={**BANK, "account_number": "1234567899"})
    answer_mandates(cloud)
    plan = latest_plan(account_id)
    assert (plan.status, plan.plan["mandate"]["status"]) == ("active", "rejected")
    assert any(
        w.account_id == account_id and w.reason == "mandate_rejected" for w in WorklistModel.query("agents")
    )
    assert pay_next_instalment(cloud, account_id)["statusCode"] == 200


def test_a_banks_answer_that_overtakes_the_acceptance_is_delivered_again_and_then_recorded(cloud, monkeypatch):
    # Given a debtor accepting a plan whose bank answers the mandate while the acceptance is still
    # being written (the plan is still "offered" when the callback arrives)
    account_id = offered(cloud)
    gateway = cloud.services.debicheck
    early: list[dict] = []
    requested = type(gateway).request_mandate

    def request_and_answer_at_once(self, request):
        submission = requested(self, request)
        callback = self.force_status(request.mandate_id, MandateStatus.APPROVED, cloud.clock.now())
        early.append({"callback": callback, "answer": cloud.post_webhook("debicheck", callback.headers, callback.body)})
        return submission

    monkeypatch.setattr(type(gateway), "request_mandate", request_and_answer_at_once)
    assert accept_latest_offer(cloud, account_id, bank_account=BANK)["statusCode"] == 200
    # Then the early answer was refused as retryable, not as an unknown mandate
    [first] = early
    assert first["answer"]["statusCode"] == 503
    assert json.loads(first["answer"]["body"])["reason"] == "acceptance_in_progress"
    # And delivered again, it is recorded on the plan
    again = cloud.post_webhook("debicheck", first["callback"].headers, first["callback"].body)
    assert again["statusCode"] == 200
    assert latest_plan(account_id).plan["mandate"]["status"] == "approved"


def test_a_mandate_callback_with_a_bad_signature_is_refused(cloud):
    answer = cloud.post_webhook(
        "debicheck", {"X-Mandate-Timestamp": "1", "X-Mandate-Signature": "v1=00"}, b"{}"
    )
    assert answer["statusCode"] == 401


def test_a_hold_placed_since_the_offer_stops_the_acceptance(cloud):
    # Given an offer, then a dispute recorded on the account before the debtor opens the link
    account_id = offered(cloud)
    hold = HoldRecord(kind="dispute", placed_by="agent:7", placed_at=cloud.clock.now(), reason="disputed")
    cloud.services.repos.accounts.add_hold(account_id, hold)
    # When the debtor accepts
    answer = accept_latest_offer(cloud, account_id)
    # Then a person decides first: nothing is accepted, no link is raised
    assert (answer["statusCode"], answer["json"]["reason"]) == (409, "account_on_hold")
    assert latest_plan(account_id).status == "offered" and "link_id" not in latest_plan(account_id).plan


def test_the_plan_offer_message_carries_the_acceptance_link(cloud):
    # Given a debtor who has just been offered a plan, with self-service on
    account_id = offered(cloud)
    plan = latest_plan(account_id)
    # When the plan_offer message's context is built / Then it holds the signed link and the schedule
    context = _context(cloud.services, AccountModel.get(account_id), "plan_offer", None)
    assert context.plan_accept_url == plan.plan["accept_url"]
    assert context.plan_instalments == plan.plan["instalments"]
    # And a plan confirmation never carries it
    assert _context(cloud.services, AccountModel.get(account_id), "plan_confirmation", None).plan_accept_url is None


def test_the_plan_confirmation_carries_the_plans_pay_link_which_pays_until_the_plan_is_done(cloud):
    # Given a debtor who has just accepted their plan
    account_id = offered(cloud)
    answer = accept_latest_offer(cloud, account_id)
    plan = latest_plan(account_id)
    # When the plan_confirmation message's context is built / Then its pay link is the plan's own,
    # the one the acceptance answer gave, and the email prints it
    context = _context(cloud.services, AccountModel.get(account_id), "plan_confirmation", None)
    assert context.pay_link_url == answer["json"]["pay_url"] == plan.plan["pay_link"]
    key = TemplateKey(
        template_id="plan_confirmation", channel=Channel.EMAIL, language="en", tone=Tone.NEUTRAL
    )
    rendered = cloud.services.renderer.render(key, context, cloud.services.client.jurisdiction)
    assert plan.plan["pay_link"] in rendered.text
    # And following it leads to the first instalment's checkout on the sandbox pay page
    visit = follow_pay_link(cloud, context.pay_link_url)
    assert (visit["statusCode"], visit["location"]) == (302, plan.plan["checkouts"]["1"]["url"])
    # When every instalment is paid / Then the same link has nothing left to pay
    while pay_next_instalment(cloud, account_id) is not None:
        pass
    assert latest_plan(account_id).status == "completed"
    done = follow_pay_link(cloud, context.pay_link_url)
    assert done["statusCode"] == 200 and done["location"] is None
    assert "nothing to pay" in done["body"]


def test_a_plan_accepted_weekly_on_fridays_is_collected_by_a_mandate_on_fridays(cloud):
    # Given a debtor offered four monthly instalments on the 25th
    account_id = offered(cloud)
    offered_plan = PaymentPlan.model_validate(latest_plan(account_id).plan["offered"])
    assert (offered_plan.frequency.value, len(offered_plan.instalments)) == ("monthly", 4)
    # When they accept on the page, paid weekly on Fridays, with their bank account
    answer = accept_latest_offer(
        cloud, account_id, bank_account=BANK, pay_day={"kind": "weekly", "weekday": "friday"}, frequency="weekly"
    )
    # Then the plan is the offer's four months in weekly instalments, each on a Friday or, when the
    # Friday is a holiday (Christmas, New Year's Day), on the business day before
    assert answer["statusCode"] == 200, answer["json"]
    assert (answer["json"]["frequency"], answer["json"]["instalments"]) == ("weekly", 18)
    plan = _current(account_id)
    calendar = business_calendar("ZA")
    first_friday = MONDAY_MORNING.date() + timedelta(days=4)
    fridays = [first_friday + timedelta(weeks=week) for week in range(18)]
    assert [i.due_date for i in plan.instalments] == [calendar.on_or_before(friday) for friday in fridays]
    assert {i.due_date for i in plan.instalments} >= {date(2026, 12, 24), date(2026, 12, 31)}
    assert sum(i.amount_cents for i in plan.instalments) == 240_000
    # And the DebiCheck mandate asks the bank for weekly collections on Fridays (ISO day 5) of the
    # regular instalment, from the first instalment's date
    mandate = latest_plan(account_id).plan["mandate"]
    assert (mandate["frequency"], mandate["collection_day"]) == ("weekly", 5)
    assert mandate["first_collection_date"] == plan.instalments[0].due_date.isoformat() == "2026-12-11"
    assert mandate["instalment_cents"] == plan.regular_instalment_cents
    assert mandate["status"] == "sent_for_approval"
    # And the timeline says the debtor chose the pay day and frequency
    accepted = next(a for a in AuditModel.query(account_id) if a.action == "plan_accepted")
    assert accepted.inputs["chosen"] == ["pay_day", "frequency"]
    assert accepted.inputs["pay_day"] == {"kind": "weekly", "weekday": 4}
    # When the debtor's bank approves the mandate and the first Friday's collection arrives
    answer_mandates(cloud)
    assert latest_plan(account_id).plan["mandate"]["status"] == "approved"
    assert pay_next_instalment(cloud, account_id)["statusCode"] == 200
    # Then the first instalment is paid and the next one is due the next Friday
    after = _current(account_id)
    assert after.instalments[0].status.value == "paid"
    assert after.unpaid[0].due_date == date(2026, 12, 18)
