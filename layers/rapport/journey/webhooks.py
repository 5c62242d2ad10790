"""Payment-provider webhooks: verify, deduplicate, reconcile, credit once, resume the journey.

Every delivery is recorded with its outcome and reason (never its body, only the body's SHA-256),
so a refused webhook is visible to the team and to the provider's support desk.

The answers, and why:

- unknown or unwired provider: 404, recorded under the ``unknown`` partition (the name in the path
  is the caller's, so it never becomes a partition key of its own);
- forged or unsigned: 401; stale or future timestamp: 401; malformed body: 400; an authentic event
  we do not model: 200 (``ignored``), so the provider stops retrying;
- no link for the event: 404; currency, amount or reversal the ledger refuses: 422; all credit
  nothing. A refund or chargeback that names only the payment it reverses (Stitch's refunds;
  Peach's without ``merchantTransactionId``) is on the link that payment was recorded on; when that
  payment has not been seen yet, the reversal is held (200 ``held``, ``payment_not_seen``) until it
  comes, never refused;
- a payment above the larger of what its link still asks for and the balance owed, by more than
  ``OVERPAYMENT_TOLERANCE_CENTS``: 422 ``amount_beyond_link``, nothing credited, an audit entry
  and a worklist item (``payment_beyond_link``): the provider took the money, so a person returns
  or credits it. Within the tolerance an over-payment is credited and kept as a credit;
- a refund or chargeback that makes a settled account owe again reopens it as it was before it
  settled (``account_reopened`` in the audit);
- a repeated delivery: 200 ``duplicate``, credited nothing. Two lines of defence: Powertools
  idempotency on DynamoDB keyed on the provider's event id (the first delivery's answer is
  replayed), then the payment transaction itself, whose condition refuses an event id already
  recorded (and the ledger, which refuses the same fact under a new id);
- a delivery that lost a race with another for the same link (the link's ``version`` moved since
  it was read, whichever event moved it, a held refund included): 503, so the provider retries;
  the idempotency record is released first so the retry is processed;
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
from rapport.payments import (
    LinkLedger,
    LinkPurpose,
    LinkSnapshot,
    LinkStatus,
    PaymentEvent,
    PaymentEventKind,
    RejectReason,
    WebhookError,
)
from rapport.payments.debicheck import MandateCollection, ProviderMandateCallbacks, restate_mandate_event
from rapport.runtime import Services
from rapport.store.models import UNLINKED_PAYMENTS, PaymentLinkModel, PaymentModel, WebhookDeliveryModel
from rapport.store.repositories import (
    REOPENED_STATUS,
    AlreadyRecordedError,
    ConcurrentUpdateError,
    RecordNotFoundError,
    transaction_key,
)

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
# How far one payment may go beyond the larger of what its link still asks for and the balance owed
# and still be credited (as an over-payment the debtor keeps as a credit), in the link currency's minor units:
# R500. A debtor rounding up, or paying a fee on top, stays well inside it; a payment beyond it is a
# mistake (a mistyped amount, another debtor's reference) that is refused and put before a person.
OVERPAYMENT_TOLERANCE_CENTS = 50_000


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


def payment_ceiling_cents(link_amount_cents: int, balance_cents: int, link_credited_cents: int = 0) -> int:
    """The most one payment on a link may bring in: the larger of what the link still asks for (its
    amount less what it has taken) and what the account owes, plus ``OVERPAYMENT_TOLERANCE_CENTS``
    (see there). A second full payment on a paid link is beyond it."""
    still_asked = max(0, link_amount_cents - max(0, link_credited_cents))
    return max(still_asked, balance_cents) + OVERPAYMENT_TOLERANCE_CENTS


def _balance_owed(services: Services, account_id: str) -> int:
    try:
        return services.repos.accounts.get(account_id).balance_cents
    except RecordNotFoundError:
        # A link whose account is gone: the link's own amount bounds its payments.
        return 0


def _link_of(services: Services, event: PaymentEvent) -> str | None:
    """The link an event is about: the one it names, or, for an event that names only the payment
    it is about (Stitch's refunds, pending or completed; Peach's reversals without
    ``merchantTransactionId``), the link that payment was recorded on."""
    if event.link_id:
        return event.link_id
    return services.repos.payments.link_of(event.provider, event.transaction_id)


def _hold_unlinked(services: Services, event: PaymentEvent, now: datetime) -> WebhookResult:
    """A reversal of a payment we have not seen, naming no link: kept until the payment comes (see
    ``_held_reversals``), crediting nothing. Its payment is usually seconds behind it."""
    held = PaymentModel(
        UNLINKED_PAYMENTS,
        f"{event.provider}#{event.event_id}",
        provider=event.provider,
        transaction_id=event.transaction_id,
        transaction_key=transaction_key(event.provider, event.transaction_id),
        kind=event.kind.value,
        amount_cents=event.amount_cents,
        credit_delta_cents=0,
        occurred_at=event.occurred_at,
        recorded_at=now,
        event=event.model_dump(mode="json"),
    )
    try:
        services.repos.payments.hold_unlinked(held)
    except AlreadyRecordedError:
        return WebhookResult(200, "duplicate", "already_recorded")
    logger.info(
        "reversal held until its payment is seen",
        extra={"provider": event.provider, "event_id": event.event_id, "kind": event.kind.value},
    )
    return WebhookResult(200, "held", "payment_not_seen")


def _held_reversals(services: Services, event: PaymentEvent, link_id: str) -> list[PaymentEvent]:
    """Reversals of this payment that came before it with no link (``_hold_unlinked``), now on
    ``link_id``. Folding them again is harmless: the ledger knows each by its event id.

    NOTE: the index behind this is eventually consistent, so a refund held in the same moment as
    its payment is read may be missed by both; it then stays under ``UNLINKED_PAYMENTS`` for a
    person to match. A sweep of that partition older than a few minutes would close the gap.
    """
    if event.kind is not PaymentEventKind.SUCCEEDED:
        return []
    return [
        PaymentEvent.model_validate({**record.event, "link_id": link_id})
        for record in services.repos.payments.of_transaction(event.provider, event.transaction_id)
        if record.account_id == UNLINKED_PAYMENTS and record.event
    ]


def _refuse_beyond_link(
    services: Services, link: PaymentLinkModel, event: PaymentEvent, ceiling_cents: int, now: datetime
) -> None:
    """A payment above what anyone owes was taken by the provider but is not credited: a person
    reconciles it (returns it, or credits it by hand), from the worklist."""
    about = f"{event.provider}#{event.event_id}"
    services.repos.worklist.add(link.account_id, "payment_beyond_link", link.journey_id, now, about=about)
    services.repos.audit.append(
        link.account_id,
        "payment_refused",
        now,
        rule="payment.amount_beyond_link",
        journey_id=link.journey_id,
        reason="payment above what the link still asks for and the balance owed, beyond the tolerance",
        inputs={
            "provider": event.provider,
            "event_id": event.event_id,
            "amount_cents": event.amount_cents,
            "ceiling_cents": ceiling_cents,
            "link_amount_cents": link.amount_cents,
            "link_credited_cents": int(link.credited_cents or 0),
        },
    )
    logger.warning(
        "payment beyond its link refused",
        extra={"provider": event.provider, "event_id": event.event_id, "link_id": link.link_id},
    )


def _apply_event(services: Services, event: PaymentEvent) -> WebhookResult:
    now = services.clock.now()
    link_id = _link_of(services, event)
    link = services.repos.links.find(link_id) if link_id else None
    if link is None:
        if event.is_reversal and not event.link_id:
            return _hold_unlinked(services, event, now)
        return WebhookResult(404, "rejected", "unknown_link")
    ids = {"account_id": link.account_id, "link_id": link.link_id}
    if event.link_id is None:
        event = event.model_copy(update={"link_id": link.link_id})

    status = LinkStatus.EXPIRED if link.expires_at < now and not link.events else LinkStatus.OPEN
    ceiling = payment_ceiling_cents(
        link.amount_cents, _balance_owed(services, link.account_id), int(link.credited_cents or 0)
    )
    ledger = LinkLedger(
        link=LinkSnapshot(
            link_id=link.link_id,
            amount_cents=link.amount_cents,
            currency=link.currency,
            status=status,
            payment_ceiling_cents=ceiling,
        ),
        events=tuple(PaymentEvent.model_validate(item) for item in link.events or []),
    )
    for held in _held_reversals(services, event, link.link_id):
        ledger, _ = ledger.apply(held)
    new_ledger, decision = ledger.apply(event)
    if decision.outcome.value == "duplicate":
        return WebhookResult(200, "duplicate", "already_recorded", **ids)
    if decision.outcome.value == "rejected":
        reason = decision.reason.value if decision.reason else "rejected"
        if decision.reason is RejectReason.AMOUNT_BEYOND_LINK:
            _refuse_beyond_link(services, link, event, ceiling, now)
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
        transaction_key=transaction_key(event.provider, event.transaction_id),
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
    elif decision.credit_delta_cents > 0:
        services.repos.accounts.settle_if_paid(link.account_id)
    elif decision.credit_delta_cents < 0:
        _reopen_if_owed(services, link, event, now)
    return result


def _reopen_if_owed(services: Services, link: PaymentLinkModel, event: PaymentEvent, now: datetime) -> None:
    """A refund or chargeback that makes a settled account owe again puts it back in arrears."""
    reopened = services.repos.accounts.reopen_if_owed(link.account_id)
    if reopened is None:
        return
    services.repos.audit.append(
        link.account_id,
        "account_reopened",
        now,
        rule=f"payment.{event.kind.value}",
        journey_id=link.journey_id,
        reason="a reversal after settlement left a balance owed",
        inputs={
            "provider": event.provider,
            "event_id": event.event_id,
            "balance_cents": reopened.balance_cents,
            "status": reopened.status_before_settled or REOPENED_STATUS,
        },
    )


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
