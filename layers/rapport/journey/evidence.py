"""What the journey steps write into the audit trail so that every message can be explained later.

The steps call these helpers when they decide; :mod:`rapport.journey.explain` reads the entries
back. Everything here is a plain JSON-ready dict (the audit's ``inputs``) and holds no personal
data: rule ids, counts, channel names, local times, never names, numbers, addresses or text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rapport.compliance import ContactDecision, ContactRequest, DecisionOutcome, public_holiday
from rapport.compliance.jurisdictions import WEEKDAY_NAMES
from rapport.models.enums import Channel, Segment, Tone
from rapport.runtime import Services
from rapport.store.models import AccountModel
from rapport.strategy.config import Strategy, Treatment
from rapport.strategy.scoring import Score, assign_segment

# The audit action of a collection channel skipped in its turn (a suppression or a missing address).
SKIPPED_ACTION = "refused"
# Purposes that pass no guardrail: confirming an opt-out is the debtor's own request.
UNCHECKED_PURPOSES = frozenset({"opt_out_confirmation"})


def matched_segment_rule(
    strategy: Strategy, days_past_due: int, balance_cents: int, score: Score
) -> int | None:
    """Index of the first segment rule the account matches (the one that chose it); None: the default.

    Each rule is tried alone through :func:`assign_segment` itself, with a default it cannot return,
    so the matching is the scorer's and cannot drift from it.
    """
    for index, rule in enumerate(strategy.segment_rules):
        other = next(segment for segment in Segment if segment is not rule.segment)
        if assign_segment([rule], other, days_past_due, balance_cents, score) is rule.segment:
            return index
    return None


def assessment_evidence(
    services: Services,
    account: AccountModel,
    *,
    score: Score,
    treatment: Treatment,
    tone: Tone,
    stats: Mapping[Channel, Any],
    reply_timeout_seconds: int,
) -> dict[str, Any]:
    """The inputs of the segment, the variant, the tone and the channel order, beyond the score."""
    strategy = services.client.strategy
    suppressed = sorted(account.suppressed_channels or [])
    return {
        "balance_cents": account.balance_cents,
        "months_late": score.months_late,
        "segment_rule": matched_segment_rule(strategy, account.days_past_due, account.balance_cents, score),
        "variant_weights": {variant.name: variant.weight for variant in strategy.variants},
        "treatment_channels": [channel.value for channel in treatment.channels],
        "treatment_tone": treatment.tone.value,
        "tone_softened": tone is not treatment.tone,
        "stated_channel": account.stated_channel,
        "suppressed_channels": suppressed,
        "unconfigured_channels": sorted(c.value for c in treatment.channels if c not in services.senders),
        "channel_stats": {
            channel.value: counts.model_dump(exclude_defaults=True)
            for channel, counts in sorted(stats.items())
        },
        "reply_timeout_seconds": reply_timeout_seconds,
    }


def record_skipped_channel(
    services: Services,
    account_id: str,
    journey_id: str,
    *,
    attempt: int,
    channel: Channel,
    rule: str,
    reason: str,
) -> None:
    """Audit a collection attempt whose channel was skipped before any guardrail was asked."""
    services.repos.audit.append(
        account_id,
        SKIPPED_ACTION,
        services.clock.now(),
        rule=rule,
        journey_id=journey_id,
        reason=reason,
        inputs={"attempt": attempt, "channel": channel.value, "purpose": "collection"},
    )


def unchecked_evidence(purpose: str) -> dict[str, Any]:
    return {"checked": False, "purpose": purpose, "why": "confirming an opt-out is always allowed"}


def compliance_evidence(request: ContactRequest, decision: ContactDecision) -> dict[str, Any]:
    """Every guardrail the contact was checked against, with its rule id and the figures it used."""
    profile = request.resolved_profile
    inputs = decision.inputs
    blocking = set(inputs.get("blocking_rules", []))
    if decision.outcome is not DecisionOutcome.ALLOW:
        blocking.add(decision.rule)
    wall = decision.evaluated_at.astimezone(request.zone)
    weekday = WEEKDAY_NAMES[wall.weekday()]
    window = profile.window_on(wall.weekday())
    prefix = profile.rule_prefix
    checks: list[dict[str, Any]] = [
        {
            "rule": f"{prefix}.window.{weekday.lower()}",
            "detail": f"{weekday} is {'open' if window else 'closed'} in {profile.name}",
        },
        {
            "rule": f"{prefix}.window.hours",
            "detail": (
                f"{wall:%H:%M} {request.debtor_timezone} against "
                f"{window.describe() if window else 'no window'} on a {weekday}"
            ),
        },
    ]
    if profile.closed_on_public_holidays:
        holiday = public_holiday(profile, wall.date()) or "not a public holiday"
        checks.append({
            "rule": f"{prefix}.window.public_holiday",
            "detail": f"{wall.date().isoformat()} is {holiday} ({profile.holiday_country})",
        })
    limit = profile.cap_for(request.channel)
    channel = request.channel.value
    if limit.per_day is not None:
        checks.append({
            "rule": f"cap.{channel}.day",
            "detail": f"{inputs.get('sent_today', '?')} sent on the debtor's day; the cap is {limit.per_day}",
        })
    if limit.per_7_days is not None:
        checks.append({
            "rule": f"cap.{channel}.7d",
            "detail": f"{inputs.get('sent_last_7_days', '?')} sent in 7 days; the cap is {limit.per_7_days}",
        })
    if request.channel is Channel.CALL and profile.call_rules is not None:
        checks.append({"rule": f"{prefix}.call.7in7", "detail": "calls placed in any 7 consecutive days"})
        checks.append({"rule": f"{prefix}.call.after_conversation", "detail": "no call after a conversation"})
    active = inputs.get("active_holds") or []
    checks.append({
        "rule": "hold.*",
        "detail": (
            f"active holds {', '.join(active)} do not stop a {request.purpose.value} message"
            if active else "no active hold on the account"
        ),
    })
    covering = [o for o in request.opt_outs if o.channel in (None, request.channel)]
    checks.append({
        "rule": "optout.*",
        "detail": (
            f"{len(covering)} opt-out(s) recorded for {channel}, none for this address"
            if covering else f"no opt-out recorded for {channel}"
        ),
    })
    for check in checks:
        check["passed"] = check["rule"] not in blocking and not (
            check["rule"].endswith(".*") and any(rule.startswith(check["rule"][:-1]) for rule in blocking)
        )
    return {
        "checked": True,
        "outcome": decision.outcome.value,
        "rule": decision.rule,
        "purpose": request.purpose.value,
        "jurisdiction": profile.jurisdiction.value,
        "profile": profile.name,
        "legal_basis": profile.legal_basis,
        "timezone": request.debtor_timezone,
        "local_time": wall.isoformat(timespec="minutes"),
        "weekday": weekday,
        "evaluated_at": decision.evaluated_at.isoformat(),
        "requires_opt_out_notice": decision.requires_opt_out_notice,
        "checks": checks,
    }
