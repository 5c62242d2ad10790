"""The decision: may this contact happen now, later, or not at all?

Rules fall in two families. Refusing rules are those no amount of waiting fixes: an opt-out, a hold
that a person must clear (or that has no end), a channel whose cap is zero. Timed rules block for a
while: the contact window and public holidays, caps until older contacts roll off, Regulation F's call
rules, and holds that lapse at a known moment.

For a deferral, ``not_before`` is found by jumping: from a blocked moment, ask the first blocking rule
when it alone would clear, move there (rounded up to a whole minute), and ask every rule again. Each
jump lands at or before the earliest moment all rules agree, because a moment allowed by all is
allowed by the rule that moved us; so the first moment nothing blocks is the earliest such minute.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Protocol

from rapport.compliance.addresses import PHONE_CHANNELS, normalise_address
from rapport.compliance.clock import ceil_to_minute, local_day_start, require_aware, spoken_day
from rapport.compliance.errors import NoContactWindowError
from rapport.compliance.holds import Hold, HoldScope
from rapport.compliance.jurisdictions import WEEKDAY_NAMES, CallRules, ChannelLimit, JurisdictionProfile
from rapport.compliance.models import (
    AttemptKind,
    ContactDecision,
    ContactPurpose,
    ContactRequest,
    DecisionOutcome,
)
from rapport.compliance.windows import (
    SEARCH_HORIZON_DAYS,
    inside_window,
    next_allowed_moment,
    window_block,
)
from rapport.models.enums import Channel, HoldKind

ALLOW_RULE = "allow"
ROLLING_WEEK = timedelta(days=7)
_MAX_JUMPS = 2000
_HORIZON = timedelta(days=SEARCH_HORIZON_DAYS)

# The order in which refusing holds are reported when several apply: the gravest first.
_HOLD_SEVERITY = (
    HoldKind.DECEASED,
    HoldKind.FRAUD,
    HoldKind.LEGAL_REPRESENTATION,
    HoldKind.DEBT_REVIEW,
    HoldKind.DISPUTE,
    HoldKind.VULNERABILITY,
    HoldKind.BREATHING_SPACE,
    HoldKind.HARDSHIP,
)

_CHANNEL_WORDS = {
    Channel.SMS: "SMS",
    Channel.WHATSAPP: "WhatsApp",
    Channel.EMAIL: "email",
    Channel.PUSH: "push notification",
    Channel.CALL: "call",
}


def channel_word(channel: Channel) -> str:
    return _CHANNEL_WORDS[channel]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class Block:
    rule: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)


class _TimedRule(Protocol):
    def blocks(self, at: datetime) -> bool:
        """Whether this rule blocks a contact at ``at`` (fast: used while searching)."""
        ...

    def block(self, at: datetime) -> Block | None:
        """Why this rule blocks a contact at ``at``, or None."""
        ...

    def clears_at(self, at: datetime) -> datetime | None:
        """When blocked at ``at``: the earliest later instant this rule alone allows (None: never)."""
        ...


@dataclass(frozen=True)
class _HoldLapse:
    hold: Hold
    ends_at: datetime

    def blocks(self, at: datetime) -> bool:
        return self.hold.is_active(at)

    def block(self, at: datetime) -> Block | None:
        if not self.hold.is_active(at):
            return None
        kind = self.hold.kind.value
        return Block(
            rule=f"hold.{kind}",
            reason=(
                f"A {kind.replace('_', ' ')} hold is on the account until {spoken_day(self.ends_at)} "
                f"{self.ends_at:%H:%M} UTC: {self.hold.policy.summary}."
            ),
            facts=_hold_facts(self.hold) | {"hold_ends_at": _iso(self.ends_at)},
        )

    def clears_at(self, at: datetime) -> datetime | None:
        candidates = [self.ends_at]
        if self.hold.cleared_at is not None and self.hold.cleared_at > at:
            candidates.append(self.hold.cleared_at)
        return min(candidates)


@dataclass(frozen=True)
class _Window:
    profile: JurisdictionProfile
    zone: tzinfo

    def blocks(self, at: datetime) -> bool:
        return not inside_window(self.profile, self.zone, at)

    def block(self, at: datetime) -> Block | None:
        blocked = window_block(self.profile, self.zone, at)
        if blocked is None:
            return None
        return Block(rule=blocked.rule, reason=blocked.reason, facts=blocked.facts)

    def clears_at(self, at: datetime) -> datetime | None:
        try:
            return next_allowed_moment(self.profile, self.zone, at)
        except NoContactWindowError:
            return None


@dataclass(frozen=True)
class _DailyCap:
    channel: Channel
    limit: int
    zone: tzinfo
    per_local_day: Counter[date]

    def blocks(self, at: datetime) -> bool:
        return self.per_local_day[at.astimezone(self.zone).date()] >= self.limit

    def block(self, at: datetime) -> Block | None:
        day = at.astimezone(self.zone).date()
        sent = self.per_local_day[day]
        if sent < self.limit:
            return None
        return Block(
            rule=f"cap.{self.channel.value}.day",
            reason=(
                f"{sent} {channel_word(self.channel)} contact(s) already on {spoken_day(day)} "
                f"(debtor's date); the cap is {self.limit} a day."
            ),
            facts={"sent_on_day": sent, "limit_per_day": self.limit, "local_date": day.isoformat()},
        )

    def clears_at(self, at: datetime) -> datetime | None:
        day = at.astimezone(self.zone).date()
        return local_day_start(self.zone, day + timedelta(days=1))


@dataclass(frozen=True)
class _RollingWeekCap:
    channel: Channel
    limit: int
    times: tuple[datetime, ...]  # sorted, UTC

    def _first_counted(self, at: datetime) -> int:
        # Contacts strictly after `at - 7 days` count; one exactly 7 days old has rolled off.
        return bisect.bisect_right(self.times, at - ROLLING_WEEK)

    def blocks(self, at: datetime) -> bool:
        return len(self.times) - self._first_counted(at) >= self.limit

    def block(self, at: datetime) -> Block | None:
        sent = len(self.times) - self._first_counted(at)
        if sent < self.limit:
            return None
        return Block(
            rule=f"cap.{self.channel.value}.7d",
            reason=(
                f"{sent} {channel_word(self.channel)} contact(s) in the last 7 days; "
                f"the cap is {self.limit} in any 7 days."
            ),
            facts={"sent_last_7_days": sent, "limit_per_7_days": self.limit},
        )

    def clears_at(self, at: datetime) -> datetime | None:
        first = self._first_counted(at)
        excess = len(self.times) - first - self.limit + 1
        return self.times[first + excess - 1] + ROLLING_WEEK


@dataclass(frozen=True)
class _CallsInPeriod:
    """Regulation F 1006.14(b)(2)(i)(A): calls placed in any run of consecutive local days."""

    prefix: str
    rules: CallRules
    zone: tzinfo
    per_local_day: Counter[date]

    def _worst_period(self, day: date) -> tuple[int, date]:
        span = self.rules.period_days
        worst, worst_start = -1, day
        for shift in range(span):
            start = day - timedelta(days=span - 1 - shift)
            placed = sum(self.per_local_day[start + timedelta(days=i)] for i in range(span))
            if placed > worst:
                worst, worst_start = placed, start
        return worst, worst_start

    def blocks(self, at: datetime) -> bool:
        return self._worst_period(at.astimezone(self.zone).date())[0] >= self.rules.max_calls

    def block(self, at: datetime) -> Block | None:
        day = at.astimezone(self.zone).date()
        placed, start = self._worst_period(day)
        if placed < self.rules.max_calls:
            return None
        return Block(
            rule=f"{self.prefix}.call.7in7",
            reason=(
                f"{placed} calls were already placed in the {self.rules.period_days} consecutive days from "
                f"{spoken_day(start)}; Regulation F allows at most {self.rules.max_calls}."
            ),
            facts={
                "calls_in_period": placed,
                "period_start": start.isoformat(),
                "max_calls": self.rules.max_calls,
            },
        )

    def clears_at(self, at: datetime) -> datetime | None:
        day = at.astimezone(self.zone).date()
        return local_day_start(self.zone, day + timedelta(days=1))


@dataclass(frozen=True)
class _QuietAfterConversation:
    """Regulation F 1006.14(b)(2)(i)(B): no call in the days that start on a conversation's day."""

    prefix: str
    rules: CallRules
    zone: tzinfo
    conversation_days: tuple[date, ...]  # sorted local dates

    def _latest_blocking(self, day: date) -> date | None:
        quiet = self.rules.quiet_days_after_conversation
        blocking = [c for c in self.conversation_days if c <= day < c + timedelta(days=quiet)]
        return max(blocking) if blocking else None

    def blocks(self, at: datetime) -> bool:
        return self._latest_blocking(at.astimezone(self.zone).date()) is not None

    def block(self, at: datetime) -> Block | None:
        day = at.astimezone(self.zone).date()
        conversation = self._latest_blocking(day)
        if conversation is None:
            return None
        quiet = self.rules.quiet_days_after_conversation
        return Block(
            rule=f"{self.prefix}.call.after_conversation",
            reason=(
                f"A telephone conversation took place on {spoken_day(conversation)}; Regulation F allows "
                f"no call in the {quiet} days that start that day."
            ),
            facts={"conversation_date": conversation.isoformat(), "quiet_days": quiet},
        )

    def clears_at(self, at: datetime) -> datetime | None:
        day = at.astimezone(self.zone).date()
        conversation = self._latest_blocking(day)
        if conversation is None:
            return at
        quiet = timedelta(days=self.rules.quiet_days_after_conversation)
        return local_day_start(self.zone, conversation + quiet)


