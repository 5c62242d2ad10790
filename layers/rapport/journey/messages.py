"""Render and send one message, once, and record it: shared by every step that writes to a debtor."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from rapport.compliance import (
    AttemptKind,
    ContactAttempt,
    ContactPurpose,
    ContactRequest,
    DecisionOutcome,
    Hold,
    OptOut,
    evaluate_contact,
)
from rapport.journey.errors import NoAddressError, SendInProgressError
from rapport.journey.evidence import UNCHECKED_PURPOSES, compliance_evidence, unchecked_evidence
from rapport.messaging.channels import (
    ChannelRejectedError,
    ChannelThrottledError,
    ChannelUnavailableError,
    OutboundMessage,
)
from rapport.messaging.templates import MessageContext, TemplateKey
from rapport.models.enums import Channel, HoldKind, Tone
from rapport.payments import LinkPurpose, PaymentLinkRequest
from rapport.runtime import Services
from rapport.store.models import AccountModel, ContactModel, PaymentLinkModel
from rapport.store.repositories import RecordNotFoundError

logger = Logger(child=True)


def address_for(account: AccountModel, channel: Channel) -> str:
    """The account's address on ``channel``; for push, the registered device as ``<platform>:<token>``, the
    form the push sender reads (``rapport.messaging.channels.push.split_push_address``)."""
    if channel is Channel.EMAIL and account.email:
        return account.email
    if channel in (Channel.SMS, Channel.WHATSAPP, Channel.CALL) and account.phone:
        return account.phone
    device = account.push_device
    if channel is Channel.PUSH and device is not None and device.token:
        return f"{device.platform}:{device.token}"
    raise NoAddressError(f"no {channel.value} address on the account")


def raise_link(services: Services, account: AccountModel, message_id: str, journey_id: str | None) -> PaymentLinkModel:
    """A payment link for the balance, one per message (a retried send reuses it)."""
    link_id = "L" + hashlib.sha256(message_id.encode()).hexdigest()[:20]
    existing = services.repos.links.find(link_id)
    if existing is not None:
        return existing
    now = services.clock.now()
    expires_at = now + services.client.payments.link_expiry
    request = PaymentLinkRequest(
        link_id=link_id,
        account_id=account.account_id,
        amount_cents=account.balance_cents,
        currency=account.currency,
        purpose=LinkPurpose.BALANCE,
        expires_at=expires_at,
        description=f"{services.client.display_name} {account.account_id}",
    )
    provider_link = services.payment_provider.create_link(request)
    link = PaymentLinkModel(
        link_id,
        account_id=account.account_id,
        journey_id=journey_id,
        provider=provider_link.provider,
        purpose=request.purpose.value,
        amount_cents=request.amount_cents,
        currency=request.currency,
        url=provider_link.url,
        created_at=now,
        expires_at=expires_at,
    )
    services.repos.links.create(link)
    return link


def _context(services: Services, account: AccountModel, template_id: str, link: PaymentLinkModel | None) -> Any:
    values: dict[str, Any] = {
        "debtor_first_name": account.debtor.first_name,
        "client_name": services.client.display_name,
        "reference": account.account_id,
        "amount_due_cents": max(0, account.balance_cents),
        "balance_cents": max(0, account.balance_cents),
        "currency": account.currency,
        "agent_phone": services.client.contact.agent_phone,
        "pay_link_url": link.url if link else None,
        "due_date": (services.clock.now() + timedelta(days=7)).date(),
    }
    if template_id == "payment_received_thanks":
        paid = sorted(services.repos.payments.for_account(account.account_id), key=lambda p: p.occurred_at)
        if paid:
            values["payment_amount_cents"] = max(1, paid[-1].amount_cents)
            values["payment_date"] = paid[-1].occurred_at.date()
    if template_id == "promise_confirmation":
        promises = sorted(services.repos.promises.for_account(account.account_id), key=lambda p: p.made_at)
        if promises:
            values["promise_date"] = date.fromisoformat(promises[-1].due_date)
            values["promise_amount_cents"] = promises[-1].amount_cents
    if template_id in ("plan_offer", "plan_confirmation"):
        plans = sorted(services.repos.plans.for_account(account.account_id), key=lambda p: p.created_at)
        if plans:
            plan = plans[-1].plan
            values["plan_instalment_cents"] = plan["instalment_cents"]
            values["plan_instalments"] = plan["instalments"]
            values["plan_frequency"] = plan["frequency"]
            values["plan_start_date"] = date.fromisoformat(plan["first_due"])
            if template_id == "plan_offer" and plans[-1].status == "offered":
                # None when the client has no plan token secret: the templates then ask for a reply.
                values["plan_accept_url"] = plan.get("accept_url")
            if template_id == "plan_confirmation" and plans[-1].status == "active" and plan.get("pay_link"):
                # The plan's own pay link (rapport.journey.plan_pay), which pays each instalment as it
                # falls due, rather than a link for the whole balance or one instalment's checkout.
                values["pay_link_url"] = plan["pay_link"]
    return MessageContext(**values)


def deliver(
    services: Services,
    account: AccountModel,
    *,
    message_id: str,
    channel: Channel,
    template_id: str,
    tone: Tone,
    journey_id: str | None,
    with_link: bool,
    purpose: str = "collection",
) -> dict[str, Any]:
    """Send one message exactly once. A repeat of the same ``message_id`` returns the first result.

    The message is claimed (a contact in status "sending") before the provider is called, so a second
    invocation of the same step that overlaps the first raises :class:`SendInProgressError`, which the
    state machine retries, rather than sending it again; a claim older than the send function can run
    (:data:`SEND_CLAIM_STALE_AFTER`) is taken over. A refusal (rejected, unavailable) is recorded on the
    account's timeline before the channel's error propagates and the journey moves to the next channel;
    throttling releases the claim and is retried, and recorded only once the retries are spent
    (:func:`record_send_failure`).
    """
    repos = services.repos
    earlier = _earlier(services, account.account_id, message_id)
    if earlier is not None and _was_sent(earlier):
        logger.info("send skipped, already sent", extra={"message_id": message_id})
        return _duplicate(earlier, message_id, channel)

    refusal, compliance = _guardrail(services, account, channel, purpose, journey_id, message_id)
    if refusal is not None:
        return refusal
    link = raise_link(services, account, message_id, journey_id) if with_link and account.balance_cents > 0 else None
    key = TemplateKey(template_id=template_id, channel=channel, language=account.debtor.language, tone=tone)
    rendered = services.renderer.render(
        key, _context(services, account, template_id, link), services.client.jurisdiction
    )
    message = OutboundMessage(
        message_id=message_id,
        account_id=account.account_id,
        channel=channel,
        to=address_for(account, channel),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        whatsapp_template=rendered.whatsapp_template,
        whatsapp_language=rendered.language,
        whatsapp_parameters=list(rendered.whatsapp_parameters),
        push_title=rendered.title,
    )
    now = services.clock.now()
    # Real time, not the journey's clock (simulated in local runs): it is measured against the send
    # function's timeout, which is real time.
    claimed_at = datetime.now(UTC)
    contact = ContactModel(
        account.account_id,
        message_id,
        at=now,
        direction="out",
        channel=channel.value,
        status="sending",
        journey_id=journey_id,
        template_id=rendered.template_id,
        tone=rendered.tone.value,
        language=rendered.language,
        sms_segments=rendered.sms.segments if rendered.sms else None,
        link_id=link.link_id if link else None,
        claimed_at=claimed_at,
        claim_id=uuid.uuid4().hex,
    )
    try:
        sender = services.senders[channel]
    except KeyError:
        raise ChannelUnavailableError(f"{channel.value} is not configured for this client", channel=channel) from None
    if not repos.contacts.claim_send(contact, stale_before=claimed_at - SEND_CLAIM_STALE_AFTER):
        earlier = _earlier(services, account.account_id, message_id)
        if earlier is not None and _was_sent(earlier):
            logger.info("send skipped, sent meanwhile", extra={"message_id": message_id})
            return _duplicate(earlier, message_id, channel)
        logger.warning("send claimed by another invocation", extra={"message_id": message_id})
        raise SendInProgressError(f"message {message_id} is being sent by another invocation")
    try:
        receipt = sender.send(message)
    except ChannelThrottledError:
        # Retried by the state machine: the claim goes, so that the retry may send. Only when the retries
        # are spent is the failure recorded (record_send_failure, the journey's RecordSendFailure step).
        repos.contacts.release_claim(contact)
        logger.warning("send throttled", extra={"message_id": message_id, "channel": channel.value})
        raise
    except (ChannelRejectedError, ChannelUnavailableError) as error:
        reason = getattr(getattr(error, "reason", None), "value", type(error).__name__)
        contact.status = "failed"
        contact.failure_reason = str(reason)
        contact.save()
        _audit_failure(services, contact, str(reason), purpose, "the channel refused the message")
        if reason in ("opted_out", "invalid_address", "suppressed"):
            repos.accounts.suppress_channel(account.account_id, channel.value)
        logger.warning("send refused by channel", extra={"message_id": message_id, "reason": str(reason)})
        raise
    repos.contacts.mark_sent(contact, receipt.provider_message_id)
    repos.audit.append(
        account.account_id,
        "sent",
        now,
        rule="allow",
        journey_id=journey_id,
        reason="message sent",
        inputs={
            "channel": channel.value,
            "template": rendered.template_id,
            "tone": rendered.tone.value,
            "language": rendered.language,
            "message_id": message_id,
            "purpose": purpose,
            "compliance": compliance,
        },
    )
    logger.info("message sent", extra={"message_id": message_id, "channel": channel.value})
    return {
        "status": "sent",
        "message_id": message_id,
        "channel": channel.value,
        "link_id": link.link_id if link else None,
        "opt_out_line_added": rendered.opt_out_line_added,
    }


def compliance_request(services: Services, account: AccountModel, channel: Channel, purpose: str) -> Any:
    """The guardrails' view of one proposed contact: history, holds and opt-outs from the records."""
    now = services.clock.now()
    history = tuple(
        ContactAttempt(at=c.at, channel=Channel(c.channel), kind=AttemptKind.MESSAGE, delivered=c.status != "failed")
        for c in services.repos.contacts.for_account(account.account_id)
        if c.direction == "out"
        and c.status not in ("sending", "deferred", "refused")
        and c.at > now - timedelta(days=8)
    )
    holds = tuple(
        Hold(
            kind=HoldKind(h.kind),
            placed_by=h.placed_by,
            placed_at=h.placed_at,
            reason=h.reason,
            until=h.until,
            cleared_at=h.cleared_at,
            cleared_by=h.cleared_by,
        )
        for h in account.holds or []
    )
    opt_outs = tuple(
        OptOut(channel=Channel(o.channel) if o.channel else None, address=o.address, recorded_at=o.recorded_at)
        for o in account.opt_outs or []
    )
    return ContactRequest(
        account_id=account.account_id,
        debtor_timezone=account.debtor.timezone,
        jurisdiction=services.client.jurisdiction,
        channel=channel,
        address=address_for(account, channel),
        purpose=ContactPurpose(purpose),
        history=history,
        holds=holds,
        opt_outs=opt_outs,
    )


