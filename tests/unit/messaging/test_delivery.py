"""Parsing delivery events: SES event publishing, End User Messaging SMS events, WhatsApp statuses."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rapport.messaging.channels.identifiers import to_ses_tag_value
from rapport.messaging.delivery import (
    SMS_EVENT_TYPES,
    DeliveryEvent,
    DeliveryStatus,
    MalformedNotificationError,
    parse_ses_events,
    parse_sms_events,
    parse_whatsapp_statuses,
    ses_events,
    sms_event,
    suppresses_address,
)
from rapport.models.enums import Channel

EVENTS = Path(__file__).parent / "events"
SES_ID = "0101019384a7b2c1-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000"
DEBTOR_EMAIL = "thandi.debtor@example.com"
COMPLAINED = DeliveryStatus.COMPLAINED
FAILED = DeliveryStatus.FAILED


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def inner(name: str) -> dict[str, Any]:
    """The payload inside the Lambda SNS event of a test file."""
    return json.loads(load(name)["Records"][0]["Sns"]["Message"])


# --- SES ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "permanent", "reason", "occurred_at"),
    [
        ("ses_event_send.json", DeliveryStatus.SENT, False, "accepted by SES", "2026-12-01T06:00:01.120Z"),
        (
            "ses_event_delivery.json",
            DeliveryStatus.DELIVERED,
            False,
            "250 2.0.0 OK 1796104803 example",
            "2026-12-01T06:00:03.880Z",
        ),
        (
            "ses_event_bounce_permanent.json",
            DeliveryStatus.BOUNCED,
            True,
            "Permanent/NoEmail 5.1.1",
            "2026-12-01T06:00:04.200Z",
        ),
        (
            "ses_event_bounce_transient.json",
            DeliveryStatus.BOUNCED,
            False,
            "Transient/MailboxFull 4.2.2",
            "2026-12-01T08:00:04.200Z",
        ),
        ("ses_event_complaint.json", COMPLAINED, True, "complaint abuse", "2026-12-01T09:12:44Z"),
        ("ses_event_reject.json", FAILED, True, "rejected: Bad content", "2026-12-01T06:00:01.120Z"),
        (
            "ses_event_delivery_delay.json",
            DeliveryStatus.DELAYED,
            False,
            "delayed: TransientCommunicationFailure",
            "2026-12-01T06:20:00Z",
        ),
    ],
)
def test_ses_events(name: str, status: DeliveryStatus, permanent: bool, reason: str, occurred_at: str):
    # Given an SES event-publishing record delivered through SNS / When parsed
    events = parse_ses_events(load(name))
    # Then one event for the recipient, mapped back to our message id through the SES tag
    assert events == [
        DeliveryEvent(
            provider_message_id=SES_ID,
            message_id="msg_01JE9X3K9S",
            channel=Channel.EMAIL,
            status=status,
            permanent=permanent,
            reason=reason,
            occurred_at=datetime.fromisoformat(occurred_at),
            address=DEBTOR_EMAIL,
        )
    ]


@pytest.mark.parametrize(
    ("name", "suppress"),
    [
        ("ses_event_send.json", False),
        ("ses_event_delivery.json", False),
        ("ses_event_bounce_permanent.json", True),
        ("ses_event_bounce_transient.json", False),
        ("ses_event_complaint.json", True),
        ("ses_event_reject.json", False),
        ("ses_event_delivery_delay.json", False),
    ],
)
def test_ses_suppression(name: str, suppress: bool) -> None:
    (event,) = parse_ses_events(load(name))
    assert suppresses_address(event) is suppress


def test_ses_identity_notifications_use_notification_type() -> None:
    # Given feedback sent straight from the identity (no configuration set): notificationType, no tags
    record = inner("ses_event_bounce_permanent.json")
    record["notificationType"] = record.pop("eventType")
    del record["mail"]["tags"]
    (event,) = ses_events(record)
    assert event.status is DeliveryStatus.BOUNCED
    assert event.message_id is None


def test_ses_encoded_message_id_tag_is_decoded() -> None:
    record = inner("ses_event_delivery.json")
    record["mail"]["tags"]["message_id"] = [to_ses_tag_value("msg/2026.12.01#7")]
    (event,) = ses_events(record)
    assert event.message_id == "msg/2026.12.01#7"


def test_ses_bounce_gives_one_event_per_bounced_recipient() -> None:
    record = inner("ses_event_bounce_permanent.json")
    second = copy.deepcopy(record["bounce"]["bouncedRecipients"][0])
    second["emailAddress"] = "Other.Debtor@Example.com"
    record["bounce"]["bouncedRecipients"].append(second)
    assert [event.address for event in ses_events(record)] == [DEBTOR_EMAIL, "other.debtor@example.com"]


def test_ses_not_spam_feedback_is_not_a_delivery_event() -> None:
    complaint = inner("ses_event_complaint.json")
    complaint["complaint"]["complaintFeedbackType"] = "not-spam"
    assert ses_events(complaint) == []


def test_ses_click_is_a_link_opened_and_names_no_link() -> None:
    # Given SES's Click record (the link a debtor followed in our email) / When parsed
    (event,) = parse_ses_events(load("ses_event_click.json"))
    # Then it is a click on our message, at the click's time; the link itself (a signed pay link may be
    # a credential) is not carried
    assert (event.status, event.message_id, event.address) == (
        DeliveryStatus.CLICKED,
        "msg_01JE9X3K9S",
        DEBTOR_EMAIL,
    )
    assert event.occurred_at == datetime(2026, 12, 1, 7, 15, tzinfo=UTC)
    assert not event.permanent and "pay.rapport.example" not in event.reason


def test_ses_open_record_in_its_aws_shape_is_read() -> None:
    (event,) = parse_ses_events(load("ses_event_open.json"))
    assert event.status is DeliveryStatus.READ and event.occurred_at == datetime(2026, 12, 1, 7, tzinfo=UTC)


def test_ses_open_is_read() -> None:
    record = inner("ses_event_delivery.json")
    record["eventType"] = "Open"
    record["open"] = {"ipAddress": "192.0.2.1", "timestamp": "2026-12-01T07:00:00.000Z", "userAgent": "Mail"}
    (event,) = ses_events(record)
    assert event.status is DeliveryStatus.READ
    assert event.occurred_at == datetime(2026, 12, 1, 7, tzinfo=UTC)


def test_malformed_ses_event_names_the_missing_field() -> None:
    with pytest.raises(MalformedNotificationError) as raised:
        parse_ses_events(load("ses_event_malformed.json"))
    assert raised.value.field == "mail.messageId"


def test_ses_bounce_without_recipients_is_malformed() -> None:
    record = inner("ses_event_bounce_permanent.json")
    record["bounce"]["bouncedRecipients"] = []
    with pytest.raises(MalformedNotificationError, match=r"bounce\.bouncedRecipients"):
        ses_events(record)


# --- End User Messaging SMS ---------------------------------------------------------------------

SMS_SENT_AT = datetime(2026, 12, 1, 6, 10, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "kind", "status", "permanent", "suppress"),
    [
        ("sms_event_delivered.json", "TEXT_DELIVERED", DeliveryStatus.DELIVERED, False, False),
        ("sms_event_successful.json", "TEXT_SUCCESSFUL", DeliveryStatus.DELIVERED, False, False),
        ("sms_event_blocked.json", "TEXT_BLOCKED", DeliveryStatus.FAILED, True, False),
        ("sms_event_carrier_unreachable.json", "TEXT_CARRIER_UNREACHABLE", FAILED, False, False),
        ("sms_event_invalid.json", "TEXT_INVALID", DeliveryStatus.BOUNCED, True, True),
        ("sms_event_opted_out.json", "TEXT_OPTED_OUT", DeliveryStatus.OPTED_OUT, True, True),
        ("sms_event_ttl_expired.json", "TEXT_TTL_EXPIRED", DeliveryStatus.FAILED, False, False),
        ("sms_event_eventbridge.json", "TEXT_SUCCESSFUL", DeliveryStatus.DELIVERED, False, False),
    ],
)
def test_sms_events(name: str, kind: str, status: DeliveryStatus, permanent: bool, suppress: bool) -> None:
    # Given an SMS event through SNS (or EventBridge) / When parsed
    (event,) = parse_sms_events(load(name))
    # Then our message id comes back from the Context we sent
    assert event.message_id == "msg_01JE9X3KAT"
    assert event.provider_message_id == "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    assert event.channel is Channel.SMS
    assert event.address == "+27825550123"
    assert event.occurred_at == SMS_SENT_AT
    assert (event.status, event.permanent, suppresses_address(event)) == (status, permanent, suppress)
    assert event.reason.startswith(kind + ": ")


@pytest.mark.parametrize("event_type", sorted(SMS_EVENT_TYPES))
def test_every_documented_sms_event_type_is_mapped(event_type: str) -> None:
    record = inner("sms_event_delivered.json")
    record["eventType"] = event_type
    event = sms_event(record)
    assert event is not None
    assert (event.status, event.permanent) == SMS_EVENT_TYPES[event_type]
    assert event.reason.startswith(event_type)


def test_sms_voice_and_unknown_events_are_ignored() -> None:
    record = inner("sms_event_delivered.json")
    record["eventType"] = "VOICE_COMPLETED"
    assert sms_event(record) is None


def test_sms_event_without_context_has_no_message_id() -> None:
    record = inner("sms_event_delivered.json")
    del record["context"]
    event = sms_event(record)
    assert event is not None and event.message_id is None


def test_malformed_sms_event_names_the_missing_field() -> None:
    with pytest.raises(MalformedNotificationError) as raised:
        parse_sms_events(load("sms_event_malformed.json"))
    assert raised.value.field == "messageId"


# --- WhatsApp -----------------------------------------------------------------------------------


def test_whatsapp_statuses() -> None:
    # Given an entry with sent, delivered, read and a failed status (131026: not on WhatsApp)
    events = parse_whatsapp_statuses(load("whatsapp_status_only.json"))
    summary = [(e.status, e.permanent, e.message_id, e.address, suppresses_address(e)) for e in events]
    assert summary == [
        (DeliveryStatus.SENT, False, "msg_01JE9X3K7Q", "+27825550123", False),
        (DeliveryStatus.DELIVERED, False, "msg_01JE9X3K7Q", "+27825550123", False),
        (DeliveryStatus.READ, False, "msg_01JE9X3K7Q", "+27825550123", False),
        (DeliveryStatus.BOUNCED, True, "msg_01JE9X3K8R", "+27845550199", True),
    ]
    assert events[0].occurred_at == datetime(2026, 12, 1, 6, 3, 20, tzinfo=UTC)
    assert events[3].reason == "131026 Message undeliverable"


def whatsapp_failure(code: int, title: str) -> dict[str, Any]:
    envelope = inner("whatsapp_status_only.json")
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    failed = entry["changes"][0]["value"]["statuses"][3]
    failed["errors"] = [{"code": code, "title": title}]
    entry["changes"][0]["value"]["statuses"] = [failed]
    envelope["whatsAppWebhookEntry"] = json.dumps(entry)
    return envelope


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        (131050, DeliveryStatus.OPTED_OUT, True),  # stopped marketing messages from us
        (132001, DeliveryStatus.FAILED, True),  # template missing: this message never goes
        (131047, DeliveryStatus.FAILED, False),  # outside the 24-hour window: may work later
    ],
)
def test_whatsapp_failure_codes(code: int, status: DeliveryStatus, permanent: bool) -> None:
    (event,) = parse_whatsapp_statuses(whatsapp_failure(code, "Meta error"))
    assert (event.status, event.permanent) == (status, permanent)


def test_whatsapp_inbound_messages_are_not_statuses() -> None:
    assert parse_whatsapp_statuses(load("whatsapp_inbound_text.json")) == []


def test_malformed_whatsapp_status_names_the_field() -> None:
    envelope = inner("whatsapp_status_only.json")
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    del entry["changes"][0]["value"]["statuses"][1]["recipient_id"]
    envelope["whatsAppWebhookEntry"] = json.dumps(entry)
    with pytest.raises(MalformedNotificationError) as raised:
        parse_whatsapp_statuses(envelope)
    assert raised.value.field == "statuses[1].recipient_id"