def _hold_facts(hold: Hold) -> dict[str, Any]:
    return {
        "hold_kind": hold.kind.value,
        "hold_scope": hold.policy.scope.value,
        "hold_placed_at": _iso(hold.placed_at),
        "hold_until": _iso(hold.until),
        "cleared_only_by_person": hold.policy.cleared_only_by_person,
    }


def _refusing_hold(hold: Hold) -> Block:
    kind = hold.kind.value
    policy = hold.policy
    stops = (
        "It stops all contact."
        if policy.scope is HoldScope.ALL_CONTACT
        else "It stops collection contact; service messages may still go."
    )
    if policy.cleared_only_by_person:
        ends = "Only a person can clear it."
    else:
        ends = "It has no end date, so it stays until a person clears it or records one."
    return Block(
        rule=f"hold.{kind}",
        reason=(
            f"A {kind.replace('_', ' ')} hold was placed on {spoken_day(hold.placed_at)}: "
            f"{policy.summary}. {stops} {ends}"
        ),
        facts=_hold_facts(hold),
    )


def _destination_word(channel: Channel) -> str:
    if channel in PHONE_CHANNELS:
        return "this number"
    if channel is Channel.EMAIL:
        return "this email address"
    return "this device"


class _Evaluation:
    """The facts of one request, prepared once and shared by every rule."""

    def __init__(self, request: ContactRequest, now: datetime) -> None:
        self.request = request
        self.now = now
        self.profile = request.resolved_profile
        self.zone = request.zone
        self.channel = request.channel
        self.limit: ChannelLimit = self.profile.cap_for(self.channel)
        on_channel = [attempt for attempt in request.history if attempt.channel is self.channel]
        # UTC throughout: arithmetic on datetimes that share a ZoneInfo is wall-clock arithmetic, and
        # comparing two of them ignores the fold, both wrong across a clock change.
        self.channel_times = tuple(sorted(attempt.at.astimezone(UTC) for attempt in on_channel))
        self.channel_days: Counter[date] = Counter(
            moment.astimezone(self.zone).date() for moment in self.channel_times
        )

    # Refusals --------------------------------------------------------------------------------------

    def refusals(self) -> list[Block]:
        return self._hold_refusals() + self._opt_out_refusals() + self._disabled_channel()

    def _blocking_holds(self) -> list[Hold]:
        collection = self.request.purpose is ContactPurpose.COLLECTION
        holds = [
            hold
            for hold in self.request.holds
            if hold.is_active(self.now) and hold.stops(collection=collection)
        ]
        return sorted(holds, key=lambda hold: (_HOLD_SEVERITY.index(hold.kind), hold.placed_at))

    def _hold_refusals(self) -> list[Block]:
        return [_refusing_hold(hold) for hold in self._blocking_holds() if hold.ends_at is None]

    def _opt_out_refusals(self) -> list[Block]:
        country = self.profile.phone_country_code
        wanted = normalise_address(self.channel, self.request.address, country)
        blocks = []
        for opt_out in self.request.opt_outs:
            if opt_out.channel is not None and opt_out.channel is not self.channel:
                continue
            refused = opt_out.address
            if refused is not None and normalise_address(self.channel, refused, country) != wanted:
                continue
            every_channel = opt_out.channel is None
            what = "all contact" if every_channel else channel_word(self.channel)
            where = "any address" if opt_out.address is None else _destination_word(self.channel)
            blocks.append(
                Block(
                    rule="optout.all" if every_channel else f"optout.{self.channel.value}",
                    reason=f"The debtor opted out of {what} to {where}; that stands until they opt back in.",
                    facts={
                        "opt_out_channel": None if every_channel else self.channel.value,
                        "opt_out_covers_every_address": opt_out.address is None,
                        "opt_out_recorded_at": _iso(opt_out.recorded_at),
                    },
                )
            )
        return blocks

    def _disabled_channel(self) -> list[Block]:
        zero = [name for name in ("per_day", "per_7_days") if getattr(self.limit, name) == 0]
        if not zero:
            return []
        word = channel_word(self.channel)
        return [
            Block(
                rule=f"cap.{self.channel.value}.disabled",
                reason=f"The client's caps allow no {word} contact at all ({zero[0]} is 0).",
                facts={"limit_per_day": self.limit.per_day, "limit_per_7_days": self.limit.per_7_days},
            )
        ]

    # Timed rules -----------------------------------------------------------------------------------

    def timed_rules(self) -> list[_TimedRule]:
        # NOTE: the window applies to service and confirmation messages too, the safe reading of CPA
        # regulation 4 and Regulation F's hours; a client that must send receipts at night would need a
        # purpose-aware profile. Caps limit collection messages only: a service or confirmation message
        # answers what the debtor just asked or did (a balance, a plan, a promise, an opt-out), so holding
        # it to the next day would leave them unanswered; it still counts in the history that caps the
        # collection messages after it. Caps and Regulation F count this account's history only, which is
        # Regulation F's per-debt count; a cap per person across accounts needs every account's history.
        # Calls made with the debtor's prior consent (1006.14(b)(3)(i)) still count: the safe side.
        rules: list[_TimedRule] = [
            _HoldLapse(hold, ends_at)
            for hold in self._blocking_holds()
            if (ends_at := hold.ends_at) is not None
        ]
        rules.append(_Window(self.profile, self.zone))
        call_rules = self.profile.call_rules
        if self.channel is Channel.CALL and call_rules is not None:
            calls = [attempt for attempt in self.request.history if attempt.channel is Channel.CALL]
            conversations = sorted(
                {c.at.astimezone(self.zone).date() for c in calls if c.kind is AttemptKind.CONVERSATION}
            )
            rules.append(
                _QuietAfterConversation(self.profile.rule_prefix, call_rules, self.zone, tuple(conversations))
            )
            placed: Counter[date] = Counter(c.at.astimezone(self.zone).date() for c in calls if c.delivered)
            rules.append(_CallsInPeriod(self.profile.rule_prefix, call_rules, self.zone, placed))
        if self.request.purpose is not ContactPurpose.COLLECTION:
            return rules
        if self.limit.per_day:
            rules.append(_DailyCap(self.channel, self.limit.per_day, self.zone, self.channel_days))
        if self.limit.per_7_days:
            rules.append(_RollingWeekCap(self.channel, self.limit.per_7_days, self.channel_times))
        return rules

    # Shared facts ----------------------------------------------------------------------------------

    def base_inputs(self) -> dict[str, Any]:
        wall = self.now.astimezone(self.zone)
        return {
            "jurisdiction": self.profile.jurisdiction.value,
            "rule_prefix": self.profile.rule_prefix,
            "timezone": self.request.debtor_timezone,
            "channel": self.channel.value,
            "purpose": self.request.purpose.value,
            "evaluated_at": self.now.isoformat(),
            "local_time": wall.isoformat(timespec="minutes"),
            "weekday": WEEKDAY_NAMES[wall.weekday()],
            "active_holds": [hold.kind.value for hold in self.request.holds if hold.is_active(self.now)],
        }

    def usage(self) -> dict[str, Any]:
        today = self.now.astimezone(self.zone).date()
        week_start = self.now - ROLLING_WEEK
        return {
            "sent_today": self.channel_days[today],
            "sent_last_7_days": sum(1 for moment in self.channel_times if moment > week_start),
            "limit_per_day": self.limit.per_day,
            "limit_per_7_days": self.limit.per_7_days,
        }


