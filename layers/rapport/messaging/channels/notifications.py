"""Unwrapping of the envelopes that AWS notifications arrive in, shared by inbound and delivery parsing.

Accepted shapes, so that a handler can pass its event as it came:

- a Lambda event from an SNS subscription (``Records[].Sns``);
- a Lambda event from an SQS queue subscribed to the topic (``Records[].body``, with or without raw
  message delivery);
- one SNS notification as posted to an HTTP(S) subscription (``Type: Notification``);
- an EventBridge event (``detail``);
- the bare payload itself.

NOTE: the SNS signature of an HTTP(S) notification is not verified here; Lambda and SQS
subscriptions are trusted by IAM. A public HTTP endpoint would have to verify it first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

logger = Logger(child=True)


class MalformedNotificationError(ValueError):
    """A notification lacks a field we need, or a field has the wrong shape.

    The message names the field (as a dotted path), never its value.
    """

    def __init__(self, field: str, source: str, problem: str = "is missing"):
        super().__init__(f"{source} notification: field '{field}' {problem}")
        self.field = field
        self.source = source


class Notification(BaseModel):
    """One decoded payload and what its envelope told us about it."""

    model_config = ConfigDict(frozen=True)

    payload: dict[str, Any]
    envelope_id: str | None = None
    published_at: datetime | None = None


def parse_timestamp(value: Any, field: str, source: str) -> datetime:
    """ISO 8601 text, or Unix time in seconds or milliseconds, as an aware UTC datetime."""
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            number = float(value)
            # Millisecond timestamps are 13 digits today; seconds are 10.
            return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise MalformedNotificationError(field, source, "is not a timestamp") from error
    raise MalformedNotificationError(field, source, "is not a timestamp")


def require(mapping: Mapping[str, Any], path: str, source: str, prefix: str = "") -> Any:
    """The value at a dotted path, or MalformedNotificationError naming ``prefix`` + the path."""
    current: Any = mapping
    walked: list[str] = []
    for key in path.split("."):
        walked.append(key)
        if not isinstance(current, Mapping) or current.get(key) in (None, ""):
            raise MalformedNotificationError(prefix + ".".join(walked), source)
        current = current[key]
    return current


def optional(mapping: Mapping[str, Any], path: str) -> Any:
    current: Any = mapping
    for key in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def load_json_object(text: Any, field: str, source: str) -> dict[str, Any]:
    if isinstance(text, Mapping):
        return dict(text)
    if not isinstance(text, str | bytes):
        raise MalformedNotificationError(field, source, "is not JSON text")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedNotificationError(field, source, "is not valid JSON") from error
    if not isinstance(value, dict):
        raise MalformedNotificationError(field, source, "is not a JSON object")
    return value


def _from_sns_envelope(envelope: Mapping[str, Any], source: str, prefix: str) -> Notification | None:
    kind = envelope.get("Type", "Notification")
    if kind != "Notification":
        # Subscription and unsubscribe confirmations carry no message for us.
        logger.info("sns envelope ignored", extra={"sns_type": kind})
        return None
    message = envelope.get("Message")
    if message in (None, ""):
        raise MalformedNotificationError(f"{prefix}Message", source)
    timestamp = envelope.get("Timestamp")
    return Notification(
        payload=load_json_object(message, f"{prefix}Message", source),
        envelope_id=envelope.get("MessageId"),
        published_at=parse_timestamp(timestamp, f"{prefix}Timestamp", source) if timestamp else None,
    )


def _from_record(record: Mapping[str, Any], index: int, source: str) -> Notification | None:
    prefix = f"Records[{index}]."
    if isinstance(record.get("Sns"), Mapping):
        return _from_sns_envelope(record["Sns"], source, prefix + "Sns.")
    if "body" in record:
        body = load_json_object(record["body"], prefix + "body", source)
        if body.get("Type") in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
            return _from_sns_envelope(body, source, prefix + "body.")
        sent = optional(record, "attributes.SentTimestamp")
        return Notification(
            payload=body,
            envelope_id=record.get("messageId"),
            published_at=parse_timestamp(sent, prefix + "attributes.SentTimestamp", source) if sent else None,
        )
    raise MalformedNotificationError(prefix + "Sns", source)


def unwrap(event: Mapping[str, Any], source: str) -> list[Notification]:
    """The payloads inside a Lambda, SNS, SQS or EventBridge event (see the module docstring)."""
    if not isinstance(event, Mapping):
        raise MalformedNotificationError("event", source, "is not a JSON object")
    records = event.get("Records")
    if records is not None:
        if not isinstance(records, Sequence) or isinstance(records, str | bytes):
            raise MalformedNotificationError("Records", source, "is not a list")
        unwrapped = [_from_record(record, index, source) for index, record in enumerate(records)]
        return [notification for notification in unwrapped if notification is not None]
    if event.get("Type") in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
        notification = _from_sns_envelope(event, source, "")
        return [notification] if notification else []
    if "detail-type" in event and "detail" in event:
        detail = event["detail"]
        if not isinstance(detail, Mapping):
            raise MalformedNotificationError("detail", source, "is not a JSON object")
        time = event.get("time")
        return [
            Notification(
                payload=dict(detail),
                envelope_id=event.get("id"),
                published_at=parse_timestamp(time, "time", source) if time else None,
            )
        ]
    return [Notification(payload=dict(event))]


class WhatsAppEnvelope(BaseModel):
    """The End User Messaging Social header and the decoded Meta webhook entry it carries."""

    model_config = ConfigDict(frozen=True)

    entry: dict[str, Any]
    phone_number_arns: dict[str, str]
    event_id: str | None = None


def whatsapp_envelope(payload: Mapping[str, Any], source: str = "whatsapp") -> WhatsAppEnvelope:
    """Decode ``whatsAppWebhookEntry`` (a JSON string) and index the phone number ids in ``context``."""
    entry = load_json_object(require(payload, "whatsAppWebhookEntry", source), "whatsAppWebhookEntry", source)
    changes = entry.get("changes")
    if not isinstance(changes, list):
        raise MalformedNotificationError("whatsAppWebhookEntry.changes", source)
    arns: dict[str, str] = {}
    for item in optional(payload, "context.MetaPhoneNumberIds") or []:
        if isinstance(item, Mapping) and item.get("metaPhoneNumberId") and item.get("arn"):
            arns[str(item["metaPhoneNumberId"])] = str(item["arn"])
    return WhatsAppEnvelope(entry=entry, phone_number_arns=arns, event_id=payload.get("messageId"))


def whatsapp_values(envelope: WhatsAppEnvelope, source: str = "whatsapp") -> list[dict[str, Any]]:
    """The ``value`` objects of the entry's ``messages`` changes."""
    values = []
    for index, change in enumerate(envelope.entry["changes"]):
        if not isinstance(change, Mapping):
            raise MalformedNotificationError(f"whatsAppWebhookEntry.changes[{index}]", source)
        if change.get("field", "messages") != "messages":
            continue
        value = change.get("value")
        if not isinstance(value, Mapping):
            raise MalformedNotificationError(f"whatsAppWebhookEntry.changes[{index}].value", source)
        values.append(dict(value))
    return values
