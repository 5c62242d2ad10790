"""SNS (End User Messaging Social): debtors' WhatsApp messages and the statuses of ours."""

from typing import Any

from rapport.entry import event_handler
from rapport.runtime import Services


def _take(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    from rapport.journey.inbound import take_whatsapp_event

    return take_whatsapp_event(services, event)


handler = event_handler(_take)