def _earliest_clear(rules: list[_TimedRule], now: datetime) -> datetime | None:
    moment = now
    for _ in range(_MAX_JUMPS):
        blocking = next((rule for rule in rules if rule.blocks(moment)), None)
        if blocking is None:
            return moment
        clears = blocking.clears_at(moment)
        if clears is None or clears - now > _HORIZON:
            return None
        moment = ceil_to_minute(max(clears, moment + timedelta(microseconds=1)))
    return None


def evaluate_contact(request: ContactRequest, now: datetime) -> ContactDecision:
    """Decide whether the contact in ``request`` may happen at ``now``.

    ``allow``: it may go now. ``defer``: not now, but at ``not_before`` (the earliest whole minute at
    which every rule agrees, given the same history and holds). ``refuse``: no waiting would help.
    """
    now = require_aware(now, "now")
    evaluation = _Evaluation(request, now)
    profile = evaluation.profile
    common = {
        "account_id": request.account_id,
        "channel": request.channel,
        "purpose": request.purpose,
        "evaluated_at": now,
        "requires_opt_out_notice": profile.requires_opt_out_notice(request.channel),
    }
    inputs = evaluation.base_inputs()
    refusals = evaluation.refusals()
    rules = evaluation.timed_rules()
    blocking_now = [block for rule in rules if (block := rule.block(now)) is not None]

    if refusals:
        primary = refusals[0]
        return ContactDecision(
            outcome=DecisionOutcome.REFUSE,
            rule=primary.rule,
            reason=primary.reason,
            inputs=inputs | primary.facts | {"blocking_rules": [b.rule for b in refusals + blocking_now]},
            **common,
        )

    if not blocking_now:
        window = profile.window_on(now.astimezone(evaluation.zone).weekday())
        usage = evaluation.usage()
        word = channel_word(request.channel)
        return ContactDecision(
            outcome=DecisionOutcome.ALLOW,
            rule=ALLOW_RULE,
            reason=(
                f"Inside the {profile.name} contact window ({window.describe() if window else 'open'}), no "
                f"hold or opt-out stops it, and the {word} caps leave room ({usage['sent_today']} sent "
                f"today, {usage['sent_last_7_days']} in the last 7 days)."
            ),
            inputs=inputs | usage,
            **common,
        )

    primary = blocking_now[0]
    not_before = _earliest_clear(rules, now)
    blocking_rules = [block.rule for block in blocking_now]
    if not_before is None:
        return ContactDecision(
            outcome=DecisionOutcome.REFUSE,
            rule=f"{profile.rule_prefix}.window.none",
            reason=(
                f"No moment in the next {SEARCH_HORIZON_DAYS} days satisfies the contact window and caps; "
                f"the profile or its overrides leave no room. First blocking rule: {primary.rule}."
            ),
            inputs=inputs | primary.facts | {"blocking_rules": blocking_rules},
            **common,
        )
    return ContactDecision(
        outcome=DecisionOutcome.DEFER,
        rule=primary.rule,
        reason=primary.reason,
        not_before=not_before,
        inputs=inputs
        | primary.facts
        | {
            "blocking_rules": blocking_rules,
            "not_before_local": not_before.astimezone(evaluation.zone).isoformat(timespec="minutes"),
        },
        **common,
    )
