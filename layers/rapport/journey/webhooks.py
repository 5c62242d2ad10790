"""Payment-provider webhooks: verify, deduplicate, reconcile, credit once, resume the journey.

Every delivery is recorded with its outcome and reason (never its body, only the body's SHA-256),
so a refused webhook is visible to the team and to the provider's support desk.

The answers, and why:

- unknown or unwired provider: 404, recorded under the ``unknown`` partition (the name in the path
  is the caller's, so it never becomes a partition key of its own);
- forged or unsigned: 401; stale or future timestamp: 401; malformed body: 400; an authentic event
  we do not model: 200 (``ignored``), so the provider stops retrying;
- no link for the event: 404; currency, amount or reversal the ledger refuses: 422; all credit
  nothing;
- a repeated delivery: 200 ``duplicate``, credited nothing. Two lines of defence: Powertools
  idempotency on DynamoDB keyed on the provider's event id (the first delivery's answer is
  replayed), then the payment transaction itself, whose condition refuses an event id already
  recorded (and the ledger, which refuses the same fact under a new id);
- a delivery that lost a race with another for the same link: 503, so the provider retries; the
  idempotency record is released first so the retry is processed;
- the same event id while its first delivery is still being processed: 409, retried later.

``debicheck`` is not a payment provider: it names the DebiCheck gateway's callbacks, which share
this route. The sandbox gateway's are mandate status callbacks in our own signed shape, recorded
by ``rapport.journey.plans.apply_mandate_callback``. A gateway whose provider signs its own
callbacks (``ProviderMandateCallbacks``: Stitch) verifies and reads each delivery first, with the
same answers as a payment provider's (401, 400, 200 ``ignored``); then a mandate's new status is
restated in our shape and recorded by the same function, and a collection's result is credited on
the plan's link exactly like a payment (once per event id, and once per collection).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from rapport.journey.plans import (
    PlanOutcome,
    apply_mandate_callback,
    finish_plan_outcome,
    plan_change_for_payment,
)
from rapport.journey.resume import resume_journey
from rapport.payments import LinkLedger, LinkPurpose, LinkSnapshot, LinkStatus, PaymentEvent, WebhookError
from rapport.payments.debicheck import MandateCollection, ProviderMandateCallbacks, restate_mandate_event
from rapport.runtime import Services
from rapport.store.models import PaymentModel, WebhookDeliveryModel
from rapport.store.repositories import AlreadyRecordedError, ConcurrentUpdateError

logger = Logger(child=True)

UNKNOWN_PROVIDER = "unknown"
DEBICHECK = "debicheck"
# PayFast's source check reads the caller's address from this header. The HTTP handler sets it
# from API Gateway's request context and drops any value a caller sent.
SOURCE_IP_HEADER = "x-rapport-source-ip"
IDEMPOTENCY_KEY_PREFIX = "rapport.payment_event"
# Providers retry for hours to days (PayFast until it gets a 200, Peach for days); past this the
# payment transaction's own condition still refuses a repeat.
IDEMPOTENCY_EXPIRY = timedelta(days=3)
_SAFE_NAME = re.compile(r"[^a-z0-9_-]")


@dataclass(frozen=True)
class WebhookResult:
    http_status: int
    outcome: str
    reason: str | None = None
    credited_cents: int = 0
    account_id: str | None = None
    link_id: str | None = None

    def body(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> WebhookResult:
        return cls(**{name: values.get(name) for name in cls.__dataclass_fields__ if name in values})


class RetryLaterError(Exception):
    """The delivery lost a race for its link; raised through the idempotency guard so that the
    guard releases its record and the provider's retry is processed."""


def _record(services: Services, provider: str, raw_body: bytes, result: WebhookResult, **ids: Any) -> None:
    digest = hashlib.sha256(raw_body).hexdigest()
    now = services.clock.now()
    services.repos.deliveries.record(
        WebhookDeliveryModel(
            provider,
            f"{now.isoformat()}#{digest[:16]}",
            received_at=now,
            outcome=result.outcome,
            http_status=result.http_status,
            reason=result.reason,
            body_sha256=digest,
            account_id=result.account_id,
            link_id=result.link_id,
            **ids,
        )
    )


def _replayed(response: dict[str, Any], _record: Any) -> dict[str, Any]:
    """Powertools' hook for a stored answer: a replay credits nothing. A refusal is refused again."""
    if response.get("http_status") == 200:
        return {**response, "outcome": "duplicate", "reason": "already_processed", "credited_cents": 0}
    return response


