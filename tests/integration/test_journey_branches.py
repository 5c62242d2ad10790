"""The journey ASL on moto's interpreter, with the real handlers, through its branches.

Each test plays one debtor: it starts a journey the way the campaign does, acts when the journey
waits (a signed webhook through the real webhook handler, or an SMS reply through the real
inbound handler), and checks the records the journey leaves behind.
"""

from __future__ import annotations

import json

import pytest
from journey_helpers import account, finished, load, start

from rapport.models.enums import Channel
from rapport.store.models import (
    AccountModel,
    AuditModel,
    ContactModel,
    JourneyModel,
    PromiseModel,
    WorklistModel,
)

pytestmark = pytest.mark.integration


def _outcome(cloud, journey_id: str) -> str:
    description = finished(cloud, journey_id)
    assert description["status"] == "SUCCEEDED", description.get("error")
    return json.loads(description["output"])["outcome"]["name"]


def _pay(cloud, account_id: str, amount_cents: int) -> dict:
    return cloud.pay_latest_link(account_id, amount_cents)


def _reply(cloud, account_id: str, text: str) -> dict:
    return cloud.reply_by_sms(AccountModel.get(account_id).phone, text)


def _actions(account_id: str) -> list[str]:
    return [entry.action for entry in sorted(AuditModel.query(account_id), key=lambda e: e.entry_id)]


def test_a_debtor_who_pays_in_full_is_thanked_and_the_journey_ends_paid(make_cloud):
    # Given an account in arrears
    cloud, waits = make_cloud()
    debtor = account(1, balance_cents=150_000)
    load(cloud, debtor)
    # When the journey sends its first message and the debtor pays the whole balance through the link
    journey_id = start(cloud, debtor.account_id, reply_timeout=30)
    waits.wait(debtor.account_id)
    response = _pay(cloud, debtor.account_id, 150_000)
    # Then the payment is credited once, the journey ends as paid, and nothing more is asked for
    assert response["statusCode"] == 200
    assert _outcome(cloud, journey_id) == "paid"
    stored = AccountModel.get(debtor.account_id)
    assert stored.balance_cents == 0 and stored.collected_cents == 150_000
    sent = [c for c in ContactModel.query(debtor.account_id) if c.direction == "out" and c.status == "sent"]
    assert next(c.template_id for c in sent) == "first_notice"
    assert "payment_applied" in _actions(debtor.account_id)


def test_a_silent_debtor_is_escalated_through_every_channel_then_handed_to_an_agent(make_cloud):
    # Given an account whose strategy tries SMS, WhatsApp and email
    cloud, _ = make_cloud()
    debtor = account(2)
    load(cloud, debtor, stated_channel=None)
    # When the debtor never answers
    journey_id = start(cloud, debtor.account_id, reply_timeout=1)
    # Then each channel is tried once, in order, and an agent gets the account with the reason
    assert _outcome(cloud, journey_id) == "no_response"
    sent = sorted((c for c in ContactModel.query(debtor.account_id) if c.status == "sent"), key=lambda c: c.at)
    assessment = next(e for e in AuditModel.query(debtor.account_id) if e.action == "assessed")
    assert [c.channel for c in sent] == assessment.inputs["channels"]
    assert len({c.channel for c in sent}) == len(sent) == 3
    assert [w.reason for w in WorklistModel.query("agents")] == ["no_response"]


def test_a_reply_promising_payment_is_recorded_confirmed_and_kept_when_paid(make_cloud):
    cloud, waits = make_cloud()
    debtor = account(3, balance_cents=80_000)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30, promise_wait=30)
    waits.wait(debtor.account_id)
    # When the debtor promises to pay, and then pays before the check date
    _reply(cloud, debtor.account_id, "I will pay the full amount on Friday")
    waits.wait(debtor.account_id, "promise")
    _pay(cloud, debtor.account_id, 80_000)
    # Then the promise is kept and the journey ends there
    assert _outcome(cloud, journey_id) == "promise_kept"
    actions = _actions(debtor.account_id)
    assert "promise_recorded" in actions and "promise_checked" in actions


