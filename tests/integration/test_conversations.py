"""Two-way conversations on the local cloud: replies on every channel, delivery events, opt-outs.

Each test plays one debtor and the providers around them: replies arrive as End User Messaging
(SMS, WhatsApp) and SES receiving (email) publish them, delivery events as SES event publishing and
End User Messaging SMS events publish them (``rapport_local.conversations``), through the real
handlers subscribed to each topic, while the real journey ASL runs on moto.
"""

from __future__ import annotations

import json

import boto3
import pytest
from journey_helpers import account, finished, load, start

from rapport.compliance import DecisionOutcome, evaluate_contact
from rapport.journey.messages import compliance_request
from rapport.journey.steps import _channel_stats
from rapport.messaging.channels import ChannelRejectedError, ChannelThrottledError, RejectionReason
from rapport.models.enums import Channel
from rapport.store.models import AccountModel, AuditModel, ContactModel, JourneyModel, WorklistModel
from rapport_local.cloud import REGION
from rapport_local.conversations import deliver_event, reply_by_email, reply_by_whatsapp

pytestmark = pytest.mark.integration


def _outcome(cloud, journey_id: str, timeout: float = 60) -> str:
    description = finished(cloud, journey_id, timeout)
    assert description["status"] == "SUCCEEDED", description.get("error")
    return json.loads(description["output"])["outcome"]["name"]


def _sent(account_id: str) -> list[ContactModel]:
    """Our messages to the debtor, oldest first."""
    messages = [c for c in ContactModel.query(account_id) if c.direction == "out"]
    return sorted(messages, key=lambda c: (c.at, c.contact_id))


def _replies(account_id: str) -> list[ContactModel]:
    return [c for c in ContactModel.query(account_id) if c.direction == "in"]


def _actions(account_id: str) -> list[str]:
    return [entry.action for entry in sorted(AuditModel.query(account_id), key=lambda e: e.entry_id)]


def test_sms_reply_then_a_bounce_escalates_to_email_at_once_and_an_opt_out_ends_the_journey(make_cloud):
    # Given a debtor whose strategy tries SMS, WhatsApp, then email, with a reply timeout far longer
    # than the test may take
    cloud, waits = make_cloud()
    debtor = account(101, months_late=2)
    load(cloud, debtor, stated_channel=None)
    journey_id = start(cloud, debtor.account_id, reply_timeout=600)
    waits.wait(debtor.account_id)
    assert [(c.channel, c.status) for c in _sent(debtor.account_id)] == [("sms", "sent")]
    stored = AccountModel.get(debtor.account_id)

    # When the debtor answers the SMS with a refusal, the journey moves on to WhatsApp
    taken = cloud.reply_by_sms(stored.phone, "I refuse to pay this")
    assert taken["resumed"] == 1
    waits.wait(debtor.account_id)
    whatsapp = _sent(debtor.account_id)[-1]
    assert whatsapp.channel == "whatsapp"

    # And WhatsApp reports that message undeliverable: the number is not on WhatsApp
    bounced = deliver_event(cloud, whatsapp, "failed", error_code=131026)
    assert bounced["statuses_updated"] == 1 and bounced["statuses_escalated"] == 1

    # Then the journey escalates to email now, not after the ten-minute reply timeout
    waits.wait(debtor.account_id, timeout=30)
    email = _sent(debtor.account_id)[-1]
    assert (email.channel, email.status) == ("email", "sent")
    assert ContactModel.get(debtor.account_id, whatsapp.contact_id).status == "bounced"
    after_bounce = AccountModel.get(debtor.account_id)
    assert "whatsapp" in after_bounce.suppressed_channels and "sms" not in after_bounce.suppressed_channels
    assert any(o.channel == "whatsapp" and o.address == stored.phone for o in after_bounce.opt_outs)

    # When the debtor answers the email asking not to be contacted at all
    text = "Please stop contacting me."
    taken = reply_by_email(cloud, stored.email, text, in_reply_to=email.provider_message_id)
    assert taken["resumed"] == 1

    # Then every channel is suppressed, the opt-out is confirmed by email, and the journey ends opted out
    assert _outcome(cloud, journey_id) == "opted_out"
    final = AccountModel.get(debtor.account_id)
    assert {c.value for c in Channel} <= set(final.suppressed_channels)
    assert any(o.channel is None and o.address is None for o in final.opt_outs)
    confirmation = _sent(debtor.account_id)[-1]
    assert (confirmation.channel, confirmation.template_id, confirmation.status) == (
        "email", "opt_out_confirmation", "sent",
    )
    actions = _actions(debtor.account_id)
    assert actions.index("escalated_on_delivery_failure") < actions.index("opted_out")
    assert [w.reason for w in WorklistModel.query("agents")] == ["opted_out"]