def handle_payment_webhook(
    services: Services,
    provider_name: str,
    headers: dict[str, str],
    raw_body: bytes,
    lambda_context: Any = None,
) -> WebhookResult:
    """One delivery to ``POST /webhooks/{provider}``: the answer to give, already recorded."""
    now = services.clock.now()
    if provider_name == DEBICHECK:
        return _debicheck_callback(services, headers, raw_body, now, lambda_context)
    if provider_name not in services.payments.names:
        safe = _SAFE_NAME.sub("", provider_name.lower())[:32] or "blank"
        result = WebhookResult(404, "rejected", f"unknown_provider:{safe}")
        _record(services, UNKNOWN_PROVIDER, raw_body, result)
        return result
    try:
        event = services.payments.parse_webhook(provider_name, headers, raw_body, now)
    except WebhookError as error:
        return _refused(services, provider_name, raw_body, error)
    return _credit(services, provider_name, event, raw_body, lambda_context)


def _refused(services: Services, partition: str, raw_body: bytes, error: WebhookError) -> WebhookResult:
    """A delivery the adapter would not verify or read, recorded with the adapter's answer."""
    outcome = "ignored" if error.http_status == 200 else "rejected"
    result = WebhookResult(error.http_status, outcome, error.reason)
    _record(services, partition, raw_body, result)
    return result


def _credit(
    services: Services, partition: str, event: PaymentEvent, raw_body: bytes, lambda_context: Any
) -> WebhookResult:
    """Apply a verified payment event once, answer and record the delivery."""
    try:
        result = _once_per_event(services, event, lambda_context)
    except RetryLaterError as error:
        result = WebhookResult(503, "retry", str(error) or "concurrent_update", link_id=event.link_id)
    except IdempotencyAlreadyInProgressError:
        result = WebhookResult(409, "retry", "in_progress", link_id=event.link_id)
    _record(services, partition, raw_body, result, event_id=event.event_id)
    return result


def _once_per_event(services: Services, event: PaymentEvent, lambda_context: Any) -> WebhookResult:
    """Apply a verified event at most once per provider event id (Powertools idempotency)."""
    config = IdempotencyConfig(
        event_key_jmespath="[provider, event_id]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=int(IDEMPOTENCY_EXPIRY.total_seconds()),
        response_hook=_replayed,
    )
    if lambda_context is not None:
        # Lets an invocation that dies mid-way release its key when the function times out.
        config.register_lambda_context(lambda_context)

    def apply_event(event: PaymentEvent) -> dict[str, Any]:
        return asdict(_apply_event(services, event))

    guarded = idempotent_function(
        apply_event,
        data_keyword_argument="event",
        persistence_store=services.idempotency_store(),
        config=config,
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )
    return WebhookResult.from_dict(guarded(event=event))


def _route(purpose: str, waiting_for: str | None) -> str:
    """Which road a payment came by, for the report: a plan's instalment, a settlement, a promise
    being kept, or a plain payment link."""
    if purpose == LinkPurpose.INSTALMENT.value:
        return "instalment"
    if purpose == LinkPurpose.SETTLEMENT.value:
        return "settlement"
    if waiting_for == "promise":
        return "promise"
    return "link"


