"""Scheduled once a day by EventBridge Scheduler (only for a client that configures
``payments.debicheck_collections``): DebiCheck collections due soon, as a Stitch collection file
written to the client's bucket and sent to Stitch's SFTP server by the Transfer Family connector."""

from typing import Any

from rapport.entry import scheduled_handler
from rapport.journey.collection_submission import CollectionSubmissionRun, run_collection_submission
from rapport.runtime import Services


def _run(services: Services, event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_collection_submission(
        services, CollectionSubmissionRun.model_validate(event or {}), context.get_remaining_time_in_millis
    )


handler = scheduled_handler(_run)