def test_an_sms_reply_answered_by_sms_then_an_sms_bounce_escalates_to_email_and_stop_ends_it(make_cloud):
    # Given a debtor reached by SMS and email only (WhatsApp closed earlier), with a reply timeout far
    # longer than the test may take
    cloud, waits = make_cloud()
    debtor = account(105, months_late=2)
    load(cloud, debtor, stated_channel=None, suppressed_channels=["whatsapp"])
    journey_id = start(cloud, debtor.account_id, reply_timeout=600)
    waits.wait(debtor.account_id)
    first = _sent(debtor.account_id)[-1]
    assert (first.channel, first.status) == ("sms", "sent")
    stored = AccountModel.get(debtor.account_id)

    # When the debtor answers the SMS with a question, the journey answers it by SMS and waits again
    assert cloud.reply_by_sms(stored.phone, "How much do I owe you?")["resumed"] == 1
    waits.wait(debtor.account_id)
    answer = _sent(debtor.account_id)[-1]
    assert (answer.channel, answer.status, answer.template_id) == ("sms", "sent", "balance_statement")

    # And the operator reports that SMS undeliverable: the number is not a valid mobile number
    bounced = deliver_event(cloud, answer, "TEXT_INVALID")
    assert bounced["escalated"] == 1

    # Then the journey escalates to email at once, and SMS is closed for that number
    waits.wait(debtor.account_id, timeout=30)
    email = _sent(debtor.account_id)[-1]
    assert (email.channel, email.status) == ("email", "sent")
    assert ContactModel.get(debtor.account_id, answer.contact_id).status == "bounced"
    assert "sms" in AccountModel.get(debtor.account_id).suppressed_channels

    # When the debtor replies to the email with STOP
    assert reply_by_email(cloud, stored.email, "STOP", in_reply_to=email.provider_message_id)["resumed"] == 1

    # Then every channel is closed, the opt-out is confirmed by email, and the journey ends opted out
    assert _outcome(cloud, journey_id) == "opted_out"
    assert {c.value for c in Channel} <= set(AccountModel.get(debtor.account_id).suppressed_channels)
    confirmation = _sent(debtor.account_id)[-1]
    assert (confirmation.channel, confirmation.template_id) == ("email", "opt_out_confirmation")


def test_a_whatsapp_reply_resumes_the_journey_and_a_redelivered_message_is_recognised(make_cloud):
    # Given a debtor who prefers WhatsApp and has just been sent the first notice there
    cloud, waits = make_cloud()
    debtor = account(102, balance_cents=90_000)
    load(cloud, debtor, stated_channel="whatsapp")
    journey_id = start(cloud, debtor.account_id, reply_timeout=60, promise_wait=60)
    waits.wait(debtor.account_id)
    first = _sent(debtor.account_id)[0]
    assert first.channel == "whatsapp"

    # When they promise to pay in a WhatsApp message, and the provider delivers that message twice
    phone = AccountModel.get(debtor.account_id).phone
    taken = reply_by_whatsapp(cloud, phone, "I will pay the full amount on Friday", wamid="wamid.local-102-1")
    again = reply_by_whatsapp(cloud, phone, "I will pay the full amount on Friday", wamid="wamid.local-102-1")

    # Then the first resumes the journey, which records the promise and waits for its date
    assert taken["resumed"] == 1
    assert again["duplicate"] == 1 and again["resumed"] == 0
    waits.wait(debtor.account_id, "promise")
    replies = _replies(debtor.account_id)
    assert [(r.contact_id, r.channel) for r in replies] == [("in.whatsapp.wamid.local-102-1", "whatsapp")]
    assert "promise_recorded" in _actions(debtor.account_id)
    # And paying closes it as a kept promise
    cloud.pay_latest_link(debtor.account_id, 90_000)
    assert _outcome(cloud, journey_id) == "promise_kept"


