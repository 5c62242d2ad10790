"""The logic of each journey Task, in the order the state machine reaches them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from rapport.analysis import ReplyToAnalyse
from rapport.compliance import DecisionOutcome, evaluate_contact
from rapport.journey.errors import NoAddressError
from rapport.journey.evidence import assessment_evidence, record_skipped_channel
from rapport.journey.messages import address_for, compliance_request, deliver, record_send_failure
from rapport.journey.optouts import honour_opt_out
from rapport.journey.plans import acceptance_url
from rapport.journey.resume import take_queued_reply
from rapport.messaging.preference import ChannelStats, rank_channels
from rapport.models.enums import Channel, HoldKind, Intent, Segment, Tone
from rapport.payments.plans import (
    Affordability,
    AffordabilityReason,
    PlanNotAffordableError,
    PlanRules,
    propose_plan,
)
from rapport.payments.plans import offer_plan as make_plan_offer
from rapport.payments.promises import (
    UNJUDGED,
    PromiseOutcome,
    PromiseSource,
    PromiseStatus,
    PromiseToPay,
    evaluate_promise,
    net_promise_payments,
    promise_allowed,
    promise_check_date,
)
from rapport.runtime import Services
from rapport.store.models import (
    AccountModel,
    ContactModel,
    HoldRecord,
    OptOutRecord,
    PaymentModel,
    PlanModel,
    PromiseModel,
)
from rapport.strategy.scoring import MonthBehaviour, assign_segment, assign_variant, score_account

logger = Logger(child=True)

# Statuses of an outbound message the provider accepted (or refused: a failed send is a try too); a
# message still "sending" has not been tried yet.
_TRIED_STATUSES = frozenset({"sent", "delivered", "failed", "bounced", "complained", "opted_out"})
# What each status also counts as, beside a try.
_STATUS_COUNTS = {
    "delivered": "delivered",
    "failed": "failed",
    "complained": "failed",
    "opted_out": "failed",
    "bounced": "bounced",
}
_SOFTER = {Tone.FIRM: Tone.NEUTRAL, Tone.NEUTRAL: Tone.SUPPORTIVE, Tone.FRIENDLY: Tone.SUPPORTIVE}


def _softened_by_replies(tone: Tone, contacts: list[Any]) -> Tone:
    """One step softer when the debtor's latest two replies (oldest first in ``contacts``) were negative."""
    recent = [c.sentiment for c in contacts if c.direction == "in" and c.sentiment][-2:]
    return _SOFTER.get(tone, tone) if recent.count("NEGATIVE") >= 2 else tone


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    account_id: str
    journey_id: str


class Timings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    reply_timeout_seconds: int | None = None
    promise_wait_seconds: int | None = None
    # Local runs only: the longest real Wait a deferral may take (see rapport.clock.journey_time).
    max_wait_seconds: int | None = None


class AssessInput(_Input):
    campaign: str | None = None
    timings: Timings = Timings()


def _active_holds(account: AccountModel, now: datetime) -> list[HoldRecord]:
    return [
        hold for hold in account.holds or [] if hold.cleared_at is None and (hold.until is None or hold.until > now)
    ]


def _link_opened(contact: ContactModel) -> bool:
    """A link in the message was followed (an SES Click on it); counted once per message.

    NOTE: an email open (SES Open, a tracking pixel) is not a link opened: mail clients that fetch
    images ahead of the reader open every message. A visit to a plan's pay link (``GET
    /plans/{id}/pay``) is not counted either: one link travels in several messages and channels, so
    the visit names no message; a message id carried in the link would let it count.
    """
    events = contact.events or []
    return any(isinstance(event, Mapping) and event.get("status") == "clicked" for event in events)


def _channel_stats(contacts: list[ContactModel], payments: list[PaymentModel]) -> dict[Channel, Any]:
    """What has worked per channel, derived from the timeline (nothing kept twice).

    Every outbound message tried counts as sent, whatever became of it (delivered, no report yet,
    failed), so unanswered messages weigh as much as ``engagement_score`` expects; delivered,
    failed and bounced count what became of them, and a message whose link was followed one link open.
    """
    counts: dict[Channel, dict[str, int]] = {}
    link_channel = {c.link_id: c.channel for c in contacts if c.link_id}

    def add(tally: dict[str, int], key: str) -> None:
        tally[key] = tally.get(key, 0) + 1

    for contact in contacts:
        tally = counts.setdefault(Channel(contact.channel), {})
        if contact.direction == "in":
            add(tally, "replies")
            continue
        if contact.status not in _TRIED_STATUSES:
            continue
        add(tally, "sent")
        if contact.status in _STATUS_COUNTS:
            add(tally, _STATUS_COUNTS[contact.status])
        if _link_opened(contact):
            add(tally, "link_opens")
    for payment in payments:
        channel = link_channel.get(payment.link_id)
        if channel and payment.credit_delta_cents > 0:
            tally = counts.setdefault(Channel(channel), {})
            tally["payments"] = tally.get("payments", 0) + 1
    return {channel: ChannelStats(**tally) for channel, tally in counts.items()}


