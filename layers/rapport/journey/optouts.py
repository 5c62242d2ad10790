"""Opt-outs and suppressed addresses: recorded once, whichever path reports them first.

Two kinds of stop reach an account:

* the debtor asks (``STOP``, ``UNSUBSCRIBE``, "stop contacting me"...), on any channel: the inbound
  functions honour it the moment the reply arrives, and the journey's RecordOptOut step does it again
  after its own analysis; the second call finds nothing new to record. Every opt-out covers every
  channel at once, whichever it arrived on and whatever its words: a debtor who texts STOP and then
  gets an email has not been listened to.
* a provider says an address cannot or must not be used (a hard bounce, a spam complaint, a carrier
  opt-out list): the delivery-events function suppresses that address on that channel.

Both end up where the rest of Rapport looks: ``opt_outs`` (the compliance guardrails refuse any
message they cover, whoever sends it) and ``suppressed_channels`` (assessment and plan_contact skip
the channel). Sending the confirmation is not done here: only the send_message function may send.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from rapport.compliance import profile_for
from rapport.compliance.addresses import normalise_address
from rapport.journey.errors import NoAddressError
from rapport.journey.messages import address_for
from rapport.messaging.optout import is_opt_out
from rapport.models.enums import Channel
from rapport.runtime import Services
from rapport.store.models import AccountModel, OptOutRecord
from rapport.store.repositories import ConcurrentUpdateError

logger = Logger(child=True)

_ADD_ATTEMPTS = 3

__all__ = ["OptOutOutcome", "SuppressionOutcome", "honour_opt_out", "is_opt_out_reply", "suppress_address"]


class OptOutOutcome(BaseModel):
    """What honouring one opt-out changed. ``newly_suppressed`` is empty when it was already in force."""

    model_config = ConfigDict(frozen=True)

    channels: tuple[Channel, ...]
    newly_suppressed: tuple[Channel, ...]
    recorded: bool


class SuppressionOutcome(BaseModel):
    """What a hard bounce, complaint or carrier opt-out changed on the account."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    address_blocked: bool
    channel_suppressed: bool


def is_opt_out_reply(text: str, keyword: str | None = None) -> bool:
    """True when the reply or the keyword the provider matched (an SMS keyword, a WhatsApp button
    payload) is an opt-out in the narrow sense of :mod:`rapport.messaging.optout`."""
    return is_opt_out(text) or (bool(keyword) and is_opt_out(str(keyword)))


def honour_opt_out(
    services: Services,
    account_id: str,
    channel: Channel,
    *,
    reply_id: str,
    journey_id: str | None = None,
) -> OptOutOutcome:
    """Record the debtor's opt-out and suppress every channel; idempotent.

    ``channel`` is where the request arrived, kept as evidence (the confirmation goes back there).
    """
    repos, now = services.repos, services.clock.now()
    channels = tuple(Channel)
    # Read, then add only if the opt-outs are still as read: two handlings of one STOP at once (a
    # notification delivered twice) record it once.
    for _ in range(_ADD_ATTEMPTS):
        account = repos.accounts.get(account_id)
        already = any(o.channel is None and o.address is None for o in account.opt_outs or [])
        record = OptOutRecord(channel=None, address=None, recorded_at=now)
        held = len(account.opt_outs or [])
        if already or repos.accounts.add_opt_out(account_id, record, expected_count=held):
            break
    else:
        raise ConcurrentUpdateError(f"opt-outs of {account_id} kept changing")
    suppressed = set(account.suppressed_channels or [])
    newly = tuple(c for c in channels if c.value not in suppressed)
    for name in newly:
        repos.accounts.suppress_channel(account_id, name.value)
    if not already or newly:
        repos.audit.append(
            account_id,
            "opted_out",
            now,
            rule="optout.all",
            journey_id=journey_id,
            reason="the debtor asked us to stop",
            inputs={"reply_id": reply_id, "arrived_on": channel.value, "channels": [c.value for c in channels]},
        )
        logger.info("opt-out honoured", extra={"arrived_on": channel.value, "newly_suppressed": len(newly)})
    return OptOutOutcome(channels=channels, newly_suppressed=newly, recorded=not already)


def _same_address(services: Services, channel: Channel, first: str, second: str) -> bool:
    country = profile_for(services.client.jurisdiction).phone_country_code
    return normalise_address(channel, first, country) == normalise_address(channel, second, country)


def suppress_address(
    services: Services,
    account: AccountModel,
    channel: Channel,
    address: str,
    *,
    rule: str,
    journey_id: str | None,
    inputs: dict,
) -> SuppressionOutcome:
    """Block ``address`` on ``channel`` for good (until a person clears it); idempotent.

    The address is blocked even when the account has since moved to another one, so a later
    import of the old address cannot bring it back; the channel itself is suppressed only while
    the account still uses that address.
    """
    repos, now = services.repos, services.clock.now()
    blocked = any(
        o.channel == channel.value and o.address and _same_address(services, channel, o.address, address)
        for o in account.opt_outs or []
    )
    if not blocked:
        repos.accounts.add_opt_out(
            account.account_id, OptOutRecord(channel=channel.value, address=address, recorded_at=now)
        )
    try:
        current = address_for(account, channel)
    except NoAddressError:
        current = None
    in_use = current is not None and _same_address(services, channel, current, address)
    suppress = in_use and channel.value not in (account.suppressed_channels or [])
    if suppress:
        repos.accounts.suppress_channel(account.account_id, channel.value)
    if not blocked or suppress:
        repos.audit.append(
            account.account_id,
            "address_suppressed",
            now,
            rule=rule,
            journey_id=journey_id,
            reason="the provider says this address must not be used again",
            inputs={**inputs, "channel": channel.value, "channel_suppressed": suppress},
        )
    return SuppressionOutcome(channel=channel, address_blocked=not blocked, channel_suppressed=suppress)
