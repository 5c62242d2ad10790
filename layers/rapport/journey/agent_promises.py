"""A promise to pay that an agent takes (on a call, in a branch): ``POST /accounts/{account_id}/promises``.

The route is IAM-authorised: only the client's own systems (the agents' desk) can sign a request, and the
caller's identity is kept on the audit trail beside the agent it names. A promise recorded here is held to
the rules of a promise from a reply: the same broken-promise limit, the treatment's grace days, the
check date worked out the same way (``promise_check_date``), and a later promise sets aside one still
pending. If the account's journey waits (for a response or on an earlier promise) it is resumed with
the promise and waits on it, checked as a reply's promise is (the tree's ``TakeAgentPromise``).

NOTE: a promise recorded while no journey waits (none running, or one busy between two steps) is kept
pending with no journey to check it; a later journey of the account does not pick it up yet. Starting
a journey for it, as the inbound functions start one for a reply, would need the tree to route a
journey started by a promise past its reply-only states.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from rapport.journey.account_requests import RequestRefusedError, read_account_request
from rapport.journey.resume import resume_journey
from rapport.journey.steps import (  # the judged promises, as record_promise reads them; keeping one
    _promise_outcomes,
    store_promise,
)
from rapport.models.enums import Segment
from rapport.payments.promises import PromiseSource, PromiseToPay, promise_allowed
from rapport.runtime import Services
from rapport.store.models import AccountModel
from rapport.store.repositories import RecordNotFoundError

logger = Logger(child=True)

DEFAULT_GRACE_DAYS = 2  # as a reply's promise, when the account was never assessed
MAX_DAYS_AHEAD = 92  # a promise further off is a plan, not a promise


class AgentPromise(BaseModel):
    """The body of ``POST /accounts/{account_id}/promises``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
    amount_cents: StrictInt = Field(gt=0)
    due_date: date


def _rejected(status: int, reason: str, **details: Any) -> tuple[int, dict[str, Any]]:
    return status, {"outcome": "rejected", "reason": reason, **details}


def _grace_days(services: Services, account: AccountModel) -> int:
    """The grace days of the account's treatment (its last assessment's segment and variant)."""
    strategy = services.client.strategy
    try:
        segment = Segment(account.segment) if account.segment else strategy.default_segment
        if account.variant:
            return services.client.treatment(segment, account.variant).promise_grace_days
        return strategy.treatments[segment].promise_grace_days
    except (ValueError, KeyError, StopIteration):
        return DEFAULT_GRACE_DAYS


def handle_agent_promise(
    services: Services, account_id: str, raw_body: bytes, caller: str | None = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body). 201 recorded, 200 the same promise recorded before (a retried call),
    400 bad input, 404 unknown account, 409 a promise the rules refuse. ``caller`` is the IAM identity that
    signed the request (API Gateway's ``requestContext.identity.userArn``)."""
    try:
        account, request = read_account_request(services, account_id, raw_body, AgentPromise)
    except RequestRefusedError as refused:
        return refused.answer
    return _record(services, account, request, caller)


def _record(
    services: Services, account: AccountModel, request: AgentPromise, caller: str | None
) -> tuple[int, dict[str, Any]]:
    repos, now = services.repos, services.clock.now()
    today = now.astimezone(ZoneInfo(account.debtor.timezone)).date()
    if request.due_date < today:
        return _rejected(400, "invalid_request", fields=["due_date"], problems={"due_date": "is in the past"})
    if (request.due_date - today).days > MAX_DAYS_AHEAD:
        message = f"is more than {MAX_DAYS_AHEAD} days ahead: offer a plan instead"
        return _rejected(400, "invalid_request", fields=["due_date"], problems={"due_date": message})
    if account.balance_cents <= 0:
        return _rejected(409, "nothing_owed")
    if request.amount_cents > account.balance_cents:
        message = "is more than the balance"
        return _rejected(400, "invalid_request", fields=["amount_cents"], problems={"amount_cents": message})

    key = f"{account.account_id}:{request.agent_id}:{request.due_date}:{request.amount_cents}:{today}"
    promise_id = "A" + hashlib.sha256(key.encode()).hexdigest()[:16]
    try:
        earlier = repos.promises.get(account.account_id, promise_id)
    except RecordNotFoundError:
        earlier = None
    if earlier is not None:
        answer = {"outcome": "already_recorded", "promise_id": promise_id, "check_date": earlier.check_date}
        return 200, answer

    eligibility = promise_allowed(_promise_outcomes(services, account.account_id), today)
    actor = f"agent:{request.agent_id}"
    if not eligibility:
        repos.audit.append(
            account.account_id,
            "promise_refused",
            now,
            rule="promise.broken_limit",
            reason=eligibility.reason,
            inputs={"source": PromiseSource.AGENT.value},
            actor=actor,
        )
        return _rejected(409, eligibility.reason.value, broken_in_window=eligibility.broken_in_window)

    promise = PromiseToPay(
        promise_id=promise_id,
        account_id=account.account_id,
        amount_cents=request.amount_cents,
        currency=account.currency,
        due_date=request.due_date,
        made_at=now,
        source=PromiseSource.AGENT,
        grace_days=_grace_days(services, account),
    )
    waiting = repos.journeys.waiting(account.account_id)
    journey_id = waiting.journey_id if waiting is not None else None
    check_date = date.fromisoformat(store_promise(services, promise, journey_id, actor=actor).check_date)
    repos.audit.append(
        account.account_id,
        "promise_recorded",
        now,
        rule="promise.accepted",
        journey_id=journey_id,
        reason="promise to pay taken by an agent",
        inputs={
            "source": PromiseSource.AGENT.value,
            "due_date": request.due_date.isoformat(),
            "amount_cents": request.amount_cents,
            "check_date": check_date.isoformat(),
            "grace_days": promise.grace_days,
            **({"caller": caller} if caller else {}),
        },
        actor=actor,
    )
    journey = "none_waiting"
    if waiting is not None:
        response = {
            "kind": "promise",
            "promise_id": promise_id,
            "due_date": request.due_date.isoformat(),
            "amount_cents": request.amount_cents,
        }
        resumed = resume_journey(services, account.account_id, response, journey=waiting)
        journey = "resumed" if resumed else "busy"
    logger.info(
        "agent promise recorded",
        extra={"account_id": account.account_id, "promise_id": promise_id, "journey": journey},
    )
    return 201, {
        "outcome": "recorded",
        "promise_id": promise_id,
        "due_date": request.due_date.isoformat(),
        "check_date": check_date.isoformat(),
        "amount_cents": request.amount_cents,
        "journey": journey,
    }
