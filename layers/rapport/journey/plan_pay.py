"""The plan's pay link: ``GET /plans/{plan_id}/pay?token=...`` takes the debtor to the checkout of
whichever instalment is due.

Acceptance signs the link (:func:`rapport.journey.plans.plan_pay_url`) with the token scheme of the
acceptance link (:mod:`rapport.payments.tokens`), valid until the plan's payment link expires, and
keeps it with the plan (``pay_link``). It is the one link the debtor is given for the whole plan:
the acceptance answer and the plan's messages carry it, never a single instalment's checkout. Each
visit is answered as follows:

- the token is verified exactly as acceptance verifies it (shape, signature, plan, expiry); a
  malformed, forged, misdirected or expired token is refused with 403 and logged with its reason
  (never the token);
- an active plan owing an instalment: 302 to the checkout of the oldest unpaid instalment
  (:func:`rapport.journey.plans.instalment_checkout`). The checkout is opened once and kept, so a
  second visit, or a mail scanner opening the link first, asks the provider for nothing new; once
  an instalment is paid, the same link opens the next one's checkout, under a provider reference of
  its own (Paystack takes one payment per reference);
- a completed plan: 200, nothing to pay; a cancelled plan: 410; an offer not accepted yet: 409; no
  such plan for the account the token names: 404. A refusal on a plan the token proves is the
  debtor's (cancelled, not accepted) is also written to the account's audit trail, where an agent
  sees that the debtor tried to pay.

Browsers get a one-sentence page, other callers JSON. Every answer carries ``Cache-Control:
no-store`` and ``Referrer-Policy: no-referrer``: the URL holds a credential.

A forged token names no account anyone can trust, so its refusal is a log record (the audit trail is
per account, and an unauthenticated caller must not be able to write to any account's trail); API
Gateway's access log and WAF's log also keep the request, the query string left out.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from rapport.journey.plans import ACTIVE, CANCELLED, COMPLETED, instalment_checkout
from rapport.payments.debicheck_collections import submitted_records
from rapport.payments.errors import ProviderRequestError
from rapport.payments.plans import PaymentPlan
from rapport.payments.tokens import PAY, PlanTokenError
from rapport.runtime import Services
from rapport.store.models import PlanModel
from rapport.store.repositories import ConcurrentUpdateError

logger = Logger(child=True)

# What a debtor's browser shows when the link does not redirect, by HTTP status.
# NOTE: in English only: the debtor's language is on the account, which this function may not read.
# Reading it (accounts, read-only) and the template catalogue's languages would localise the page.
_PAGE_TEXT = {
    200: "There is nothing to pay through this link now: your plan is paid in full, or the payment due "
    "is being collected from your bank account by the debit order you approved. Thank you.",
    403: "This payment link is not valid or has expired. Please use the newest link we sent you, "
    "or contact us.",
    404: "We could not find this payment plan. Please contact us.",
    409: "This payment plan has not been set up yet. Please accept it with the link in our offer first.",
    410: "This payment plan has ended. Please contact us about your account.",
    502: "We could not open the payment page just now. Please try again in a few minutes.",
    503: "We could not open the payment page just now. Please try again in a few minutes.",
}
# On every answer: the URL holds a credential, so nothing is cached and no page passes it on.
_NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class PayLinkResult:
    """The answer to one visit of a plan's pay link. ``reason`` is safe to return and to log."""

    http_status: int
    outcome: str  # "redirect", "nothing_to_pay", "rejected" or "retry"
    reason: str | None = None
    location: str | None = None
    instalment: int | None = None

    def body(self) -> dict[str, Any]:
        found = {"outcome": self.outcome, "reason": self.reason, "instalment": self.instalment}
        return {name: value for name, value in found.items() if value is not None}

    def response(self, accept: str | None, client_name: str) -> dict[str, Any]:
        """The API Gateway proxy response: a redirect, a short page for a browser, or JSON."""
        if self.location is not None:
            headers = {**_NO_STORE, "Location": self.location}
            return {"statusCode": self.http_status, "headers": headers, "body": ""}
        if "text/html" in (accept or ""):
            name = html.escape(client_name)
            text = html.escape(_PAGE_TEXT.get(self.http_status, _PAGE_TEXT[503]))
            page = (
                f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>'
                '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
                f"<body><h1>{name}</h1><p>{text}</p></body></html>"
            )
            headers = {
                **_NO_STORE,
                "Content-Type": "text/html; charset=utf-8",
                "Content-Security-Policy": "default-src 'none'",
            }
            return {"statusCode": self.http_status, "headers": headers, "body": page}
        headers = {**_NO_STORE, "Content-Type": "application/json"}
        return {"statusCode": self.http_status, "headers": headers, "body": json.dumps(self.body())}


