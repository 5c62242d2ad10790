"""SNS (SES event publishing, End User Messaging events): delivery, bounces, complaints, opt-outs."""

from typing import Any

from rapport.entry import event_handler
from rapport.runtime import Services


def _take(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    from rapport.journey.deliveries import take_delivery_notifications

    return take_delivery_notifications(services, event)


handler = event_handler(_take)
