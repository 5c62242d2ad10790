"""Payments on the local cloud: the rails' keys, the hosted pay page, the bank's answers, the daily sweep.

``LocalCloud`` writes a payment secret holding the sandbox key only. :func:`enable_payments`
completes it as an operator completes the real one (a plan token secret, a sandbox DebiCheck
gateway, and any provider keys a test adds) and rewires the cloud's services from it, through the
same ``build_payments`` the functions use. Call it once, after entering the cloud and before the
first journey starts.

The other helpers play the outside world through the real handlers: the debtor paying a link on the
sandbox pay page (a signed webhook), accepting a plan offer (``POST /plans/{plan_id}/accept``, with
their own pay day, frequency and budget if they give them), opening the plan's pay link (``GET
/plans/{plan_id}/pay``, which redirects to a checkout), the debtor's bank answering on a mandate (a
signed callback to ``/webhooks/debicheck``), and the daily overdue sweep of plans:
:func:`sweep_due_plans` invokes the ``review_plans`` function as its deployed schedule does (the
plans due, from ``plans.due-index``, as of the cloud's clock), and :func:`review_plans` reviews
chosen accounts as of a given day (``rapport.journey.plans.review_plan``), which lets the simulated
debtors jump ahead to each due date.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3

from rapport.journey.plans import review_plan
from rapport.payments import PaymentEventKind, ProviderLink
from rapport.runtime import build_payments
from rapport.store.models import PaymentLinkModel, PlanModel

REGION = "af-south-1"


def enable_payments(
    cloud: Any,
    *,
    extra_keys: Mapping[str, Any] | None = None,
    transport: Any = None,
    payfast_validator: Any = None,
) -> Any:
    """Complete the local payment secret and rewire ``cloud.services.payments`` from it.

    ``extra_keys`` are merged into the secret (a provider's keys, say). The client file's provider
    (``cloud.services.client.payments.provider``) makes the links; it must have keys by now.
    Returns the new ``rapport.payments.wiring.PaymentWiring``.
    """
    manager = boto3.client("secretsmanager", region_name=REGION)
    secret_id = cloud.settings.payment_secret_id
    keys = json.loads(manager.get_secret_value(SecretId=secret_id)["SecretString"])
    keys.setdefault("plan_token_secret", secrets.token_hex(32))
    keys.setdefault("debicheck", {"provider": "sandbox", "callback_secret": secrets.token_hex(32)})
    keys.update(extra_keys or {})
    manager.put_secret_value(SecretId=secret_id, SecretString=json.dumps(keys))
    wiring = build_payments(
        cloud.settings,
        cloud.clock,
        cloud.services.client,
        transport=transport,
        payfast_validator=payfast_validator,
    )
    wiring.get(wiring.provider)  # reads the secret now: a wiring mistake fails here, not mid-run
    cloud.services.payments = wiring
    return wiring


def _provider_link(link: PaymentLinkModel) -> ProviderLink:
    return ProviderLink(
        provider=link.provider,
        link_id=link.link_id,
        url=link.url,
        provider_reference=f"sbx_{link.link_id}",
        expires_at=link.expires_at,
    )


def pay_link(
    cloud: Any,
    link_id: str,
    amount_cents: int,
    outcome: PaymentEventKind | str = PaymentEventKind.SUCCEEDED,
    **details: Any,
) -> dict[str, Any]:
    """The debtor acts on the sandbox pay page of ``link_id``: the signed webhook it posts, delivered."""
    headers, body = link_payment(cloud, link_id, amount_cents, outcome, **details)
    return cloud.post_webhook("sandbox", headers, body)


def link_payment(
    cloud: Any,
    link_id: str,
    amount_cents: int,
    outcome: PaymentEventKind | str = PaymentEventKind.SUCCEEDED,
    **details: Any,
) -> tuple[dict[str, str], bytes]:
    """The signed webhook the sandbox pay page of ``link_id`` posts for one debtor action, not yet sent."""
    link = cloud.services.repos.links.get(link_id)
    sandbox = cloud.services.payments.get("sandbox")
    return sandbox.pay(_provider_link(link), amount_cents, outcome, **details)


def latest_plan(account_id: str) -> PlanModel | None:
    plans = sorted(PlanModel.query(account_id), key=lambda plan: plan.created_at)
    return plans[-1] if plans else None


def acceptance_request(plan: PlanModel) -> tuple[str, str] | None:
    """(plan id, token) from the plan's self-service link; None when the offer carries no link."""
    url = (plan.plan or {}).get("accept_url")
    if not url:
        return None
    token = parse_qs(urlsplit(url).query).get("token", [""])[0]
    return plan.plan_id, token


def accept_plan(
    cloud: Any,
    plan_id: str,
    body: Mapping[str, Any],
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What API Gateway hands the accept_plan function for ``POST /plans/{plan_id}/accept``."""
    event = {
        "resource": "/plans/{plan_id}/accept",
        "path": f"/plans/{plan_id}/accept",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "pathParameters": {"plan_id": plan_id},
        "queryStringParameters": dict(query) if query else None,
        "body": json.dumps(dict(body)),
        "isBase64Encoded": False,
        "requestContext": {"requestId": secrets.token_hex(8), "stage": "local"},
    }
    response = cloud.invoke("accept_plan", event)
    return {**response, "json": json.loads(response["body"])}


def accept_latest_offer(
    cloud: Any,
    account_id: str,
    option: str = "instalments",
    bank_account: Mapping[str, str] | None = None,
    *,
    pay_day: Mapping[str, Any] | None = None,
    frequency: str | None = None,
    income_cents: int | None = None,
    expenses_cents: int | None = None,
) -> dict[str, Any] | None:
    """The debtor opens the newest plan offer's link and accepts it; None when there is none.

    ``pay_day``, ``frequency``, ``income_cents`` and ``expenses_cents`` are the debtor's choices on the
    page, sent as given when not None (``rapport.journey.plans.PlanAcceptance`` says what each takes).
    """
    plan = latest_plan(account_id)
    request = acceptance_request(plan) if plan is not None else None
    if request is None:
        return None
    plan_id, token = request
    body: dict[str, Any] = {"token": token, "option": option}
    if bank_account is not None:
        body["bank_account"] = dict(bank_account)
    choices = {
        "pay_day": dict(pay_day) if pay_day is not None else None,
        "frequency": frequency,
        "income_cents": income_cents,
        "expenses_cents": expenses_cents,
    }
    body.update({name: value for name, value in choices.items() if value is not None})
    return accept_plan(cloud, plan_id, body)


# What a browser asks for when the debtor taps a link.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"


def open_pay_link(
    cloud: Any, plan_id: str, query: Mapping[str, str] | None, accept: str = BROWSER_ACCEPT
) -> dict[str, Any]:
    """What API Gateway hands the pay_plan function for ``GET /plans/{plan_id}/pay?token=...``, as a
    browser sends it; the answer, with ``location`` (the redirect's target or None)."""
    event = {
        "resource": "/plans/{plan_id}/pay",
        "path": f"/plans/{plan_id}/pay",
        "httpMethod": "GET",
        "headers": {"Accept": accept},
        "pathParameters": {"plan_id": plan_id},
        "queryStringParameters": dict(query) if query else None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {"requestId": secrets.token_hex(8), "stage": "local"},
    }
    response = cloud.invoke("pay_plan", event)
    return {**response, "location": (response.get("headers") or {}).get("Location")}


def follow_pay_link(cloud: Any, url: str, accept: str = BROWSER_ACCEPT) -> dict[str, Any]:
    """The debtor taps a plan's pay link (as the acceptance answer and the plan's messages give it)."""
    parts = urlsplit(url)
    plan_id = parts.path.rstrip("/").split("/")[-2]
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return open_pay_link(cloud, plan_id, query, accept)


def pay_next_instalment(
    cloud: Any, account_id: str, amount_cents: int | None = None
) -> dict[str, Any] | None:
    """The debtor's next instalment arrives on the plan's link (a debit order collected, or the
    debtor paying the link); None when the account has no active plan."""
    payment = next_instalment_payment(cloud, account_id, amount_cents)
    return None if payment is None else cloud.post_webhook("sandbox", *payment)


def next_instalment_payment(
    cloud: Any, account_id: str, amount_cents: int | None = None
) -> tuple[dict[str, str], bytes] | None:
    """The signed webhook for the account's next instalment, not yet sent; None without an active plan."""
    from rapport.payments.plans import PaymentPlan

    plan = latest_plan(account_id)
    if plan is None or plan.status != "active":
        return None
    current = PaymentPlan.model_validate(plan.plan["current"])
    if not current.unpaid:
        return None
    due = amount_cents if amount_cents is not None else current.unpaid[0].outstanding_cents
    return link_payment(cloud, plan.plan["link_id"], due)


def answer_mandates(cloud: Any) -> list[dict[str, Any]]:
    """One processing cycle of the debtors' banks: each answer is posted to ``/webhooks/debicheck``."""
    gateway = cloud.services.debicheck
    if gateway is None:
        return []
    return [
        cloud.post_webhook("debicheck", callback.headers, callback.body)
        for callback in gateway.step(cloud.clock.now())
    ]


def sweep_due_plans(cloud: Any) -> dict[str, Any]:
    """The daily schedule's run: the ``review_plans`` function over every plan due by the cloud's
    clock; its counts. Raises ``PlanReviewIncompleteError`` as the function does."""
    return cloud.invoke("review_plans", {})


def review_plans(cloud: Any, account_ids: list[str], today: date) -> dict[str, str]:
    """The overdue sweep of chosen accounts, as of ``today``: plan id -> status afterwards."""
    statuses: dict[str, str] = {}
    for account_id in account_ids:
        statuses.update(review_plan(cloud.services, account_id, today))
    return statuses