def assess_account(services: Services, step: AssessInput) -> dict[str, Any]:
    """Score, segment and choose the treatment (channels in order, tone, templates, timings)."""
    repos, now = services.repos, services.clock.now()
    account = repos.accounts.get(step.account_id)
    if _active_holds(account, now):
        repos.audit.append(
            account.account_id,
            "journey_held",
            now,
            rule="hold.active",
            journey_id=step.journey_id,
            reason="an active hold stops collection",
            inputs={},
        )
        return {"action": "hold"}
    if account.balance_cents <= 0:
        repos.audit.append(
            account.account_id,
            "journey_closed",
            now,
            rule="balance.nothing_owed",
            journey_id=step.journey_id,
            reason="nothing is owed",
            inputs={"balance_cents": account.balance_cents},
        )
        return {"action": "close"}

    strategy = services.client.strategy
    history = [MonthBehaviour(status, bill, paid) for _, status, bill, paid in account.history or []]
    score = score_account(history, account.balance_cents, account.credit_limit_cents, account.days_past_due)
    segment = assign_segment(
        strategy.segment_rules, strategy.default_segment, account.days_past_due, account.balance_cents, score
    )
    variant = assign_variant(strategy.variants, account.account_id, salt=services.client.client_id)
    treatment = services.client.treatment(segment, variant)

    contacts = repos.contacts.for_account(account.account_id)
    tone = _softened_by_replies(treatment.tone, contacts)
    stats = _channel_stats(contacts, repos.payments.for_account(account.account_id)) if contacts else {}
    channels = _channel_order(services, account, stats, treatment.channels)
    reply_timeout = step.timings.reply_timeout_seconds or services.clock.real_seconds(treatment.reply_timeout)
    repos.accounts.record_assessment(account, segment.value, score.points, list(score.reason_codes), variant, now)
    repos.audit.append(
        account.account_id,
        "assessed",
        now,
        rule=f"segment.{segment.value}",
        journey_id=step.journey_id,
        reason="scored and segmented",
        inputs={
            "score": score.points,
            "reason_codes": list(score.reason_codes),
            "variant": variant,
            "days_past_due": account.days_past_due,
            "channels": [c.value for c in channels],
            "tone": tone.value,
            **assessment_evidence(
                services, account, score=score, treatment=treatment, tone=tone, stats=stats,
                reply_timeout_seconds=max(1, reply_timeout),
            ),
        },
    )
    return {
        "action": "contact",
        "segment": segment.value,
        "variant": variant,
        "score": score.points,
        "reason_codes": list(score.reason_codes),
        "tone": tone.value,
        "treatment_tone": treatment.tone.value,
        "channels": [channel.value for channel in channels],
        # What the order knew of the debtor's stated channel: one stated later changes the next attempt.
        "stated_channel": account.stated_channel,
        "templates": list(treatment.templates),
        "reply_timeout_seconds": max(1, reply_timeout),
        "promise_grace_days": treatment.promise_grace_days,
        "promise_wait_seconds": step.timings.promise_wait_seconds,
        "max_wait_seconds": step.timings.max_wait_seconds,
        "offer_plan": treatment.offer_plan,
        "max_plan_months": treatment.max_plan_months,
    }


def _channel_order(
    services: Services, account: AccountModel, stats: dict[Channel, Any], default_order: list[Channel]
) -> list[Channel]:
    """The strategy's order, adjusted by what the debtor asked for and what has worked for them."""
    stated = Channel(account.stated_channel) if account.stated_channel else None
    candidates = list(default_order)
    if stated is not None and stated not in candidates and stated in services.senders:
        candidates.insert(0, stated)
    unavailable = {c for c in candidates if c not in services.senders}
    unavailable |= {Channel(name) for name in account.suppressed_channels or []}
    return rank_channels(stats, stated, unavailable, candidates)


class PlanContactInput(_Input):
    attempt: int
    assessment: dict[str, Any]