def test_a_broken_promise_escalates_to_the_next_channel(make_cloud):
    cloud, waits = make_cloud()
    debtor = account(4)
    load(cloud, debtor, stated_channel=None)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30, promise_wait=1)
    waits.wait(debtor.account_id)
    _reply(cloud, debtor.account_id, "ok ill pay R500 tomorrow")
    # When the promise's date passes with nothing paid, and the debtor then stays silent
    waits.wait(debtor.account_id, "promise")
    # Then the promise is judged broken and the journey moves on (ending with an agent)
    description = finished(cloud, journey_id, timeout=120)
    assert description["status"] == "SUCCEEDED"
    checked = [e for e in AuditModel.query(debtor.account_id) if e.action == "promise_checked"]
    assert checked and checked[0].rule == "promise.broken"


def test_hardship_places_a_hold_and_hands_the_debtor_to_a_person(make_cloud):
    cloud, waits = make_cloud()
    debtor = account(5)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30)
    waits.wait(debtor.account_id)
    _reply(cloud, debtor.account_id, "I lost my job last month and I cant even buy food for my kids")
    assert _outcome(cloud, journey_id) == "on_hold"
    stored = AccountModel.get(debtor.account_id)
    assert stored.holds and stored.holds[0].kind in ("hardship", "vulnerability")
    assert [w.reason for w in WorklistModel.query("agents")] == ["on_hold"]


def test_a_dispute_stops_collection(make_cloud):
    cloud, waits = make_cloud()
    debtor = account(6)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30)
    waits.wait(debtor.account_id)
    _reply(cloud, debtor.account_id, "I dispute this amount, I never opened this account")
    assert _outcome(cloud, journey_id) == "on_hold"
    assert AccountModel.get(debtor.account_id).holds[0].kind in ("dispute", "fraud")


def test_stop_ends_the_journey_and_no_channel_is_used_again(make_cloud):
    cloud, waits = make_cloud()
    debtor = account(7)
    load(cloud, debtor, stated_channel=None)
    journey_id = start(cloud, debtor.account_id, reply_timeout=1)
    waits.wait(debtor.account_id)
    first = next(c for c in ContactModel.query(debtor.account_id) if c.direction == "out")
    _reply(cloud, debtor.account_id, "STOP")
    description = finished(cloud, journey_id, timeout=90)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"])["outcome"]["name"] == "opted_out"
    stored = AccountModel.get(debtor.account_id)
    assert sorted(stored.suppressed_channels) == sorted(c.value for c in Channel)
    later = [c for c in ContactModel.query(debtor.account_id) if c.direction == "out" and c.at > first.at]
    assert [(c.channel, c.template_id) for c in later] == [(first.channel, "opt_out_confirmation")]


def test_nothing_owed_closes_the_journey_without_contact(make_cloud):
    cloud, _ = make_cloud()
    debtor = account(8, balance_cents=0)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id)
    assert _outcome(cloud, journey_id) == "nothing_owed"
    assert list(ContactModel.query(debtor.account_id)) == []


def test_an_account_under_debt_review_is_never_contacted(make_cloud):
    from datetime import timedelta

    from rapport.store.models import HoldRecord

    cloud, _ = make_cloud()
    debtor = account(9)
    hold = HoldRecord(
        kind="debt_review", placed_by="counsellor", placed_at=cloud.clock.now() - timedelta(days=3), reason="form 17.2"
    )
    load(cloud, debtor, holds=[hold])
    journey_id = start(cloud, debtor.account_id)
    assert _outcome(cloud, journey_id) == "on_hold"
    assert list(ContactModel.query(debtor.account_id)) == []


# --- replies that come while a promise is pending, or to an account a person already has -----------------

def _sent_templates(account_id: str) -> list[str]:
    sent = sorted((c for c in ContactModel.query(account_id) if c.direction == "out"), key=lambda c: c.at)
    return [c.template_id for c in sent]


def _replies(account_id: str) -> list[ContactModel]:
    return sorted((c for c in ContactModel.query(account_id) if c.direction == "in"), key=lambda c: c.at)


