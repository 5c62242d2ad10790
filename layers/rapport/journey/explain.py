"""Why did this account get this message, on this channel, now? Read back from the audit trail.

Every step of a journey writes its decision, rule and inputs to the account's audit trail
(:mod:`rapport.journey.evidence` says what the steps add for this purpose). This module puts them
back together for one message (:func:`explain_contact`) or for an account's whole timeline
(:func:`explain_account`):

* the segment and the variant, with the score, reason codes and figures that chose them;
* the channel, with the order the debtor's treatment, stated preference, engagement and opt-outs
  gave, and what happened to the channels tried before it;
* the guardrails the message passed when it left (window in the debtor's time zone, public
  holidays, caps, holds, opt-outs), each with its rule id;
* the deferrals before it, and the branch of the tree that led to it.

What the trail cannot show is listed in ``missing``; an explanation with nothing missing is
complete. Only the repositories are read; nothing is written, and nothing is logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from rapport.models.enums import Channel, Jurisdiction, Segment, Tone

COLLECTION = "collection"
# What a step records when it decides the journey's next branch, by audit action.
_DECISIVE = (
    "assessed",
    "reply_analysed",
    "reply_received",
    "opted_out",
    "promise_recorded",
    "promise_refused",
    "promise_checked",
    "plan_offered",
    "plan_not_affordable",
    "plan_accepted",
    "payment_applied",
    "escalated_on_delivery_failure",
    "send_failed",
    "refused",
    "address_withdrawn",
)
# The audit action that explains a service or confirmation message, by template.
_ANSWERS = {
    "payment_received_thanks": ("payment_applied",),
    "balance_statement": ("reply_analysed",),
    "promise_confirmation": ("promise_recorded",),
    "plan_offer": ("plan_offered",),
    "plan_confirmation": ("plan_accepted",),
    "opt_out_confirmation": ("opted_out",),
}
# What the trail records when a journey finds an account it must not collect from (held, nothing owed).
_NOT_COLLECTING = ("journey_held", "journey_closed")
# What the trail records of one collection attempt.
_ATTEMPT_ACTIONS = ("sent", "send_failed", "refused", "deferred")
_ASSESSMENT_INPUTS = (
    "score",
    "reason_codes",
    "variant",
    "days_past_due",
    "channels",
    "tone",
    "balance_cents",
    "months_late",
    "segment_rule",
    "treatment_channels",
    "stated_channel",
    "suppressed_channels",
)


class NotAnOutboundMessageError(Exception):
    """The contact is a reply from the debtor, not a message Rapport sent."""


class _AuditEntry(Protocol):
    entry_id: str
    at: datetime
    action: str
    rule: str | None
    reason: str | None
    journey_id: str | None
    inputs: Any


class _Contact(Protocol):
    contact_id: str
    at: datetime
    direction: str
    channel: str
    status: str
    journey_id: str | None
    template_id: str | None
    tone: str | None
    language: str | None


class _Journey(Protocol):
    journey_id: str
    campaign: str | None
    status: str
    outcome: str | None
    started_at: datetime
    finished_at: datetime | None


class ExplainRepositories(Protocol):
    """What explaining reads: :class:`rapport.store.repositories.Repositories` provides it."""

    @property
    def contacts(self) -> Any: ...  # get(account_id, contact_id), for_account(account_id)

    @property
    def audit(self) -> Any: ...  # for_account(account_id)

    @property
    def journeys(self) -> Any: ...  # for_account(account_id)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class AuditStep(_Value):
    """One recorded decision on the way to a message."""

    at: datetime
    action: str
    rule: str | None = None
    reason: str | None = None
    journey_id: str | None = None


class SegmentChoice(_Value):
    segment: Segment
    rule: str
    matched_rule: int | None = None  # index in the client's segment_rules; None: the default segment
    score: int
    reason_codes: list[str]
    days_past_due: int
    balance_cents: int | None = None
    months_late: int | None = None
    assessed_at: datetime


class VariantChoice(_Value):
    name: str
    weights: dict[str, int] = {}
    tone: Tone
    treatment_tone: Tone | None = None
    tone_softened: bool = False


class EarlierAttempt(_Value):
    """What happened to a collection attempt before this message, in the same journey."""

    attempt: int
    channel: Channel | None
    action: str
    rule: str | None = None
    at: datetime


class ChannelChoice(_Value):
    channel: Channel
    attempt: int | None = None
    order: list[Channel] = []
    treatment_order: list[Channel] = []
    stated_preference: Channel | None = None
    suppressed: list[Channel] = []
    unconfigured: list[Channel] = []
    earlier: list[EarlierAttempt] = []
    why: str


class ComplianceCheck(_Value):
    rule: str
    passed: bool
    detail: str


class ComplianceEvidence(_Value):
    checked: bool
    outcome: str | None = None
    rule: str | None = None
    jurisdiction: Jurisdiction | None = None
    profile: str | None = None
    legal_basis: str | None = None
    timezone: str | None = None
    local_time: str | None = None
    weekday: str | None = None
    requires_opt_out_notice: bool | None = None
    checks: list[ComplianceCheck] = []
    why_unchecked: str | None = None

    @property
    def passed_rules(self) -> list[str]:
        return [check.rule for check in self.checks if check.passed]


class Deferral(_Value):
    at: datetime
    rule: str
    reason: str | None = None
    not_before: datetime | None = None
    not_before_local: str | None = None


class ContactExplanation(_Value):
    """Why one message went to this account, on this channel, at this moment."""

    account_id: str
    contact_id: str
    journey_id: str | None
    at: datetime
    channel: Channel
    status: str
    template_id: str | None = None
    tone: str | None = None
    language: str | None = None
    purpose: str | None = None
    attempt: int | None = None
    segment: SegmentChoice | None = None
    variant: VariantChoice | None = None
    channel_choice: ChannelChoice
    compliance: ComplianceEvidence | None = None
    deferrals: list[Deferral] = []
    trigger: str
    path: list[AuditStep] = []
    missing: list[str] = []

    @property
    def complete(self) -> bool:
        return not self.missing

    def summary(self) -> str:
        """One paragraph for the agent looking at the account (no personal data in it)."""
        local = self.compliance.local_time if self.compliance else None
        when = local or self.at.isoformat()
        parts = [f"{self.template_id or 'A message'} went by {self.channel.value} at {when}: {self.trigger}."]
        if self.segment is not None:
            codes = ", ".join(self.segment.reason_codes) or "none"
            parts.append(
                f"The account was in segment {self.segment.segment.value} (score {self.segment.score}, "
                f"reason codes {codes}, {self.segment.days_past_due} days past due)"
                + (f" and variant {self.variant.name}." if self.variant else ".")
            )
        parts.append(self.channel_choice.why)
        if self.compliance is not None and self.compliance.checked:
            parts.append(
                f"It passed {self.compliance.profile} guardrails in {self.compliance.timezone}: "
                f"{', '.join(self.compliance.passed_rules)}."
            )
        elif self.compliance is not None:
            parts.append(f"No guardrail applied: {self.compliance.why_unchecked}.")
        for deferral in self.deferrals:
            parts.append(f"It was deferred first by {deferral.rule} until {deferral.not_before_local}.")
        if self.missing:
            parts.append(f"The trail lacks: {'; '.join(self.missing)}.")
        return " ".join(parts)


class JourneySummary(_Value):
    journey_id: str
    campaign: str | None = None
    status: str
    outcome: str | None = None
    started_at: datetime
    finished_at: datetime | None = None


class AccountExplanation(_Value):
    """An account's whole timeline: its journeys, every recorded decision, and every message explained."""

    account_id: str
    journeys: list[JourneySummary]
    timeline: list[AuditStep]
    contacts: list[ContactExplanation]

    @property
    def incomplete(self) -> list[str]:
        """Ids of the messages whose explanation lacks something."""
        return [contact.contact_id for contact in self.contacts if not contact.complete]