def _guardrail(
    services: Services, account: AccountModel, channel: Channel, purpose: str, journey_id: str | None, message_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Check the guardrails for every message, at the one place messages leave.

    Returns the refusal (None: it may go) and the evidence of the checks, for the audit trail.
    """
    if purpose in UNCHECKED_PURPOSES:
        return None, unchecked_evidence(purpose)
    now = services.clock.now()
    request = compliance_request(services, account, channel, purpose)
    decision = evaluate_contact(request, now)
    if decision.outcome is DecisionOutcome.ALLOW:
        return None, compliance_evidence(request, decision)
    action = "deferred" if decision.outcome is DecisionOutcome.DEFER else "refused"
    services.repos.audit.append(
        account.account_id,
        action,
        now,
        rule=decision.rule,
        journey_id=journey_id,
        reason=decision.reason,
        inputs={**decision.inputs, "message_id": message_id, "purpose": purpose},
    )
    # NOTE: a service or confirmation message held back here is recorded, not queued; a queue of
    # deferred service messages released at ``not_before`` would deliver it later.
    logger.info("message held back by guardrails", extra={"message_id": message_id, "rule": decision.rule})
    refusal = {
        "status": action,
        "rule": decision.rule,
        "message_id": message_id,
        "channel": channel.value,
        "link_id": None,
    }
    return refusal, {}


# A claim older than this belongs to an invocation that is no longer running: at least the send_message
# function's timeout (a test keeps the two in step).
# NOTE: an invocation that died after the provider accepted the message, before it was marked sent, leaves
# a claim that is taken over, and the message goes twice. A provider-side idempotency key (the message id)
# would close that gap where the channel offers one.
SEND_CLAIM_STALE_AFTER = timedelta(seconds=60)

# The reason recorded for an error a send step ended with, where the error does not carry one itself.
_FAILURE_REASONS = {
    "ChannelThrottledError": "throttled",
    "SendInProgressError": "claimed_by_another_invocation",
}


def record_send_failure(
    services: Services,
    account: AccountModel,
    *,
    message_id: str,
    channel: Channel,
    template_id: str,
    journey_id: str | None,
    purpose: str,
    failure: dict[str, Any],
) -> dict[str, Any]:
    """Put a message that finally could not be sent on the account's record, once: a failed contact
    (channel, template, reason; never its words) and a ``send_failed`` audit entry.

    The journey calls it after a send step's retries are spent (its Catch), with the error the step
    ended with; the dead-letter queue gets the message's ids next. A refusal the send itself recorded,
    or a message that was sent after all (the step failed later), is left as it is.
    """
    earlier = _earlier(services, account.account_id, message_id)
    if earlier is not None and _was_sent(earlier):
        return _duplicate(earlier, message_id, channel)
    error = str(failure.get("Error") or "unknown")
    reason = _FAILURE_REASONS.get(error, error)
    contact = ContactModel(
        account.account_id,
        message_id,
        at=services.clock.now(),
        direction="out",
        channel=channel.value,
        status="failed",
        journey_id=journey_id,
        template_id=template_id,
        failure_reason=reason,
    )
    if earlier is not None and earlier.status == "failed":
        contact = earlier
    elif services.repos.contacts.record_send_failure(contact):
        why = "the message could not be sent, after retries"
        _audit_failure(services, contact, reason, purpose, why)
        logger.warning("send failed for good", extra={"message_id": message_id, "reason": reason})
    else:
        contact = _earlier(services, account.account_id, message_id) or contact
        if _was_sent(contact):
            return _duplicate(contact, message_id, channel)
    return {
        "status": "failed",
        "message_id": message_id,
        "channel": channel.value,
        "link_id": None,
        "rule": f"channel.{contact.failure_reason}",
    }


def _audit_failure(services: Services, contact: ContactModel, reason: str, purpose: str, why: str) -> None:
    services.repos.audit.append(
        contact.account_id,
        "send_failed",
        services.clock.now(),
        rule=f"channel.{reason}",
        journey_id=contact.journey_id,
        reason=why,
        inputs={
            "channel": contact.channel,
            "template": contact.template_id,
            "message_id": contact.contact_id,
            "purpose": purpose,
        },
    )


def _earlier(services: Services, account_id: str, message_id: str) -> ContactModel | None:
    try:
        return services.repos.contacts.get(account_id, message_id)
    except RecordNotFoundError:
        return None


def _was_sent(contact: ContactModel) -> bool:
    """A provider accepted the message: its status since then follows the provider's reports."""
    return bool(contact.provider_message_id) or contact.status in ("sent", "delivered")


def _duplicate(earlier: ContactModel, message_id: str, channel: Channel) -> dict[str, Any]:
    return {
        "status": "duplicate",
        "message_id": message_id,
        "channel": channel.value,
        "link_id": earlier.link_id,
    }
