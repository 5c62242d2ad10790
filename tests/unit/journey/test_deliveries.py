"""Delivery events on the timeline: status, suppression of dead addresses, escalation of journeys; and
sending itself: one message once, and a message that cannot be sent kept on the account's record."""

from __future__ import annotations

import dataclasses
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

from rapport.journey.deliveries import contact_status_after, take_deliveries, take_delivery_notifications
from rapport.journey.errors import SendInProgressError
from rapport.journey.messages import SEND_CLAIM_STALE_AFTER
from rapport.journey.steps import SendInput, _channel_stats, send_message
from rapport.messaging.channels import (
    ChannelRejectedError,
    ChannelThrottledError,
    OutboundMessage,
    RejectionReason,
    SendReceipt,
)
from rapport.messaging.delivery import DeliveryEvent, DeliveryStatus
from rapport.messaging.preference import rank_channels
from rapport.messaging.templates import MessageRenderer, TemplateCatalogue
from rapport.models.enums import Channel
from rapport.store.models import AccountModel, AuditModel, ContactModel

# Ids in tests/unit/messaging/events/sms_event_invalid.json and ses_event_bounce_permanent.json.
SMS_PROVIDER_ID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
SMS_MESSAGE_ID = "msg_01JE9X3KAT"
SES_PROVIDER_ID = "0101019384a7b2c1-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000"
SES_MESSAGE_ID = "msg_01JE9X3K9S"


def _event(
    status: DeliveryStatus, *, provider_id: str = "prov-1", permanent: bool = True, **changes
) -> DeliveryEvent:
    values = {
        "provider_message_id": provider_id,
        "message_id": None,
        "channel": Channel.SMS,
        "status": status,
        "permanent": permanent,
        "reason": f"{status.value} for the test",
        "occurred_at": NOW,
        "address": PHONE,
    }
    return DeliveryEvent(**(values | changes))


@pytest.mark.parametrize(
    ("current", "status", "expected"),
    [
        ("sent", DeliveryStatus.DELIVERED, "delivered"),
        ("sent", DeliveryStatus.READ, "delivered"),
        ("sent", DeliveryStatus.SENT, "sent"),
        ("sent", DeliveryStatus.DELAYED, "sent"),
        ("delivered", DeliveryStatus.BOUNCED, "bounced"),
        ("delivered", DeliveryStatus.COMPLAINED, "complained"),
        ("bounced", DeliveryStatus.DELIVERED, "bounced"),
        ("complained", DeliveryStatus.DELIVERED, "complained"),
        ("failed", DeliveryStatus.OPTED_OUT, "opted_out"),
    ],
)
def test_a_message_status_only_moves_forward(current, status, expected):
    # Given a message in status ``current`` and an event about it
    # Then a failure outranks success, and nothing moves the status back
    assert contact_status_after(current, _event(status)) == expected


def test_a_hard_bounce_marks_the_message_blocks_the_address_and_escalates_the_waiting_journey(services):
    # Given a journey waiting for an answer to the SMS it just sent
    save_account()
    token = park_journey()
    save_sent("J1.0.first_notice", "prov-1")
    # When the carrier says the number does not exist
    counts = take_deliveries(services, [_event(DeliveryStatus.BOUNCED)])
    # Then the message is bounced, with the event kept on it
    message = ContactModel.get(ACCOUNT_ID, "J1.0.first_notice")
    assert message.status == "bounced" and message.failure_reason == "bounced for the test"
    assert [event["status"] for event in message.events] == ["bounced"]
    # And the number is blocked for SMS and the channel suppressed
    account = AccountModel.get(ACCOUNT_ID)
    assert account.suppressed_channels == ["sms"]
    assert [(o.channel, o.address) for o in account.opt_outs] == [("sms", PHONE)]
    # And the journey is resumed at once, told which message could not arrive
    assert services.stepfunctions.resumed == [
        (
            token,
            {
                "kind": "delivery_failed",
                "status": "bounced",
                "permanent": True,
                "channel": "sms",
                "message_id": "J1.0.first_notice",
                "waiting_for": "response",
            },
        )
    ]
    assert counts == {"updated": 1, "unmatched": 0, "duplicate": 0, "suppressed": 1, "escalated": 1}


def test_the_same_event_twice_is_recorded_once(services):
    # Given a delivered SMS
    save_account()
    save_sent("J1.0.first_notice", "prov-1", journey_id=None)
    delivered = _event(DeliveryStatus.DELIVERED, permanent=False)
    # When the provider repeats the delivery receipt
    first = take_deliveries(services, [delivered])
    second = take_deliveries(services, [delivered])
    # Then the second is recognised and nothing is recorded twice
    assert (first["updated"], second["duplicate"]) == (1, 1)
    message = ContactModel.get(ACCOUNT_ID, "J1.0.first_notice")
    assert message.status == "delivered" and len(message.events) == 1