def explain_contact(repos: ExplainRepositories, account_id: str, contact_id: str) -> ContactExplanation:
    """Why the message ``contact_id`` went to the account: segment, variant, channel, checks, branch."""
    contact = repos.contacts.get(account_id, contact_id)
    if contact.direction != "out":
        raise NotAnOutboundMessageError(f"contact {contact_id} is a reply, not a message sent")
    entries = _sorted(repos.audit.for_account(account_id))
    return _explain(account_id, contact, repos.contacts.for_account(account_id), entries)


def explain_account(repos: ExplainRepositories, account_id: str) -> AccountExplanation:
    """The account's journeys, its audit trail in time order, and an explanation of every message."""
    entries = _sorted(repos.audit.for_account(account_id))
    contacts = sorted(repos.contacts.for_account(account_id), key=lambda contact: contact.at)
    journeys = sorted(repos.journeys.for_account(account_id), key=lambda journey: journey.started_at)
    return AccountExplanation(
        account_id=account_id,
        journeys=[
            JourneySummary(
                journey_id=journey.journey_id,
                campaign=journey.campaign,
                status=journey.status,
                outcome=journey.outcome,
                started_at=journey.started_at,
                finished_at=journey.finished_at,
            )
            for journey in journeys
        ],
        timeline=[_step(entry) for entry in entries],
        contacts=[_explain(account_id, c, contacts, entries) for c in contacts if c.direction == "out"],
    )


