"""Resume a waiting journey with what arrived (a reply or a payment), exactly once."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from rapport.runtime import Services
from rapport.store.models import JourneyModel

logger = Logger(child=True)


def resume_journey(
    services: Services, account_id: str, response: dict[str, Any], journey: JourneyModel | None = None
) -> bool:
    """Hand ``response`` to the account's waiting journey. False when none waits (or it timed out)."""
    journey = journey or services.repos.journeys.waiting(account_id)
    if journey is None:
        return False
    token = services.repos.journeys.take_token(journey)
    if token is None:
        return False
    sfn = services.stepfunctions
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(response))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        logger.warning("journey no longer waiting", extra={"journey_id": journey.journey_id})
        return False
    logger.info("journey resumed", extra={"journey_id": journey.journey_id, "kind": response.get("kind")})
    return True