def test_a_failure_of_an_older_message_leaves_the_journey_waiting(services):
    # Given a journey that has since sent a newer message and waits for an answer to that one
    save_account()
    park_journey()
    save_sent("J1.0.first_notice", "prov-old", minutes_ago=60)
    save_sent("J1.0.balance_statement", "prov-new", minutes_ago=5)
    # When the older message fails
    counts = take_deliveries(services, [_event(DeliveryStatus.FAILED, provider_id="prov-old")])
    # Then it is recorded, but the journey keeps waiting on the newer message
    assert counts["updated"] == 1 and counts["escalated"] == 0
    assert services.stepfunctions.resumed == []


def test_a_journey_waiting_on_a_promise_is_not_escalated_by_a_bounce(services):
    # Given a journey waiting for a promise's date after confirming it
    save_account()
    park_journey(waiting_for="promise")
    save_sent("J1.0.promise_confirmation", "prov-1")
    # When the confirmation bounces
    counts = take_deliveries(services, [_event(DeliveryStatus.BOUNCED)])
    # Then the address is blocked, but the promise keeps its date
    assert counts["suppressed"] == 1 and counts["escalated"] == 0


def test_a_soft_bounce_escalates_but_blocks_nothing(services):
    # Given a journey waiting on an email
    save_account()
    park_journey()
    save_sent("J1.1.reminder", "ses-1", channel="email")
    # When SES gives up on a full mailbox
    soft = _event(
        DeliveryStatus.BOUNCED, provider_id="ses-1", permanent=False, channel=Channel.EMAIL, address=EMAIL
    )
    counts = take_deliveries(services, [soft])
    # Then the journey moves on, and the address stays usable another day
    assert counts["escalated"] == 1 and counts["suppressed"] == 0
    account = AccountModel.get(ACCOUNT_ID)
    assert account.suppressed_channels == [] and account.opt_outs == []


def test_an_event_about_an_address_the_account_has_left_blocks_it_but_keeps_the_channel(services):
    # Given an account that moved to a new number after the SMS was sent
    save_account(phone="+27825550999")
    save_sent("J1.0.first_notice", "prov-1", journey_id=None)
    # When the old number is reported invalid
    take_deliveries(services, [_event(DeliveryStatus.BOUNCED)])
    # Then the old number is blocked, and SMS to the new one is still allowed
    account = AccountModel.get(ACCOUNT_ID)
    assert [(o.channel, o.address) for o in account.opt_outs] == [("sms", PHONE)]
    assert account.suppressed_channels == []


def test_an_event_for_no_message_of_ours_is_counted_unmatched(services):
    save_account()
    counts = take_deliveries(services, [_event(DeliveryStatus.DELIVERED, provider_id="not-ours")])
    assert counts["unmatched"] == 1 and counts["updated"] == 0


def test_a_whatsapp_status_is_matched_by_our_own_id_when_the_provider_id_differs(services):
    # Given a WhatsApp message recorded under AWS's send id, not Meta's wamid
    save_account()
    save_sent("J1.2.final_reminder", "aws-send-id", channel="whatsapp", journey_id=None)
    status = _event(
        DeliveryStatus.READ,
        provider_id="wamid.HBgLMjc4",
        message_id="J1.2.final_reminder",
        channel=Channel.WHATSAPP,
        permanent=False,
    )
    # When Meta reports it read, echoing our id in biz_opaque_callback_data
    counts = take_deliveries(services, [status])
    # Then the status lands on the right message
    assert counts["updated"] == 1
    assert ContactModel.get(ACCOUNT_ID, "J1.2.final_reminder").status == "delivered"


def test_the_delivery_topic_takes_ses_and_sms_events_in_their_aws_shapes(services):
    # Given the messages the shared SES and SMS event files are about
    save_account()
    save_sent(SES_MESSAGE_ID, SES_PROVIDER_ID, channel="email", journey_id=None)
    save_sent(SMS_MESSAGE_ID, SMS_PROVIDER_ID, channel="sms", journey_id=None)
    # When the topic delivers an SES permanent bounce and an SMS TEXT_INVALID event
    bounce = take_delivery_notifications(services, load_event("ses_event_bounce_permanent.json"))
    invalid = take_delivery_notifications(services, load_event("sms_event_invalid.json"))
    # Then both messages are bounced and both addresses blocked
    assert bounce["updated"] == invalid["updated"] == 1
    assert ContactModel.get(ACCOUNT_ID, SES_MESSAGE_ID).status == "bounced"
    assert ContactModel.get(ACCOUNT_ID, SMS_MESSAGE_ID).status == "bounced"
    account = AccountModel.get(ACCOUNT_ID)
    assert sorted(account.suppressed_channels) == ["email", "sms"]
    audit = [entry.rule for entry in AuditModel.query(ACCOUNT_ID) if entry.action == "address_suppressed"]
    assert sorted(audit) == ["delivery.bounced", "delivery.bounced"]