def test_an_email_reply_resumes_the_journey(make_cloud):
    # Given a debtor who prefers email and has been sent the first notice there
    cloud, waits = make_cloud()
    debtor = account(103, balance_cents=120_000)
    load(cloud, debtor, stated_channel="email")
    journey_id = start(cloud, debtor.account_id, reply_timeout=60)
    waits.wait(debtor.account_id)
    first = _sent(debtor.account_id)[0]
    assert first.channel == "email"

    # When they reply by email above the quoted notice
    stored = AccountModel.get(debtor.account_id)
    text = "What is the balance on my account?\n\nOn Mon, 7 Dec 2026 at 09:00, Acme wrote:\n> Your account..."
    taken = reply_by_email(cloud, stored.email.upper(), text, in_reply_to=first.provider_message_id)

    # Then the reply is stored without the quote, understood as a balance question, and the journey
    # answers it (the guardrails hold a second email today back) and waits again
    assert taken["resumed"] == 1
    waits.wait(debtor.account_id)
    (reply,) = _replies(debtor.account_id)
    assert (reply.channel, reply.text) == ("email", "What is the balance on my account?")
    analysed = [e for e in AuditModel.query(debtor.account_id) if e.action == "reply_analysed"]
    assert [e.rule for e in analysed] == ["intent.balance_query"]
    cloud.pay_latest_link(debtor.account_id, 120_000)
    assert _outcome(cloud, journey_id) == "paid"


def test_a_complaint_suppresses_the_email_address_and_the_journey_moves_to_sms(make_cloud):
    # Given a debtor contacted first by email
    cloud, waits = make_cloud()
    debtor = account(104, months_late=4, balance_cents=70_000)
    load(cloud, debtor, stated_channel="email")
    journey_id = start(cloud, debtor.account_id, reply_timeout=600)
    waits.wait(debtor.account_id)
    email = _sent(debtor.account_id)[0]
    assert email.channel == "email"

    # When the mailbox provider reports a spam complaint about that email (delivered first)
    assert deliver_event(cloud, email, "Delivery")["updated"] == 1
    complained = deliver_event(cloud, email, "Complaint")
    repeated = deliver_event(cloud, email, "Delivery")

    # Then the message is marked complained (a late delivery does not undo it), the address is blocked
    assert complained["suppressed"] == 1 and complained["escalated"] == 1
    assert repeated["updated"] == 1
    assert ContactModel.get(debtor.account_id, email.contact_id).status == "complained"
    stored = AccountModel.get(debtor.account_id)
    assert "email" in stored.suppressed_channels
    assert any(o.channel == "email" and o.address == stored.email for o in stored.opt_outs)
    # And the guardrails refuse any further email to it, whoever asks
    decision = evaluate_contact(
        compliance_request(cloud.services, stored, Channel.EMAIL, "collection"), cloud.clock.now()
    )
    assert decision.outcome is DecisionOutcome.REFUSE and decision.rule == "optout.email"
    # And the journey went straight on to SMS
    waits.wait(debtor.account_id, timeout=30)
    assert _sent(debtor.account_id)[-1].channel == "sms"
    cloud.pay_latest_link(debtor.account_id, 70_000)
    assert _outcome(cloud, journey_id) == "paid"
    assert [c.channel for c in _sent(debtor.account_id) if c.template_id != "payment_received_thanks"] == [
        "email", "sms",
    ]


