"""API Gateway POST /plans/{plan_id}/accept: a debtor accepts their plan offer through its signed link."""

import base64
import json
from typing import Any

from rapport.entry import event_handler
from rapport.journey.plans import handle_plan_acceptance
from rapport.runtime import Services


def _accept(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    plan_id = (event.get("pathParameters") or {}).get("plan_id", "")
    body = event.get("body") or ""
    raw_body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    status, answer = handle_plan_acceptance(services, plan_id, raw_body, event.get("queryStringParameters"))
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(answer)}


handler = event_handler(_accept)