def _refused(
    services: Services,
    http_status: int,
    reason: str,
    plan_id: str,
    account_id: str | None = None,
) -> PayLinkResult:
    """Log a refusal with its reason; on the account's audit trail too when the token proved whose
    plan it is."""
    logger.warning(
        "plan pay link refused", extra={"plan_id": plan_id, "reason": reason, "http_status": http_status}
    )
    if account_id is not None:
        services.repos.audit.append(
            account_id,
            "plan_payment_refused",
            services.clock.now(),
            rule=f"plan.pay.{reason}",
            reason="the debtor opened the plan's pay link, but the plan takes no payment",
            inputs={"plan_id": plan_id},
        )
    outcome = "retry" if http_status >= 500 else "rejected"
    return PayLinkResult(http_status, outcome, reason)


def _not_payable(
    services: Services, stored: PlanModel | None, plan_id: str, account_id: str
) -> PayLinkResult | None:
    """The answer for a plan that takes no payment now; None for an active plan."""
    if stored is None:
        return _refused(services, 404, "unknown_plan", plan_id)
    if stored.status == ACTIVE:
        return None
    if stored.status == COMPLETED:
        return PayLinkResult(200, "nothing_to_pay", "plan_completed")
    if stored.status == CANCELLED:
        return _refused(services, 410, "plan_cancelled", plan_id, account_id)
    return _refused(services, 409, f"plan_{stored.status}", plan_id, account_id)


def _collecting_by_debit_order(stored: PlanModel | None) -> PayLinkResult | None:
    """The instalment due is already in a DebiCheck collection file for this attempt: paying it by
    card or EFT as well would take it twice, so the link says it is being collected instead."""
    document = (stored.plan or {}) if stored is not None else {}
    if "current" not in document:
        return None
    unpaid = PaymentPlan.model_validate(document["current"]).unpaid
    if not unpaid:
        return None
    due = unpaid[0]
    for record in submitted_records(document):
        if record.instalment == due.number and record.attempt == due.misses:
            return PayLinkResult(200, "nothing_to_pay", "collecting_by_debit_order", instalment=due.number)
    return None


def handle_plan_payment(services: Services, plan_id: str, token: str | None) -> PayLinkResult:
    """One visit of ``GET /plans/{plan_id}/pay?token=...``; see the module's docstring."""
    signer = services.plan_tokens
    if signer is None:
        return _refused(services, 503, "self_service_not_configured", plan_id)
    try:
        claims = signer.verify(token or "", plan_id, services.clock.now(), purpose=PAY)
    except PlanTokenError as error:
        return _refused(services, 403, error.reason, plan_id)

    account_id = claims.account_id
    stored = services.repos.plans.find(account_id, plan_id)
    answer = _not_payable(services, stored, plan_id, account_id) or _collecting_by_debit_order(stored)
    if answer is not None:
        return answer
    try:
        checkout = instalment_checkout(services, account_id, plan_id)
    except ProviderRequestError as error:
        logger.error("plan checkout not opened", extra={"plan_id": plan_id, "reason": error.reason})
        return PayLinkResult(502, "retry", "provider_unavailable")
    except ConcurrentUpdateError:
        return PayLinkResult(503, "retry", "concurrent_update")
    if checkout is None:
        # The plan changed between the two reads (its last instalment paid, say): answer as it is now.
        again = _not_payable(services, services.repos.plans.find(account_id, plan_id), plan_id, account_id)
        return again or PayLinkResult(200, "nothing_to_pay", "nothing_due")
    if not checkout.url.startswith("https://"):
        logger.error(
            "plan checkout url refused", extra={"plan_id": plan_id, "instalment": checkout.instalment}
        )
        return PayLinkResult(502, "retry", "checkout_not_https")

    logger.info(
        "plan pay link redirected",
        extra={"plan_id": plan_id, "instalment": checkout.instalment, "attempt": checkout.attempt},
    )
    return PayLinkResult(302, "redirect", location=checkout.url, instalment=checkout.instalment)
