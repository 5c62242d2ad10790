"""API Gateway POST /webhooks/{provider}: verify, reconcile and credit a provider's payment event."""

import base64
import json
from typing import Any

from rapport.entry import logger, tracer
from rapport.journey.webhooks import SOURCE_IP_HEADER, handle_payment_webhook
from rapport.runtime import services


def _respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _headers(event: dict[str, Any]) -> dict[str, str]:
    """Lower-cased headers, with the caller's address taken from API Gateway, never from the caller."""
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    headers.pop(SOURCE_IP_HEADER, None)
    source_ip = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp")
    if source_ip:
        headers[SOURCE_IP_HEADER] = source_ip
    return headers


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    provider = (event.get("pathParameters") or {}).get("provider", "")
    body = event.get("body") or ""
    raw_body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    result = handle_payment_webhook(services(), provider, _headers(event), raw_body, lambda_context=context)
    return _respond(result.http_status, result.body())
