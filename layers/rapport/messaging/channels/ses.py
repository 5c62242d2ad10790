"""Email through Amazon SES v2 ``SendEmail`` with simple (subject, text, html) content."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from rapport.messaging.channels.errors import call_provider
from rapport.messaging.channels.identifiers import ACCOUNT_ID_KEY, MESSAGE_ID_KEY, to_ses_tag_value
from rapport.messaging.channels.port import (
    ChannelRejectedError,
    OutboundMessage,
    RejectionReason,
    SendReceipt,
)
from rapport.models.enums import Channel

logger = Logger(child=True)

SERVICE = "sesv2"
PROVIDER = "ses"
CHARSET = "UTF-8"

# Deliberately loose: one "@", no spaces, a dot in the domain. SES does the strict checks.
_EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class SesEmailConfig(BaseModel):
    """Sender identity and options. ``list_management`` stays out of the request unless set."""

    model_config = ConfigDict(frozen=True)

    from_address: str
    configuration_set: str | None = None
    reply_to: list[str] | None = None
    contact_list: str | None = None
    contact_list_topic: str | None = None


class SesEmailSender:
    """Sends one email per message; the message and account ids go out as SES email tags."""

    channel = Channel.EMAIL

    def __init__(self, client: Any, config: SesEmailConfig):
        self._client = client
        self._config = config

    def _request(self, message: OutboundMessage) -> dict[str, Any]:
        body: dict[str, Any] = {"Text": {"Data": message.text, "Charset": CHARSET}}
        if message.html:
            body["Html"] = {"Data": message.html, "Charset": CHARSET}
        request: dict[str, Any] = {
            "FromEmailAddress": self._config.from_address,
            "Destination": {"ToAddresses": [message.to.strip()]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": message.subject or "", "Charset": CHARSET},
                    "Body": body,
                }
            },
            "EmailTags": [
                {"Name": MESSAGE_ID_KEY, "Value": to_ses_tag_value(message.message_id)},
                {"Name": ACCOUNT_ID_KEY, "Value": to_ses_tag_value(message.account_id)},
            ],
        }
        if self._config.configuration_set:
            request["ConfigurationSetName"] = self._config.configuration_set
        if self._config.reply_to:
            request["ReplyToAddresses"] = list(self._config.reply_to)
        if self._config.contact_list:
            options = {"ContactListName": self._config.contact_list}
            if self._config.contact_list_topic:
                options["TopicName"] = self._config.contact_list_topic
            request["ListManagementOptions"] = options
        return request

    def send(self, message: OutboundMessage) -> SendReceipt:
        if message.channel is not Channel.EMAIL:
            raise ValueError("SesEmailSender sends email messages only")
        if not _EMAIL_ADDRESS.fullmatch(message.to.strip()):
            raise ChannelRejectedError(
                "not an email address", reason=RejectionReason.INVALID_ADDRESS, channel=self.channel
            )
        response = call_provider(
            self._client.send_email,
            self._request(message),
            service=SERVICE,
            channel=self.channel,
            message_id=message.message_id,
        )
        logger.info("email accepted", extra={"message_id": message.message_id})
        return SendReceipt(
            message_id=message.message_id,
            channel=self.channel,
            provider_message_id=response["MessageId"],
            provider=PROVIDER,
        )
