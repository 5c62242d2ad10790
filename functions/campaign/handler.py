"""Scheduled by EventBridge Scheduler: start today's journeys for a campaign, one page per call."""

from typing import Any

from rapport.entry import event_handler
from rapport.journey.campaign import CampaignRun, run_campaign_page
from rapport.runtime import Services


def _run(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    return run_campaign_page(services, CampaignRun.model_validate(event))


handler = event_handler(_run)