def _attempt_tone(services: Services, account_id: str, step: PlanContactInput, now: datetime) -> Tone:
    """The journey's tone for this attempt: the treatment's, one step softer when the debtor's latest two
    replies were negative (they may have written since the journey was assessed). Softened from the
    treatment's tone, not the assessment's, so it is never softened twice."""
    assessed = Tone(step.assessment.get("tone") or Tone.NEUTRAL)
    treatment_tone = Tone(step.assessment.get("treatment_tone") or assessed)
    tone = _softened_by_replies(treatment_tone, services.repos.contacts.for_account(account_id))
    if tone is not assessed:
        softened = tone is not treatment_tone
        services.repos.audit.append(
            account_id,
            "tone_softened" if softened else "tone_restored",
            now,
            rule="tone.softened_by_replies" if softened else "tone.treatment",
            journey_id=step.journey_id,
            reason="the debtor's latest two replies were negative" if softened else "the debtor's replies calmed",
            inputs={"attempt": step.attempt, "from": assessed.value, "to": tone.value},
        )
    return tone


_FAILED_ON_THE_WAY = frozenset({"failed", "bounced", "complained", "opted_out"})


def _stated_since_assessment(
    services: Services, account: AccountModel, assessment: dict[str, Any], journey_id: str
) -> Channel | None:
    """The channel the debtor stated after the journey's channel order was chosen, when it is usable.

    An assessment made before ``stated_channel`` was part of it (an execution already running) says
    nothing about it, and keeps its order.
    """
    if "stated_channel" not in assessment or not account.stated_channel:
        return None
    if account.stated_channel == assessment["stated_channel"]:
        return None
    stated = Channel(account.stated_channel)
    if stated not in services.senders or stated.value in (account.suppressed_channels or []):
        return None
    try:
        address_for(account, stated)
    except NoAddressError:
        return None  # asked for a channel we hold no address on: the journey's own order goes on
    if any(
        contact.direction == "out" and contact.journey_id == journey_id and contact.channel == stated.value
        and contact.status in _FAILED_ON_THE_WAY
        for contact in services.repos.contacts.for_account(account.account_id)
    ):
        return None  # it failed in this journey already: the next channel, as for any failure
    return stated


def plan_contact(services: Services, step: PlanContactInput) -> dict[str, Any]:
    """Pick the attempt's channel and template, then ask the guardrails whether it may go now."""
    repos, now = services.repos, services.clock.now()
    account = repos.accounts.get(step.account_id)
    if account.balance_cents <= 0:
        return {"decision": "settled"}
    channels = [Channel(name) for name in step.assessment["channels"]]
    templates = step.assessment["templates"]
    if step.attempt >= len(channels):
        repos.audit.append(
            account.account_id,
            "channels_exhausted",
            now,
            rule="journey.channels_exhausted",
            journey_id=step.journey_id,
            reason="every channel was tried",
            inputs={"attempt": step.attempt, "channels": [c.value for c in channels]},
        )
        return {"decision": "exhausted"}
    # The attempt indexes the assessed order; a channel suppressed since (a bounce, an opt-out) is
    # skipped in its turn, so the channels after it keep theirs. A channel the debtor asked for since
    # the assessment ("email me instead") takes every later attempt while it can be used.
    stated = _stated_since_assessment(services, account, step.assessment, step.journey_id)
    channel = stated or channels[step.attempt]
    if channel.value in (account.suppressed_channels or []):
        suppressed = {"channel": channel.value, "rule": "channel.suppressed", "wait_seconds": 0}
        record_skipped_channel(
            services, account.account_id, step.journey_id, attempt=step.attempt, channel=channel,
            rule="channel.suppressed", reason="the channel is suppressed (an opt-out or a dead address)",
        )
        return {"decision": "refuse", **suppressed}
    template_id = templates[min(step.attempt, len(templates) - 1)]
    try:
        address_for(account, channel)
    except NoAddressError:
        record_skipped_channel(
            services, account.account_id, step.journey_id, attempt=step.attempt, channel=channel,
            rule="address.missing", reason="no address on the account for this channel",
        )
        return {"decision": "refuse", "channel": channel.value, "rule": "address.missing", "wait_seconds": 0}

    request = compliance_request(services, account, channel, "collection")
    decision = evaluate_contact(request, now)
    tone = _attempt_tone(services, account.account_id, step, now)
    base = {"channel": channel.value, "template_id": template_id, "rule": decision.rule, "tone": tone.value}
    if decision.outcome is DecisionOutcome.ALLOW:
        return {"decision": "send", **base, "wait_seconds": 0}
    if decision.outcome is DecisionOutcome.DEFER and decision.not_before is not None:
        wait = services.clock.real_seconds(decision.not_before - now)
        if step.assessment.get("max_wait_seconds"):
            wait = min(wait, int(step.assessment["max_wait_seconds"]))
        repos.audit.append(
            account.account_id,
            "deferred",
            now,
            rule=decision.rule,
            journey_id=step.journey_id,
            reason=decision.reason,
            inputs={**decision.inputs, "not_before": decision.not_before.isoformat(), "attempt": step.attempt},
        )
        return {
            "decision": "defer",
            **base,
            "wait_seconds": max(1, wait),
            "not_before": decision.not_before.isoformat(),
        }
    repos.audit.append(
        account.account_id,
        "refused",
        now,
        rule=decision.rule,
        journey_id=step.journey_id,
        reason=decision.reason,
        inputs={**decision.inputs, "attempt": step.attempt},
    )
    return {"decision": "hold" if decision.rule.startswith("hold.") else "refuse", **base, "wait_seconds": 0}


