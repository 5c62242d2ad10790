"""The debtor's side of a conversation on the local cloud, in the shapes AWS delivers.

Each helper builds the notification the real service would publish (End User Messaging Social for
WhatsApp, an SES receipt rule's SNS action for email, SES event publishing and End User Messaging
SMS events for deliveries), wraps it as SNS hands it to a subscribed Lambda, and invokes the
function the catalogue subscribes to that topic, through :meth:`LocalCloud.invoke`. Nothing here
reaches into the functions: what they see is what AWS would send them.

Shapes follow the AWS documentation: "Message and event format in AWS End User Messaging Social",
"Examples of notifications for Amazon SES email receiving", "Examples of event data that Amazon
SES publishes to Amazon SNS" and the End User Messaging SMS event format.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from rapport.messaging.channels.identifiers import ACCOUNT_ID_KEY, MESSAGE_ID_KEY, to_ses_tag_value
from rapport.models.enums import Channel
from rapport.store.models import AccountModel, ContactModel
from rapport_local.cloud import REGION, LocalCloud

__all__ = [
    "LOCAL_ACCOUNT",
    "deliver_event",
    "email_received",
    "reply_by_email",
    "reply_by_whatsapp",
    "ses_event",
    "sms_event",
    "sns_lambda_event",
    "whatsapp_event",
]

LOCAL_ACCOUNT = "123456789012"
# The client's WhatsApp number as Meta and AWS name it (made up, in the documented formats).
WABA_ID = "102938475610293"
PHONE_NUMBER_ID = "564738291056473"
DISPLAY_NUMBER = "27875550101"
SMS_NUMBER = "+27875550100"
_SOCIAL_ARN = f"arn:aws:social-messaging:{REGION}:{LOCAL_ACCOUNT}"

# SMS event type -> (messageStatus, messageStatusDescription), as End User Messaging reports them.
_SMS_STATUS = {
    "TEXT_QUEUED": ("QUEUED", "Message is queued for delivery"),
    "TEXT_SUCCESSFUL": ("SUCCESSFUL", "Message has been accepted by phone carrier"),
    "TEXT_DELIVERED": ("DELIVERED", "Message has been delivered to the handset"),
    "TEXT_INVALID": ("INVALID", "The destination phone number is not valid"),
    "TEXT_BLOCKED": ("BLOCKED", "The destination phone number is blocking messages"),
    "TEXT_CARRIER_UNREACHABLE": ("CARRIER_UNREACHABLE", "The carrier could not be reached"),
    "TEXT_TTL_EXPIRED": ("TTL_EXPIRED", "The message could not be delivered within its time to live"),
    "TEXT_OPTED_OUT": ("OPTED_OUT", "The destination phone number has opted out"),
}
# Meta's error for a failed WhatsApp status: (code, title).
_WHATSAPP_ERRORS = {
    131026: "Message undeliverable",
    131050: "User has stopped marketing messages",
    131047: "Re-engagement message",
}


def _iso(moment: datetime) -> str:
    """SES and SNS timestamps: UTC, milliseconds, a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _epoch_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def sns_lambda_event(cloud: LocalCloud, topic: str, message: dict[str, Any]) -> dict[str, Any]:
    """What Lambda receives from an SNS subscription to one of the client's topics."""
    topic_arn = cloud.topic_arns[topic]
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": _iso(cloud.clock.now()),
                    "SignatureVersion": "1",
                    "Signature": "bG9jYWw=",
                    "SigningCertUrl": f"https://sns.{REGION}.amazonaws.com/local.pem",
                    "UnsubscribeUrl": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


# --- WhatsApp ---------------------------------------------------------------------------------


