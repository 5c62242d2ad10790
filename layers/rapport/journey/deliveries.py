"""Delivery events: what became of each message we sent, and what follows from it.

For each event (SES event publishing, End User Messaging SMS events, WhatsApp statuses):

1. find the message on the account's timeline, by the provider's message id (or, failing that, by
   our own id carried in the message's tags or context, and the address it went to);
2. record the event on the message once, and move its status forward (never back: a late
   "delivered" does not undo a bounce);
3. a hard bounce, a complaint or a carrier opt-out blocks that address on that channel;
4. when the journey is still waiting for an answer to the very message that bounced or failed, it
   is resumed at once (``kind: delivery_failed``) and escalates to its next channel instead of
   waiting out the reply timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from rapport.journey.optouts import suppress_address
from rapport.journey.resume import resume_journey
from rapport.messaging.channels.notifications import unwrap
from rapport.messaging.delivery import (
    DeliveryEvent,
    DeliveryStatus,
    ses_events,
    sms_event,
    suppresses_address,
    whatsapp_statuses,
)
from rapport.models.enums import Channel
from rapport.runtime import Services
from rapport.store.models import ContactModel
from rapport.store.repositories import ConcurrentUpdateError, RecordNotFoundError

logger = Logger(child=True)

__all__ = ["DELIVERY_SOURCE", "contact_status_after", "take_deliveries", "take_delivery_notifications"]

DELIVERY_SOURCE = "delivery event"

# The order a message's status may move in. Failures outrank success: a bounce reported after a
# "delivered" (an asynchronous bounce) stands, and a late "delivered" never hides a failure.
_STATUS_RANK = {
    "sending": 0,
    "sent": 1,
    "delivered": 2,
    "failed": 3,
    "bounced": 4,
    "opted_out": 5,
    "complained": 6,
}
# Event -> the message's status. Sent and delayed events are kept on the message but change nothing;
# "read" and "clicked" prove the message arrived, so they move it to "delivered" (never back from a
# failure). A click stays on the message's events, where the channel statistics count it as a link
# opened (rapport.journey.steps._channel_stats).
_CONTACT_STATUS = {
    DeliveryStatus.DELIVERED: "delivered",
    DeliveryStatus.READ: "delivered",
    DeliveryStatus.CLICKED: "delivered",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.BOUNCED: "bounced",
    DeliveryStatus.COMPLAINED: "complained",
    DeliveryStatus.OPTED_OUT: "opted_out",
}
# Events after which nobody will answer the message: the journey need not wait for a reply to it.
_UNANSWERABLE = frozenset(
    {DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.COMPLAINED, DeliveryStatus.OPTED_OUT}
)
_UPDATE_ATTEMPTS = 3


def contact_status_after(current: str, event: DeliveryEvent) -> str:
    """The message's status once ``event`` is applied (unchanged when the event ranks lower)."""
    proposed = _CONTACT_STATUS.get(event.status)
    if proposed is None or _STATUS_RANK[proposed] <= _STATUS_RANK.get(current, 0):
        return current
    return proposed


def _event_key(event: DeliveryEvent) -> str:
    """What makes an event the same event again (we send each message to one address)."""
    return f"{event.status.value}@{event.occurred_at.isoformat()}"


def _find_contact(services: Services, event: DeliveryEvent) -> ContactModel | None:
    """The outbound message the event is about: by provider id, else by our id and the address."""
    keys = list(ContactModel.provider_message_index.query(event.provider_message_id, limit=5))
    if event.message_id:
        keys.sort(key=lambda key: key.contact_id != event.message_id)
    for key in keys:
        try:
            return services.repos.contacts.get(key.account_id, key.contact_id)
        except RecordNotFoundError:
            continue
    if not event.message_id:
        return None
    accounts = services.repos.accounts
    account = accounts.find_by_email(event.address) if event.channel is Channel.EMAIL else (
        accounts.find_by_phone(event.address)
    )
    if account is None:
        return None
    try:
        contact = services.repos.contacts.get(account.account_id, event.message_id)
    except RecordNotFoundError:
        return None
    return contact if contact.channel == event.channel.value and contact.direction == "out" else None


def _record_event(contact: ContactModel, event: DeliveryEvent) -> bool:
    """Append the event to the message and move its status; False when it was recorded before.

    The status write is conditional on the status read, so two events handled at once cannot let
    the lower-ranked one win.
    """
    entry = {
        "key": _event_key(event),
        "status": event.status.value,
        "permanent": event.permanent,
        "reason": event.reason,
        "at": event.occurred_at.isoformat(),
    }
    for _ in range(_UPDATE_ATTEMPTS):
        seen = [item.get("key") for item in contact.events or [] if isinstance(item, Mapping)]
        if entry["key"] in seen:
            return False
        before = contact.status
        after = contact_status_after(before, event)
        actions = [ContactModel.events.set(ContactModel.events.append([entry]))]
        if after != before:
            actions.append(ContactModel.status.set(after))
            if event.status in _UNANSWERABLE:
                actions.append(ContactModel.failure_reason.set(event.reason))
        try:
            contact.update(actions=actions, condition=ContactModel.status == before)
        except UpdateError as error:
            if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
            contact.refresh()
            continue
        return True
    raise ConcurrentUpdateError(contact.contact_id)