class SendInput(_Input):
    attempt: int = 0
    channel: Channel
    template_id: str
    tone: Tone = Tone.NEUTRAL
    purpose: str = "collection"
    with_link: bool = True
    # The reply this message answers, where it answers one: a second question, or a second promise, in
    # the same attempt gets its own answer, while a retried step still finds the message it sent.
    in_reply_to: str | None = None
    # The error the send ended with after its retries (the state machine's Catch): record the message as
    # one that could not be sent, instead of sending it.
    failure: dict[str, Any] | None = None


def send_message(services: Services, step: SendInput) -> dict[str, Any]:
    account = services.repos.accounts.get(step.account_id)
    message_id = f"{step.journey_id}.{step.attempt}.{step.template_id}"
    if step.in_reply_to:
        message_id += "." + hashlib.sha256(step.in_reply_to.encode()).hexdigest()[:12]
    if step.failure is not None:
        return record_send_failure(
            services,
            account,
            message_id=message_id,
            channel=step.channel,
            template_id=step.template_id,
            journey_id=step.journey_id,
            purpose=step.purpose,
            failure=step.failure,
        )
    return deliver(
        services,
        account,
        message_id=message_id,
        channel=step.channel,
        template_id=step.template_id,
        tone=step.tone,
        journey_id=step.journey_id,
        with_link=step.with_link,
        purpose=step.purpose,
    )


class AwaitInput(_Input):
    waiting_for: str
    task_token: str


def await_response(services: Services, step: AwaitInput) -> dict[str, Any]:
    """Park the task token on the journey; webhooks and inbound replies resume it. A reply that came while
    the journey was busy between two steps is handed to it at once."""
    services.repos.journeys.park(
        step.account_id, step.journey_id, step.task_token, step.waiting_for, services.clock.now()
    )
    logger.info("journey waiting", extra={"journey_id": step.journey_id, "waiting_for": step.waiting_for})
    take_queued_reply(services, step.account_id, step.journey_id)
    return {"parked": True}


class AnalyseInput(_Input):
    reply_id: str
    # The journey's assessment, where there is one: an answer starts from its treatment's tone (before
    # softening), or from its tone for a journey assessed before the treatment's tone was recorded.
    assessment: dict[str, Any] = {}

    @property
    def treatment_tone(self) -> Tone | None:
        tone = self.assessment.get("treatment_tone") or self.assessment.get("tone")
        return Tone(tone) if tone else None


