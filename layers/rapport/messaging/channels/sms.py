"""SMS through AWS End User Messaging (primary) or SNS ``Publish`` to a phone number (plain fallback)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from rapport.messaging.channels.errors import call_provider
from rapport.messaging.channels.identifiers import ACCOUNT_ID_KEY, MESSAGE_ID_KEY
from rapport.messaging.channels.phone import DEFAULT_REGION, InvalidPhoneNumberError, to_e164
from rapport.messaging.channels.port import (
    ChannelRejectedError,
    OutboundMessage,
    RejectionReason,
    SendReceipt,
)
from rapport.models.enums import Channel

logger = Logger(child=True)

MESSAGE_TYPE = "TRANSACTIONAL"
SNS_SMS_TYPE = "Transactional"


def destination_number(message: OutboundMessage, default_region: str, channel: Channel) -> str:
    """The message's number in E.164, or ChannelRejectedError before any call to AWS."""
    try:
        return to_e164(message.to, default_region)
    except InvalidPhoneNumberError as error:
        raise ChannelRejectedError(
            f"not a valid phone number: {error}", reason=RejectionReason.INVALID_ADDRESS, channel=channel
        ) from error


class EumSmsConfig(BaseModel):
    """``origination_identity`` is a pool id (recommended), phone number, sender id or their ARN."""

    model_config = ConfigDict(frozen=True)

    origination_identity: str
    configuration_set: str | None = None
    default_region: str = DEFAULT_REGION


class EumSmsSender:
    """``pinpoint-sms-voice-v2`` SendTextMessage; our ids travel in ``Context`` to the SMS events."""

    channel = Channel.SMS
    service = "pinpoint-sms-voice-v2"
    provider = "eum-sms"

    def __init__(self, client: Any, config: EumSmsConfig):
        self._client = client
        self._config = config

    def send(self, message: OutboundMessage) -> SendReceipt:
        if message.channel is not Channel.SMS:
            raise ValueError("EumSmsSender sends SMS messages only")
        request: dict[str, Any] = {
            "DestinationPhoneNumber": destination_number(message, self._config.default_region, self.channel),
            "OriginationIdentity": self._config.origination_identity,
            "MessageBody": message.text,
            "MessageType": MESSAGE_TYPE,
            "Context": {MESSAGE_ID_KEY: message.message_id, ACCOUNT_ID_KEY: message.account_id},
        }
        if self._config.configuration_set:
            request["ConfigurationSetName"] = self._config.configuration_set
        response = call_provider(
            self._client.send_text_message,
            request,
            service=self.service,
            channel=self.channel,
            message_id=message.message_id,
        )
        logger.info("sms accepted", extra={"message_id": message.message_id, "provider": self.provider})
        return SendReceipt(
            message_id=message.message_id,
            channel=self.channel,
            provider_message_id=response["MessageId"],
            provider=self.provider,
        )


class SnsSmsConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    sender_id: str | None = None
    default_region: str = DEFAULT_REGION


class SnsSmsSender:
    """SNS Publish straight to a phone number, marked transactional.

    NOTE: SNS carries no context for an SMS, so its delivery logs (CloudWatch) cannot be mapped back
    to our message id except through the provider message id kept from the receipt.
    """

    channel = Channel.SMS
    service = "sns"
    provider = "sns"

    def __init__(self, client: Any, config: SnsSmsConfig | None = None):
        self._client = client
        self._config = config or SnsSmsConfig()

    def send(self, message: OutboundMessage) -> SendReceipt:
        if message.channel is not Channel.SMS:
            raise ValueError("SnsSmsSender sends SMS messages only")
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": SNS_SMS_TYPE}}
        if self._config.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._config.sender_id}
        request = {
            "PhoneNumber": destination_number(message, self._config.default_region, self.channel),
            "Message": message.text,
            "MessageAttributes": attributes,
        }
        response = call_provider(
            self._client.publish,
            request,
            service=self.service,
            channel=self.channel,
            message_id=message.message_id,
        )
        logger.info("sms accepted", extra={"message_id": message.message_id, "provider": self.provider})
        return SendReceipt(
            message_id=message.message_id,
            channel=self.channel,
            provider_message_id=response["MessageId"],
            provider=self.provider,
        )