def test_stop_with_no_journey_running_stops_every_channel_and_a_journey_confirms_it(make_cloud):
    # Given a debtor with no journey running
    cloud, _ = make_cloud()
    debtor = account(105)
    load(cloud, debtor, stated_channel=None)
    phone = AccountModel.get(debtor.account_id).phone

    # When they send STOP on WhatsApp
    taken = reply_by_whatsapp(cloud, phone, "STOP")

    # Then every channel is stopped at once, not only WhatsApp
    assert taken["started"] == 1
    stored = AccountModel.get(debtor.account_id)
    assert sorted(stored.suppressed_channels) == sorted(c.value for c in Channel)
    assert [(o.channel, o.address) for o in stored.opt_outs] == [(None, None)]
    assert "opted_out" in _actions(debtor.account_id)

    # And the journey the reply started confirms it on WhatsApp, and sends nothing else on any channel
    [journey] = JourneyModel.query(debtor.account_id)
    assert _outcome(cloud, journey.journey_id) == "opted_out"
    assert [(c.channel, c.template_id) for c in _sent(debtor.account_id)] == [("whatsapp", "opt_out_confirmation")]
    assert [w.journey_id for w in WorklistModel.query("agents")] == [journey.journey_id]
    for channel in (Channel.SMS, Channel.EMAIL):
        request = compliance_request(cloud.services, AccountModel.get(debtor.account_id), channel, "collection")
        assert evaluate_contact(request, cloud.clock.now()).outcome is DecisionOutcome.REFUSE


class _FailingSms:
    """An SMS channel that fails every send with ``error`` (a fresh one each time)."""

    channel = Channel.SMS

    def __init__(self, error) -> None:
        self.error = error
        self.calls = 0

    def send(self, message):
        self.calls += 1
        raise self.error()


def _dead_letters(cloud) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    received = sqs.receive_message(QueueUrl=cloud.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in received]


@pytest.mark.parametrize(
    ("error", "calls", "reason"),
    [
        (lambda: ChannelThrottledError("ThrottlingException", channel=Channel.SMS), 5, "throttled"),
        (
            lambda: ChannelRejectedError("invalid", reason=RejectionReason.INVALID_ADDRESS),
            1,
            "invalid_address",
        ),
    ],
    ids=["throttled_to_the_end_of_its_retries", "rejected"],
)
def test_an_sms_that_cannot_be_sent_ends_in_the_dead_letter_queue_and_on_the_account(
    make_cloud, error, calls, reason
):
    # Given a debtor whose journey starts on SMS, and an SMS channel that fails every send
    cloud, waits = make_cloud()
    debtor = account(301, months_late=2)
    load(cloud, debtor, stated_channel=None)
    failing = _FailingSms(error)
    cloud.services.senders = {**cloud.services.senders, Channel.SMS: failing}

    # When the journey starts, and waits after the next channel's message
    start(cloud, debtor.account_id, reply_timeout=600)
    waits.wait(debtor.account_id, timeout=90)

    # Then the SMS was tried as often as the step retries that error, then left for the next channel
    assert failing.calls == calls
    sent = _sent(debtor.account_id)
    assert sent[-1].channel != "sms" and sent[-1].status == "sent"
    # And the dead-letter queue holds it once, by its ids and the error, without personal data
    [letter] = _dead_letters(cloud)
    assert set(letter) == {"account_id", "journey_id", "attempt", "channel", "template_id", "error"}
    assert (letter["account_id"], letter["channel"], letter["attempt"]) == (debtor.account_id, "sms", 0)
    # And the account's record shows the SMS that could not be sent, once, with its reason and no words
    [failed] = [c for c in sent if c.channel == "sms"]
    assert (failed.status, failed.failure_reason, failed.text) == ("failed", reason, None)
    failures = [a for a in AuditModel.query(debtor.account_id) if a.action == "send_failed"]
    assert [(a.rule, a.inputs["message_id"]) for a in failures] == [(f"channel.{reason}", failed.contact_id)]


