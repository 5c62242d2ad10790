"""Delivery events from SES, End User Messaging SMS and WhatsApp, in one ``DeliveryEvent`` shape.

``permanent`` means that sending the same message to the same address again will not succeed;
``suppresses_address`` says which events should stop all further sends to the address (hard bounce,
complaint, opt-out). Each ``parse_*`` function takes the event as the handler received it (see
``channels.notifications`` for the envelopes accepted).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from rapport.messaging.channels.identifiers import MESSAGE_ID_KEY, from_ses_tag_value
from rapport.messaging.channels.notifications import (
    MalformedNotificationError,
    optional,
    parse_timestamp,
    require,
    unwrap,
    whatsapp_envelope,
    whatsapp_values,
)
from rapport.models.enums import Channel

logger = Logger(child=True)

__all__ = [
    "DeliveryEvent",
    "DeliveryStatus",
    "MalformedNotificationError",
    "parse_ses_events",
    "parse_sms_events",
    "parse_whatsapp_statuses",
    "ses_events",
    "sms_event",
    "suppresses_address",
    "whatsapp_statuses",
]

SES_SOURCE = "ses event"
SMS_SOURCE = "sms event"
WHATSAPP_SOURCE = "whatsapp status"


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    # The debtor followed a link in the message (SES Click): attention, and proof it arrived.
    CLICKED = "clicked"
    FAILED = "failed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    OPTED_OUT = "opted_out"
    DELAYED = "delayed"


class DeliveryEvent(BaseModel):
    """What happened to one message at one address. ``message_id`` is ours, when the event carried it."""

    model_config = ConfigDict(frozen=True)

    provider_message_id: str
    message_id: str | None
    channel: Channel
    status: DeliveryStatus
    permanent: bool
    reason: str
    occurred_at: datetime
    address: str


def suppresses_address(event: DeliveryEvent) -> bool:
    """True when no message should go to this address on this channel again (until a person clears it)."""
    if event.status is DeliveryStatus.BOUNCED:
        return event.permanent
    return event.status in (DeliveryStatus.COMPLAINED, DeliveryStatus.OPTED_OUT)


# --- SES event publishing ---------------------------------------------------------------------


def _ses_message_id(mail: Mapping[str, Any]) -> str | None:
    values = optional(mail, f"tags.{MESSAGE_ID_KEY}")
    if isinstance(values, list) and values:
        return from_ses_tag_value(str(values[0]))
    return None


def _recipient_addresses(items: Any, field: str) -> list[str]:
    if not isinstance(items, list) or not items:
        raise MalformedNotificationError(field, SES_SOURCE)
    addresses = []
    for item in items:
        address = item.get("emailAddress") if isinstance(item, Mapping) else item
        if not address:
            raise MalformedNotificationError(field + "[].emailAddress", SES_SOURCE)
        addresses.append(str(address).lower())
    return addresses


class _Row(NamedTuple):
    address: str
    status: DeliveryStatus
    permanent: bool
    reason: str
    timestamp: Any


def _rows(addresses: list[str], status: DeliveryStatus, permanent: bool, reason: str, at: Any) -> list[_Row]:
    return [_Row(address, status, permanent, reason, at) for address in addresses]


def _ses_bounce(record: Mapping[str, Any]) -> list[_Row]:
    bounce = require(record, "bounce", SES_SOURCE)
    bounce_type = str(require(record, "bounce.bounceType", SES_SOURCE))
    sub_type = str(bounce.get("bounceSubType") or "General")
    # Permanent: no mailbox, or SES suppresses the address. Transient and Undetermined may clear.
    permanent = bounce_type == "Permanent"
    recipients = bounce.get("bouncedRecipients")
    addresses = _recipient_addresses(recipients, "bounce.bouncedRecipients")
    rows = []
    for address, recipient in zip(addresses, recipients, strict=True):
        status_code = recipient.get("status") if isinstance(recipient, Mapping) else None
        reason = f"{bounce_type}/{sub_type}" + (f" {status_code}" if status_code else "")
        rows.append(_Row(address, DeliveryStatus.BOUNCED, permanent, reason, bounce.get("timestamp")))
    return rows


def ses_events(record: Mapping[str, Any]) -> list[DeliveryEvent]:
    """Events in one SES event-publishing record (or identity feedback notification), one per recipient.

    Open becomes ``read`` and Click ``clicked`` (the link itself is left out: a signed pay link is a
    credential until it expires); Subscription records give [].
    """
    kind = record.get("eventType") or record.get("notificationType")
    if not kind:
        raise MalformedNotificationError("eventType", SES_SOURCE)
    mail = require(record, "mail", SES_SOURCE)
    provider_message_id = str(require(record, "mail.messageId", SES_SOURCE))
    destination = mail.get("destination") or []
    sent_at = mail.get("timestamp")
    rows: list[_Row]
    if kind == "Send":
        addresses = _recipient_addresses(destination, "mail.destination")
        rows = _rows(addresses, DeliveryStatus.SENT, False, "accepted by SES", sent_at)
    elif kind == "Delivery":
        delivery = require(record, "delivery", SES_SOURCE)
        addresses = _recipient_addresses(delivery.get("recipients") or destination, "delivery.recipients")
        reason = str(delivery.get("smtpResponse") or "delivered")
        rows = _rows(addresses, DeliveryStatus.DELIVERED, False, reason, delivery.get("timestamp"))
    elif kind == "Bounce":
        rows = _ses_bounce(record)
    elif kind == "Complaint":
        complaint = require(record, "complaint", SES_SOURCE)
        feedback = str(complaint.get("complaintFeedbackType") or "abuse")
        if feedback == "not-spam":
            logger.info("ses not-spam feedback ignored", extra={"ses_id": provider_message_id})
            return []
        recipients = complaint.get("complainedRecipients")
        addresses = _recipient_addresses(recipients, "complaint.complainedRecipients")
        reason = f"complaint {feedback}"
        rows = _rows(addresses, DeliveryStatus.COMPLAINED, True, reason, complaint.get("timestamp"))
    elif kind == "Reject":
        reject = require(record, "reject", SES_SOURCE)
        addresses = _recipient_addresses(destination, "mail.destination")
        # SES found a virus in our own message: this message fails for good, the address is fine.
        rows = _rows(addresses, DeliveryStatus.FAILED, True, f"rejected: {reject.get('reason')}", sent_at)
    elif kind == "DeliveryDelay":
        delay = require(record, "deliveryDelay", SES_SOURCE)
        addresses = _recipient_addresses(delay.get("delayedRecipients") or destination, "delayedRecipients")
        reason = f"delayed: {delay.get('delayType') or 'unknown'}"
        rows = _rows(addresses, DeliveryStatus.DELAYED, False, reason, delay.get("timestamp"))
    elif kind == "Rendering Failure":
        failure = record.get("failure") or {}
        addresses = _recipient_addresses(destination, "mail.destination")
        reason = f"template rendering failed: {failure.get('templateName')}"
        rows = _rows(addresses, DeliveryStatus.FAILED, True, reason, sent_at)
    elif kind == "Open":
        opened = require(record, "open", SES_SOURCE)
        addresses = _recipient_addresses(destination, "mail.destination")
        rows = _rows(addresses, DeliveryStatus.READ, False, "opened", opened.get("timestamp"))
    elif kind == "Click":
        clicked = require(record, "click", SES_SOURCE)
        addresses = _recipient_addresses(destination, "mail.destination")
        rows = _rows(addresses, DeliveryStatus.CLICKED, False, "link clicked", clicked.get("timestamp"))
    else:
        logger.info("ses event kind ignored", extra={"kind": kind})
        return []
    message_id = _ses_message_id(mail)
    return [
        DeliveryEvent(
            provider_message_id=provider_message_id,
            message_id=message_id,
            channel=Channel.EMAIL,
            status=row.status,
            permanent=row.permanent,
            reason=row.reason,
            occurred_at=parse_timestamp(row.timestamp or sent_at, f"{kind}.timestamp", SES_SOURCE),
            address=row.address,
        )
        for row in rows
    ]


def parse_ses_events(event: Mapping[str, Any]) -> list[DeliveryEvent]:
    events: list[DeliveryEvent] = []
    for item in unwrap(event, SES_SOURCE):
        events.extend(ses_events(item.payload))
    return events


# --- End User Messaging SMS events ------------------------------------------------------------

# eventType -> (status, permanent). Documented SMS event types, plus TEXT_OPTED_OUT, which we map
# defensively: sends to opted-out numbers are normally refused at the API (ConflictException).
SMS_EVENT_TYPES: Mapping[str, tuple[DeliveryStatus, bool]] = {
    "TEXT_QUEUED": (DeliveryStatus.SENT, False),
    "TEXT_PENDING": (DeliveryStatus.SENT, False),
    "TEXT_SUCCESSFUL": (DeliveryStatus.DELIVERED, False),  # accepted by the handset's carrier
    "TEXT_DELIVERED": (DeliveryStatus.DELIVERED, False),
    "TEXT_INVALID": (DeliveryStatus.BOUNCED, True),  # the number does not exist: a hard bounce
    "TEXT_OPTED_OUT": (DeliveryStatus.OPTED_OUT, True),
    "TEXT_BLOCKED": (DeliveryStatus.FAILED, True),  # device or carrier blocks us for this number
    "TEXT_CARRIER_BLOCKED": (DeliveryStatus.FAILED, True),  # content judged abusive
    "TEXT_SPAM": (DeliveryStatus.FAILED, True),
    "TEXT_INVALID_MESSAGE": (DeliveryStatus.FAILED, True),
    "TEXT_PROTECT_BLOCKED": (DeliveryStatus.FAILED, True),
    "TEXT_TTL_EXPIRED": (DeliveryStatus.FAILED, False),
    "TEXT_CARRIER_UNREACHABLE": (DeliveryStatus.FAILED, False),
    "TEXT_UNREACHABLE": (DeliveryStatus.FAILED, False),  # handset off or out of coverage
    "TEXT_UNKNOWN": (DeliveryStatus.FAILED, False),
}


def sms_event(record: Mapping[str, Any]) -> DeliveryEvent | None:
    """One End User Messaging SMS event; None for voice, media and unknown event types."""
    kind = str(require(record, "eventType", SMS_SOURCE))
    mapped = SMS_EVENT_TYPES.get(kind)
    if mapped is None:
        logger.info("sms event kind ignored", extra={"kind": kind})
        return None
    status, permanent = mapped
    context = record.get("context") if isinstance(record.get("context"), Mapping) else {}
    description = record.get("messageStatusDescription") or record.get("messageStatus") or kind
    return DeliveryEvent(
        provider_message_id=str(require(record, "messageId", SMS_SOURCE)),
        message_id=context.get(MESSAGE_ID_KEY) or None,
        channel=Channel.SMS,
        status=status,
        permanent=permanent,
        reason=f"{kind}: {description}" if description != kind else kind,
        occurred_at=parse_timestamp(
            require(record, "eventTimestamp", SMS_SOURCE), "eventTimestamp", SMS_SOURCE
        ),
        address=str(require(record, "destinationPhoneNumber", SMS_SOURCE)),
    )


def parse_sms_events(event: Mapping[str, Any]) -> list[DeliveryEvent]:
    events = [sms_event(item.payload) for item in unwrap(event, SMS_SOURCE)]
    return [delivery for delivery in events if delivery is not None]


# --- WhatsApp statuses ------------------------------------------------------------------------

_WHATSAPP_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
# Meta error codes that say something about the address rather than this one message.
#   131026  message undeliverable: the number is not on WhatsApp (or cannot receive it)
#   131050  the user stopped marketing messages from this business
_WHATSAPP_ADDRESS_ERRORS: Mapping[int, tuple[DeliveryStatus, bool]] = {
    131026: (DeliveryStatus.BOUNCED, True),
    131050: (DeliveryStatus.OPTED_OUT, True),
}
# Meta errors that fail this message for good (template or parameter problems, 132xxx).
_WHATSAPP_PERMANENT_PREFIX = "132"


def _whatsapp_failure(status: Mapping[str, Any]) -> tuple[DeliveryStatus, bool, str]:
    errors = status.get("errors") or []
    error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
    try:
        code = int(error.get("code"))
    except (TypeError, ValueError):
        code = 0
    title = str(error.get("title") or error.get("message") or "failed")
    reason = f"{code} {title}" if code else title
    if code in _WHATSAPP_ADDRESS_ERRORS:
        mapped, permanent = _WHATSAPP_ADDRESS_ERRORS[code]
        return mapped, permanent, reason
    return DeliveryStatus.FAILED, str(code).startswith(_WHATSAPP_PERMANENT_PREFIX), reason


def whatsapp_statuses(payload: Mapping[str, Any]) -> list[DeliveryEvent]:
    """Status updates in one End User Messaging Social event (messages in it are ignored here)."""
    envelope = whatsapp_envelope(payload, WHATSAPP_SOURCE)
    events: list[DeliveryEvent] = []
    for value in whatsapp_values(envelope, WHATSAPP_SOURCE):
        for position, status in enumerate(value.get("statuses") or []):
            field = f"statuses[{position}]."
            name = str(require(status, "status", WHATSAPP_SOURCE, field)).lower()
            if name not in _WHATSAPP_STATUSES:
                logger.info("whatsapp status ignored", extra={"status": name})
                continue
            if name == "failed":
                mapped, permanent, reason = _whatsapp_failure(status)
            else:
                mapped, permanent, reason = _WHATSAPP_STATUSES[name], False, name
            recipient = str(require(status, "recipient_id", WHATSAPP_SOURCE, field))
            at = require(status, "timestamp", WHATSAPP_SOURCE, field)
            events.append(
                DeliveryEvent(
                    provider_message_id=str(require(status, "id", WHATSAPP_SOURCE, field)),
                    message_id=status.get("biz_opaque_callback_data") or None,
                    channel=Channel.WHATSAPP,
                    status=mapped,
                    permanent=permanent,
                    reason=reason,
                    occurred_at=parse_timestamp(at, field + "timestamp", WHATSAPP_SOURCE),
                    address="+" + recipient.lstrip("+"),
                )
            )
    return events


def parse_whatsapp_statuses(event: Mapping[str, Any]) -> list[DeliveryEvent]:
    events: list[DeliveryEvent] = []
    for item in unwrap(event, WHATSAPP_SOURCE):
        events.extend(whatsapp_statuses(item.payload))
    return events
