"""Scheduled by EventBridge Scheduler: start today's journeys for a campaign, page after page, paced;
a run longer than one invocation is handed to a fresh invocation of this function with its cursor."""

import json
from typing import Any

import boto3

from rapport.entry import scheduled_handler
from rapport.journey.campaign import CampaignRun, run_campaign
from rapport.runtime import Services


def _run(services: Services, event: dict[str, Any], context: Any) -> dict[str, Any]:
    def hand_over(rest_of_run: dict[str, Any]) -> None:
        boto3.client("lambda").invoke(
            FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=json.dumps(rest_of_run)
        )

    return run_campaign(
        services, CampaignRun.model_validate(event), context.get_remaining_time_in_millis, hand_over
    )


handler = scheduled_handler(_run)