def analyse_reply(services: Services, step: AnalyseInput) -> dict[str, Any]:
    repos = services.repos
    account = repos.accounts.get(step.account_id)
    reply = repos.contacts.get(step.account_id, step.reply_id)
    analysis = services.analyser.analyse(
        ReplyToAnalyse(
            reply_id=step.reply_id,
            text=reply.text or "",
            received_at=reply.at,
            timezone=account.debtor.timezone,
            language_hint=account.debtor.language,
        )
    )
    reply.update(
        actions=[
            type(reply).intent.set(analysis.intent.value),
            type(reply).sentiment.set(analysis.sentiment.value),
            type(reply).vulnerable.set(analysis.vulnerable),
            type(reply).promise_date.set(analysis.promise_date.isoformat() if analysis.promise_date else None),
            type(reply).amount_cents.set(analysis.amount_cents),
            type(reply).redacted_text.set(analysis.redacted_text),
        ]
    )
    repos.audit.append(
        step.account_id,
        "reply_analysed",
        services.clock.now(),
        rule=f"intent.{analysis.intent.value}",
        journey_id=step.journey_id,
        reason="reply understood",
        inputs={
            "intent": analysis.intent.value,
            "sentiment": analysis.sentiment.value,
            "vulnerable": analysis.vulnerable,
            "vulnerability_reasons": list(analysis.vulnerability_reasons),
            "confidence": round(analysis.intent_confidence, 3),
            "analyser": analysis.analyser,
        },
    )
    return {
        "reply_id": step.reply_id,
        "intent": analysis.intent.value,
        "sentiment": analysis.sentiment.value,
        "vulnerable": analysis.vulnerable,
        "vulnerability_reasons": list(analysis.vulnerability_reasons),
        "promise_date": analysis.promise_date.isoformat() if analysis.promise_date else None,
        "amount_cents": analysis.amount_cents,
        "language": analysis.language,
        "answer_tone": _softened_by_replies(step.treatment_tone, repos.contacts.for_account(step.account_id)).value
        if step.treatment_tone
        else None,
    }


class PromiseInput(_Input):
    analysis: dict[str, Any]
    grace_days: int = 2
    wait_override_seconds: int | None = None


def _promise_outcomes(services: Services, account_id: str) -> list[Any]:
    outcomes = []
    for promise in services.repos.promises.for_account(account_id):
        if promise.status in UNJUDGED:
            continue
        outcomes.append(
            PromiseOutcome(
                promise_id=promise.promise_id,
                status=PromiseStatus(promise.status),
                promised_cents=promise.amount_cents,
                paid_cents=promise.paid_cents,
                shortfall_cents=max(0, promise.amount_cents - promise.paid_cents),
                check_date=datetime.fromisoformat(promise.check_date).date(),
                checked_on=datetime.fromisoformat(promise.check_date).date(),
            )
        )
    return outcomes


def store_promise(
    services: Services, promise: PromiseToPay, journey_id: str | None, actor: str | None = None
) -> PromiseModel:
    """Keep ``promise`` (for ``journey_id`` to check, if any) with its check date (its date plus its grace
    days), and set aside the account's promise not yet due that it replaces (audited); the stored record."""
    repos, now = services.repos, services.clock.now()
    stored = PromiseModel(
        promise.account_id,
        promise.promise_id,
        amount_cents=promise.amount_cents,
        due_date=promise.due_date.isoformat(),
        check_date=promise_check_date(promise).isoformat(),
        made_at=promise.made_at,
        source=promise.source.value,
        journey_id=journey_id,
    )
    repos.promises.save(stored)
    replaced = repos.promises.replace_pending(promise.account_id, promise.promise_id)
    if replaced:
        repos.audit.append(
            promise.account_id,
            "promise_replaced",
            now,
            rule="promise.replaced",
            journey_id=journey_id,
            reason="a new promise sets aside the one not yet due",
            inputs={"replaced": replaced, "by": promise.promise_id},
            **({"actor": actor} if actor else {}),
        )
    return stored


def record_promise(services: Services, step: PromiseInput) -> dict[str, Any]:
    repos, now = services.repos, services.clock.now()
    account = repos.accounts.get(step.account_id)
    zone = ZoneInfo(account.debtor.timezone)
    today = now.astimezone(zone).date()
    eligibility = promise_allowed(_promise_outcomes(services, account.account_id), today)
    if not eligibility:
        repos.audit.append(
            account.account_id,
            "promise_refused",
            now,
            rule="promise.broken_limit",
            journey_id=step.journey_id,
            reason=eligibility.reason,
            inputs={},
        )
        return {"accepted": False, "reason": eligibility.reason}
    due = step.analysis.get("promise_date")
    due_date = datetime.fromisoformat(due).date() if due else today + timedelta(days=7)
    due_date = max(due_date, today)
    amount = step.analysis.get("amount_cents")
    amount = amount if amount and 0 < amount <= account.balance_cents else account.balance_cents
    promise_id = "P" + hashlib.sha256(f"{step.journey_id}:{step.analysis.get('reply_id')}".encode()).hexdigest()[:16]
    promise = PromiseToPay(
        promise_id=promise_id,
        account_id=account.account_id,
        amount_cents=amount,
        currency=account.currency,
        due_date=due_date,
        made_at=now,
        source=PromiseSource.REPLY,
        grace_days=step.grace_days,
    )
    stored = store_promise(services, promise, step.journey_id)
    check_date = date.fromisoformat(stored.check_date)
    repos.audit.append(
        account.account_id,
        "promise_recorded",
        now,
        rule="promise.accepted",
        journey_id=step.journey_id,
        reason="promise to pay recorded",
        inputs={"due_date": due_date.isoformat(), "amount_cents": amount, "check_date": check_date.isoformat()},
    )
    return {
        "accepted": True,
        "promise_id": promise_id,
        "due_date": due_date.isoformat(),
        "amount_cents": amount,
        "wait_seconds": _promise_wait_left(services, account, stored, step.wait_override_seconds),
    }


