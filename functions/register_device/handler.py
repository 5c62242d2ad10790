"""API Gateway POST /accounts/{account_id}/devices (IAM-authorised): the client's app registers the debtor's
device for push. The token is never logged."""

import base64
import json
from typing import Any

from rapport.entry import event_handler
from rapport.journey.devices import handle_device_registration
from rapport.runtime import Services


def _register(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    account_id = (event.get("pathParameters") or {}).get("account_id", "")
    body = event.get("body") or ""
    raw_body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    status, answer = handle_device_registration(services, account_id, raw_body)
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(answer)}


handler = event_handler(_register)