def test_a_notification_of_an_unknown_shape_is_counted_not_fatal(services):
    odd = {"somethingElse": True, "at": (NOW - timedelta(1)).isoformat()}
    counts = take_delivery_notifications(services, odd)
    assert counts["unknown"] == 1 and counts["updated"] == 0


# -- Sending: one message once, and a message that cannot be sent on the account's record ---------------


class _Sender:
    """A channel that accepts (or fails with ``fail_with``); ``during_send`` runs inside the first send, as a
    second invocation of the same step overlapping the provider call would."""

    def __init__(self, fail_with: Exception | None = None, during_send=None) -> None:
        self.sent: list[OutboundMessage] = []
        self.fail_with = fail_with
        self.during_send = during_send

    def send(self, message: OutboundMessage) -> SendReceipt:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
        if self.during_send is not None:
            hook, self.during_send = self.during_send, None
            hook()
        provider_id = f"p-{len(self.sent)}"
        return SendReceipt(
            message_id=message.message_id, channel=Channel.SMS, provider_message_id=provider_id, provider="fk"
        )


def _sending(services, sender: _Sender):
    renderer = MessageRenderer(TemplateCatalogue.load(default=True))
    return dataclasses.replace(services, senders={Channel.SMS: sender}, renderer=renderer)


FIRST_NOTICE = {
    "account_id": ACCOUNT_ID,
    "journey_id": "J1",
    "attempt": 0,
    "channel": "sms",
    "template_id": "first_notice",
    "with_link": False,
}
FIRST_NOTICE_ID = "J1.0.first_notice"


def _outbound() -> list[ContactModel]:
    return [c for c in ContactModel.query(ACCOUNT_ID) if c.direction == "out"]


def _send_failures() -> list[AuditModel]:
    return [a for a in AuditModel.query(ACCOUNT_ID) if a.action == "send_failed"]


def _claim(age: timedelta) -> None:
    """A claim made ``age`` ago in real time (the claim's clock: it is measured against a Lambda timeout)."""
    claimed_at = datetime.now(UTC) - age
    claim = {"status": "sending", "claimed_at": claimed_at, "claim_id": "x", "template_id": "first_notice"}
    ContactModel(
        ACCOUNT_ID, FIRST_NOTICE_ID, at=NOW - age, direction="out", channel="sms", journey_id="J1", **claim
    ).save()


def test_two_overlapping_invocations_of_one_send_step_send_once(services):
    # Given a second invocation of the step that starts while the first waits on the provider
    save_account()
    overlapping: dict[str, object] = {}

    def second_invocation() -> None:
        try:
            overlapping["result"] = send_message(svc, SendInput(**FIRST_NOTICE))
        except SendInProgressError as error:
            overlapping["error"] = error

    sender = _Sender(during_send=second_invocation)
    svc = _sending(services, sender)

    # When the first invocation sends
    first = send_message(svc, SendInput(**FIRST_NOTICE))

    # Then one message went; the second invocation found the claim and asks to be retried later
    assert first["status"] == "sent"
    assert len(sender.sent) == 1
    assert isinstance(overlapping.get("error"), SendInProgressError)
    assert [(c.contact_id, c.status) for c in _outbound()] == [(FIRST_NOTICE_ID, "sent")]
    # And the retried step finds the message sent
    assert send_message(svc, SendInput(**FIRST_NOTICE))["status"] == "duplicate"
    assert len(sender.sent) == 1


def test_a_fresh_claim_sends_nothing_and_a_stale_one_is_taken_over(services):
    # Given a claim written seconds ago by an invocation that may still be sending
    save_account()
    sender = _Sender()
    svc = _sending(services, sender)
    _claim(timedelta(seconds=5))

    # When the step runs again, it sends nothing and raises the error the state machine retries
    with pytest.raises(SendInProgressError):
        send_message(svc, SendInput(**FIRST_NOTICE))
    assert sender.sent == []

    # Given the claim is older than the send function may run (its invocation is dead)
    _claim(SEND_CLAIM_STALE_AFTER + timedelta(seconds=1))

    # Then the next invocation takes it over and sends
    assert send_message(svc, SendInput(**FIRST_NOTICE))["status"] == "sent"
    assert len(sender.sent) == 1
    [contact] = _outbound()
    assert contact.status == "sent" and contact.provider_message_id == "p-1"


