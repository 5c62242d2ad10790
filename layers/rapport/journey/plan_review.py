"""The daily overdue sweep of payment plans, run by the scheduled ``review_plans`` function.

The plans due are found with a key condition on ``plans.due-index`` (active plans by the due date
of their oldest unpaid instalment; closed plans carry no date and are not in it), page by page, and
each account listed is reviewed once with :func:`rapport.journey.plans.review_account_plans`.

A reviewed plan leaves the range it was found in: a missed instalment moves past today and a
cancelled plan leaves the index. So the sweep converges, a second run on the same day finds nothing
left to change, and a run cut short (out of time, or a failed account) is finished by running it
again. One failing account never stops the sweep: it is logged with its error's type, counted, and
the run ends with :class:`PlanReviewIncompleteError` so that Lambda retries the invocation and, if
the failure persists, parks the event in the dead-letter queue, each of which raises an alarm.

The result and the logs hold counts and ids only, never a debtor's name, number or address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from rapport.journey.plans import overdue_on_or_before, review_account_plans
from rapport.runtime import Services

logger = Logger(child=True)

# Stop taking new pages when less time than this is left (milliseconds): a page of accounts takes a
# few seconds, and the retry of an unfinished run continues where this one stopped.
TIME_RESERVE_MS = 60_000


class PlanReviewIncompleteError(Exception):
    """The sweep did not review every plan due (a failed account, or time ran out). Raised at the end
    of the run, after every other account was reviewed, so the invocation fails and is retried."""

    def __init__(self, failed: int, out_of_time: bool) -> None:
        self.failed = failed
        self.out_of_time = out_of_time
        super().__init__(f"plan review incomplete: {failed} account(s) failed, out of time: {out_of_time}")


class PlanReviewRun(BaseModel):
    """The schedule's input. Every field has a default: the schedule sends ``{}``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    page_size: int = Field(default=100, ge=1, le=1000)


def client_today(services: Services) -> date:
    return services.clock.now().astimezone(ZoneInfo(services.client.timezone)).date()


def run_plan_review(
    services: Services,
    run: PlanReviewRun,
    time_left_ms: Callable[[], float] = lambda: float("inf"),
) -> dict[str, Any]:
    """Review every account with an active plan overdue as of the client's today; return the counts.

    Raises :class:`PlanReviewIncompleteError` after the sweep when any account failed or the run
    stopped for time (``time_left_ms`` is the Lambda context's remaining time).
    """
    grace_days = services.client.payments.plan_review.grace_days
    # NOTE: the query is dated by the client's time zone and each plan is reviewed by its debtor's,
    # so a debtor in a zone ahead of the client's is reviewed at most a day late. Clients' debtors
    # live in the client's zone today; query by the earliest zone if that changes.
    due_by = overdue_on_or_before(client_today(services), grace_days)
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    last_key: dict[str, Any] | None = None
    out_of_time = False
    while True:
        page = services.repos.plans.due_for_review(due_by, run.page_size, last_key)
        counts["pages"] += 1
        for listed in page.plans:
            if listed.account_id in seen:
                continue
            seen.add(listed.account_id)
            _review_account(services, listed.account_id, grace_days, counts)
        last_key = page.last_key
        if last_key is None:
            break
        if time_left_ms() < TIME_RESERVE_MS:
            out_of_time = True
            break
    result = {
        "due_by": due_by.isoformat(),
        "accounts": len(seen),
        "plans_reviewed": counts["plans_reviewed"],
        "plans_unchanged": counts["plans_unchanged"],
        "instalments_missed": counts["instalments_missed"],
        "plans_cancelled": counts["plans_cancelled"],
        "plans_completed": counts["plans_completed"],
        "accounts_failed": counts["accounts_failed"],
        "pages": counts["pages"],
        "finished": not out_of_time,
    }
    logger.info("plan review run", extra=result)
    if counts["accounts_failed"] or out_of_time:
        raise PlanReviewIncompleteError(counts["accounts_failed"], out_of_time)
    return result


def _review_account(services: Services, account_id: str, grace_days: int, counts: Counter[str]) -> None:
    """Review one account's plans into ``counts``; a failure is logged and counted, never raised."""
    try:
        reviews = review_account_plans(services, account_id, grace_days=grace_days)
    except Exception as error:
        # Not swallowed: one account's failure must not stop the others, and the run still fails
        # (PlanReviewIncompleteError) once they are done. Only the error's type is logged: messages
        # of some errors carry what was being written.
        counts["accounts_failed"] += 1
        logger.error(
            "plan review failed for an account",
            extra={"account_id": account_id, "error": type(error).__name__},
        )
        return
    for review in reviews:
        if review.before != "active":
            continue
        counts["plans_reviewed"] += 1
        counts["instalments_missed"] += len(review.missed)
        if not review.changed:
            counts["plans_unchanged"] += 1
        elif review.status == "cancelled":
            counts["plans_cancelled"] += 1
        elif review.status == "completed":
            counts["plans_completed"] += 1
