"""API Gateway POST /webhooks/{provider}: verify, reconcile and credit a provider's payment event."""

import base64
import json
from typing import Any

from rapport.entry import event_handler
from rapport.journey.webhooks import handle_payment_webhook
from rapport.runtime import Services


def _respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _receive(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    provider = (event.get("pathParameters") or {}).get("provider", "")
    body = event.get("body") or ""
    raw_body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    result = handle_payment_webhook(services, provider, headers, raw_body)
    return _respond(result.http_status, result.body())


handler = event_handler(_receive)
