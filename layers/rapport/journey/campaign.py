"""A campaign run: select the due accounts and start one journey each, exactly once per day.

Execution names are ``<account>-<campaign>-<local date>``; Step Functions refuses a second
Standard execution with the same name, so a re-run of the same campaign on the same day starts
nothing twice. Runs are paged: each call starts at most ``page_size`` journeys and returns a
cursor, so one Lambda never runs out of time and a local run can pace itself.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

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
    page_size: int = 1000
    cursor: CampaignCursor | None = None
    timings: dict[str, Any] = {}


class UnknownCampaignError(Exception):
    """The event names a campaign the client's configuration does not declare."""


def run_campaign_page(services: Services, run: CampaignRun) -> dict[str, Any]:
    campaign = next((c for c in services.client.campaigns if c.name == run.campaign), None)
    if campaign is None:
        raise UnknownCampaignError(run.campaign)
    audience = campaign.audience
    now = services.clock.now()
    local_day = now.astimezone(ZoneInfo(services.client.timezone)).date().isoformat()
    cursor = run.cursor or CampaignCursor()
    started = already = 0
    segment_index, last_key = cursor.segment_index, cursor.last_key
    while segment_index < len(audience.segments) and started + already < run.page_size:
        segment = audience.segments[segment_index].value
        condition = AccountModel.days_past_due >= audience.min_days_past_due
        if audience.max_days_past_due is not None:
            condition = AccountModel.days_past_due.between(audience.min_days_past_due, audience.max_days_past_due)
        page = AccountModel.arrears_index.query(
            segment,
            range_key_condition=condition,
            limit=run.page_size - started - already,
            last_evaluated_key=last_key,
        )
        for item in page:
            if _start_journey(services, item.account_id, run, local_day, now):
                started += 1
            else:
                already += 1
        last_key = page.last_evaluated_key
        if last_key is None:
            segment_index, last_key = segment_index + 1, None
    done = segment_index >= len(audience.segments)
    next_cursor = None if done else CampaignCursor(segment_index=segment_index, last_key=last_key)
    logger.info("campaign page run", extra={"campaign": run.campaign, "started": started, "already": already})
    return {
        "campaign": run.campaign,
        "started": started,
        "already_started": already,
        "cursor": None if next_cursor is None else next_cursor.model_dump(),
    }


def _start_journey(services: Services, account_id: str, run: CampaignRun, local_day: str, now: Any) -> bool:
    """Start first, record second: the execution name is the idempotency key, the record follows it."""
    journey_id = f"{account_id}-{run.campaign}-{local_day}"
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
        return False
    services.repos.journeys.start(
        JourneyModel(account_id, journey_id, campaign=run.campaign, started_at=now, status="running")
    )
    return True