def _apply_event(services: Services, event: PaymentEvent) -> WebhookResult:
    now = services.clock.now()
    link = services.repos.links.find(event.link_id) if event.link_id else None
    if link is None:
        return WebhookResult(404, "rejected", "unknown_link")
    ids = {"account_id": link.account_id, "link_id": link.link_id}

    status = LinkStatus.EXPIRED if link.expires_at < now and not link.events else LinkStatus.OPEN
    ledger = LinkLedger(
        link=LinkSnapshot(
            link_id=link.link_id, amount_cents=link.amount_cents, currency=link.currency, status=status
        ),
        events=tuple(PaymentEvent.model_validate(item) for item in link.events or []),
    )
    new_ledger, decision = ledger.apply(event)
    if decision.outcome.value == "duplicate":
        return WebhookResult(200, "duplicate", "already_recorded", **ids)
    if decision.outcome.value == "rejected":
        reason = decision.reason.value if decision.reason else "rejected"
        return WebhookResult(422, "rejected", reason, **ids)

    waiting = services.repos.journeys.waiting(link.account_id)
    route = _route(link.purpose, waiting.waiting_for if waiting else None)
    plan: PlanOutcome | None = None
    if decision.outcome.value == "applied":
        plan = plan_change_for_payment(services, link, event, decision.credit_delta_cents, now)
    payment = PaymentModel(
        link.account_id,
        f"{event.provider}#{event.event_id}",
        provider=event.provider,
        link_id=link.link_id,
        transaction_id=event.transaction_id,
        kind=event.kind.value,
        amount_cents=event.amount_cents,
        credit_delta_cents=decision.credit_delta_cents,
        route=route,
        occurred_at=event.occurred_at,
        recorded_at=now,
    )
    try:
        services.repos.payments.apply(
            payment, link, new_ledger.events, decision, now, plan.change if plan is not None else None
        )
    except AlreadyRecordedError:
        return WebhookResult(200, "duplicate", "already_recorded", **ids)
    except ConcurrentUpdateError:
        # Another delivery for the same link (or plan, or balance) won the race: the provider
        # retries, and the retry folds again from what is stored.
        raise RetryLaterError("concurrent_update") from None

    if plan is not None:
        finish_plan_outcome(services, plan, link.journey_id, now)
    if decision.credit_delta_cents:
        services.repos.audit.append(
            link.account_id,
            "payment_applied",
            now,
            rule=f"payment.{event.kind.value}",
            journey_id=link.journey_id,
            reason="provider payment reconciled",
            inputs={
                "provider": event.provider,
                "event_id": event.event_id,
                "credit_delta_cents": decision.credit_delta_cents,
                "link_status": decision.status.value,
                "partial": decision.is_partial,
                "overpayment": decision.is_overpayment,
                "overpaid_cents": decision.overpaid_cents,
                "needs_review": decision.needs_review,
                "route": route,
            },
        )
    result = WebhookResult(200, decision.outcome.value, credited_cents=decision.credit_delta_cents, **ids)
    if decision.credit_delta_cents > 0 and waiting is not None:
        balance = services.repos.accounts.settle_if_paid(link.account_id)
        contacts = services.repos.contacts.for_account(link.account_id)
        channel = next((c.channel for c in contacts if c.link_id == link.link_id), "sms")
        response = {
            "kind": "payment",
            "settled": balance <= 0,
            "amount_cents": decision.credit_delta_cents,
            "channel": channel,
        }
        resume_journey(services, link.account_id, response, journey=waiting)
    elif decision.credit_delta_cents:
        services.repos.accounts.settle_if_paid(link.account_id)
    return result


def _debicheck_callback(
    services: Services, headers: dict[str, str], raw_body: bytes, now: datetime, lambda_context: Any
) -> WebhookResult:
    """``POST /webhooks/debicheck``: the gateway's own callbacks, or ours (the sandbox's)."""
    gateway = services.debicheck
    if not isinstance(gateway, ProviderMandateCallbacks):
        return _mandate_callback(services, headers, raw_body, raw_body, now)
    try:
        fact = gateway.parse_callback(headers, raw_body, now)
    except WebhookError as error:
        logger.warning(
            "mandate callback not accepted", extra={"reason": error.reason, "http_status": error.http_status}
        )
        return _refused(services, DEBICHECK, raw_body, error)
    if isinstance(fact, MandateCollection):
        return _collection(services, fact, raw_body, lambda_context)
    secret = services.payments.mandate_callback_secret
    restated = restate_mandate_event(fact, secret, now)
    return _mandate_callback(services, restated.headers, restated.body, raw_body, now)


def _collection(
    services: Services, collection: MandateCollection, raw_body: bytes, lambda_context: Any
) -> WebhookResult:
    """A collection's result, credited on its plan's link like any payment on that link."""
    account_id, _, plan_id = collection.mandate_id.rpartition(":")
    stored = services.repos.plans.find(account_id, plan_id) if account_id and plan_id else None
    document = (stored.plan or {}) if stored is not None else {}
    mandate = document.get("mandate") or {}
    if not document.get("link_id") or mandate.get("mandate_id") != collection.mandate_id:
        result = WebhookResult(404, "rejected", "unknown_mandate")
        _record(services, DEBICHECK, raw_body, result, event_id=collection.event_id)
        return result
    event = PaymentEvent(
        provider=DEBICHECK,
        event_id=collection.event_id,
        transaction_id=collection.transaction_id,
        link_id=document["link_id"],
        kind=collection.kind,
        amount_cents=collection.amount_cents,
        currency=collection.currency,
        occurred_at=collection.occurred_at,
        provider_status=collection.provider_status,
    )
    return _credit(services, DEBICHECK, event, raw_body, lambda_context)


def _mandate_callback(
    services: Services, headers: dict[str, str], body: bytes, raw_body: bytes, now: datetime
) -> WebhookResult:
    """Record a mandate callback in our shape (``body``); the delivery is logged by the body that
    arrived (``raw_body``), which differs from ``body`` when a provider's callback was restated."""
    outcome = apply_mandate_callback(services, headers, body, now)
    if outcome.reason == "unknown_provider":
        result = WebhookResult(404, "rejected", "unknown_provider:debicheck")
        _record(services, UNKNOWN_PROVIDER, raw_body, result)
        return result
    result = WebhookResult(
        outcome.http_status, outcome.outcome, outcome.reason, account_id=outcome.account_id
    )
    _record(services, DEBICHECK, raw_body, result, event_id=outcome.event_id)
    return result