# -- assembling one explanation --------------------------------------------------------------------


def _sorted(entries: Iterable[_AuditEntry]) -> list[_AuditEntry]:
    return sorted(entries, key=lambda entry: (entry.at, entry.entry_id))


def _step(entry: _AuditEntry) -> AuditStep:
    return AuditStep(
        at=entry.at, action=entry.action, rule=entry.rule, reason=entry.reason, journey_id=entry.journey_id
    )


def _inputs(entry: _AuditEntry | None) -> dict[str, Any]:
    return dict(entry.inputs or {}) if entry is not None else {}


def _attempt_of(contact_id: str, journey_id: str | None) -> int | None:
    """Message ids are ``<journey>.<attempt>.<template>`` (see ``send_message``)."""
    if journey_id is None or not contact_id.startswith(f"{journey_id}."):
        return None
    head = contact_id.removeprefix(f"{journey_id}.").split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _explain(
    account_id: str, contact: _Contact, contacts: Sequence[_Contact], entries: Sequence[_AuditEntry]
) -> ContactExplanation:
    missing: list[str] = []
    journey_id = contact.journey_id
    trail = [e for e in entries if e.journey_id is None or e.journey_id == journey_id]
    sent = _sent_entry(contact, trail)
    if sent is None:
        missing.append("no sent or send_failed entry names this message")
        before = [e for e in trail if e.at <= contact.at]
    else:
        # Up to the send itself: entries written at the same instant after it are not its causes.
        before = trail[: next(index for index, e in enumerate(trail) if e is sent) + 1]
    sent_inputs = _inputs(sent)
    purpose = sent_inputs.get("purpose")
    if purpose is None:
        missing.append("the send entry does not say the message's purpose")
    attempt = _attempt_of(contact.contact_id, journey_id)

    assessments = [e for e in before if e.action == "assessed" and e.journey_id == journey_id]
    assessment = assessments[-1] if assessments else None
    not_collecting = any(e.action in _NOT_COLLECTING for e in before if e.journey_id == journey_id)
    if assessment is None and purpose != COLLECTION and not_collecting:
        # An answer on an account held or with nothing owed (an opt-out confirmed): the journey did not
        # assess it for collection, and says so in its trail, so there is no segment or variant to show.
        segment, variant = None, None
    else:
        segment, variant = _segment_and_variant(assessment, missing)
    channel = Channel(contact.channel)
    if purpose == COLLECTION:
        choice = _collection_channel(channel, attempt, assessment, before, contact, journey_id, missing)
        trigger = _collection_trigger(attempt, segment, before, contact, journey_id, assessment)
    else:
        choice = _answer_channel(channel, attempt, contact, contacts)
        trigger = _answer_trigger(contact, before, missing)
    compliance = _compliance(sent_inputs, missing) if sent is not None else None
    return ContactExplanation(
        account_id=account_id,
        contact_id=contact.contact_id,
        journey_id=journey_id,
        at=contact.at,
        channel=channel,
        status=contact.status,
        template_id=contact.template_id,
        tone=contact.tone,
        language=contact.language,
        purpose=purpose,
        attempt=attempt,
        segment=segment,
        variant=variant,
        channel_choice=choice,
        compliance=compliance,
        deferrals=_deferrals(before, contact, attempt, purpose),
        trigger=trigger,
        path=[_step(entry) for entry in before if entry.journey_id == journey_id],
        missing=missing,
    )