def test_an_opt_out_confirmation_that_cannot_be_sent_ends_in_the_dead_letter_queue_and_on_the_account(
    make_cloud,
):
    # Given a journey waiting after its first SMS
    cloud, waits = make_cloud()
    debtor = account(302, months_late=2)
    load(cloud, debtor, stated_channel=None)
    journey_id = start(cloud, debtor.account_id, reply_timeout=600)
    waits.wait(debtor.account_id)
    # and an SMS channel that is throttled from now on
    failing = _FailingSms(lambda: ChannelThrottledError("ThrottlingException", channel=Channel.SMS))
    cloud.services.senders = {**cloud.services.senders, Channel.SMS: failing}

    # When the debtor answers STOP by SMS
    cloud.reply_by_sms(AccountModel.get(debtor.account_id).phone, "STOP")

    # Then the journey still ends as an opt-out, after the confirmation was retried with back-off
    assert _outcome(cloud, journey_id) == "opted_out"
    assert failing.calls == 5
    # And the confirmation that could not be sent is in the dead-letter queue and on the account's record
    [letter] = _dead_letters(cloud)
    assert (letter["template_id"], letter["channel"], letter["error"]) == (
        "opt_out_confirmation",
        "sms",
        "ChannelThrottledError",
    )
    [failed] = [c for c in _sent(debtor.account_id) if c.template_id == "opt_out_confirmation"]
    assert (failed.channel, failed.status, failed.failure_reason) == ("sms", "failed", "throttled")
    assert "send_failed" in _actions(debtor.account_id)


def test_email_instead_of_sms_stops_sms_only_and_the_journey_goes_on_by_email(make_cloud):
    # Given a debtor whose strategy tries SMS first, with a journey waiting for an answer to its SMS
    cloud, waits = make_cloud()
    debtor = account(101, months_late=2)
    load(cloud, debtor, stated_channel=None)
    journey_id = start(cloud, debtor.account_id, reply_timeout=600)
    waits.wait(debtor.account_id)
    assert [c.channel for c in _sent(debtor.account_id)] == ["sms"]
    phone = AccountModel.get(debtor.account_id).phone

    # When the debtor answers that they want email, not SMS
    taken = cloud.reply_by_sms(phone, "No more SMS please, email me instead")
    assert taken["resumed"] == 1

    # Then SMS alone is stopped, email is their stated channel, and the journey's next message goes by email
    waits.wait(debtor.account_id, timeout=30)
    stored = AccountModel.get(debtor.account_id)
    assert stored.suppressed_channels == ["sms"] and stored.stated_channel == "email"
    assert [(o.channel, o.address) for o in stored.opt_outs] == [("sms", None)]
    latest = _sent(debtor.account_id)[-1]
    assert (latest.channel, latest.status) == ("email", "sent")
    assert latest.template_id != "opt_out_confirmation"
    # And the journey is still collecting, not ended as an opt-out
    assert JourneyModel.get(debtor.account_id, journey_id).status != "finished"


def test_a_link_followed_in_an_email_is_learned_for_email(make_cloud):
    # Given a debtor who got an email from us (the journey ran out of other channels to try first)
    cloud, waits = make_cloud()
    debtor = account(107, months_late=2)
    load(cloud, debtor, stated_channel="email")
    start(cloud, debtor.account_id, reply_timeout=600)
    waits.wait(debtor.account_id)
    email = _sent(debtor.account_id)[-1]
    assert email.channel == "email"

    # When SES reports the email opened and its link clicked
    opened = deliver_event(cloud, email, "Open")
    clicked = deliver_event(cloud, email, "Click")

    # Then both are on the message, which counts as delivered, and the click as a link opened on email
    assert (opened["updated"], clicked["updated"]) == (1, 1)
    stored = ContactModel.get(debtor.account_id, email.contact_id)
    assert stored.status == "delivered"
    assert [event["status"] for event in stored.events] == ["read", "clicked"]
    stats = _channel_stats(list(ContactModel.query(debtor.account_id)), [])
    assert stats[Channel.EMAIL].link_opens == 1
