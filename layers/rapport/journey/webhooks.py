"""Payment-provider webhooks: verify, deduplicate, reconcile, credit once, resume the journey.

Every delivery is recorded with its outcome and reason (never its body, only the body's SHA-256),
so a refused webhook is visible to the team and to the provider's support desk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from rapport.journey.resume import resume_journey
from rapport.payments import LinkLedger, LinkSnapshot, LinkStatus, PaymentEvent, UnknownProviderError, WebhookError
from rapport.runtime import Services
from rapport.store.models import PaymentModel, WebhookDeliveryModel
from rapport.store.repositories import AlreadyRecordedError, ConcurrentUpdateError

logger = Logger(child=True)


@dataclass(frozen=True)
class WebhookResult:
    http_status: int
    outcome: str
    reason: str | None = None
    credited_cents: int = 0

    def body(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason}


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
            **ids,
        )
    )


def handle_payment_webhook(
    services: Services, provider_name: str, headers: dict[str, str], raw_body: bytes
) -> WebhookResult:
    now = services.clock.now()
    try:
        event = services.payments.parse_webhook(provider_name, headers, raw_body, now)
    except (WebhookError, UnknownProviderError) as error:
        result = WebhookResult(error.http_status, "rejected", error.reason)
        _record(services, provider_name, raw_body, result)
        return result

    ids = {"event_id": event.event_id, "link_id": event.link_id}
    link = services.repos.links.find(event.link_id) if event.link_id else None
    if link is None:
        result = WebhookResult(404, "rejected", "unknown_link")
        _record(services, provider_name, raw_body, result, **ids)
        return result
    ids["account_id"] = link.account_id

    status = LinkStatus.EXPIRED if link.expires_at < now and not link.events else LinkStatus.OPEN
    ledger = LinkLedger(
        link=LinkSnapshot(link_id=link.link_id, amount_cents=link.amount_cents, currency=link.currency, status=status),
        events=tuple(PaymentEvent.model_validate(item) for item in link.events or []),
    )
    new_ledger, decision = ledger.apply(event)
    if decision.outcome.value == "duplicate":
        result = WebhookResult(200, "duplicate", "already_recorded")
        _record(services, provider_name, raw_body, result, **ids)
        return result
    if decision.outcome.value == "rejected":
        reason = decision.reason.value if decision.reason else "rejected"
        result = WebhookResult(422, "rejected", reason)
        _record(services, provider_name, raw_body, result, **ids)
        return result

    waiting = services.repos.journeys.waiting(link.account_id)
    if waiting is not None and waiting.waiting_for == "promise":
        route = "promise"
    elif services.repos.plans.for_account(link.account_id):
        route = "plan"
    else:
        route = "link"
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
        services.repos.payments.apply(payment, link, new_ledger.events, decision, now)
    except AlreadyRecordedError:
        result = WebhookResult(200, "duplicate", "already_recorded")
        _record(services, provider_name, raw_body, result, **ids)
        return result
    except ConcurrentUpdateError:
        # Another delivery for the same link won the race: the provider retries, we fold again.
        result = WebhookResult(503, "retry", "concurrent_update")
        _record(services, provider_name, raw_body, result, **ids)
        return result

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
                "route": route,
            },
        )
    result = WebhookResult(200, decision.outcome.value, credited_cents=decision.credit_delta_cents)
    _record(services, provider_name, raw_body, result, **ids)
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
