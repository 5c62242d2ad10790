"""A campaign run: select the due accounts and start one journey each, exactly once per day.

Execution names are ``<account>-<campaign>-<local date>``; Step Functions refuses a second
Standard execution with the same name, so a re-run of the same campaign on the same day starts
nothing twice. Runs are paged: each page starts at most ``page_size`` journeys and returns a
cursor. The scheduled run (:func:`run_campaign`) goes on page after page, at most the campaign's
``max_journeys_per_minute`` (every journey's first message goes out within a minute of its start,
so this is what keeps a campaign within the channels' sending rates instead of leaning on
throttling retries), and when its invocation runs short of time it hands the cursor to a fresh
invocation of itself. A local run pages by hand (``run_to_end`` false) to pace itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from rapport.runtime import Services
from rapport.store.models import AccountModel, JourneyModel

logger = Logger(child=True)


class CampaignCursor(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment_index: int = 0
    last_key: dict[str, Any] | None = None


class CampaignRun(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    campaign: str
    page_size: int = Field(default=1000, ge=1)
    cursor: CampaignCursor | None = None
    timings: dict[str, Any] = {}
    # False: start one page and return its cursor (the local run's own pacing).
    run_to_end: bool = True
    # How many invocations this run has been handed through (for the logs).
    handed_over: int = Field(default=0, ge=0)


# An invocation hands its run over while this much of its time is left: a page (up to 1,000 starts)
# must fit in what remains.
HAND_OVER_WITH_MS_LEFT = 120_000


class UnknownCampaignError(Exception):
    """The event names a campaign the client's configuration does not declare."""


class CampaignStalledError(Exception):
    """An invocation ran out of time without getting through a single account: handing the run over
    again would only loop, so it fails (and goes to the function's dead-letter queue)."""


def _campaign(services: Services, name: str) -> Any:
    campaign = next((c for c in services.client.campaigns if c.name == name), None)
    if campaign is None:
        raise UnknownCampaignError(name)
    return campaign


def run_campaign(
    services: Services,
    run: CampaignRun,
    time_left_ms: Callable[[], int],
    hand_over: Callable[[dict[str, Any]], None],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Start the campaign's journeys page by page until none is left, at most the campaign's
    ``max_journeys_per_minute``; hand the rest of the run to a fresh invocation (``hand_over``, given
    the event to send it) when this one has less than ``HAND_OVER_WITH_MS_LEFT`` left."""
    if not run.run_to_end:
        return run_campaign_page(services, run)
    campaign = _campaign(services, run.campaign)
    rate = campaign.max_journeys_per_minute
    page_size = min(run.page_size, rate) if rate else run.page_size
    started = already = busy = pages = 0
    cursor = run.cursor
    while True:
        page_began = time.monotonic()
        page = run_campaign_page(services, run.model_copy(update={"cursor": cursor, "page_size": page_size}))
        started, already, pages = started + page["started"], already + page["already_started"], pages + 1
        busy += page.get("busy", 0)
        if page["cursor"] is None:
            handed = False
            break
        cursor = CampaignCursor.model_validate(page["cursor"])
        if rate and page["started"]:
            # A minute's worth of starts takes at least a minute.
            sleep(max(0.0, 60.0 * page["started"] / rate - (time.monotonic() - page_began)))
        if time_left_ms() < HAND_OVER_WITH_MS_LEFT:
            if started + already + busy == 0:
                raise CampaignStalledError(run.campaign)
            rest = run.model_copy(update={"cursor": cursor, "handed_over": run.handed_over + 1})
            hand_over(rest.model_dump())
            handed = True
            break
    logger.info(
        "campaign run",
        extra={
            "campaign": run.campaign,
            "started": started,
            "already": already,
            "busy": busy,
            "pages": pages,
            "handed_over": handed,
        },
    )
    return {
        "campaign": run.campaign,
        "started": started,
        "already_started": already,
        "busy": busy,
        "handed_over": handed,
    }


def run_campaign_page(services: Services, run: CampaignRun) -> dict[str, Any]:
    campaign = _campaign(services, run.campaign)
    audience = campaign.audience
    now = services.clock.now()
    local_day = now.astimezone(ZoneInfo(services.client.timezone)).date().isoformat()
    cursor = run.cursor or CampaignCursor()
    started = already = busy = 0
    segment_index, last_key = cursor.segment_index, cursor.last_key
    while segment_index < len(audience.segments) and started + already + busy < run.page_size:
        segment = audience.segments[segment_index].value
        condition = AccountModel.days_past_due >= audience.min_days_past_due
        if audience.max_days_past_due is not None:
            condition = AccountModel.days_past_due.between(audience.min_days_past_due, audience.max_days_past_due)
        page = AccountModel.arrears_index.query(
            segment,
            range_key_condition=condition,
            limit=run.page_size - started - already - busy,
            last_evaluated_key=last_key,
        )
        for item in page:
            outcome = _start_journey(services, item.account_id, run, local_day, now)
            if outcome == "started":
                started += 1
            elif outcome == "already":
                already += 1
            else:
                busy += 1
        last_key = page.last_evaluated_key
        if last_key is None:
            segment_index, last_key = segment_index + 1, None
    done = segment_index >= len(audience.segments)
    next_cursor = None if done else CampaignCursor(segment_index=segment_index, last_key=last_key)
    logger.info(
        "campaign page run", extra={"campaign": run.campaign, "started": started, "already": already, "busy": busy}
    )
    return {
        "campaign": run.campaign,
        "busy": busy,
        "started": started,
        "already_started": already,
        "cursor": None if next_cursor is None else next_cursor.model_dump(),
    }


def _start_journey(services: Services, account_id: str, run: CampaignRun, local_day: str, now: Any) -> str:
    """"started", "already" (today's journey of this campaign exists) or "busy" (another journey of the
    account is still running or waiting: on a promise, a reply, a plan offer; a second one would take
    its replies and payments). Start first, record second: the execution name is the idempotency key.

    NOTE: the check and the start are two steps; a reply that starts a journey between them gives the
    account two. AssessAccount ending a journey when another of the account's is in progress would
    close that window."""
    journey_id = f"{account_id}-{run.campaign}-{local_day}"
    in_progress = services.repos.journeys.in_progress(account_id)
    if in_progress is not None:
        return "already" if in_progress.journey_id == journey_id else "busy"
    payload = {
        "account_id": account_id,
        "journey_id": journey_id,
        "campaign": run.campaign,
        "timings": run.timings,
        "attempt": {"n": 0},
        "clock": {"not_before": None},
    }
    try:
        services.stepfunctions.start_execution(
            stateMachineArn=services.settings.journey_state_machine_arn, name=journey_id, input=json.dumps(payload)
        )
    except services.stepfunctions.exceptions.ExecutionAlreadyExists:
        return "already"
    services.repos.journeys.start(
        JourneyModel(account_id, journey_id, campaign=run.campaign, started_at=now, status="running")
    )
    return "started"