def _sent_entry(contact: _Contact, trail: Sequence[_AuditEntry]) -> _AuditEntry | None:
    named = [
        e for e in trail
        if e.action in ("sent", "send_failed") and _inputs(e).get("message_id") == contact.contact_id
    ]
    return named[-1] if named else None


def _segment_and_variant(
    assessment: _AuditEntry | None, missing: list[str]
) -> tuple[SegmentChoice | None, VariantChoice | None]:
    if assessment is None:
        missing.append("no assessment recorded for the journey before this message")
        return None, None
    inputs = _inputs(assessment)
    absent = [name for name in _ASSESSMENT_INPUTS if name not in inputs]
    if absent:
        missing.append(f"the assessment lacks {', '.join(absent)}")
    rule = assessment.rule or ""
    try:
        segment_value = Segment(rule.removeprefix("segment."))
    except ValueError:
        missing.append(f"the assessment's rule {rule!r} names no segment")
        return None, None
    segment = SegmentChoice(
        segment=segment_value,
        rule=rule,
        matched_rule=inputs.get("segment_rule"),
        score=int(inputs.get("score", 0)),
        reason_codes=list(inputs.get("reason_codes", [])),
        days_past_due=int(inputs.get("days_past_due", 0)),
        balance_cents=inputs.get("balance_cents"),
        months_late=inputs.get("months_late"),
        assessed_at=assessment.at,
    )
    variant = None
    if inputs.get("variant") and inputs.get("tone"):
        variant = VariantChoice(
            name=inputs["variant"],
            weights=inputs.get("variant_weights", {}),
            tone=Tone(inputs["tone"]),
            treatment_tone=inputs.get("treatment_tone"),
            tone_softened=bool(inputs.get("tone_softened", False)),
        )
    return segment, variant


def _channels(names: Iterable[str] | None) -> list[Channel]:
    return [Channel(name) for name in names or []]


def _attempt_entries(
    before: Sequence[_AuditEntry], journey_id: str | None, attempt: int
) -> list[_AuditEntry]:
    """What the trail says of one collection attempt: its skips, refusals, deferrals and sends."""
    found = []
    for entry in before:
        if entry.journey_id != journey_id or entry.action not in _ATTEMPT_ACTIONS:
            continue
        inputs = _inputs(entry)
        message_attempt = _attempt_of(inputs.get("message_id", ""), journey_id)
        collection_message = inputs.get("purpose") == COLLECTION and message_attempt == attempt
        planned = entry.action in ("refused", "deferred") and inputs.get("attempt") == attempt
        if collection_message or planned:
            found.append(entry)
    return found