def _waited_on(services: Services, contact: ContactModel) -> Any:
    """The journey waiting for an answer to ``contact``, when ``contact`` is its latest message."""
    if contact.direction != "out" or not contact.journey_id:
        return None
    journey = services.repos.journeys.waiting(contact.account_id)
    if journey is None or journey.journey_id != contact.journey_id or journey.waiting_for != "response":
        return None
    sent = [
        c
        for c in services.repos.contacts.for_account(contact.account_id)
        if c.direction == "out" and c.journey_id == contact.journey_id
    ]
    latest = max(sent, key=lambda c: (c.at, c.contact_id), default=None)
    return journey if latest is not None and latest.contact_id == contact.contact_id else None


def take_deliveries(services: Services, events: list[DeliveryEvent]) -> dict[str, int]:
    """Apply each event to its message; suppress addresses and escalate journeys as they require."""
    counts = {"updated": 0, "unmatched": 0, "duplicate": 0, "suppressed": 0, "escalated": 0}
    for event in events:
        contact = _find_contact(services, event)
        if contact is None:
            # NOTE: the contact is claimed under our own id before the provider is called, but the
            # provider's id is added only once it has answered; an event matched on the provider's id
            # alone that overtakes that answer is dropped here as unmatched. Raising instead would let
            # Lambda's asynchronous retries catch it up, at the price of dead-lettering every event
            # about mail that is not ours; worth it if the unmatched count shows such races.
            counts["unmatched"] += 1
            logger.warning(
                "delivery event for an unknown message",
                extra={"channel": event.channel.value, "status": event.status.value},
            )
            continue
        if not _record_event(contact, event):
            counts["duplicate"] += 1
            continue
        counts["updated"] += 1
        logger.info(
            "delivery event recorded",
            extra={"message_id": contact.contact_id, "status": event.status.value},
        )
        if suppresses_address(event):
            account = services.repos.accounts.get(contact.account_id)
            outcome = suppress_address(
                services,
                account,
                event.channel,
                event.address,
                rule=f"delivery.{event.status.value}",
                journey_id=contact.journey_id,
                inputs={"message_id": contact.contact_id, "reason": event.reason},
            )
            counts["suppressed"] += int(outcome.address_blocked or outcome.channel_suppressed)
        if event.status in _UNANSWERABLE:
            journey = _waited_on(services, contact)
            response = {
                "kind": "delivery_failed",
                "status": event.status.value,
                "permanent": event.permanent,
                "channel": contact.channel,
                "message_id": contact.contact_id,
            }
            if journey is not None and resume_journey(services, contact.account_id, response, journey):
                counts["escalated"] += 1
                services.repos.audit.append(
                    contact.account_id,
                    "escalated_on_delivery_failure",
                    services.clock.now(),
                    rule=f"delivery.{event.status.value}",
                    journey_id=journey.journey_id,
                    reason="the message the journey waited on cannot be answered",
                    inputs={"message_id": contact.contact_id, "channel": contact.channel},
                )
    return counts


def _events_in(payload: Mapping[str, Any]) -> list[DeliveryEvent] | None:
    """The delivery events of one payload, by its shape; None when the shape is none we know."""
    if "whatsAppWebhookEntry" in payload:
        return whatsapp_statuses(payload)
    kind = str(payload.get("eventType") or "")
    if kind.startswith(("TEXT_", "MEDIA_", "VOICE_")):
        event = sms_event(payload)
        return [event] if event is not None else []
    if "mail" in payload and (kind or payload.get("notificationType")):
        return ses_events(payload)
    return None


def take_delivery_notifications(services: Services, event: Mapping[str, Any]) -> dict[str, int]:
    """Everything the delivery-events topic carries: SES events, SMS events and WhatsApp statuses.

    A WhatsApp Business Account has one event destination for messages and statuses alike. It should
    be the whatsapp-inbound topic; if it is pointed here instead, the debtors' messages in it are
    still taken as replies rather than dropped.
    """
    from rapport.journey.inbound import take_replies  # inbound imports this module
    from rapport.messaging.inbound import whatsapp_replies

    events: list[DeliveryEvent] = []
    replies = []
    unknown = 0
    for notification in unwrap(event, DELIVERY_SOURCE):
        found = _events_in(notification.payload)
        if found is None:
            unknown += 1
            keys = sorted(notification.payload)
            logger.warning("notification of an unknown shape ignored", extra={"keys": keys})
            continue
        events.extend(found)
        if "whatsAppWebhookEntry" in notification.payload:
            replies.extend(whatsapp_replies(notification.payload))
    counts = take_deliveries(services, events)
    counts["unknown"] = unknown
    if replies:
        counts.update({f"replies_{key}": value for key, value in take_replies(services, replies).items()})
    return counts