def _waiting_on_a_promise(make_cloud, source_id: int, balance_cents: int = 250_000):
    """A debtor who promised to pay in full on Friday, whose journey now waits for that promise's date."""
    cloud, waits = make_cloud()
    debtor = account(source_id, balance_cents=balance_cents)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30, promise_wait=60)
    waits.wait(debtor.account_id)
    _reply(cloud, debtor.account_id, "I will pay the full amount on Friday")
    waits.wait(debtor.account_id, "promise")
    return cloud, waits, debtor, journey_id


def test_a_reply_showing_distress_while_a_promise_is_pending_is_read_and_puts_the_account_on_hold(make_cloud):
    # Given a debtor who promised to pay and whose journey waits for the promise's date
    cloud, _, debtor, journey_id = _waiting_on_a_promise(make_cloud, 10)
    # When the debtor writes again before that date, in difficulty
    _reply(cloud, debtor.account_id, "My husband passed away on Sunday, I can't think about this now")
    # Then the reply is read, found vulnerable, and a person gets the account at once; the promise, not yet
    # due, is set aside rather than left pending or judged broken
    assert _outcome(cloud, journey_id) == "on_hold"
    second = _replies(debtor.account_id)[-1]
    assert second.intent == "hardship" and second.vulnerable is True
    assert AccountModel.get(debtor.account_id).holds[0].kind in ("hardship", "vulnerability")
    assert [p.status for p in PromiseModel.query(debtor.account_id)] == ["set_aside"]


def test_a_question_while_a_promise_is_pending_is_answered_and_the_promise_still_stands(make_cloud):
    # Given a debtor whose journey waits for a promise's date
    cloud, waits, debtor, journey_id = _waiting_on_a_promise(make_cloud, 11, balance_cents=90_000)
    # When the debtor asks how much it is, is answered, and then pays
    _reply(cloud, debtor.account_id, "How much must I pay exactly?")
    waits.wait(debtor.account_id, "promise")
    _pay(cloud, debtor.account_id, 90_000)
    # Then the question was read and answered, the journey went back to the promise, and it was kept
    assert _outcome(cloud, journey_id) == "promise_kept"
    assert _replies(debtor.account_id)[-1].intent == "balance_query"
    assert _sent_templates(debtor.account_id)[-1] == "balance_statement"
    assert [p.status for p in PromiseModel.query(debtor.account_id)] == ["kept"]


def test_a_new_day_promised_while_a_promise_is_pending_replaces_it(make_cloud):
    # Given a debtor whose journey waits for a promise's date
    cloud, waits, debtor, journey_id = _waiting_on_a_promise(make_cloud, 12, balance_cents=70_000)
    first = next(iter(PromiseModel.query(debtor.account_id)))
    # When the debtor moves the day before it comes
    _reply(cloud, debtor.account_id, "Sorry I can't make Friday, I'll pay on the 15th instead")
    waits.wait(debtor.account_id, "promise")
    # Then the new promise is recorded and confirmed, the first is set aside (never judged broken), and
    # the journey waits for the new one
    promises = {p.promise_id: p for p in PromiseModel.query(debtor.account_id)}
    assert promises.pop(first.promise_id).status == "replaced"
    (second,) = promises.values()
    assert second.status == "pending" and second.due_date == "2026-12-15"
    assert _sent_templates(debtor.account_id).count("promise_confirmation") == 2
    _pay(cloud, debtor.account_id, 70_000)
    assert _outcome(cloud, journey_id) == "promise_kept"
    assert PromiseModel.get(debtor.account_id, first.promise_id).status == "replaced"


def test_a_reply_to_an_account_on_hold_is_read_for_the_person_who_has_it(make_cloud):
    from datetime import timedelta

    from rapport.store.models import HoldRecord

    # Given an account a person already has (a dispute hold), with no journey running
    cloud, _ = make_cloud()
    debtor = account(13)
    hold = HoldRecord(kind="dispute", placed_by="agent", placed_at=cloud.clock.now() - timedelta(days=1), reason="")
    load(cloud, debtor, holds=[hold])
    # When the debtor writes in distress
    _reply(cloud, debtor.account_id, "I can't sleep over this debt anymore, I feel like ending it all")
    (journey,) = JourneyModel.query(debtor.account_id)
    # Then the reply is read and stored for the agent, a vulnerability hold is added, and nothing is sent
    assert _outcome(cloud, journey.journey_id) == "on_hold"
    reply = _replies(debtor.account_id)[0]
    assert reply.intent is not None and reply.vulnerable is True
    kinds = sorted(h.kind for h in AccountModel.get(debtor.account_id).holds)
    assert kinds[0] == "dispute" and len(kinds) == 2
    assert _sent_templates(debtor.account_id) == []


