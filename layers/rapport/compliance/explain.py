"""A decision told in one plain paragraph, for the collections agent looking at the account."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.compliance.clock import resolve_zone
from rapport.compliance.decision import channel_word
from rapport.compliance.errors import ComplianceError
from rapport.compliance.models import ContactDecision, DecisionOutcome


def _what_now(rule: str) -> str:
    """What an agent can do about a refusal, by rule family."""
    if rule.startswith("optout."):
        return "Only the debtor can undo this by opting back in; use another channel they have not refused."
    if rule.startswith("hold."):
        return "Review the hold on the account; contact can resume only once it is cleared."
    if rule.endswith(".disabled"):
        return "The client's settings switch this channel off; choose another channel."
    return "Review the client's contact settings for this jurisdiction."


def _spoken(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y at %H:%M}"


def _evaluated(decision: ContactDecision) -> str:
    try:
        wall = datetime.fromisoformat(decision.inputs["local_time"])
    except (KeyError, TypeError, ValueError):
        return f"checked at {decision.evaluated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"checked on {_spoken(wall)}, the debtor's time"


def explain_decision(decision: ContactDecision) -> str:
    """One paragraph saying what was decided, why, when the contact may go, and what to do next."""
    inputs = decision.inputs
    what = f"The {decision.purpose.value} {channel_word(decision.channel)} to account {decision.account_id}"
    when = _evaluated(decision)
    others = [rule for rule in inputs.get("blocking_rules", []) if rule != decision.rule]
    also = f" Other rules that also stand in the way: {', '.join(others)}." if others else ""

    if decision.outcome is DecisionOutcome.ALLOW:
        notice = (
            " The message must carry the opt-out line this jurisdiction requires."
            if decision.requires_opt_out_notice
            else ""
        )
        return f"{what} may go now ({when}). {decision.reason}{notice}"

    if decision.outcome is DecisionOutcome.DEFER and decision.not_before is not None:
        moment = decision.not_before
        try:
            wall = moment.astimezone(resolve_zone(inputs["timezone"]))
            local = f"{_spoken(wall)} {wall:%Z} ({inputs['timezone']})"
        except (KeyError, ComplianceError):
            local = "unknown local time"
        return (
            f"{what} has to wait ({when}; rule {decision.rule}). {decision.reason}{also} "
            f"The earliest it may go is {local}, which is {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
            "the journey will try again then, and the rules are checked afresh at that moment."
        )

    return (
        f"{what} is refused ({when}; rule {decision.rule}). {decision.reason}{also} "
        f"Waiting will not change this. {_what_now(decision.rule)}"
    )