def test_the_claim_outlives_the_send_function(services):
    from rapport_infra.catalogue import function_spec

    assert SEND_CLAIM_STALE_AFTER.total_seconds() >= function_spec("send_message").timeout_seconds


def test_a_throttled_send_that_the_state_machine_retries_leaves_no_failure_and_no_claim(services):
    # Given a channel that throttles
    save_account()
    sender = _Sender(fail_with=ChannelThrottledError("slow down", channel=Channel.SMS))

    # When the step fails with throttling (the state machine retries it with back-off)
    with pytest.raises(ChannelThrottledError):
        send_message(_sending(services, sender), SendInput(**FIRST_NOTICE))

    # Then nothing says it failed for good, and no claim stops the retry from sending
    assert _outbound() == []
    assert _send_failures() == []


def test_a_send_that_finally_failed_is_on_the_accounts_record_once_without_its_words(services):
    # Given a send throttled to the end of its retries (the state machine's Catch hands over the error)
    save_account()
    svc = _sending(services, _Sender())
    failed = {**FIRST_NOTICE, "failure": {"Error": "ChannelThrottledError", "Cause": "slow down"}}

    # When the failure is recorded, twice (the recording step retried)
    first = send_message(svc, SendInput(**failed))
    again = send_message(svc, SendInput(**failed))

    # Then the account's timeline holds one failed message: channel, template and reason, no body
    assert first["status"] == again["status"] == "failed"
    [contact] = _outbound()
    assert (contact.contact_id, contact.channel) == (FIRST_NOTICE_ID, "sms")
    assert contact.template_id == "first_notice"
    assert (contact.status, contact.failure_reason) == ("failed", "throttled")
    assert contact.text is None and contact.provider_message_id is None
    [entry] = _send_failures()
    assert entry.rule == "channel.throttled"
    assert entry.inputs["message_id"] == FIRST_NOTICE_ID and entry.inputs["template"] == "first_notice"


def test_a_refused_send_is_recorded_by_the_send_and_not_again_by_the_failure_step(services):
    # Given a channel that refuses the address
    save_account()
    refused = ChannelRejectedError("opted out", reason=RejectionReason.OPTED_OUT, channel=Channel.SMS)
    svc = _sending(services, _Sender(fail_with=refused))

    # When the send fails, and the state machine then records the failure
    with pytest.raises(ChannelRejectedError):
        send_message(svc, SendInput(**FIRST_NOTICE))
    failure = {"Error": "ChannelRejectedError", "Cause": "opted out"}
    send_message(svc, SendInput(**{**FIRST_NOTICE, "failure": failure}))

    # Then the account holds the failure once, with the channel's reason
    [contact] = _outbound()
    assert (contact.status, contact.failure_reason) == ("failed", "opted_out")
    assert [entry.rule for entry in _send_failures()] == ["channel.opted_out"]


def test_a_failure_recorded_for_a_message_that_was_sent_changes_nothing(services):
    # Given a message the provider accepted (the step failed afterwards, say on a timeout)
    save_account()
    svc = _sending(services, _Sender())
    send_message(svc, SendInput(**FIRST_NOTICE))

    # When the state machine records the step's failure
    result = send_message(svc, SendInput(**{**FIRST_NOTICE, "failure": {"Error": "States.TaskFailed"}}))

    # Then the message stays sent
    assert result["status"] == "duplicate"
    assert [c.status for c in _outbound()] == ["sent"]
    assert _send_failures() == []


def test_a_delivery_reported_before_the_send_returned_keeps_its_status(services):
    # Given a provider whose delivery event, matched on our own id, arrives while the send is still returning
    save_account()
    delivered = _event(DeliveryStatus.DELIVERED, provider_id="p-1", message_id=FIRST_NOTICE_ID)
    sender = _Sender(during_send=lambda: take_deliveries(services, [delivered]))

    # When the send returns
    send_message(_sending(services, sender), SendInput(**FIRST_NOTICE))

    # Then the message is delivered, with the provider's id, not set back to "sent"
    [contact] = _outbound()
    assert (contact.status, contact.provider_message_id) == ("delivered", "p-1")


# --- What the deliveries teach the channel choice ------------------------------------------------------