def whatsapp_event(
    cloud: LocalCloud, *, messages: list[dict[str, Any]] = (), statuses: list[dict[str, Any]] = ()
) -> dict[str, Any]:
    """An End User Messaging Social event: the AWS header around Meta's webhook entry (a JSON string)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Debtor"}, "wa_id": m["from"]} for m in messages]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    entry = {"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}
    return {
        "context": {
            "MetaWabaIds": [{"wabaId": WABA_ID, "arn": f"{_SOCIAL_ARN}:waba/local"}],
            "MetaPhoneNumberIds": [
                {
                    "metaPhoneNumberId": PHONE_NUMBER_ID,
                    "arn": f"{_SOCIAL_ARN}:phone-number-id/local",
                }
            ],
        },
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": LOCAL_ACCOUNT,
        "message_timestamp": cloud.clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "messageId": str(uuid.uuid4()),
    }


def reply_by_whatsapp(
    cloud: LocalCloud,
    phone: str,
    text: str,
    *,
    wamid: str | None = None,
    context_id: str | None = None,
) -> dict[str, Any]:
    """A debtor's WhatsApp text message, as End User Messaging Social publishes it to whatsapp-inbound.

    Pass the same ``wamid`` twice to play a provider's redelivery.
    """
    message: dict[str, Any] = {
        "from": phone.lstrip("+"),
        "id": wamid or f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(cloud.clock.now().timestamp())),
        "type": "text",
        "text": {"body": text},
    }
    if context_id:
        message["context"] = {"from": DISPLAY_NUMBER, "id": context_id}
    payload = whatsapp_event(cloud, messages=[message])
    return cloud.invoke("inbound_whatsapp", sns_lambda_event(cloud, "whatsapp-inbound", payload))


# --- email ------------------------------------------------------------------------------------


def email_received(
    cloud: LocalCloud,
    sender: str,
    text: str,
    *,
    subject: str = "Re: your account",
    in_reply_to: str | None = None,
    message_id: str | None = None,
    spam: bool = False,
) -> dict[str, Any]:
    """An SES receipt notification from an SNS action (BASE64 encoding, as the stack configures it)."""
    now = cloud.clock.now()
    recipient = cloud.client.contact.email_from
    mime = EmailMessage()
    mime["From"] = f"Debtor <{sender}>"
    mime["To"] = recipient
    mime["Subject"] = subject
    mime["Date"] = format_datetime(now)
    mime["Message-ID"] = make_msgid(domain="mail.example.com")
    if in_reply_to:
        mime["In-Reply-To"] = f"<{in_reply_to}@{REGION}.amazonses.com>"
    mime.set_content(text)
    headers = [{"name": name, "value": str(value)} for name, value in mime.items()]
    common = {
        "returnPath": sender,
        "from": [f"Debtor <{sender}>"],
        "date": mime["Date"],
        "to": [recipient],
        "messageId": mime["Message-ID"],
        "subject": subject,
    }
    verdict = {"status": "FAIL" if spam else "PASS"}
    return {
        "notificationType": "Received",
        "receipt": {
            "timestamp": _iso(now),
            "processingTimeMillis": 310,
            "recipients": [recipient],
            "spamVerdict": verdict,
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"},
            "dkimVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": "PASS"},
            "action": {
                "type": "SNS",
                "topicArn": cloud.topic_arns["email-inbound"],
                "encoding": "BASE64",
            },
        },
        "mail": {
            "timestamp": _iso(now),
            "source": sender,
            "messageId": message_id or uuid.uuid4().hex,
            "destination": [recipient],
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": common,
        },
        "content": base64.b64encode(mime.as_bytes()).decode("ascii"),
    }


def reply_by_email(cloud: LocalCloud, sender: str, text: str, **options: Any) -> dict[str, Any]:
    """A debtor's email reply through the receipt rule to email-inbound (see :func:`email_received`)."""
    payload = email_received(cloud, sender, text, **options)
    return cloud.invoke("inbound_email", sns_lambda_event(cloud, "email-inbound", payload))


# --- delivery events --------------------------------------------------------------------------


def ses_event(cloud: LocalCloud, contact: ContactModel, address: str, event_type: str, **detail: Any) -> dict:
    """An SES event-publishing record for our email ``contact`` (Delivery, Bounce, Complaint...)."""
    now = cloud.clock.now()
    sender = cloud.client.contact.email_from
    record: dict[str, Any] = {
        "eventType": event_type,
        "mail": {
            "timestamp": _iso(contact.at),
            "source": sender,
            "sourceArn": f"arn:aws:ses:{REGION}:{LOCAL_ACCOUNT}:identity/{sender}",
            "sendingAccountId": LOCAL_ACCOUNT,
            "messageId": contact.provider_message_id,
            "destination": [address],
            "headersTruncated": False,
            "headers": [{"name": "From", "value": sender}, {"name": "To", "value": address}],
            "commonHeaders": {"from": [sender], "to": [address], "messageId": contact.provider_message_id},
            "tags": {
                "ses:configuration-set": [f"rapport-{cloud.client.client_id}"],
                "ses:from-domain": [sender.rpartition("@")[2]],
                MESSAGE_ID_KEY: [to_ses_tag_value(contact.contact_id)],
                ACCOUNT_ID_KEY: [to_ses_tag_value(contact.account_id)],
            },
        },
    }
    if event_type == "Delivery":
        record["delivery"] = {
            "timestamp": _iso(now),
            "processingTimeMillis": 540,
            "recipients": [address],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": f"a1-2.smtp-out.{REGION}.amazonses.com",
        }
    elif event_type == "Bounce":
        permanent = detail.get("bounce_type", "Permanent") == "Permanent"
        diagnostic = "smtp; 550 5.1.1 user unknown" if permanent else "smtp; 452 4.2.2 mailbox full"
        record["bounce"] = {
            "bounceType": "Permanent" if permanent else "Transient",
            "bounceSubType": "General" if permanent else "MailboxFull",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1" if permanent else "4.2.2",
                    "diagnosticCode": diagnostic,
                }
            ],
            "timestamp": _iso(now),
            "feedbackId": f"{uuid.uuid4().hex}-000000",
            "reportingMTA": "dsn; mta.example.com",
        }
    elif event_type == "Complaint":
        record["complaint"] = {
            "complainedRecipients": [{"emailAddress": address}],
            "timestamp": _iso(now),
            "feedbackId": f"{uuid.uuid4().hex}-000000",
            "userAgent": "ExampleMail Feedback Loop",
            "complaintFeedbackType": detail.get("feedback_type", "abuse"),
            "arrivalDate": _iso(now),
        }
    elif event_type == "DeliveryDelay":
        record["deliveryDelay"] = {
            "timestamp": _iso(now),
            "delayType": "MailboxFull",
            "expirationTime": _iso(now),
            "delayedRecipients": [
                {"emailAddress": address, "status": "4.2.2", "diagnosticCode": "smtp; 452 4.2.2 mailbox full"}
            ],
        }
    elif event_type == "Send":
        record["send"] = {}
    elif event_type == "Open":
        record["open"] = {"ipAddress": "192.0.2.1", "timestamp": _iso(now), "userAgent": "ExampleMail/1.0"}
    elif event_type == "Click":
        # SES rewrites each link for tracking; the event names the original one and its tags.
        record["click"] = {
            "ipAddress": "192.0.2.1",
            "timestamp": _iso(now),
            "userAgent": "ExampleMail/1.0",
            "link": detail.get("link", "https://pay.rapport.example/pay"),
            "linkTags": {},
        }
    else:
        raise ValueError(f"no local shape for SES event {event_type}")
    return record