class CheckPromiseInput(_Input):
    promise_id: str
    on_check_date: bool = True
    wait_override_seconds: int | None = None  # the whole wait, when the journey's timings set it


def check_promise(services: Services, step: CheckPromiseInput) -> dict[str, Any]:
    repos, now = services.repos, services.clock.now()
    account = repos.accounts.get(step.account_id)
    stored = repos.promises.get(step.account_id, step.promise_id)
    outcome = _judge_promise(services, account, stored, on_check_date=step.on_check_date)
    stored.update(
        actions=[PromiseModel.status.set(outcome.status.value), PromiseModel.paid_cents.set(outcome.paid_cents)]
    )
    repos.audit.append(
        step.account_id,
        "promise_checked",
        now,
        rule=f"promise.{outcome.status.value}",
        journey_id=step.journey_id,
        reason="promise checked on its date",
        inputs={"paid_cents": outcome.paid_cents, "shortfall_cents": outcome.shortfall_cents},
    )
    return {
        "status": outcome.status.value,
        "paid_cents": outcome.paid_cents,
        "shortfall_cents": outcome.shortfall_cents,
        "wait_seconds": _promise_wait_left(services, account, stored, step.wait_override_seconds),
    }


def _promise_wait_left(
    services: Services, account: AccountModel, stored: PromiseModel, override_seconds: int | None
) -> int:
    """Real seconds until the promise's check: 09:00 on its check date in the debtor's zone, or, where the
    journey's timings set the whole wait, that wait less what has passed since the promise was made."""
    now = services.clock.now()
    if override_seconds:
        return max(1, override_seconds - services.clock.real_seconds(now - stored.made_at))
    check_at = datetime.combine(date.fromisoformat(stored.check_date), time(9, 0), ZoneInfo(account.debtor.timezone))
    return max(1, services.clock.real_seconds(check_at - now))


def _judge_promise(services: Services, account: AccountModel, stored: PromiseModel, *, on_check_date: bool) -> Any:
    """The promise as it stands: judged on what stayed paid (credits less refunds and chargebacks) from its
    making up to its stored check date, which already holds its grace days (``promise_check_date`` when it
    was recorded), so a payment within the grace days counts and one refunded does not."""
    repos, now = services.repos, services.clock.now()
    promise = PromiseToPay(
        promise_id=stored.promise_id,
        account_id=stored.account_id,
        amount_cents=stored.amount_cents,
        due_date=datetime.fromisoformat(stored.due_date).date(),
        made_at=stored.made_at,
        source=PromiseSource(stored.source),
    )
    today = now.astimezone(ZoneInfo(account.debtor.timezone)).date()
    check_date = datetime.fromisoformat(stored.check_date).date()
    if on_check_date:
        # The timer fired: judge as of the check date even if a simulated clock lags behind it.
        today = max(today, check_date)
    movements = [
        ((p.provider, p.transaction_id), p.occurred_at, p.credit_delta_cents)
        for p in repos.payments.for_account(account.account_id)
    ]
    payments = net_promise_payments(movements, stored.made_at, check_date, today, account.debtor.timezone)
    # Before the check date a promise not yet kept is pending, never broken (evaluate_promise's rule).
    return evaluate_promise(promise, payments, today, account.debtor.timezone, check_date=check_date)


