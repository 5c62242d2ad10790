"""Resume a waiting journey with what arrived (a reply or a payment), exactly once; or start one for
a reply that no journey was waiting for."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from rapport.runtime import Services
from rapport.store.models import JourneyModel

logger = Logger(child=True)


def resume_journey(
    services: Services,
    account_id: str,
    response: dict[str, Any],
    journey: JourneyModel | None = None,
    claimant: str | None = None,
) -> bool:
    """Hand ``response`` to the account's waiting journey. False when none waits (or it timed out).

    The journey is told what it was parked for (``waiting_for``), so that a reply that came during a
    promise's wait, once answered, returns to that wait rather than starting a new one.

    A ``claimant`` (the reply's id) takes the token in its own name. Handled again after a failure (the
    provider redelivers a reply whose first handling raised), it finds the journey whose token it took
    and hands the token over again: Step Functions refuses a token already used, which then means the
    first handling had resumed the journey; a journey parked again or finished since was resumed by it."""
    journey = journey or services.repos.journeys.waiting(account_id)
    if journey is None:
        return False
    again = claimant is not None and journey.taken_by == claimant
    if again and (journey.status != "running" or journey.task_token):
        logger.info("journey already resumed by this reply", extra={"journey_id": journey.journey_id})
        return True
    token = journey.taken_token if again else services.repos.journeys.take_token(journey, claimant)
    if token is None:
        return False
    sfn = services.stepfunctions
    try:
        output = {**response, "waiting_for": journey.waiting_for} if journey.waiting_for else response
        sfn.send_task_success(taskToken=token, output=json.dumps(output))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        if again:
            logger.info("journey already resumed by this reply", extra={"journey_id": journey.journey_id})
            return True
        logger.warning("journey no longer waiting", extra={"journey_id": journey.journey_id})
        return False
    logger.info("journey resumed", extra={"journey_id": journey.journey_id, "kind": response.get("kind")})
    return True


def take_queued_reply(services: Services, account_id: str, journey_id: str) -> str | None:
    """Hand a journey that has just parked the oldest reply that came while it was busy between two steps;
    returns the reply's id, or None when there was none (or something else resumed the journey first).

    Such a reply is queued (``Contacts.queue_reply``) with a worklist item in case the journey never parks
    again; once the journey has it, the item is closed as read by the journey."""
    repos = services.repos
    for reply in repos.contacts.queued_replies(account_id, journey_id):
        journey = repos.journeys.waiting(account_id)
        if journey is None or journey.journey_id != journey_id:
            return None
        if not repos.contacts.claim_queued_reply(reply):
            continue
        response = {"kind": "reply", "reply_id": reply.contact_id, "channel": reply.channel, "opt_out": False}
        if not resume_journey(services, account_id, response, journey):
            # A payment or a newer reply resumed the journey first: the reply waits for the next park.
            repos.contacts.queue_reply(reply, journey_id, reply.worklist_key or "")
            return None
        if reply.worklist_key:
            repos.worklist.close(reply.worklist_key, "read_by_journey")
        repos.audit.append(
            account_id,
            "queued_reply_taken",
            services.clock.now(),
            rule="reply.queued_while_busy",
            journey_id=journey_id,
            reason="a reply that came while the journey was busy, read when it parked",
            inputs={"reply_id": reply.contact_id},
        )
        logger.info("queued reply handed to the journey", extra={"journey_id": journey_id})
        return reply.contact_id
    return None


REPLY_CAMPAIGN = "reply"


def reply_journey_id(account_id: str, reply_id: str) -> str:
    """The execution name of the journey a reply starts: one reply starts at most one journey.

    Step Functions names allow 80 characters of letters, digits, ``-`` and ``_``; a provider's message
    id may hold others, so the reply is named by a digest of its id.
    """
    digest = hashlib.sha256(reply_id.encode()).hexdigest()[:16]
    return f"{account_id}-{REPLY_CAMPAIGN}-{digest}"


def start_reply_journey(services: Services, account_id: str, response: dict[str, Any], at: datetime) -> str:
    """Start the account's journey with ``response`` (a reply) as what came back; returns its id.

    Idempotent: the execution name comes from the reply, so a retried call finds the execution started
    and only makes sure it is recorded.

    The tree assesses the account first, then honours an opt-out, stops at a hold or a settled
    account (a hold hands the account, and so the reply, to a person), and otherwise takes the reply
    exactly as a waiting journey would: analysed, then answered, recorded as a promise, offered a plan.
    """
    journey_id = reply_journey_id(account_id, response["reply_id"])
    payload = {
        "account_id": account_id,
        "journey_id": journey_id,
        "campaign": REPLY_CAMPAIGN,
        "timings": dict(services.reply_journey_timings),
        "attempt": {"n": 0},
        "clock": {"not_before": None},
        "response": response,
    }
    sfn = services.stepfunctions
    try:
        sfn.start_execution(
            stateMachineArn=services.settings.journey_state_machine_arn, name=journey_id, input=json.dumps(payload)
        )
        logger.info("journey started for a reply", extra={"journey_id": journey_id, "channel": response["channel"]})
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("journey for this reply already started", extra={"journey_id": journey_id})
    services.repos.journeys.start(
        JourneyModel(account_id, journey_id, campaign=REPLY_CAMPAIGN, started_at=at, status="running")
    )
    return journey_id
