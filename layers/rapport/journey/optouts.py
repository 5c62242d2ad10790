"""Opt-outs and suppressed addresses: recorded once, whichever path reports them first.

Two kinds of stop reach an account:

* the debtor asks (``STOP``, ``UNSUBSCRIBE``, "stop contacting me"...), on any channel: the inbound
  functions honour it the moment the reply arrives, and the journey's RecordOptOut step does it again
  after its own analysis; the second call finds nothing new to record. An opt-out covers every
  channel at once, whichever it arrived on: a debtor who texts STOP and then gets an email has not
  been listened to. The one exception is a request that names the channel the debtor wants ("no more
  SMS, email me instead", "WhatsApp only"): it stops only the channels it refuses (the one it came on
  for "not on this number", every other one for "... only") and records the channel asked for as the
  account's stated channel (:func:`rapport.messaging.preference.requested_channel` reads the words).
  A request that refuses a channel but asks for none ("stop texting me") still stops every channel.
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
from rapport.messaging.preference import ChannelRequest, requested_channel
from rapport.models.enums import Channel
from rapport.runtime import Services
from rapport.store.models import AccountModel, OptOutRecord
from rapport.store.repositories import ConcurrentUpdateError, RecordNotFoundError

logger = Logger(child=True)

_ADD_ATTEMPTS = 3

__all__ = [
    "OptOutOutcome",
    "SuppressionOutcome",
    "honour_opt_out",
    "is_opt_out_reply",
    "record_stated_channel",
    "suppress_address",
]


class OptOutOutcome(BaseModel):
    """What honouring one opt-out changed. ``newly_suppressed`` is empty when it was already in force.

    ``channels`` are the channels the request stops; ``every_channel`` says whether the account is now
    opted out of every channel (by this request or an earlier one); ``stated_channel`` is the channel
    the request asked for, if it named one.
    """

    model_config = ConfigDict(frozen=True)

    channels: tuple[Channel, ...]
    newly_suppressed: tuple[Channel, ...]
    recorded: bool
    every_channel: bool = True
    stated_channel: Channel | None = None


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


def _reply_text(services: Services, account_id: str, reply_id: str) -> str:
    try:
        return services.repos.contacts.get(account_id, reply_id).text or ""
    except RecordNotFoundError:
        return ""


def honour_opt_out(
    services: Services,
    account_id: str,
    channel: Channel,
    *,
    reply_id: str,
    journey_id: str | None = None,
    text: str | None = None,
) -> OptOutOutcome:
    """Record the debtor's opt-out and suppress every channel, or only the ones a request that names
    another channel refuses; idempotent.

    ``channel`` is where the request arrived, kept as evidence (the confirmation goes back there).
    ``text`` is the reply's words; when not given they are read from the stored reply ``reply_id``.
    """
    repos = services.repos
    account = repos.accounts.get(account_id)
    request = requested_channel(_reply_text(services, account_id, reply_id) if text is None else text)
    everything_stopped = any(o.channel is None and o.address is None for o in account.opt_outs or [])
    # Narrower only when the reply both names the channel it wants and refuses others in so many words
    # ("no more SMS", "not on this number", "WhatsApp only"); an opt-out that only mentions a channel
    # ("STOP contacting me, send it to my email") stops everything, the side the rules require.
    narrowed = request.wanted is not None and bool(request.refused_channels(channel, Channel))
    if narrowed and not everything_stopped:
        return _honour_channel_request(services, account, channel, request, reply_id, journey_id)

    now = services.clock.now()
    channels = tuple(Channel)
    # Read, then add only if the opt-outs are still as read: two handlings of one STOP at once (a
    # notification delivered twice) record it once.
    for _ in range(_ADD_ATTEMPTS):
        already = any(o.channel is None and o.address is None for o in account.opt_outs or [])
        record = OptOutRecord(channel=None, address=None, recorded_at=now)
        held = len(account.opt_outs or [])
        if already or repos.accounts.add_opt_out(account_id, record, expected_count=held):
            break
        account = repos.accounts.get(account_id)
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


def _honour_channel_request(
    services: Services,
    account: AccountModel,
    arrived_on: Channel,
    request: ChannelRequest,
    reply_id: str,
    journey_id: str | None,
) -> OptOutOutcome:
    """Stop only the channels a request that names the wanted channel refuses; record the wanted one."""
    repos, now = services.repos, services.clock.now()
    refused = request.refused_channels(arrived_on, Channel)
    channels = tuple(c for c in Channel if c in refused)
    opted_out = {o.channel for o in account.opt_outs or [] if o.address is None}
    new_records = [c for c in channels if c.value not in opted_out]
    for name in new_records:
        record = OptOutRecord(channel=name.value, address=None, recorded_at=now)
        repos.accounts.add_opt_out(account.account_id, record)
    suppressed = set(account.suppressed_channels or [])
    newly = tuple(c for c in channels if c.value not in suppressed)
    for name in newly:
        repos.accounts.suppress_channel(account.account_id, name.value)
    if new_records or newly:
        repos.audit.append(
            account.account_id,
            "opted_out",
            now,
            rule="optout.channel",
            journey_id=journey_id,
            reason="the debtor refused these channels and asked for another",
            inputs={
                "reply_id": reply_id,
                "arrived_on": arrived_on.value,
                "channels": [c.value for c in channels],
                "asked_for": request.wanted.value if request.wanted else None,
            },
        )
        context = {"arrived_on": arrived_on.value, "newly_suppressed": len(newly)}
        logger.info("channel opt-out honoured", extra=context)
    record_stated_channel(services, account, request, reply_id=reply_id, journey_id=journey_id)
    return OptOutOutcome(
        channels=channels,
        newly_suppressed=newly,
        recorded=bool(new_records),
        every_channel=False,
        stated_channel=request.wanted,
    )


def record_stated_channel(
    services: Services,
    account: AccountModel,
    request: ChannelRequest,
    *,
    reply_id: str,
    journey_id: str | None = None,
) -> bool:
    """Keep the channel a reply asks for as the account's stated channel (audited); False when it was
    already the stated channel or the reply asks for none."""
    if request.wanted is None or account.stated_channel == request.wanted.value:
        return False
    now = services.clock.now()
    services.repos.accounts.state_channel(account.account_id, request.wanted.value)
    services.repos.audit.append(
        account.account_id,
        "channel_stated",
        now,
        rule="reply.channel_asked_for",
        journey_id=journey_id,
        reason="the debtor asked to be contacted on this channel",
        inputs={"reply_id": reply_id, "channel": request.wanted.value, "before": account.stated_channel},
    )
    logger.info("stated channel recorded", extra={"channel": request.wanted.value})
    return True


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