def _close_open_promises(services: Services, account_id: str, journey_id: str, outcome: str) -> None:
    """A journey that ends before its promise's date (a hold, an opt-out, a person, a plan) leaves no
    promise pending: one the payments already keep is kept; any other is set aside, never judged broken."""
    repos, now = services.repos, services.clock.now()
    open_promises = [
        p for p in repos.promises.for_account(account_id) if p.status == "pending" and p.journey_id == journey_id
    ]
    if not open_promises:
        return
    account = repos.accounts.get(account_id)
    today = now.astimezone(ZoneInfo(account.debtor.timezone)).date()
    for stored in open_promises:
        # A promise whose check date has come is judged as on that date (kept, partly kept or broken); one
        # still before it is kept if the payments already keep it, else set aside.
        due_for_judgement = today >= datetime.fromisoformat(stored.check_date).date()
        judged = _judge_promise(services, account, stored, on_check_date=due_for_judgement)
        kept = judged.status is PromiseStatus.KEPT
        status = judged.status.value if due_for_judgement or kept else PromiseStatus.SET_ASIDE.value
        if not repos.promises.close_pending(stored, status, judged.paid_cents):
            continue
        repos.audit.append(
            account_id,
            "promise_set_aside" if status == PromiseStatus.SET_ASIDE.value else "promise_checked",
            now,
            rule=f"promise.{status}",
            journey_id=journey_id,
            reason=f"the journey ended ({outcome}) before the promise's date",
            inputs={"promise_id": stored.promise_id, "paid_cents": judged.paid_cents},
        )


class OfferPlanInput(_Input):
    assessment: dict[str, Any]
    analysis: dict[str, Any] = {}


def _segment(value: object) -> Segment | None:
    try:
        return Segment(value) if value else None
    except ValueError:
        return None


def offer_plan(services: Services, step: OfferPlanInput) -> dict[str, Any]:
    """Propose a plan on the pay day and at the frequency the strategy gives the debtor's segment
    (``ClientConfig.plan_default``), store it as an offer with its signed acceptance link."""
    repos, now = services.repos, services.clock.now()
    account = repos.accounts.get(step.account_id)
    today = now.astimezone(ZoneInfo(account.debtor.timezone)).date()
    offered = step.analysis.get("amount_cents")
    affordability = None
    if offered:
        # NOTE: the amount a reply names is read as monthly (what Affordability holds), so a weekly
        # plan takes its weekly share; a reply's "a week" or "every two weeks" is not read yet.
        affordability = Affordability(
            disposable_cents=offered, max_instalment_cents=offered, reason=AffordabilityReason.DEBTOR_OFFER
        )
    max_months = int(step.assessment.get("max_plan_months", 12))
    rules = PlanRules(
        max_term_months=max_months,
        default_term_months=min(PlanRules().default_term_months, max_months),
        currency=account.currency,
        miss_policy=services.client.plans.miss_policy,
        max_consecutive_misses=services.client.plans.max_consecutive_misses,
    )
    segment = _segment(step.assessment.get("segment") or account.segment)
    frequency, pay_day = services.client.plan_default(segment)
    plan_id = "PL" + hashlib.sha256(f"{step.journey_id}:{step.analysis.get('reply_id')}".encode()).hexdigest()[:14]
    try:
        plan = propose_plan(
            account.balance_cents,
            frequency,
            today,
            pay_day,
            affordability,
            rules,
            plan_id=plan_id,
            account_id=account.account_id,
        )
    except PlanNotAffordableError as error:
        repos.audit.append(
            account.account_id,
            "plan_not_affordable",
            now,
            rule="plan.not_affordable",
            journey_id=step.journey_id,
            reason="no plan within the rules fits the debtor's offer",
            inputs={"smallest_viable_instalment_cents": error.smallest_viable_instalment_cents},
        )
        return {"offered": False, "reason": "not_affordable"}
    offer = make_plan_offer(plan, now)
    summary = {
        "instalment_cents": plan.regular_instalment_cents,
        "instalments": len(plan.instalments),
        "frequency": plan.frequency.value,
        "first_due": plan.instalments[0].due_date.isoformat(),
        "total_cents": plan.total_cents,
        "offer_expires_at": offer.expires_at.isoformat(),
    }
    # The schedule itself is kept for the self-service acceptance (rapport.journey.plans); the signed
    # link stays out of the journey's payload and audit: it is a credential until the offer expires.
    accept_url = acceptance_url(services, account.account_id, plan.plan_id, offer.expires_at)
    document = {**summary, "offered": plan.model_dump(mode="json"), "accept_url": accept_url}
    repos.plans.save(
        PlanModel(
            account.account_id, plan.plan_id, status="offered", offer_id=offer.offer_id, plan=document, created_at=now
        )
    )
    repos.audit.append(
        account.account_id,
        "plan_offered",
        now,
        rule="plan.offered",
        journey_id=step.journey_id,
        reason="payment plan offered",
        inputs={**summary, "pay_day": plan.pay_day.kind.value},
    )
    return {"offered": True, "plan_id": plan.plan_id, **summary, "self_service": accept_url is not None}


