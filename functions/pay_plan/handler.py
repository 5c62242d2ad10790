"""API Gateway GET /plans/{plan_id}/pay: a debtor's plan pay link, redirected to the instalment due."""

from typing import Any

from rapport.entry import event_handler
from rapport.journey.plan_pay import handle_plan_payment
from rapport.runtime import Services


def _pay(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    plan_id = (event.get("pathParameters") or {}).get("plan_id", "")
    token = (event.get("queryStringParameters") or {}).get("token")
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    result = handle_plan_payment(services, plan_id, token)
    return result.response(headers.get("accept"), services.client.display_name)


handler = event_handler(_pay)
