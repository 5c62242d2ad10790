"""Scheduled once a day by EventBridge Scheduler: the overdue sweep of every payment plan due."""

from typing import Any

from rapport.entry import scheduled_handler
from rapport.journey.plan_review import PlanReviewRun, run_plan_review
from rapport.runtime import Services


def _run(services: Services, event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_plan_review(
        services, PlanReviewRun.model_validate(event or {}), context.get_remaining_time_in_millis
    )


handler = scheduled_handler(_run)