class PlaceHoldInput(_Input):
    analysis: dict[str, Any]


_HOLD_FOR_INTENT = {
    Intent.HARDSHIP.value: HoldKind.HARDSHIP,
    Intent.DISPUTE.value: HoldKind.DISPUTE,
}


def place_hold(services: Services, step: PlaceHoldInput) -> dict[str, Any]:
    """Stop collecting and hand to a person; a wrong person stops use of that address instead."""
    repos, now = services.repos, services.clock.now()
    intent = step.analysis.get("intent")
    reply_id = step.analysis.get("reply_id")
    if intent == Intent.WRONG_PERSON.value and not step.analysis.get("vulnerable"):
        reply = repos.contacts.get(step.account_id, reply_id)
        account = repos.accounts.get(step.account_id)
        repos.accounts.add_opt_out(
            step.account_id,
            OptOutRecord(channel=reply.channel, address=address_for(account, Channel(reply.channel)), recorded_at=now),
        )
        repos.audit.append(
            step.account_id,
            "address_withdrawn",
            now,
            rule="reply.wrong_person",
            journey_id=step.journey_id,
            reason="the reply says this is the wrong person",
            inputs={"channel": reply.channel, "reply_id": reply_id},
        )
        return {"hold": None, "reason": "wrong_person"}
    kind = (
        HoldKind.VULNERABILITY if step.analysis.get("vulnerable") else _HOLD_FOR_INTENT.get(intent, HoldKind.HARDSHIP)
    )
    reasons = ", ".join(step.analysis.get("vulnerability_reasons") or []) or "none"
    hold = HoldRecord(
        kind=kind.value,
        placed_by="rapport:reply-analysis",
        placed_at=now,
        reason=f"reply {reply_id}: intent {intent}; vulnerability signs: {reasons}",
    )
    repos.accounts.add_hold(step.account_id, hold)
    repos.audit.append(
        step.account_id,
        "hold_placed",
        now,
        rule=f"hold.{kind.value}",
        journey_id=step.journey_id,
        reason="collection stopped until a person reviews the account",
        inputs={"kind": kind.value, "intent": intent, "reply_id": reply_id},
    )
    return {"hold": kind.value}


class OptOutInput(_Input):
    channel: Channel
    reply_id: str


def record_opt_out(services: Services, step: OptOutInput) -> dict[str, Any]:
    """Honour the opt-out at once, on every channel (or on the channels refused, when the reply asks for
    another); the journey's next state sends the confirmation through send_message on the channel the
    request came from. Idempotent: the inbound function may have recorded the same opt-out already."""
    outcome = honour_opt_out(
        services, step.account_id, step.channel, reply_id=step.reply_id, journey_id=step.journey_id
    )
    # ``every_channel`` false: the debtor refused some channels and asked for another ("email me
    # instead"); the journey goes on there instead of confirming an opt-out of everything.
    return {
        "channels": [c.value for c in outcome.channels],
        "recorded": outcome.recorded,
        "every_channel": outcome.every_channel,
        "stated_channel": outcome.stated_channel.value if outcome.stated_channel else None,
    }


class HandToAgentInput(_Input):
    reason: str


def hand_to_agent(services: Services, step: HandToAgentInput) -> dict[str, Any]:
    now = services.clock.now()
    services.repos.worklist.add(step.account_id, step.reason, step.journey_id, now)
    services.repos.audit.append(
        step.account_id,
        "handed_to_agent",
        now,
        rule=f"agent.{step.reason}",
        journey_id=step.journey_id,
        reason="a person takes over",
        inputs={},
    )
    return {"queue": "agents", "reason": step.reason}


class FinishInput(_Input):
    outcome: str
    error: dict[str, Any] | None = None


def finish_journey(services: Services, step: FinishInput) -> dict[str, Any]:
    now = services.clock.now()
    _close_open_promises(services, step.account_id, step.journey_id, step.outcome)
    services.repos.journeys.finish(step.account_id, step.journey_id, step.outcome, now)
    inputs = {"error": (step.error or {}).get("Error")} if step.error else {}
    services.repos.audit.append(
        step.account_id,
        "journey_finished",
        now,
        rule=f"outcome.{step.outcome}",
        journey_id=step.journey_id,
        reason="journey finished",
        inputs=inputs,
    )
    if step.outcome == "failed":
        logger.error("journey failed", extra={"journey_id": step.journey_id, **inputs})
    return {"outcome": step.outcome}
