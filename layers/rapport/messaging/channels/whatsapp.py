"""WhatsApp template messages through AWS End User Messaging Social (``socialmessaging``)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from rapport.messaging.channels.errors import call_provider
from rapport.messaging.channels.phone import DEFAULT_REGION
from rapport.messaging.channels.port import OutboundMessage, SendReceipt
from rapport.messaging.channels.sms import destination_number
from rapport.models.enums import Channel

logger = Logger(child=True)

META_API_VERSION = "v20.0"


class WhatsAppConfig(BaseModel):
    """``origination_phone_number_id`` is the AWS id ("phone-number-id-...") or its ARN."""

    model_config = ConfigDict(frozen=True)

    origination_phone_number_id: str = Field(
        pattern=r"^(phone-number-id-.+|arn:.+:phone-number-id/[0-9a-zA-Z]+)$"
    )
    meta_api_version: str = META_API_VERSION
    default_region: str = DEFAULT_REGION


def template_message_body(message: OutboundMessage, to: str) -> dict[str, Any]:
    """The Meta Cloud API message object for an approved template with body parameters.

    ``biz_opaque_callback_data`` carries our message id; Meta echoes it in the status webhooks, so
    statuses map back to the message whatever id the send returned.
    """
    template: dict[str, Any] = {
        "name": message.whatsapp_template,
        "language": {"code": message.whatsapp_language},
    }
    if message.whatsapp_parameters:
        template["components"] = [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": value} for value in message.whatsapp_parameters],
            }
        ]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": template,
        "biz_opaque_callback_data": message.message_id,
    }


class WhatsAppSender:
    channel = Channel.WHATSAPP
    service = "socialmessaging"
    provider = "eum-social"

    def __init__(self, client: Any, config: WhatsAppConfig):
        self._client = client
        self._config = config

    def send(self, message: OutboundMessage) -> SendReceipt:
        if message.channel is not Channel.WHATSAPP:
            raise ValueError("WhatsAppSender sends WhatsApp messages only")
        to = destination_number(message, self._config.default_region, self.channel)
        body = template_message_body(message, to)
        request = {
            "originationPhoneNumberId": self._config.origination_phone_number_id,
            "message": json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
            "metaApiVersion": self._config.meta_api_version,
        }
        response = call_provider(
            self._client.send_whatsapp_message,
            request,
            service=self.service,
            channel=self.channel,
            message_id=message.message_id,
        )
        logger.info("whatsapp accepted", extra={"message_id": message.message_id})
        return SendReceipt(
            message_id=message.message_id,
            channel=self.channel,
            provider_message_id=response["messageId"],
            provider=self.provider,
        )
