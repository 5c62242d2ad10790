"""SNS (SES receipt rule): debtors' email replies, matched, recorded once, resuming their journeys."""

from typing import Any

from rapport.entry import event_handler
from rapport.runtime import Services


def _take(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    from rapport.journey.inbound import take_email_event

    return take_email_event(services, event)


handler = event_handler(_take)