def test_after_two_angry_replies_the_next_reminder_is_written_more_gently(make_cloud):
    # Given a debtor who is up to date but owes a small balance: a friendly treatment
    cloud, waits = make_cloud()
    debtor = account(14, balance_cents=20_000, months_late=0)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=8)
    waits.wait(debtor.account_id)
    # When they ask the balance in anger twice, are answered each time, and then go quiet
    _reply(cloud, debtor.account_id, "You are useless. What is the exact balance???")
    waits.wait(debtor.account_id)
    _reply(cloud, debtor.account_id, "Still nothing. You are useless, what is the exact balance???")
    waits.wait(debtor.account_id)
    waits.wait(debtor.account_id)
    # Then both answers came, and the reminder that follows the silence is supportive, not friendly
    sent = sorted((c for c in ContactModel.query(debtor.account_id) if c.direction == "out"), key=lambda c: c.at)
    assert [(c.template_id, c.tone) for c in sent] == [
        ("first_notice", "friendly"), ("balance_statement", "neutral"), ("balance_statement", "neutral"),
        ("reminder", "supportive"),
    ]
    assert [r.sentiment for r in _replies(debtor.account_id)] == ["NEGATIVE", "NEGATIVE"]
    assert "tone_softened" in _actions(debtor.account_id)
    _pay(cloud, debtor.account_id, 20_000)
    assert _outcome(cloud, journey_id) == "paid"


def test_a_second_plan_asked_for_in_one_attempt_is_offered_and_sent(make_cloud):
    # Given a debtor who asked for instalments and was offered a plan
    cloud, waits = make_cloud()
    debtor = account(15)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30)
    waits.wait(debtor.account_id)
    _reply(cloud, debtor.account_id, "Can I pay this off in instalments")
    waits.wait(debtor.account_id)
    # When they ask, in the same attempt, for a plan they can afford
    _reply(cloud, debtor.account_id, "I can only afford R800 per month, can we do a payment plan?")
    waits.wait(debtor.account_id)
    # Then the second offer is made and sent, not taken for a retry of the first send
    assert _actions(debtor.account_id).count("plan_offered") == 2
    assert _sent_templates(debtor.account_id).count("plan_offer") == 2
    _pay(cloud, debtor.account_id, debtor.balance_cents)
    assert _outcome(cloud, journey_id) == "paid"


def test_an_opt_out_in_words_while_a_promise_is_pending_sets_the_promise_aside(make_cloud):
    # Given a debtor whose journey waits for a promise's date
    cloud, _, debtor, journey_id = _waiting_on_a_promise(make_cloud, 16)
    # When they then ask to hear no more, in words the keyword check does not know
    _reply(cloud, debtor.account_id, "I don't want to receive any more sms")
    # Then the opt-out is honoured and the promise is set aside, not left pending
    assert _outcome(cloud, journey_id) == "opted_out"
    assert [p.status for p in PromiseModel.query(debtor.account_id)] == ["set_aside"]


def test_an_opt_out_in_words_to_a_settled_account_is_honoured(make_cloud):
    # Given an account with nothing owed and no journey running
    cloud, _ = make_cloud()
    debtor = account(17, balance_cents=0)
    load(cloud, debtor)
    # When the debtor asks to hear no more, in words the keyword check does not know
    _reply(cloud, debtor.account_id, "I don't want to receive any more sms")
    (journey,) = JourneyModel.query(debtor.account_id)
    # Then the journey started for the reply reads it, records the opt-out and confirms it
    assert _outcome(cloud, journey.journey_id) == "opted_out"
    assert _replies(debtor.account_id)[0].intent == "opt_out"
    assert AccountModel.get(debtor.account_id).opt_outs
    assert _sent_templates(debtor.account_id) == ["opt_out_confirmation"]


