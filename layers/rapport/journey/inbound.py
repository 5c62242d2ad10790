"""Replies from debtors: match the sender to an account, record once, resume the waiting journey."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from rapport.journey.resume import resume_journey
from rapport.runtime import Services
from rapport.store.models import ContactModel
from rapport.store.repositories import AlreadyRecordedError

logger = Logger(child=True)


def take_replies(services: Services, replies: list[Any]) -> dict[str, int]:
    """Each reply: find the account, store it (duplicates recognised), resume or queue for an agent."""
    counts = {"resumed": 0, "unmatched": 0, "duplicate": 0, "queued": 0}
    for reply in replies:
        account = (
            services.repos.accounts.find_by_email(reply.from_address)
            if reply.channel.value == "email"
            else services.repos.accounts.find_by_phone(reply.from_address)
        )
        now = services.clock.now()
        if account is None:
            counts["unmatched"] += 1
            logger.warning("reply from an unknown sender", extra={"channel": reply.channel.value})
            continue
        reply_id = f"in.{reply.channel.value}.{reply.provider_message_id}"
        contact = ContactModel(
            account.account_id,
            reply_id,
            at=reply.received_at,
            direction="in",
            channel=reply.channel.value,
            status="received",
            provider_message_id=reply.provider_message_id,
            text=reply.text,
        )
        try:
            services.repos.contacts.record(contact)
        except AlreadyRecordedError:
            counts["duplicate"] += 1
            continue
        resumed = resume_journey(
            services,
            account.account_id,
            {
                "kind": "reply",
                "reply_id": reply_id,
                "channel": reply.channel.value,
            },
        )
        if resumed:
            counts["resumed"] += 1
        else:
            # NOTE: a reply with no journey waiting goes to a person; starting a dedicated reply
            # flow (a second state machine) would let Rapport answer it by itself.
            services.repos.worklist.add(account.account_id, "reply_without_journey", None, now)
            counts["queued"] += 1
        services.repos.audit.append(
            account.account_id,
            "reply_received",
            now,
            rule=f"reply.{reply.channel.value}",
            reason="reply recorded",
            inputs={"reply_id": reply_id, "resumed": resumed},
        )
    return counts
