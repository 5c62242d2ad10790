"""Replies from debtors: match the sender to an account, record once, resume the waiting journey.

Every channel ends in :func:`take_replies`:

1. the sender (an E.164 number or a lower-case email address) is matched to an account;
2. the reply is stored on the account's timeline under ``in.<channel>.<provider message id>``, a
   conditional write, and marked handled once everything below is done. A provider's retry or a
   duplicate notification of a handled reply is recognised and dropped; a redelivery of a reply whose
   first handling failed part way (Step Functions throttled, a DynamoDB write failed) is handled again,
   each action below being safe to repeat;
3. an opt-out (``STOP``, ``UNSUBSCRIBE``, "stop contacting me"...) is honoured at once, on whatever
   channel it arrives, before anything else happens (on every channel, or only on the ones refused
   when the reply asks for another: "no more SMS, email me instead"); a channel the reply asks for
   is recorded as the account's stated channel;
4. the journey waiting for a response is resumed with the reply. When none waits and none is in
   progress (the last one finished, or there never was one), the reply starts a journey of its own
   (:func:`rapport.journey.resume.start_reply_journey`): the same tree, entered with the reply as what
   came back, so an opt-out is confirmed, a promise recorded and checked, a plan offered, a hardship
   held and handed to a person, exactly as in a waiting journey. A journey in progress but busy
   between two steps is not given a second one beside it, which could contact the debtor twice: the
   reply goes to the agents' worklist instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from rapport.journey.deliveries import take_deliveries
from rapport.journey.optouts import honour_opt_out, is_opt_out_reply, record_stated_channel
from rapport.journey.resume import resume_journey, start_reply_journey, take_queued_reply
from rapport.messaging.channels.notifications import unwrap
from rapport.messaging.delivery import whatsapp_statuses
from rapport.messaging.inbound import (
    EMAIL_SOURCE,
    WHATSAPP_SOURCE,
    InboundEmailRejectedError,
    InboundMessage,
    email_reply,
    whatsapp_replies,
)
from rapport.messaging.preference import requested_channel
from rapport.models.enums import Channel
from rapport.runtime import Services
from rapport.store.models import AccountModel, ContactModel
from rapport.store.repositories import AlreadyRecordedError

logger = Logger(child=True)

__all__ = ["reply_id_for", "take_email_event", "take_replies", "take_whatsapp_event"]

# Worklist reasons for replies that arrive while the account's journey is busy between two steps.
REPLY_WHILE_JOURNEY_BUSY = "reply_while_journey_busy"
REPLY_WITHOUT_WORDS = "reply_without_words"
REPLY_WITH_ATTACHMENT = "reply_with_attachment"
OPT_OUT_TO_CONFIRM = "opt_out_to_confirm"


# A reply's handling that began this long ago without finishing has died (past the inbound functions'
# 15 s timeout, with a margin): a redelivery takes it over. A handling that fails with an error lets go
# at once. Measured on the wall clock, not the journey's (which a local run speeds up).
REPLY_HANDLING_LEASE = timedelta(seconds=45)


class ReplyBeingHandledError(Exception):
    """Another delivery of this reply is handling it now. The invocation fails, and Lambda's retry of
    it (a minute later, then two) finds the reply handled (a duplicate) or let go (handled then)."""


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def reply_id_for(reply: InboundMessage) -> str:
    """The reply's contact id: the provider's message id is the deduplication key."""
    return f"in.{reply.channel.value}.{reply.provider_message_id}"


def _sender_account(services: Services, reply: InboundMessage) -> AccountModel | None:
    accounts = services.repos.accounts
    if reply.channel is Channel.EMAIL:
        return accounts.find_by_email(reply.from_address)
    # NOTE: a number shared by two accounts (one debtor, two debts) matches the first one found; the
    # reply then speaks for that account only. Matching on the In-Reply-To / context id of the message
    # answered (``in_reply_to_provider_message_id``) would pick the right one where the provider gives it.
    return accounts.find_by_phone(reply.from_address)


def _take_one(services: Services, reply: InboundMessage) -> str:
    """Store, honour and route one reply; returns what happened to it (a key of the counts)."""
    account = _sender_account(services, reply)
    now = services.clock.now()
    if account is None:
        logger.warning("reply from an unknown sender", extra={"channel": reply.channel.value})
        return "unmatched"
    reply_id = reply_id_for(reply)
    handling_began = _wall_clock()
    contact = ContactModel(
        account.account_id,
        reply_id,
        at=reply.received_at,
        direction="in",
        channel=reply.channel.value,
        status="received",
        provider_message_id=reply.provider_message_id,
        text=reply.text,
        attachment=reply.attachment,
        attachment_id=reply.attachment_id,
        claimed_at=handling_began,
    )
    try:
        services.repos.contacts.record(contact)
    except AlreadyRecordedError:
        contact = services.repos.contacts.get(account.account_id, reply_id)
        if contact.handled_at is not None:
            logger.info("duplicate reply ignored", extra={"reply_id": reply_id})
            return "duplicate"
        # Another delivery of the same reply may still be handling it (a notification delivered twice at
        # once): this one fails, and Lambda's retry comes when that handling has finished (then a
        # duplicate) or has died (then handled here). Only a handling older than the lease is taken over.
        # NOTE: a reply stored before replies were marked handled has no handled_at either, and is handled
        # again if the provider redelivers it; providers redeliver within minutes, so only replies in flight
        # at the deploy can be affected.
        stale_before = handling_began - REPLY_HANDLING_LEASE
        if not services.repos.contacts.take_over_reply(contact, handling_began, stale_before):
            raise ReplyBeingHandledError(reply_id) from None
        logger.info("reply stored but not handled, handled again", extra={"reply_id": reply_id})
    try:
        outcome = _handle(services, account, reply, contact)
    except Exception:
        # The handling failed: Lambda's retry (a minute later) may take the reply over at once.
        services.repos.contacts.release_reply(contact, handling_began)
        raise
    services.repos.contacts.mark_handled(contact, now)
    return outcome


def _handle(services: Services, account: AccountModel, reply: InboundMessage, contact: ContactModel) -> str:
    """Act on a stored reply. Every action may run twice (a redelivered reply whose first handling failed
    part way): the opt-out is recorded only if not yet recorded, the journey's token is taken in the
    reply's name and handed over again by it alone, a journey started for the reply is named by it, and
    worklist items are keyed by the time the reply came."""
    now, reply_id = services.clock.now(), contact.contact_id
    if _says_nothing(reply):
        return _hand_to_a_person(services, account.account_id, reply, reply_id, now)

    journeys = services.repos.journeys
    journey = journeys.taken_by(account.account_id, reply_id) or journeys.waiting(account.account_id)
    opted_out = is_opt_out_reply(reply.text, reply.keyword)
    if opted_out:
        # A STOP stops every channel; "no more SMS, email me instead" only the channels it refuses.
        honour_opt_out(
            services,
            account.account_id,
            reply.channel,
            reply_id=reply_id,
            journey_id=journey.journey_id if journey else None,
            text=reply.text,
        )
    else:
        # "please email me": the channel asked for is learned, nothing is stopped.
        record_stated_channel(
            services,
            account,
            requested_channel(reply.text),
            reply_id=reply_id,
            journey_id=journey.journey_id if journey else None,
        )
    response = {"kind": "reply", "reply_id": reply_id, "channel": reply.channel.value, "opt_out": opted_out}
    received = reply.received_at
    resumed = False
    if journey is not None:
        resumed = resume_journey(services, account.account_id, response, journey, claimant=reply_id)
    started = None
    if not resumed:
        busy = services.repos.journeys.in_progress(account.account_id)
        if busy is None:
            started = start_reply_journey(services, account.account_id, response, now)
        else:
            # A journey between two steps parks again within seconds: a reply that came meanwhile is queued,
            # and the journey reads it when it parks (``take_queued_reply``). The worklist item is there in
            # case it never parks again (it ends instead); reading the reply closes it.
            if opted_out:
                services.repos.worklist.add(account.account_id, OPT_OUT_TO_CONFIRM, busy.journey_id, received)
            else:
                key = services.repos.worklist.add(
                    account.account_id, REPLY_WHILE_JOURNEY_BUSY, busy.journey_id, received, about=reply_id
                )
                services.repos.contacts.queue_reply(contact, busy.journey_id, key)
                # The journey may have parked, and looked for queued replies, since it was found busy.
                if take_queued_reply(services, account.account_id, busy.journey_id) == reply_id:
                    resumed, journey = True, busy
    taken_by = journey.journey_id if resumed and journey else started
    if reply.attachment is not None:
        # The words (a caption) are read as any reply; what came with them, a photo of a payslip or a
        # proof of payment, only a person can look at.
        services.repos.worklist.add(account.account_id, REPLY_WITH_ATTACHMENT, taken_by, received)
    services.repos.audit.append(
        account.account_id,
        "reply_received",
        now,
        rule=f"reply.{reply.channel.value}",
        journey_id=taken_by,
        reason="reply recorded",
        inputs={
            "reply_id": reply_id,
            "resumed": resumed,
            "started": started is not None,
            "opt_out": opted_out,
            "attachment": reply.attachment,
        },
    )
    if resumed:
        return "resumed"
    return "started" if started is not None else "queued"


def _says_nothing(reply: InboundMessage) -> bool:
    """No words to read (only spaces or invisible characters such as a zero-width space) and no button
    pressed. An SMS always carries the keyword AWS matched for the number, which says nothing by
    itself; a WhatsApp keyword is the payload of the button the debtor pressed."""
    if any(not char.isspace() and unicodedata.category(char) != "Cf" for char in reply.text):
        return False
    if is_opt_out_reply(reply.text, reply.keyword):
        return False
    return not (reply.channel is Channel.WHATSAPP and reply.keyword)


def _hand_to_a_person(
    services: Services, account_id: str, reply: InboundMessage, reply_id: str, now: datetime
) -> str:
    """A reply with no words (a voice note, a photo, an empty SMS) is stored and read by a person.

    Nothing in it can be analysed, so no journey is resumed or started for it: a journey that waits
    goes on waiting (and hands over on its own if nothing else comes).
    """
    journey = services.repos.journeys.in_progress(account_id)
    journey_id = journey.journey_id if journey is not None else None
    services.repos.worklist.add(account_id, REPLY_WITHOUT_WORDS, journey_id, reply.received_at)
    services.repos.audit.append(
        account_id,
        "reply_received",
        now,
        rule=f"reply.{reply.channel.value}",
        journey_id=journey_id,
        reason="reply without words, for a person",
        inputs={
            "reply_id": reply_id,
            "attachment": reply.attachment,
            "resumed": False,
            "started": False,
            "without_words": True,
        },
    )
    return "queued"


def take_replies(services: Services, replies: list[InboundMessage]) -> dict[str, int]:
    """Each reply: find the account, store it (duplicates recognised), honour an opt-out, then resume
    the waiting journey, start one for the reply, or (journey busy) queue it for an agent."""
    counts = {"resumed": 0, "started": 0, "unmatched": 0, "duplicate": 0, "queued": 0}
    for reply in replies:
        counts[_take_one(services, reply)] += 1
    return counts


def take_whatsapp_event(services: Services, event: Mapping[str, Any]) -> dict[str, int]:
    """An End User Messaging Social event: the debtors' messages and the statuses of ours.

    A WhatsApp Business Account has a single event destination, so both arrive on the same topic.
    """
    replies: list[InboundMessage] = []
    statuses = []
    for notification in unwrap(event, WHATSAPP_SOURCE):
        replies.extend(whatsapp_replies(notification.payload))
        statuses.extend(whatsapp_statuses(notification.payload))
    counts = take_replies(services, replies)
    if statuses:
        delivered = take_deliveries(services, statuses)
        counts.update({f"statuses_{key}": value for key, value in delivered.items()})
    return counts


def take_email_event(services: Services, event: Mapping[str, Any]) -> dict[str, int]:
    """Email replies from the SES receipt rule's SNS action; spam and infected mail are dropped here.

    SES invokes the rule once per email and SNS hands Lambda one record per call, so a rejection
    concerns one email; the rest of the event is still taken.
    """
    replies: list[InboundMessage] = []
    rejected = 0
    for notification in unwrap(event, EMAIL_SOURCE):
        try:
            replies.append(email_reply(notification.payload))
        except InboundEmailRejectedError as error:
            rejected += 1
            logger.warning("inbound email dropped", extra={"reason": error.reason})
    counts = take_replies(services, replies)
    counts["rejected"] = rejected
    return counts
