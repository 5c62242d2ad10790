"""Parsing inbound replies: two-way SMS, WhatsApp and SES email, from the events in ./events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rapport.messaging.inbound import (
    InboundEmailRejectedError,
    InboundMessage,
    MalformedNotificationError,
    parse_email_replies,
    parse_inbound,
    parse_sms_replies,
    parse_whatsapp_replies,
    strip_quoted_reply,
)
from rapport.models.enums import Channel

EVENTS = Path(__file__).parent / "events"
PHONE_NUMBER_ARN = (
    "arn:aws:social-messaging:af-south-1:111122223333:phone-number-id/7e1f0c2d3b4a59687e1f0c2d3b4a5968"
)
OUR_WAMID = "wamid.HBgLMjc4MjU1NTAxMjMVAgARGBI5QjZGMDg0QkE0RUY3QjAxAA=="
OUR_SES_MESSAGE_ID = "0101019384a7b2c1-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


# --- two-way SMS --------------------------------------------------------------------------------


def test_sms_reply_from_a_lambda_sns_event() -> None:
    # Given the Lambda event of an SNS topic that receives two-way SMS
    event = load("sms_inbound_lambda.json")
    # When parsed
    replies = parse_sms_replies(event)
    # Then the reply carries the debtor's number, our number, the text and the message it answers
    assert replies == [
        InboundMessage(
            channel=Channel.SMS,
            from_address="+27825550123",
            to_address="+27875550100",
            text="I will pay R500 on Friday the 25th",
            provider_message_id="2f1c9a5e-6b7d-4c1e-9f3a-0d8e7b6a5c41",
            received_at=datetime(2026, 12, 1, 8, 15, 42, 318000, tzinfo=UTC),
            in_reply_to_provider_message_id="b7e4d2c1-9a8f-4e3d-8c2b-1a0f9e8d7c6b",
            keyword="KEYWORD_111122223333",
        )
    ]


def test_sms_stop_keyword_from_an_sns_http_notification() -> None:
    # Given a single SNS notification (HTTP subscription shape) without previousPublishedMessageId
    replies = parse_inbound(load("sms_inbound_sns_http.json"), Channel.SMS)
    assert len(replies) == 1
    assert replies[0].keyword == "STOP"
    assert replies[0].text == "STOP"
    assert replies[0].in_reply_to_provider_message_id is None
    assert replies[0].received_at == datetime(2026, 12, 1, 9, 1, 7, 4000, tzinfo=UTC)


def test_sms_reply_through_sqs_with_raw_delivery() -> None:
    # Given the SMS payload delivered raw through an SQS queue subscribed to the topic
    payload = json.loads(load("sms_inbound_lambda.json")["Records"][0]["Sns"]["Message"])
    event = {
        "Records": [
            {
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "body": json.dumps(payload),
                "attributes": {"SentTimestamp": "1796113000000"},
                "eventSource": "aws:sqs",
            }
        ]
    }
    # Then the SQS send time stands in for the SNS timestamp
    (reply,) = parse_sms_replies(event)
    assert reply.received_at == datetime.fromtimestamp(1796113000, tz=UTC)
    assert reply.from_address == "+27825550123"


def test_malformed_sms_names_the_missing_field() -> None:
    with pytest.raises(MalformedNotificationError) as raised:
        parse_sms_replies(load("sms_inbound_malformed.json"))
    assert raised.value.field == "originationNumber"
    assert "originationNumber" in str(raised.value)


def test_sms_message_that_is_not_json_is_malformed() -> None:
    event = load("sms_inbound_lambda.json")
    event["Records"][0]["Sns"]["Message"] = "not json"
    with pytest.raises(MalformedNotificationError, match=r"Records\[0\]\.Sns\.Message"):
        parse_sms_replies(event)


def test_subscription_confirmation_gives_no_replies() -> None:
    event = load("sms_inbound_sns_http.json")
    event["Type"] = "SubscriptionConfirmation"
    assert parse_sms_replies(event) == []


# --- WhatsApp -----------------------------------------------------------------------------------


def test_whatsapp_text_reply() -> None:
    (reply,) = parse_whatsapp_replies(load("whatsapp_inbound_text.json"))
    assert reply.channel is Channel.WHATSAPP
    assert reply.from_address == "+27825550123"
    # The AWS phone number id ARN, so that WhatsAppSender can answer from the same number
    assert reply.to_address == PHONE_NUMBER_ARN
    assert reply.text == "Ek het gister betaal, kan julle asseblief kyk?"
    assert reply.provider_message_id == "wamid.HBgLMjc4MjU1NTAxMjMVAgASGBQzQUI4RTVDMkY3RDlBMDQ1QjM2MAA="
    assert reply.in_reply_to_provider_message_id == OUR_WAMID
    assert reply.received_at == datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
    assert reply.keyword is None


def test_whatsapp_template_quick_reply_button() -> None:
    (reply,) = parse_whatsapp_replies(load("whatsapp_inbound_button.json"))
    assert (reply.text, reply.keyword) == ("Pay now", "PAY_NOW")


def test_whatsapp_interactive_button_reply() -> None:
    (reply,) = parse_inbound(load("whatsapp_inbound_interactive.json"), Channel.WHATSAPP)
    assert (reply.text, reply.keyword) == ("Weekly plan", "PLAN_WEEKLY")


def test_whatsapp_status_only_entry_gives_no_replies() -> None:
    # Given an entry with sent/delivered/read/failed statuses and no messages
    assert parse_whatsapp_replies(load("whatsapp_status_only.json")) == []


def _whatsapp_event_with(kind: str, **content: object) -> dict:
    """The text reply fixture with its message turned into another kind of WhatsApp message."""
    event = load("whatsapp_inbound_text.json")
    envelope = json.loads(event["Records"][0]["Sns"]["Message"])
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    message = entry["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(type=kind, **content)
    envelope["whatsAppWebhookEntry"] = json.dumps(entry)
    event["Records"][0]["Sns"]["Message"] = json.dumps(envelope)
    return event


def test_whatsapp_voice_note_is_a_reply_without_words() -> None:
    # Given a voice note from the debtor
    event = _whatsapp_event_with("audio", audio={"id": "1234567890", "mime_type": "audio/ogg; codecs=opus"})
    # Then it is a reply, kept with its kind and no text, for a person to hear
    (reply,) = parse_whatsapp_replies(event)
    assert (reply.text, reply.attachment, reply.attachment_id, reply.keyword) == ("", "audio", "1234567890", None)
    assert reply.from_address == "+27825550123"


def test_whatsapp_photo_keeps_its_caption_as_the_text() -> None:
    event = _whatsapp_event_with("image", image={"id": "99", "mime_type": "image/jpeg", "caption": "proof of payment"})
    (reply,) = parse_whatsapp_replies(event)
    assert (reply.text, reply.attachment) == ("proof of payment", "image")


def test_whatsapp_reaction_is_no_reply() -> None:
    event = _whatsapp_event_with("reaction", reaction={"message_id": OUR_WAMID, "emoji": "\U0001F44D"})
    assert parse_whatsapp_replies(event) == []


def test_malformed_whatsapp_names_the_missing_field() -> None:
    with pytest.raises(MalformedNotificationError) as raised:
        parse_whatsapp_replies(load("whatsapp_inbound_malformed.json"))
    assert raised.value.field == "whatsAppWebhookEntry"


def test_whatsapp_text_without_body_names_the_message_field() -> None:
    event = load("whatsapp_inbound_text.json")
    envelope = json.loads(event["Records"][0]["Sns"]["Message"])
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    del entry["changes"][0]["value"]["messages"][0]["text"]
    envelope["whatsAppWebhookEntry"] = json.dumps(entry)
    event["Records"][0]["Sns"]["Message"] = json.dumps(envelope)
    with pytest.raises(MalformedNotificationError) as raised:
        parse_whatsapp_replies(event)
    assert raised.value.field == "messages[0].text"


# --- email --------------------------------------------------------------------------------------


def test_email_reply_without_the_quoted_message() -> None:
    (reply,) = parse_email_replies(load("email_inbound_reply.json"))
    assert reply.channel is Channel.EMAIL
    assert reply.from_address == "thandi.debtor@example.com"
    assert reply.to_address == "accounts@collect.example.co.za"
    assert reply.text == (
        "Hi,\n\nI lost my job last month. Can I pay R300 a month until I find work?\n\nThanks\nThandi"
    )
    assert "arrears" not in reply.text
    # In-Reply-To "<id@af-south-1.amazonses.com>" maps back to the SES id of our email
    assert reply.in_reply_to_provider_message_id == OUR_SES_MESSAGE_ID
    assert reply.provider_message_id == "k3l9m2n8o4p7q1r5s6t0u2v9w3x8y1z4example01"
    assert reply.received_at == datetime(2026, 12, 1, 11, 2, 3, 456000, tzinfo=UTC)


def test_base64_multipart_email_in_afrikaans() -> None:
    # Given a receipt rule with BASE64 encoding and a multipart reply quoting our Afrikaans email
    (reply,) = parse_email_replies(load("email_inbound_base64.json"))
    assert reply.from_address == "pieter@example.net"
    assert reply.text == "Ek betaal R1 000 op die 25ste. Baie dankie vir julle geduld."
    assert reply.in_reply_to_provider_message_id == OUR_SES_MESSAGE_ID


@pytest.mark.parametrize(
    ("name", "kind"), [("email_inbound_spam.json", "spam"), ("email_inbound_virus.json", "virus")]
)
def test_spam_and_virus_verdicts_are_rejected_with_a_reason(name: str, kind: str) -> None:
    with pytest.raises(InboundEmailRejectedError) as raised:
        parse_email_replies(load(name))
    assert raised.value.reason == f"SES {kind} verdict is FAIL"
    assert raised.value.provider_message_id


def test_notification_without_content_is_malformed() -> None:
    # Given an alert notification (S3 action) that carries no email content
    with pytest.raises(MalformedNotificationError) as raised:
        parse_email_replies(load("email_inbound_malformed.json"))
    assert raised.value.field == "content"


def test_html_only_email_drops_the_gmail_quote() -> None:
    html_email = "\r\n".join(
        [
            "From: Debtor <debtor@example.com>",
            "To: accounts@collect.example.co.za",
            "Subject: Re: account",
            "MIME-Version: 1.0",
            "Content-Type: text/html; charset=UTF-8",
            "",
            "<html><head><style>p {color: red}</style></head><body>",
            "<div>I dispute this amount.<br>It was paid in June.</div>",
            '<div class="gmail_quote"><div class="gmail_attr">On Mon, Acme wrote:</div>',
            "<blockquote>Your account is in arrears.</blockquote></div></body></html>",
        ]
    )
    event = load("email_inbound_reply.json")
    notification = json.loads(event["Records"][0]["Sns"]["Message"])
    notification["content"] = html_email
    notification["mail"]["commonHeaders"]["from"] = ["Debtor <debtor@example.com>"]
    event["Records"][0]["Sns"]["Message"] = json.dumps(notification)
    (reply,) = parse_email_replies(event)
    assert reply.text == "I dispute this amount.\nIt was paid in June."
    assert reply.from_address == "debtor@example.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Paid yesterday.\n\n> Your account is in arrears.", "Paid yesterday."),
        (
            "Paid yesterday.\n\nOn Mon, 30 Nov 2026 at 09:00, Acme Collections\n<a@example.co.za> wrote:\n>",
            "Paid yesterday.",
        ),
        ("Paid.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday", "Paid."),
        ("Paid.\n________________________________\nFrom: Acme <a@example.co.za>\nSent: Monday", "Paid."),
        ("Paid.\nFrom: Acme <a@example.co.za>\nSent: Monday, 30 November 2026\nTo: me", "Paid."),
        ("Betaal.\n\nOp Ma. 30 Nov. 2026 het Acme geskryf:\n> U rekening", "Betaal."),
        ("Paid.\n\nSent from my iPhone", "Paid."),
        ("Paid.\n-- \nThandi Debtor\n082 555 0123", "Paid."),
        ("From today I can pay R200 a week.", "From today I can pay R200 a week."),
    ],
)
def test_strip_quoted_reply(text: str, expected: str) -> None:
    assert strip_quoted_reply(text) == expected


def test_push_has_no_inbound_parser() -> None:
    with pytest.raises(ValueError, match="no inbound"):
        parse_inbound({}, Channel.PUSH)
