"""SNS (End User Messaging two-way SMS): take debtors' replies and resume their journeys."""

from typing import Any

from rapport.entry import event_handler
from rapport.journey.inbound import take_replies
from rapport.runtime import Services


def _take(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    from rapport.messaging.inbound import parse_sms_replies

    return take_replies(services, parse_sms_replies(event))


handler = event_handler(_take)