def sms_event(cloud: LocalCloud, contact: ContactModel, phone: str, event_type: str) -> dict[str, Any]:
    """An End User Messaging SMS event for our SMS ``contact`` (TEXT_DELIVERED, TEXT_INVALID...)."""
    status, description = _SMS_STATUS[event_type]
    return {
        "eventType": event_type,
        "eventVersion": "1.0",
        "eventTimestamp": _epoch_millis(cloud.clock.now()),
        "isFinal": event_type not in ("TEXT_QUEUED", "TEXT_PENDING"),
        "originationPhoneNumber": SMS_NUMBER,
        "destinationPhoneNumber": phone,
        "isoCountryCode": "ZA",
        "isInternationalSend": False,
        "mcc": "655",
        "mnc": "01",
        "carrierName": "Example Mobile",
        "messageId": contact.provider_message_id,
        "messageRequestTimestamp": _epoch_millis(contact.at),
        "messageEncoding": "GSM",
        "messageType": "TRANSACTIONAL",
        "messageStatus": status,
        "messageStatusDescription": description,
        "context": {MESSAGE_ID_KEY: contact.contact_id, ACCOUNT_ID_KEY: contact.account_id},
        "totalMessageParts": contact.sms_segments or 1,
        "totalMessagePrice": 0.01923,
        "totalCarrierFee": 0.0,
    }


def _whatsapp_status(
    cloud: LocalCloud, contact: ContactModel, phone: str, status: str, error_code: int | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": contact.provider_message_id,
        "status": status,
        "timestamp": str(int(cloud.clock.now().timestamp())),
        "recipient_id": phone.lstrip("+"),
        "biz_opaque_callback_data": contact.contact_id,
    }
    if status == "failed":
        code = error_code or 131026
        title = _WHATSAPP_ERRORS.get(code, "Message failed")
        entry["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": title}}]
    return whatsapp_event(cloud, statuses=[entry])


def deliver_event(
    cloud: LocalCloud, contact: ContactModel, event: str, **detail: Any
) -> dict[str, Any]:
    """Report what became of our message ``contact``, through the function AWS would notify.

    ``event`` is in the provider's own words: an SES event type for email ("Delivery", "Bounce" with
    ``bounce_type="Transient"`` for a soft bounce, "Complaint", "Open", "Click"), an SMS event type for SMS
    ("TEXT_DELIVERED", "TEXT_INVALID", "TEXT_BLOCKED"...), a WhatsApp status for WhatsApp ("delivered",
    "read", "failed" with ``error_code``). Email and SMS events go to delivery-events; WhatsApp
    statuses go where End User Messaging Social publishes them, the WABA's one event destination,
    whatsapp-inbound.
    """
    account = AccountModel.get(contact.account_id)
    channel = Channel(contact.channel)
    if channel is Channel.EMAIL:
        payload = ses_event(cloud, contact, account.email, event, **detail)
        return cloud.invoke("delivery_events", sns_lambda_event(cloud, "delivery-events", payload))
    if channel is Channel.SMS:
        payload = sms_event(cloud, contact, account.phone, event)
        return cloud.invoke("delivery_events", sns_lambda_event(cloud, "delivery-events", payload))
    if channel is Channel.WHATSAPP:
        payload = _whatsapp_status(cloud, contact, account.phone, event, detail.get("error_code"))
        return cloud.invoke("inbound_whatsapp", sns_lambda_event(cloud, "whatsapp-inbound", payload))
    raise ValueError(f"no local delivery events for {channel.value}")
