"""The run's report: what happened, read back from the records (not from the simulator's intent)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rapport.payments.promises import UNJUDGED
from rapport.store.models import (
    AuditModel,
    ContactModel,
    JourneyModel,
    PaymentLinkModel,
    PaymentModel,
    PlanModel,
    PromiseModel,
    WebhookDeliveryModel,
    WorklistModel,
)


def _rand(cents: int) -> float:
    return round(cents / 100, 2)


def _not_analysed(inbound: list[ContactModel], audit: list[AuditModel]) -> dict[str, int]:
    """Why a reply carries no analysis: an opt-out honoured on receipt (no step needs to read it), a reply
    without words (a voice note, a photo), one that came while its journey was busy between two steps and
    that the journey has not read (it ended instead of parking again; both go to the agents' worklist), or
    one a journey was given and did not read (a defect)."""
    received = {
        entry.inputs.get("reply_id"): entry.inputs
        for entry in audit
        if entry.action == "reply_received" and entry.inputs
    }
    reasons: Counter[str] = Counter()
    for contact in inbound:
        if contact.intent:
            continue
        taken = received.get(contact.contact_id)
        if taken is not None and taken.get("opt_out"):
            reasons["opt_out_honoured_on_receipt"] += 1
        elif taken is not None and taken.get("without_words"):
            reasons["without_words"] += 1
        elif taken is not None and not taken.get("resumed") and not taken.get("started"):
            reasons["journey_busy_so_queued_for_a_person"] += 1
        else:
            reasons["not_read_by_a_journey"] += 1
    return dict(reasons.most_common())


def build_report(
    cloud: Any,
    debtors: Any,
    portfolio: Any,
    loaded: Any,
    *,
    wall_seconds: float,
    campaign: str,
    repeat_run: dict[str, Any],
) -> dict[str, Any]:
    # Scans are fine here: this is an end-of-run report, not a hot path.
    journeys = list(JourneyModel.scan())
    contacts = list(ContactModel.scan())
    payments = list(PaymentModel.scan())
    audit = list(AuditModel.scan())
    outbound = [c for c in contacts if c.direction == "out"]
    # A message the provider accepted has its id; its status then follows the provider's reports.
    accepted = [c for c in outbound if c.provider_message_id]
    inbound = [c for c in contacts if c.direction == "in"]
    expected = debtors.expected_intents
    journey_of_account = {journey.account_id: journey.journey_id for journey in journeys}
    matched = [(expected.get(journey_of_account.get(c.account_id)), c.intent) for c in inbound]
    judged = [(want, got) for want, got in matched if want and got]
    agreed = sum(1 for want, got in judged if want == got)
    collected = sum(p.credit_delta_cents for p in payments)
    by_route: Counter[str] = Counter()
    for payment in payments:
        by_route[payment.route] += payment.credit_delta_cents
    deliveries = list(WebhookDeliveryModel.scan())
    fake_sent = {channel.value: len(sender.sent) for channel, sender in cloud.fake_senders.items()}
    return {
        "client": cloud.client.client_id,
        "campaign": campaign,
        "portfolio": {
            "rows_read": portfolio.rows_read,
            "rows_skipped": len(portfolio.errors),
            "accounts_loaded": loaded.accounts,
            "in_arrears": loaded.in_arrears,
            "arriving_with_debt_review_hold": loaded.with_debt_review,
            "arriving_with_sms_opt_out": loaded.with_sms_opt_out,
        },
        "journeys": {
            "started": len(journeys),
            "started_by": dict(Counter(j.campaign for j in journeys).most_common()),
            "finished": sum(1 for j in journeys if j.status == "finished"),
            "by_outcome": dict(Counter(j.outcome or "unfinished" for j in journeys).most_common()),
            "by_variant_and_outcome": _by_variant(journeys, cloud),
            "repeat_run_started": repeat_run["started"],
            "repeat_run_already_started": repeat_run["already_started"],
        },
        "messages": {
            "sent_by_channel": dict(Counter(c.channel for c in accepted)),
            "deliveries_by_channel": _deliveries(accepted),
            # Messages no provider accepted, per channel and reason: refused by the channel, throttled to
            # the end of their retries, any other error, or still claimed by a send that never finished.
            "failed_to_send_by_channel": _failed_to_send(outbound),
            "replies_by_channel": dict(Counter(c.channel for c in inbound)),
            "by_template": dict(Counter(c.template_id for c in accepted).most_common()),
            "through_local_fakes": fake_sent,
        },
        "replies": {
            "received": len(inbound),
            "by_intent": dict(Counter(c.intent or "not_analysed" for c in inbound).most_common()),
            "by_sentiment": dict(Counter(c.sentiment or "not_analysed" for c in inbound).most_common()),
            "not_analysed_by_reason": _not_analysed(inbound, audit),
            "vulnerable": sum(1 for c in inbound if c.vulnerable),
            "intent_agrees_with_label": round(agreed / len(judged), 3) if judged else None,
            "intent_judged": len(judged),
        },
        "payments": {
            "links_raised": sum(1 for _ in PaymentLinkModel.scan()),
            "payments_applied": sum(1 for p in payments if p.credit_delta_cents > 0),
            "collected": _rand(collected),
            "collected_by_route": {route: _rand(cents) for route, cents in by_route.most_common()},
            "payments_by_route": dict(Counter(p.route for p in payments if p.credit_delta_cents > 0)),
            "reversed": _rand(-sum(p.credit_delta_cents for p in payments if p.credit_delta_cents < 0)),
            "webhooks_by_outcome": dict(Counter(d.outcome for d in deliveries)),
            "webhooks_by_provider": dict(Counter(d.provider for d in deliveries)),
            "webhooks_refused_by_reason": dict(
                Counter(d.reason for d in deliveries if d.outcome in ("rejected", "retry")).most_common()
            ),
        },
        "promises": _promises(payments),
        "plans": _plans(payments, audit),
        "guardrails": {
            "deferred_by_rule": dict(Counter(a.rule for a in audit if a.action == "deferred").most_common()),
            "refused_by_rule": dict(Counter(a.rule for a in audit if a.action == "refused").most_common()),
            "held_at_assessment_by_rule": dict(
                Counter(a.rule for a in audit if a.action == "journey_held").most_common()
            ),
            "send_failed_by_rule": dict(Counter(a.rule for a in audit if a.action == "send_failed").most_common()),
            "holds_placed_by_rule": dict(Counter(a.rule for a in audit if a.action == "hold_placed")),
            # A wrong person places no hold: the address they answered from is withdrawn instead.
            "addresses_withdrawn_by_rule": dict(Counter(a.rule for a in audit if a.action == "address_withdrawn")),
            "handed_to_agents_by_reason": dict(
                Counter(w.reason for w in WorklistModel.scan() if w.status == "open").most_common()
            ),
            # Items a person no longer needs: a reply queued while its journey was busy, read when it parked.
            "worklist_closed_by_status": dict(
                Counter(w.status for w in WorklistModel.scan() if w.status != "open").most_common()
            ),
        },
        "simulated_debtors": dict(debtors.actions.most_common()),
        "simulator_errors": debtors.errors[:10],
        "lambda_invocations": {
            name: {"count": count, "mean_ms": round(seconds / count * 1000, 1)}
            for name, (count, seconds) in sorted(cloud.invocations.items())
        },
        "wall_seconds": round(wall_seconds, 1),
        "accounts_per_second": round(loaded.in_arrears / wall_seconds, 2) if wall_seconds else None,
    }


def _failed_to_send(outbound: list[ContactModel]) -> dict[str, dict[str, int]]:
    """Per channel and reason, the messages that never reached a provider. A message a provider accepted
    and then failed or bounced is in the deliveries instead."""
    by_channel: dict[str, Counter[str]] = {}
    for contact in outbound:
        if contact.provider_message_id or contact.status not in ("failed", "sending"):
            continue
        reason = "still_sending" if contact.status == "sending" else contact.failure_reason or "unknown"
        by_channel.setdefault(contact.channel, Counter())[reason] += 1
    return {channel: dict(counts.most_common()) for channel, counts in sorted(by_channel.items())}


def _deliveries(accepted: list[ContactModel]) -> dict[str, dict[str, int]]:
    """Per channel, what became of the messages providers accepted; "no_report" when none came."""
    by_channel: dict[str, Counter[str]] = {}
    for contact in accepted:
        status = "no_report" if contact.status == "sent" else contact.status
        by_channel.setdefault(contact.channel, Counter())[status] += 1
    return {channel: dict(counts.most_common()) for channel, counts in sorted(by_channel.items())}


def _promises(payments: list[PaymentModel]) -> dict[str, Any]:
    """Promises as the journey judged them: kept, partly kept, broken (or still pending, replaced by a
    later promise or a plan before their date, or set aside when their journey ended first)."""
    promises = list(PromiseModel.scan())
    judged = [p for p in promises if p.status not in UNJUDGED]
    return {
        "made": len(promises),
        "by_status": dict(Counter(p.status for p in promises).most_common()),
        "kept": sum(1 for p in promises if p.status == "kept"),
        "partly_kept": sum(1 for p in promises if p.status == "partly_kept"),
        "broken": sum(1 for p in promises if p.status == "broken"),
        "promised": _rand(sum(p.amount_cents for p in promises)),
        "paid_against_judged_promises": _rand(sum(p.paid_cents for p in judged)),
        "collected_while_waiting_on_a_promise": _rand(
            sum(p.credit_delta_cents for p in payments if p.route == "promise")
        ),
    }


def _route_total(payments: list[PaymentModel], route: str) -> int:
    return sum(p.credit_delta_cents for p in payments if p.route == route)


def _plans(payments: list[PaymentModel], audit: list[AuditModel]) -> dict[str, Any]:
    """Plans from offer to end: accepted how, collected how, and how they ended."""
    plans = list(PlanModel.scan())
    documents = [plan.plan or {} for plan in plans]
    mandates = [d["mandate"] for d in documents if d.get("mandate")]
    cancelled = Counter(
        (d.get("current") or {}).get("cancel_reason") or "unknown"
        for plan, d in zip(plans, documents, strict=True)
        if plan.status == "cancelled"
    )
    written_off = sum(a.inputs.get("written_off_cents", 0) for a in audit if a.action == "plan_completed")
    return {
        "offered": len(plans),
        "by_status": dict(Counter(plan.status for plan in plans).most_common()),
        "accepted_by_option": dict(Counter(d["option"] for d in documents if d.get("option"))),
        "with_debicheck_mandate": len(mandates),
        "mandates_by_status": dict(Counter(m["status"] for m in mandates)),
        "instalments_paid": sum(1 for p in payments if p.route == "instalment" and p.credit_delta_cents > 0),
        "collected_by_instalment": _rand(_route_total(payments, "instalment")),
        "collected_by_settlement": _rand(_route_total(payments, "settlement")),
        "settlement_discount_written_off": _rand(written_off),
        "instalments_missed": sum(
            len(a.inputs.get("instalments", [])) for a in audit if a.action == "instalment_missed"
        ),
        "cancelled_by_reason": dict(cancelled),
        "accounts_closed_by_plan": sum(1 for a in audit if a.action == "plan_completed"),
    }


def _by_variant(journeys: list[JourneyModel], cloud: Any) -> dict[str, dict[str, int]]:
    from rapport.store.models import AccountModel

    variant_of = {account.account_id: account.variant for account in AccountModel.scan()}
    variants: dict[str, Counter[str]] = {}
    for journey in journeys:
        variant = variant_of.get(journey.account_id) or "unassigned"
        variants.setdefault(variant, Counter())[journey.outcome or "unfinished"] += 1
    return {name: dict(counts) for name, counts in variants.items()}


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def print_summary(report: dict[str, Any]) -> None:
    def line(title: str, value: Any) -> None:
        print(f"  {title:<34} {value}")

    print("\nRapport local run: " + report["client"] + " / " + report["campaign"])
    sections = ("portfolio", "journeys", "messages", "replies", "payments", "promises", "plans", "guardrails")
    for section in sections:
        print(f"{section}:")
        for key, value in report[section].items():
            line(key, value)
    line("simulated debtors", report["simulated_debtors"])
    line("wall time (s)", report["wall_seconds"])
    line("accounts in arrears per second", report["accounts_per_second"])
