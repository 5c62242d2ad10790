"""API Gateway POST /accounts/{account_id}/promises (IAM-authorised): an agent records a promise to pay."""

import base64
import json
from typing import Any

from rapport.entry import event_handler
from rapport.journey.agent_promises import handle_agent_promise
from rapport.runtime import Services


def _record(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    account_id = (event.get("pathParameters") or {}).get("account_id", "")
    body = event.get("body") or ""
    raw_body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    caller = ((event.get("requestContext") or {}).get("identity") or {}).get("userArn")
    status, answer = handle_agent_promise(services, account_id, raw_body, caller)
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(answer)}


handler = event_handler(_record)
