"""Replies on every channel: matched, stored once, opt-outs honoured at once, journeys resumed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conversation_helpers import (
    ACCOUNT_ID,
    EMAIL,
    NOW,
    PHONE,
    load_event,
    park_journey,
    save_account,
    save_sent,
)

from rapport.journey import inbound
from rapport.journey.contract import JourneyStart
from rapport.journey.inbound import take_email_event, take_replies, take_whatsapp_event
from rapport.journey.optouts import honour_opt_out
from rapport.journey.resume import reply_journey_id, start_reply_journey, take_queued_reply
from rapport.journey.steps import AwaitInput, await_response
from rapport.messaging.inbound import InboundMessage
from rapport.models.enums import Channel
from rapport.store.models import AccountModel, AuditModel, ContactModel, JourneyModel, WorklistModel

WAMID = "wamid.HBgLMjc4MjU1NTAxMjMVAgASGBQzQUI4RTVDMkY3RDlBMDQ1QjM2MAA="
# Our message in tests/unit/messaging/events/whatsapp_status_only.json.
OUR_WAMID = "wamid.HBgLMjc4MjU1NTAxMjMVAgARGBI5QjZGMDg0QkE0RUY3QjAxAA=="
OUR_WHATSAPP_ID = "msg_01JE9X3K7Q"


def _reply(text: str, channel: Channel = Channel.SMS, provider_id: str = "in-1", **changes) -> InboundMessage:
    values = {
        "channel": channel,
        "from_address": EMAIL if channel is Channel.EMAIL else PHONE,
        "to_address": "+27875550100",
        "text": text,
        "provider_message_id": provider_id,
        "received_at": NOW - timedelta(minutes=1),
    }
    return InboundMessage(**(values | changes))


def test_a_reply_is_stored_once_and_resumes_the_waiting_journey(services):
    # Given a journey waiting for a response
    save_account()
    token = park_journey()
    # When the debtor's SMS arrives, and the provider delivers it a second time
    first = take_replies(services, [_reply("Can I pay next week?")])
    second = take_replies(services, [_reply("Can I pay next week?")])
    # Then it is stored once on the timeline and resumes the journey once
    assert first == {"resumed": 1, "started": 0, "unmatched": 0, "duplicate": 0, "queued": 0}
    assert second["duplicate"] == 1 and second["resumed"] == 0
    (stored,) = [c for c in ContactModel.query(ACCOUNT_ID) if c.direction == "in"]
    assert (stored.contact_id, stored.text) == ("in.sms.in-1", "Can I pay next week?")
    assert services.stepfunctions.resumed == [
        (
            token,
            {"kind": "reply", "reply_id": "in.sms.in-1", "channel": "sms", "opt_out": False, "waiting_for": "response"},
        )
    ]


def test_stop_is_honoured_before_the_journey_is_resumed(services):
    # Given a journey waiting on WhatsApp
    save_account()
    token = park_journey()
    # When the debtor sends STOP there
    take_replies(services, [_reply("STOP", Channel.WHATSAPP)])
    # Then every channel is suppressed at once, not only WhatsApp, and the journey is told it is an opt-out
    account = AccountModel.get(ACCOUNT_ID)
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert [(o.channel, o.address) for o in account.opt_outs] == [(None, None)]
    assert services.stepfunctions.resumed[0] == (
        token,
        {
            "kind": "reply", "reply_id": "in.whatsapp.in-1", "channel": "whatsapp", "opt_out": True,
            "waiting_for": "response",
        },
    )


def test_a_reply_with_no_journey_in_progress_starts_a_journey_with_it(services):
    # Given an account whose journey has finished
    save_account()
    JourneyModel(ACCOUNT_ID, "J0", campaign="weekly", started_at=NOW, status="finished").save()
    # When the debtor writes anyway, and the provider delivers the same message again
    counts = take_replies(services, [_reply("I paid yesterday", Channel.EMAIL)])
    again = take_replies(services, [_reply("I paid yesterday", Channel.EMAIL)])
    # Then one journey is started, carrying the reply as what came back, and recorded as running
    assert counts["started"] == 1 and again["duplicate"] == 1
    [(name, payload)] = services.stepfunctions.started.items()
    assert name == reply_journey_id(ACCOUNT_ID, "in.email.in-1") and len(name) <= 80
    assert payload["response"] == {"kind": "reply", "reply_id": "in.email.in-1", "channel": "email", "opt_out": False}
    assert JourneyStart.model_validate(payload).response.kind == "reply"
    assert JourneyModel.get(ACCOUNT_ID, name).status == "running"
    # And nobody is asked to read it by hand, and nothing is resumed
    assert list(WorklistModel.query("agents")) == []
    assert services.stepfunctions.resumed == []


def test_starting_the_journey_for_a_reply_twice_starts_it_once(services):
    # Given a reply whose journey was started, but whose record was lost to a crash
    save_account()
    response = {"kind": "reply", "reply_id": "in.sms.x", "channel": "sms", "opt_out": False}
    first = start_reply_journey(services, ACCOUNT_ID, response, NOW)
    JourneyModel(ACCOUNT_ID, first).delete()
    # When it is started again (a retried invocation)
    second = start_reply_journey(services, ACCOUNT_ID, response, NOW)
    # Then one execution exists, and the journey is recorded again
    assert first == second and list(services.stepfunctions.started) == [first]
    assert JourneyModel.get(ACCOUNT_ID, first).campaign == "reply"


def test_a_reply_while_the_journey_is_busy_between_steps_goes_to_the_worklist(services):
    # Given a journey in progress that is not waiting (between two steps)
    save_account()
    JourneyModel(ACCOUNT_ID, "J1", campaign="weekly", started_at=NOW, status="running").save()
    # When the debtor writes
    counts = take_replies(services, [_reply("Can I pay next week?")])
    # Then no second journey is started beside it: a person reads the reply
    assert counts["queued"] == 1 and services.stepfunctions.started == {}
    assert [(w.reason, w.journey_id) for w in WorklistModel.query("agents")] == [("reply_while_journey_busy", "J1")]


def test_a_reply_queued_while_the_journey_was_busy_is_handed_to_it_when_it_parks(services):
    # Given a reply that came while the journey was between two steps
    save_account()
    JourneyModel(ACCOUNT_ID, "J1", campaign="weekly", started_at=NOW, status="running").save()
    take_replies(services, [_reply("Can I pay next week?")])
    assert services.stepfunctions.resumed == []

    # When the journey parks on its next wait
    await_response(services, AwaitInput(account_id=ACCOUNT_ID, journey_id="J1", task_token="t-2",
                                         waiting_for="response"))

    # Then it is resumed with that reply at once, the reply is no longer queued, and the person's item is
    # closed as read by the journey
    assert services.stepfunctions.resumed == [
        ("t-2", {"kind": "reply", "reply_id": "in.sms.in-1", "channel": "sms", "opt_out": False,
                 "waiting_for": "response"}),
    ]
    assert ContactModel.get(ACCOUNT_ID, "in.sms.in-1").status == "received"
    assert [(w.reason, w.status) for w in WorklistModel.query("agents")] == [
        ("reply_while_journey_busy", "read_by_journey")
    ]
    assert "queued_reply_taken" in [e.action for e in AuditModel.query(ACCOUNT_ID)]

    # And a second park finds nothing more to hand over
    await_response(services, AwaitInput(account_id=ACCOUNT_ID, journey_id="J1", task_token="t-3",
                                         waiting_for="response"))
    assert len(services.stepfunctions.resumed) == 1


def test_a_queued_reply_waits_for_the_next_park_when_the_journey_cannot_take_it(services, monkeypatch):
    # Given a reply queued while the journey was busy, and a parked journey whose wait has already ended
    save_account()
    JourneyModel(ACCOUNT_ID, "J1", campaign="weekly", started_at=NOW, status="running").save()
    take_replies(services, [_reply("Can I pay next week?")])
    park_journey(journey_id="J1")
    sfn = services.stepfunctions

    def timed_out(taskToken: str, output: str) -> None:
        raise sfn.exceptions.TaskTimedOut(taskToken)

    monkeypatch.setattr(sfn, "send_task_success", timed_out)

    # When the queued reply is offered to the journey
    taken = take_queued_reply(services, ACCOUNT_ID, "J1")

    # Then nothing is taken: the reply stays queued for the next park and the person's item stays open
    assert taken is None
    assert ContactModel.get(ACCOUNT_ID, "in.sms.in-1").status == "queued"
    assert [w.status for w in WorklistModel.query("agents")] == ["open"]


def test_a_reply_queued_for_a_journey_that_ended_is_a_persons_and_never_a_later_journeys(services):
    # Given a reply queued while J1 was busy, and J1 then ended without parking again
    save_account()
    JourneyModel(ACCOUNT_ID, "J1", campaign="weekly", started_at=NOW, status="running").save()
    take_replies(services, [_reply("I'll pay on Friday")])
    JourneyModel.get(ACCOUNT_ID, "J1").update(actions=[JourneyModel.status.set("finished")])

    # When a later journey parks on the same account
    park_journey(journey_id="J2")
    await_response(services, AwaitInput(account_id=ACCOUNT_ID, journey_id="J2", task_token="token-J2",
                                         waiting_for="response"))

    # Then the old reply is not handed to it: it stays with the person whose item is still open
    assert services.stepfunctions.resumed == []
    assert [w.status for w in WorklistModel.query("agents")] == ["open"]


def test_a_reply_is_handed_over_even_when_the_journey_parked_while_it_was_being_queued(services, monkeypatch):
    # Given a journey found busy by the inbound handler, which parks before the reply is queued
    save_account()
    JourneyModel(ACCOUNT_ID, "J1", campaign="weekly", started_at=NOW, status="running").save()
    journeys = services.repos.journeys
    not_yet = iter([None])

    def waiting_later(account_id: str):
        found = next(not_yet, "parked")
        if found is None:
            park_journey(journey_id="J1")  # it parks right after this look, and finds nothing queued yet
            return None
        return type(journeys).waiting(journeys, account_id)

    monkeypatch.setattr(journeys, "waiting", waiting_later)

    # When the reply is taken
    counts = take_replies(services, [_reply("How much do I owe?")])

    # Then it is handed to the journey now parked, not left queued until the wait times out
    assert counts["resumed"] == 1
    assert [token for token, _ in services.stepfunctions.resumed] == ["token-J1"]
    assert ContactModel.get(ACCOUNT_ID, "in.sms.in-1").status == "received"


def test_two_replies_queued_at_one_instant_each_keep_their_own_worklist_item(services):
    # Given two replies in one batch while the journey is busy
    save_account()
    JourneyModel(ACCOUNT_ID, "J1", campaign="weekly", started_at=NOW, status="running").save()
    take_replies(services, [_reply("Can I pay next week?"), _reply("Or R200 now?", provider_id="in-2")])

    # When the journey parks once
    await_response(services, AwaitInput(account_id=ACCOUNT_ID, journey_id="J1", task_token="t-2",
                                         waiting_for="response"))

    # Then it reads the first, and the second still has an open item before a person
    assert sorted(w.status for w in WorklistModel.query("agents")) == ["open", "read_by_journey"]
    assert ContactModel.get(ACCOUNT_ID, "in.sms.in-2").status == "queued"


def test_a_photo_that_comes_while_the_journey_is_busy_keeps_both_of_its_worklist_items(services):
    # Given a journey between two steps
    save_account()
    JourneyModel(ACCOUNT_ID, "J1", campaign="weekly", started_at=NOW, status="running").save()
    # When the debtor sends a captioned photo at that instant
    take_replies(services, [_reply("My payslip", Channel.WHATSAPP, attachment="image", attachment_id="m-3")])
    # Then a person is asked both to read the reply and to look at the photo: neither item hides the other
    assert sorted(w.reason for w in WorklistModel.query("agents")) == [
        "reply_while_journey_busy",
        "reply_with_attachment",
    ]


def test_a_voice_note_is_stored_and_read_by_a_person_while_the_journey_waits_on(services):
    # Given a journey waiting for a response
    save_account()
    park_journey()
    # When the debtor sends a voice note (a reply with no words)
    counts = take_replies(services, [_reply("", Channel.WHATSAPP, attachment="audio", attachment_id="m-1")])
    # Then it is on the timeline, with what to fetch, and on the agents' worklist; the journey is
    # neither resumed nor joined by another: nothing in it can be analysed
    assert counts["queued"] == 1 and counts["resumed"] == 0
    assert [(c.channel, c.attachment, c.attachment_id) for c in ContactModel.query(ACCOUNT_ID)] == [
        ("whatsapp", "audio", "m-1")
    ]
    assert [w.reason for w in WorklistModel.query("agents")] == ["reply_without_words"]
    assert services.stepfunctions.started == {} and services.stepfunctions.resumed == []


@pytest.mark.parametrize("text", ["", "  ", "\u200b", "\ufeff\u2060 "])
def test_an_empty_sms_with_no_journey_starts_none(services, text):
    # Given no journey in progress
    save_account()
    # When an SMS with no text, only spaces or only invisible characters arrives, with the keyword
    # AWS matches on every SMS to the number
    counts = take_replies(services, [_reply(text, keyword="KEYWORD_111122223333")])
    # Then it goes to a person, and no reply journey is started to answer nothing
    assert counts["queued"] == 1 and services.stepfunctions.started == {}
    assert [(w.reason, w.journey_id) for w in WorklistModel.query("agents")] == [("reply_without_words", None)]


def test_a_photo_with_a_caption_is_read_and_also_shown_to_a_person(services):
    # Given a journey waiting for a response
    save_account()
    park_journey()
    # When the debtor sends a photo captioned with words
    counts = take_replies(
        services, [_reply("Proof of payment attached", Channel.WHATSAPP, attachment="image", attachment_id="m-2")]
    )
    # Then the caption resumes the journey as any reply, and a person is asked to look at the photo
    assert counts["resumed"] == 1
    assert [w.reason for w in WorklistModel.query("agents")] == ["reply_with_attachment"]
    assert [c.attachment_id for c in ContactModel.query(ACCOUNT_ID)] == ["m-2"]


def test_an_opt_out_keyword_from_the_provider_counts_even_when_the_text_differs(services):
    # Given an account with no journey in progress
    save_account()
    # When a WhatsApp quick-reply button whose payload is STOP is pressed (its label says otherwise)
    take_replies(services, [_reply("No more messages please", Channel.WHATSAPP, keyword="STOP")])
    # Then the opt-out is honoured on every channel, and a journey is started to confirm it
    assert sorted(AccountModel.get(ACCOUNT_ID).suppressed_channels) == sorted(c.value for c in Channel)
    [payload] = services.stepfunctions.started.values()
    assert payload["response"]["opt_out"] is True


def test_a_sender_we_do_not_know_is_counted_not_stored(services):
    save_account()
    counts = take_replies(services, [_reply("hello", from_address="+27825550000")])
    assert counts["unmatched"] == 1
    assert list(ContactModel.query(ACCOUNT_ID)) == []


def test_spam_email_is_dropped_before_it_reaches_anyone(services):
    # Given the debtor's account and an inbound email SES judged to be spam
    save_account()
    # When it arrives through the receipt rule's SNS action
    counts = take_email_event(services, load_event("email_inbound_spam.json"))
    # Then nothing is stored and nobody is asked to read it
    assert counts["rejected"] == 1 and counts["queued"] == 0
    assert list(ContactModel.query(ACCOUNT_ID)) == []


def test_an_email_reply_in_the_ses_shape_is_matched_on_the_sender_address(services):
    save_account()
    token = park_journey()
    counts = take_email_event(services, load_event("email_inbound_reply.json"))
    assert counts["resumed"] == 1
    (reply,) = [c for c in ContactModel.query(ACCOUNT_ID) if c.direction == "in"]
    assert reply.channel == "email" and reply.text.startswith("Hi,")
    assert services.stepfunctions.resumed[0][0] == token


def test_a_whatsapp_event_carries_messages_and_statuses_and_both_are_taken(services):
    # Given a journey waiting on a WhatsApp message, and the debtor's message in the shared event file
    save_account()
    park_journey()
    save_sent(OUR_WHATSAPP_ID, OUR_WAMID, channel="whatsapp", minutes_ago=60)
    # When End User Messaging Social publishes the debtor's text message
    counts = take_whatsapp_event(services, load_event("whatsapp_inbound_text.json"))
    # Then the message is a reply on WhatsApp that resumed the journey
    assert counts["resumed"] == 1
    assert ContactModel.get(ACCOUNT_ID, f"in.whatsapp.{WAMID}").channel == "whatsapp"
    # And a status-only event (sent, delivered, read for ours; a failure for someone else's) updates
    # our message instead
    statuses = take_whatsapp_event(services, load_event("whatsapp_status_only.json"))
    assert (statuses["statuses_updated"], statuses["statuses_unmatched"]) == (3, 1)
    assert ContactModel.get(ACCOUNT_ID, OUR_WHATSAPP_ID).status == "delivered"


def test_honouring_the_same_opt_out_twice_changes_nothing_the_second_time(services):
    # Given an account
    save_account()
    # When "stop contacting me" is honoured by the inbound function and again by the journey
    first = honour_opt_out(services, ACCOUNT_ID, Channel.SMS, reply_id="in.sms.1")
    second = honour_opt_out(services, ACCOUNT_ID, Channel.SMS, reply_id="in.sms.1", journey_id="J1")
    # Then every channel is covered once, and audited once
    assert first.recorded and set(first.newly_suppressed) == set(Channel)
    assert not second.recorded and second.newly_suppressed == ()
    account = AccountModel.get(ACCOUNT_ID)
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert [(o.channel, o.address) for o in account.opt_outs] == [(None, None)]
    assert [e.action for e in AuditModel.query(ACCOUNT_ID)] == ["opted_out"]


def test_a_journey_that_ran_ahead_of_its_record_keeps_its_status_and_gains_its_campaign(services):
    # Given a journey whose execution parked before the start was recorded (its first steps ran fast)
    save_account()
    services.repos.journeys.park(ACCOUNT_ID, "J9", "token-J9", "response", NOW)
    # When the start is recorded
    recorded = services.repos.journeys.start(
        JourneyModel(ACCOUNT_ID, "J9", campaign="weekly", started_at=NOW, status="running")
    )
    # Then the record keeps the parked status and token, and gains its campaign and start time
    stored = JourneyModel.get(ACCOUNT_ID, "J9")
    assert not recorded
    assert (stored.status, stored.task_token, stored.campaign, stored.started_at) == (
        "waiting", "token-J9", "weekly", NOW
    )


# -- A reply whose handling failed part way is handled again when the provider redelivers it ------------


class _Throttled(Exception):
    """What AWS raises when a call is throttled (SendTaskSuccess, a DynamoDB write)."""


def _failing_once(monkeypatch, owner, name: str) -> None:
    original = getattr(owner, name)
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise _Throttled(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)


def _redelivered_after_the_lease(monkeypatch) -> None:
    """The provider's retry comes once the failed handling's lease has run out (minutes later)."""
    later = datetime.now(UTC) + inbound.REPLY_HANDLING_LEASE + timedelta(seconds=1)
    monkeypatch.setattr(inbound, "_wall_clock", lambda: later)


def test_a_reply_whose_journey_could_not_be_resumed_resumes_it_when_redelivered(services, monkeypatch):
    # Given a waiting journey, and Step Functions throttling the first SendTaskSuccess
    save_account()
    token = park_journey()
    _failing_once(monkeypatch, services.stepfunctions, "send_task_success")

    # When the reply's first handling fails after it was stored, and the provider delivers it again
    with pytest.raises(_Throttled):
        take_replies(services, [_reply("I will pay on Friday")])
    again = take_replies(services, [_reply("I will pay on Friday")])

    # Then the redelivery resumes the journey with it, once; a third delivery is a duplicate
    assert again["resumed"] == 1
    assert [resumed_token for resumed_token, _ in services.stepfunctions.resumed] == [token]
    assert take_replies(services, [_reply("I will pay on Friday")])["duplicate"] == 1
    assert services.stepfunctions.started == {}
    assert [e.action for e in AuditModel.query(ACCOUNT_ID)] == ["reply_received"]


def test_a_stop_whose_opt_out_could_not_be_recorded_is_honoured_when_redelivered(services, monkeypatch):
    # Given a waiting journey, and DynamoDB throttling the first write of the opt-out
    save_account()
    token = park_journey()
    _failing_once(monkeypatch, services.repos.accounts, "add_opt_out")

    # When the STOP's first handling fails, and the provider delivers it again
    with pytest.raises(_Throttled):
        take_replies(services, [_reply("STOP", keyword="STOP")])
    again = take_replies(services, [_reply("STOP", keyword="STOP")])

    # Then the opt-out is recorded once, on every channel, and the journey told of it
    assert again["resumed"] == 1
    account = AccountModel.get(ACCOUNT_ID)
    assert [(o.channel, o.address) for o in account.opt_outs] == [(None, None)]
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert [(t, response["opt_out"]) for t, response in services.stepfunctions.resumed] == [(token, True)]


def test_a_stop_redelivered_after_its_opt_out_was_recorded_counts_once(services, monkeypatch):
    # Given a STOP whose opt-out was recorded, but whose journey could not be resumed the first time
    save_account()
    token = park_journey()
    _failing_once(monkeypatch, services.stepfunctions, "send_task_success")
    with pytest.raises(_Throttled):
        take_replies(services, [_reply("STOP", keyword="STOP")])

    # When the provider delivers it again
    take_replies(services, [_reply("STOP", keyword="STOP")])

    # Then the opt-out is counted and audited once, and the journey resumed once
    account = AccountModel.get(ACCOUNT_ID)
    assert [(o.channel, o.address) for o in account.opt_outs] == [(None, None)]
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert [e.action for e in AuditModel.query(ACCOUNT_ID)].count("opted_out") == 1
    assert [t for t, _ in services.stepfunctions.resumed] == [token]


def test_a_reply_whose_resume_reached_step_functions_is_not_handed_to_a_later_wait(services, monkeypatch):
    # Given a reply whose SendTaskSuccess went through, though the handler failed before it finished
    save_account()
    park_journey()
    _failing_once(monkeypatch, services.repos.audit, "append")
    with pytest.raises(_Throttled):
        take_replies(services, [_reply("I will pay on Friday")])
    # and the journey, resumed by it, has since parked again on a new token
    services.repos.journeys.park(ACCOUNT_ID, "J1", "token-J1-second", "response", NOW)

    # When the provider delivers the reply again
    take_replies(services, [_reply("I will pay on Friday")])

    # Then the new wait is not resumed a second time with the same reply
    assert [t for t, _ in services.stepfunctions.resumed] == ["token-J1"]


def test_a_reply_delivered_again_while_its_first_handling_runs_is_refused_for_later_and_handled_once(
    services, monkeypatch
):
    # Given a waiting journey, and Step Functions refusing a token already used, as it does
    save_account()
    token = park_journey()
    sfn = services.stepfunctions
    record, used, second = sfn.send_task_success, set(), []

    def send_task_success(taskToken: str, output: str) -> None:
        if not second:
            # The provider delivers the same notification again while the first handling is about to
            # hand over the token it took
            with pytest.raises(inbound.ReplyBeingHandledError):
                take_replies(services, [_reply("I will pay on Friday")])
            second.append(True)
        if taskToken in used:
            raise sfn.exceptions.InvalidToken(taskToken)
        used.add(taskToken)
        record(taskToken=taskToken, output=output)

    monkeypatch.setattr(sfn, "send_task_success", send_task_success)

    # When the first delivery goes on
    take_replies(services, [_reply("I will pay on Friday")])

    # Then the second was refused (its retry comes later) and the journey had the reply once, not queued
    assert second == [True]
    assert [t for t, _ in sfn.resumed] == [token]
    (stored,) = [c for c in ContactModel.query(ACCOUNT_ID) if c.direction == "in"]
    assert stored.status != "queued" and stored.handled_at is not None
    assert not [item for item in WorklistModel.scan() if item.reason == "reply_while_journey_busy"]
    # And the provider's retry, later, is a duplicate
    assert take_replies(services, [_reply("I will pay on Friday")])["duplicate"] == 1


def test_a_reply_whose_handler_died_is_taken_over_once_its_lease_has_run_out(services, monkeypatch):
    # Given a reply stored by a handling that died without a word (its Lambda timed out)
    save_account()
    token = park_journey()
    monkeypatch.setattr(inbound, "_handle", lambda *args: (_ for _ in ()).throw(SystemExit("timed out")))
    with pytest.raises(SystemExit):
        take_replies(services, [_reply("I will pay on Friday")])
    monkeypatch.undo()

    # When it is delivered again at once, it is left to the handling that may still be running
    with pytest.raises(inbound.ReplyBeingHandledError):
        take_replies(services, [_reply("I will pay on Friday")])

    # Then Lambda's retry, after the lease, hands it to the journey
    _redelivered_after_the_lease(monkeypatch)
    assert take_replies(services, [_reply("I will pay on Friday")])["resumed"] == 1
    assert [t for t, _ in services.stepfunctions.resumed] == [token]


def test_two_handlings_of_one_stop_at_once_record_the_opt_out_once(services, monkeypatch):
    # Given a STOP handled twice at once (a notification delivered twice concurrently): the second read the
    # account before the first recorded the opt-out
    save_account()
    stale = services.repos.accounts.get(ACCOUNT_ID)
    honour_opt_out(services, ACCOUNT_ID, Channel.SMS, reply_id="in.sms.1")
    original = services.repos.accounts.get
    reads = iter([stale])
    monkeypatch.setattr(services.repos.accounts, "get", lambda key: next(reads, None) or original(key))

    # When the second handling records it
    honour_opt_out(services, ACCOUNT_ID, Channel.SMS, reply_id="in.sms.1")

    # Then the opt-out, each suppressed channel and the audit entry are there once
    account = AccountModel.get(ACCOUNT_ID)
    assert [(o.channel, o.address) for o in account.opt_outs] == [(None, None)]
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert [e.action for e in AuditModel.query(ACCOUNT_ID)] == ["opted_out"]


# --- "Email me instead": a channel asked for, not an opt-out of everything ----------------------------


def _audit(action: str) -> list[AuditModel]:
    return [entry for entry in AuditModel.query(ACCOUNT_ID) if entry.action == action]


def test_asking_for_email_instead_of_sms_stops_sms_only_and_records_email(services):
    # Given a journey waiting for an answer to an SMS
    save_account()
    token = park_journey()
    # When the debtor answers that they want email, not SMS
    take_replies(services, [_reply("No more SMS please, email me instead")])
    # Then SMS alone is stopped (on any number), email is their stated channel, and both are audited
    account = AccountModel.get(ACCOUNT_ID)
    assert account.suppressed_channels == ["sms"]
    assert [(o.channel, o.address) for o in account.opt_outs] == [("sms", None)]
    assert account.stated_channel == "email"
    (stated,) = _audit("channel_stated")
    assert stated.inputs["channel"] == "email" and stated.inputs["reply_id"] == "in.sms.in-1"
    (opted,) = _audit("opted_out")
    assert opted.rule == "optout.channel" and opted.inputs["channels"] == ["sms"]
    # And the journey still hears that the debtor refused something, so it records it and moves on
    assert services.stepfunctions.resumed[0][0] == token
    assert services.stepfunctions.resumed[0][1]["opt_out"] is True


def test_a_channel_refused_with_not_on_this_number_is_the_one_the_reply_came_on(services):
    save_account()
    text = "Please don't message me on this number, email me instead"
    take_replies(services, [_reply(text, Channel.WHATSAPP)])
    account = AccountModel.get(ACCOUNT_ID)
    assert account.suppressed_channels == ["whatsapp"] and account.stated_channel == "email"


def test_whatsapp_only_is_honoured_by_the_journey_step_and_keeps_whatsapp(services):
    # Given "WhatsApp only please", which the inbound check does not take for an opt-out and the analysis
    # does (contact limited to another channel): the journey's RecordOptOut step honours it
    save_account()
    take_replies(services, [_reply("WhatsApp only please")])
    outcome = honour_opt_out(services, ACCOUNT_ID, Channel.SMS, reply_id="in.sms.in-1", journey_id="J1")
    # Then every channel but WhatsApp is stopped, WhatsApp is the stated channel, and it is not an opt-out
    # of every channel
    account = AccountModel.get(ACCOUNT_ID)
    assert set(account.suppressed_channels) == {c.value for c in Channel} - {"whatsapp"}
    assert account.stated_channel == "whatsapp"
    assert not outcome.every_channel and outcome.stated_channel is Channel.WHATSAPP
    # And a second honouring (the inbound function and the journey both see it) changes nothing
    again = honour_opt_out(services, ACCOUNT_ID, Channel.SMS, reply_id="in.sms.in-1", journey_id="J1")
    assert not again.recorded and again.newly_suppressed == ()
    assert len(_audit("opted_out")) == 1 and len(_audit("channel_stated")) == 1


def test_please_email_me_records_the_channel_and_stops_nothing(services):
    save_account()
    park_journey()
    take_replies(services, [_reply("please email me")])
    account = AccountModel.get(ACCOUNT_ID)
    assert account.stated_channel == "email"
    assert account.suppressed_channels == [] and account.opt_outs == []
    assert services.stepfunctions.resumed[0][1]["opt_out"] is False


@pytest.mark.parametrize("text", ["STOP", "stop contacting me", "Stop texting me"])
def test_a_stop_that_asks_for_no_other_channel_still_stops_every_channel(services, text):
    save_account()
    take_replies(services, [_reply(text)])
    account = AccountModel.get(ACCOUNT_ID)
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert [(o.channel, o.address) for o in account.opt_outs] == [(None, None)]
    assert account.stated_channel is None


def test_an_opt_out_in_force_is_not_narrowed_by_a_later_request_for_a_channel(services):
    # Given a debtor who opted out of everything
    save_account()
    take_replies(services, [_reply("STOP", provider_id="in-1")])
    # When they later write "email me instead"
    outcome = honour_opt_out(services, ACCOUNT_ID, Channel.SMS, reply_id="in.sms.in-1")
    take_replies(services, [_reply("No more SMS, email me instead", provider_id="in-2")])
    # Then nothing is lifted: only a person can take them back in
    account = AccountModel.get(ACCOUNT_ID)
    assert outcome.every_channel
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert (None, None) in [(o.channel, o.address) for o in account.opt_outs]


def test_after_email_instead_the_next_assessment_and_the_next_attempt_use_email(services):
    import dataclasses

    from rapport.journey.steps import AssessInput, PlanContactInput, assess_account, plan_contact

    # Given an assessment made before the reply, whose second attempt is not by email
    save_account()
    senders = {channel: object() for channel in (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)}
    svc = dataclasses.replace(services, senders=senders)
    before = assess_account(svc, AssessInput(account_id=ACCOUNT_ID, journey_id="J1"))
    assert before["channels"][1] != "email" and "sms" in before["channels"]
    # When the debtor asks for email instead of SMS
    take_replies(svc, [_reply("No more SMS please, email me instead")])
    # Then the journey's next attempt goes by email
    step = PlanContactInput(account_id=ACCOUNT_ID, journey_id="J1", attempt=1, assessment=before)
    contact = plan_contact(svc, step)
    assert contact["channel"] == "email"
    # And a later journey ranks email first and leaves SMS out
    after = assess_account(svc, AssessInput(account_id=ACCOUNT_ID, journey_id="J2"))
    assert after["channels"][0] == "email" and "sms" not in after["channels"]


@pytest.mark.parametrize(
    "text",
    [
        "STOP contacting me, send it to my email",
        "UNSUBSCRIBE, email me instead",
        "Don't contact me. Email is fine for my lawyer",
    ],
)
def test_an_opt_out_that_names_a_channel_but_refuses_none_stops_every_channel(services, text):
    # Given a journey waiting on an SMS
    save_account()
    park_journey()
    # When the debtor texts an opt-out that also mentions email, refusing no channel in so many words
    take_replies(services, [_reply(text)])
    # Then it is an opt-out of everything, not a change of channel
    account = AccountModel.get(ACCOUNT_ID)
    assert sorted(account.suppressed_channels) == sorted(c.value for c in Channel)
    assert [(o.channel, o.address) for o in account.opt_outs] == [(None, None)]
    assert account.stated_channel != "email"


def _plan_attempts(services, attempts) -> list[dict]:
    import dataclasses

    from rapport.journey.steps import PlanContactInput, plan_contact

    services = dataclasses.replace(services, senders={c: object() for c in Channel})
    assessment = {"channels": ["sms", "whatsapp", "sms"], "templates": ["t1", "t2", "t3"]}
    assessment["stated_channel"] = None
    steps = [
        PlanContactInput(account_id=ACCOUNT_ID, journey_id="J1", attempt=n, assessment=assessment) for n in attempts
    ]
    return [plan_contact(services, step) for step in steps]


def test_a_stated_channel_with_no_address_leaves_the_journey_its_own_channels(services):
    # Given an account with a phone and no email, whose debtor wrote "please email me" since the assessment
    save_account(email=None, stated_channel="email")
    # When the next attempts are planned
    decisions = _plan_attempts(services, (1, 2))
    # Then they go on the journey's own channels, not refused one after another for a missing address
    assert [d["channel"] for d in decisions] == ["whatsapp", "sms"]
    assert "address.missing" not in [d.get("rule") for d in decisions]


def test_a_stated_channel_that_failed_in_this_journey_gives_way_to_the_next(services):
    # Given a debtor who asked for email, and an email of this journey that bounced
    save_account(stated_channel="email")
    ContactModel(
        ACCOUNT_ID, "J1.1.t2", at=NOW, direction="out", channel="email", status="bounced", journey_id="J1",
        template_id="t2",
    ).save()
    # When the next attempt is planned
    (decision,) = _plan_attempts(services, (2,))
    # Then it takes the journey's own channel for that attempt
    assert decision["channel"] == "sms"