def _collection_channel(
    channel: Channel,
    attempt: int | None,
    assessment: _AuditEntry | None,
    before: Sequence[_AuditEntry],
    contact: _Contact,
    journey_id: str | None,
    missing: list[str],
) -> ChannelChoice:
    inputs = _inputs(assessment)
    order = _channels(inputs.get("channels"))
    treatment = _channels(inputs.get("treatment_channels"))
    stated = Channel(inputs["stated_channel"]) if inputs.get("stated_channel") else None
    suppressed = _channels(inputs.get("suppressed_channels"))
    unconfigured = _channels(inputs.get("unconfigured_channels"))
    earlier = []
    for number in range(attempt or 0):
        entries = _attempt_entries(before, journey_id, number)
        recorded = [e for e in entries if e.action != "deferred"] or entries
        if recorded:
            last = recorded[-1]
            named = _inputs(last).get("channel")
            earlier.append(EarlierAttempt(
                attempt=number, channel=Channel(named) if named else None, action=last.action, rule=last.rule,
                at=last.at,
            ))
        else:
            missing.append(f"nothing recorded for collection attempt {number}")
    asked = _asked_for_since(before, assessment)
    in_order = order and attempt is not None and attempt < len(order) and order[attempt] is channel
    if order and not in_order and asked is not channel:
        missing.append(f"{channel.value} is not attempt {attempt}'s channel in the assessed order")
    return ChannelChoice(
        channel=channel,
        attempt=attempt,
        order=order,
        treatment_order=treatment,
        stated_preference=stated,
        suppressed=suppressed,
        unconfigured=unconfigured,
        earlier=earlier,
        why=_channel_why(channel, attempt, order, treatment, stated, suppressed, unconfigured, earlier)
        + (_ASKED_FOR.format(channel=channel.value) if asked is channel and not in_order else ""),
    )


_ASKED_FOR = " The debtor asked for {channel} after the journey chose its order, so it took this attempt."


def _asked_for_since(before: Sequence[_AuditEntry], assessment: _AuditEntry | None) -> Channel | None:
    """The channel the debtor last asked for after the assessment (``plan_contact`` then uses it)."""
    since = assessment.at if assessment is not None else None
    asked = [e for e in before if e.action == "channel_stated" and (since is None or e.at >= since)]
    named = _inputs(asked[-1]).get("channel") if asked else None
    return Channel(named) if named else None


def _channel_why(
    channel: Channel,
    attempt: int | None,
    order: list[Channel],
    treatment: list[Channel],
    stated: Channel | None,
    suppressed: list[Channel],
    unconfigured: list[Channel],
    earlier: list[EarlierAttempt],
) -> str:
    names = ", ".join(c.value for c in order) or "none recorded"
    position = f"attempt {attempt + 1} of the journey" if attempt is not None else "a collection attempt"
    reasons = [f"{channel.value} is {position}; this debtor's channel order was {names}"]
    if treatment and order != treatment:
        reasons.append(f"the treatment's order was {', '.join(c.value for c in treatment)}")
    if stated is not None:
        reasons.append(f"the debtor asked for {stated.value}")
    if suppressed:
        reasons.append(f"{', '.join(c.value for c in suppressed)} opted out or undeliverable")
    if unconfigured:
        reasons.append(f"{', '.join(c.value for c in unconfigured)} not set up for the client")
    for before in earlier:
        what = before.rule if before.action != "sent" else "sent, and the journey moved on"
        on = before.channel.value if before.channel else "no channel"
        reasons.append(f"attempt {before.attempt + 1} ({on}): {what}")
    return "; ".join(reasons) + "."


def _answer_channel(
    channel: Channel, attempt: int | None, contact: _Contact, contacts: Sequence[_Contact]
) -> ChannelChoice:
    replies = [c for c in contacts if c.direction == "in" and c.at <= contact.at]
    if replies and replies[-1].channel == channel.value:
        why = f"It answers on {channel.value}, the channel of the debtor's last reply."
    else:
        why = f"It answers on {channel.value}, the channel of the debtor's last response (reply or payment)."
    return ChannelChoice(channel=channel, attempt=attempt, why=why)