def test_a_journey_assessed_before_the_treatment_tone_was_recorded_still_reads_a_reply(make_cloud):
    # Given a journey in flight since before the assessment carried its treatment's tone
    cloud, waits = make_cloud()
    debtor = account(18)
    load(cloud, debtor)

    def as_before(function, event, result):
        if function == "assess_account" and isinstance(result, dict):
            result.pop("treatment_tone", None)

    cloud.on_invoke(as_before)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30)
    waits.wait(debtor.account_id)

    # When the debtor asks a question
    _reply(cloud, debtor.account_id, "How much do I owe exactly?")
    waits.wait(debtor.account_id)

    # Then it is read and answered, not failed on a missing path
    assert _replies(debtor.account_id)[0].intent == "balance_query"
    assert _sent_templates(debtor.account_id)[-1] == "balance_statement"
    _pay(cloud, debtor.account_id, debtor.balance_cents)
    assert _outcome(cloud, journey_id) == "paid"


def test_a_promise_paid_in_part_is_thanked_and_the_rest_asked_for_in_the_next_attempt(make_cloud):
    # Given a debtor who promised to pay the full R800 on Friday, and whose journey waits for that date
    cloud, waits = make_cloud()
    debtor = account(19, balance_cents=80_000)
    load(cloud, debtor, stated_channel=None)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30, promise_wait=4)
    waits.wait(debtor.account_id)
    _reply(cloud, debtor.account_id, "I will pay the full amount on Friday")
    waits.wait(debtor.account_id, "promise")
    # When they pay R300 of it before the date, and the date then comes
    _pay(cloud, debtor.account_id, 30_000)
    waits.wait(debtor.account_id, "promise")
    waits.wait(debtor.account_id)
    # Then the promise is judged partly kept, with what was paid
    (promise,) = PromiseModel.query(debtor.account_id)
    assert (promise.status, promise.paid_cents) == ("partly_kept", 30_000)
    checked = [e for e in AuditModel.query(debtor.account_id) if e.action == "promise_checked"]
    assert checked[-1].rule == "promise.partly_kept"
    # And the next attempt, on the next channel, thanks them for the payment and asks for the rest with a link
    sent = sorted((c for c in ContactModel.query(debtor.account_id) if c.direction == "out"), key=lambda c: c.at)
    first, last = sent[0], sent[-1]
    assert (last.template_id, last.status) == ("promise_partly_kept", "sent")
    assert last.channel != first.channel and last.link_id
    assert last.contact_id.startswith(f"{journey_id}.1.")
    # And paying the rest ends the journey as paid
    _pay(cloud, debtor.account_id, 50_000)
    assert _outcome(cloud, journey_id) == "paid"


def test_a_promise_an_agent_takes_is_waited_on_and_kept_when_paid(make_cloud):
    from datetime import timedelta

    # Given a debtor whose journey waits for a response to its first message
    cloud, waits = make_cloud()
    debtor = account(20, balance_cents=60_000)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30, promise_wait=30)
    waits.wait(debtor.account_id)
    # When an agent, on a call, records the debtor's promise to pay it all in three days
    due = (cloud.clock.now() + timedelta(days=3)).date().isoformat()
    event = {
        "httpMethod": "POST",
        "pathParameters": {"account_id": debtor.account_id},
        "requestContext": {"identity": {"userArn": "arn:aws:iam::123456789012:user/agent-desk"}},
        "body": json.dumps({"agent_id": "agent-7", "amount_cents": 60_000, "due_date": due}),
        "isBase64Encoded": False,
    }
    response = cloud.invoke("record_agent_promise", event)
    # Then the journey takes it and waits on it, as on a promise from a reply
    assert response["statusCode"] == 201 and json.loads(response["body"])["journey"] == "resumed"
    waits.wait(debtor.account_id, "promise")
    (promise,) = PromiseModel.query(debtor.account_id)
    assert (promise.source, promise.status, promise.journey_id) == ("agent", "pending", journey_id)
    # And paying it keeps the promise and ends the journey
    _pay(cloud, debtor.account_id, 60_000)
    assert _outcome(cloud, journey_id) == "promise_kept"
    assert PromiseModel.get(debtor.account_id, promise.promise_id).status == "kept"