def _click(provider_message_id: str, minutes: int = 0) -> DeliveryEvent:
    return DeliveryEvent(
        provider_message_id=provider_message_id,
        message_id=None,
        channel=Channel.EMAIL,
        status=DeliveryStatus.CLICKED,
        permanent=False,
        reason="link clicked",
        occurred_at=NOW + timedelta(minutes=minutes),
        address=EMAIL,
    )


@pytest.mark.parametrize(("before", "after"), [("sent", "delivered"), ("delivered", "delivered")])
def test_a_click_records_a_link_open_on_the_message_and_never_downgrades_it(services, before, after):
    # Given an email we sent, accepted or already delivered
    save_account()
    contact = save_sent("J1.0.first_notice", "ses-1", channel="email")
    contact.update(actions=[ContactModel.status.set(before)])
    # When the debtor follows its link twice
    counts = take_deliveries(services, [_click("ses-1"), _click("ses-1", minutes=5)])
    # Then the message shows the link opened (a click proves delivery) and keeps its place otherwise
    stored = ContactModel.get(ACCOUNT_ID, "J1.0.first_notice")
    assert counts["updated"] == 2 and stored.status == after
    assert [e["status"] for e in stored.events] == ["clicked", "clicked"]
    # And it counts once as a link open on email
    stats = _channel_stats(services.repos.contacts.for_account(ACCOUNT_ID), [])
    assert stats[Channel.EMAIL].link_opens == 1


def test_a_click_after_a_bounce_leaves_the_bounce(services):
    save_account()
    contact = save_sent("J1.0.first_notice", "ses-1", channel="email")
    contact.update(actions=[ContactModel.status.set("bounced")])
    take_deliveries(services, [_click("ses-1")])
    assert ContactModel.get(ACCOUNT_ID, "J1.0.first_notice").status == "bounced"


def _old_message(contact_id: str, channel: str, status: str, minutes_ago: int, **fields) -> None:
    at = NOW - timedelta(days=30, minutes=minutes_ago)
    values = {"direction": "out", "channel": channel, "status": status, "journey_id": "old"}
    ContactModel(ACCOUNT_ID, contact_id, at=at, template_id="first_notice", **values, **fields).save()


def test_link_opens_per_channel_move_an_email_reader_up_the_ranking(services):
    # Given four unanswered SMS and four unanswered emails
    save_account()
    for number in range(4):
        _old_message(f"old.s{number}", "sms", "delivered", number)
        _old_message(f"old.e{number}", "email", "delivered", 10 + number)
    default = [Channel.SMS, Channel.EMAIL]
    unread = _channel_stats(services.repos.contacts.for_account(ACCOUNT_ID), [])
    assert rank_channels(unread, None, set(), default) == default
    # When the debtor follows the link of each email
    for number in range(4):
        clicked = [{"key": f"clicked@{number}", "status": "clicked", "permanent": False, "reason": "clicked"}]
        ContactModel(ACCOUNT_ID, f"old.e{number}").update(actions=[ContactModel.events.set(clicked)])
    stats = _channel_stats(services.repos.contacts.for_account(ACCOUNT_ID), [])
    # Then the link opens count on email, and email now comes first
    assert (stats[Channel.EMAIL].link_opens, stats[Channel.SMS].link_opens) == (4, 0)
    assert rank_channels(stats, None, set(), default) == [Channel.EMAIL, Channel.SMS]


def test_every_message_the_provider_accepted_counts_as_a_try_whatever_became_of_it(services):
    # Given seven unanswered SMS: four reported delivered, three with no report (still "sent")
    save_account()
    for number in range(4):
        _old_message(f"old.d{number}", "sms", "delivered", number)
    for number in range(3):
        _old_message(f"old.s{number}", "sms", "sent", 10 + number)
    # And a WhatsApp message that failed, an email that bounced, and one still being sent
    _old_message("old.w0", "whatsapp", "failed", 20)
    _old_message("old.e0", "email", "bounced", 21)
    _old_message("old.e1", "email", "sending", 22)
    stats = _channel_stats(services.repos.contacts.for_account(ACCOUNT_ID), [])
    # Then all seven SMS are tries, four of them delivered; failures are tries and failures
    assert (stats[Channel.SMS].sent, stats[Channel.SMS].delivered) == (7, 4)
    assert (stats[Channel.WHATSAPP].sent, stats[Channel.WHATSAPP].failed) == (1, 1)
    assert (stats[Channel.EMAIL].sent, stats[Channel.EMAIL].bounced) == (1, 1)
    # And seven unanswered SMS let the next channel overtake SMS
    order = rank_channels({Channel.SMS: stats[Channel.SMS]}, None, set(), [Channel.SMS, Channel.WHATSAPP])
    assert order[0] is Channel.WHATSAPP