def _collection_trigger(
    attempt: int | None,
    segment: SegmentChoice | None,
    before: Sequence[_AuditEntry],
    contact: _Contact,
    journey_id: str | None,
    assessment: _AuditEntry | None,
) -> str:
    if not attempt:
        where = f"segment {segment.segment.value}" if segment else "its segment"
        return f"the journey's first collection attempt, after the assessment put the account in {where}"
    previous = _attempt_entries(before, journey_id, attempt - 1)
    since = previous[-1].at if previous else (assessment.at if assessment else contact.at)
    decisive = [
        e for e in before
        if since <= e.at and e.journey_id == journey_id and e.action in _DECISIVE and e not in previous
        and _inputs(e).get("attempt") != attempt
    ]
    if decisive:
        last = decisive[-1]
        return f"attempt {attempt} ended with {last.action} ({last.rule}), so the tree moved on"
    if previous and previous[-1].action == "sent":
        timeout = _inputs(assessment).get("reply_timeout_seconds")
        within = f" within the reply timeout ({timeout} s)" if timeout else ""
        return f"no response to attempt {attempt}{within}, so the tree moved to the next channel"
    if previous:
        return f"attempt {attempt} ended with {previous[-1].action} ({previous[-1].rule})"
    return "an earlier attempt ended (the trail does not say how)"


def _answer_trigger(contact: _Contact, before: Sequence[_AuditEntry], missing: list[str]) -> str:
    wanted = _ANSWERS.get(contact.template_id or "", _DECISIVE)
    candidates = [e for e in before if e.action in wanted]
    own = [e for e in candidates if e.journey_id == contact.journey_id]
    found = (own or candidates or [None])[-1]
    if found is None:
        missing.append(f"no {' or '.join(wanted)} entry explains why {contact.template_id} followed")
        return "the trail does not say what this message answers"
    return f"it answers {found.action} ({found.rule}: {found.reason})"


def _compliance(sent_inputs: dict[str, Any], missing: list[str]) -> ComplianceEvidence | None:
    evidence = sent_inputs.get("compliance")
    if not isinstance(evidence, dict):
        missing.append("the send entry carries no guardrail evidence")
        return None
    if not evidence.get("checked"):
        return ComplianceEvidence(checked=False, why_unchecked=evidence.get("why"))
    checks = [ComplianceCheck(**check) for check in evidence.get("checks", [])]
    if not checks:
        missing.append("the guardrail evidence lists no checks")
    return ComplianceEvidence(
        checked=True,
        outcome=evidence.get("outcome"),
        rule=evidence.get("rule"),
        jurisdiction=evidence.get("jurisdiction"),
        profile=evidence.get("profile"),
        legal_basis=evidence.get("legal_basis"),
        timezone=evidence.get("timezone"),
        local_time=evidence.get("local_time"),
        weekday=evidence.get("weekday"),
        requires_opt_out_notice=evidence.get("requires_opt_out_notice"),
        checks=checks,
    )


def _deferrals(
    before: Sequence[_AuditEntry], contact: _Contact, attempt: int | None, purpose: str | None
) -> list[Deferral]:
    found = []
    for entry in before:
        if entry.action != "deferred" or entry.journey_id != contact.journey_id:
            continue
        inputs = _inputs(entry)
        same_message = inputs.get("message_id") == contact.contact_id
        planned = "message_id" not in inputs and inputs.get("attempt") == attempt
        same_attempt = purpose == COLLECTION and planned
        if same_message or same_attempt:
            not_before = inputs.get("not_before")
            found.append(Deferral(
                at=entry.at,
                rule=entry.rule or "",
                reason=entry.reason,
                not_before=datetime.fromisoformat(not_before) if not_before else None,
                not_before_local=inputs.get("not_before_local"),
            ))
    return found
