"""Push notifications through the Pinpoint ``SendMessages`` API.

Only direct sends to device tokens are used: Pinpoint's endpoints, segments, campaigns and journeys
ended on 30 Oct 2026, while ``SendMessages`` to addresses keeps working for push.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from rapport.messaging.channels.errors import call_provider
from rapport.messaging.channels.identifiers import ACCOUNT_ID_KEY, MESSAGE_ID_KEY
from rapport.messaging.channels.port import (
    ChannelRejectedError,
    ChannelThrottledError,
    OutboundMessage,
    RejectionReason,
    SendReceipt,
)
from rapport.models.enums import Channel

logger = Logger(child=True)

PushChannelType = Literal["GCM", "APNS", "APNS_SANDBOX"]
_PLATFORM_PREFIXES: tuple[PushChannelType, ...] = ("APNS_SANDBOX", "APNS", "GCM")


class PushConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    application_id: str
    default_channel_type: PushChannelType = "GCM"
    action: Literal["OPEN_APP", "DEEP_LINK", "URL"] = "OPEN_APP"


def split_push_address(to: str, default: PushChannelType) -> tuple[PushChannelType, str]:
    """A push address is a device token, optionally prefixed with its platform ("APNS:<token>").

    FCM tokens contain colons themselves, so only the exact upper-case platform names count as a prefix.
    """
    for platform in _PLATFORM_PREFIXES:
        if to.startswith(platform + ":"):
            return platform, to[len(platform) + 1 :]
    return default, to


# Per-address results of SendMessages (MessageResponse.Result[token].DeliveryStatus).
#   SUCCESSFUL                       -> receipt
#   THROTTLED, TEMPORARY_FAILURE     -> ChannelThrottledError (retry later)
#   UNKNOWN_FAILURE                  -> ChannelThrottledError (retry; a duplicate push is harmless)
#   OPT_OUT                          -> ChannelRejectedError(opted_out)
#   PERMANENT_FAILURE                -> ChannelRejectedError(invalid_address): token no longer valid
#   DUPLICATE                        -> ChannelRejectedError(message_rejected)
_REJECTED_STATUSES = {
    "OPT_OUT": RejectionReason.OPTED_OUT,
    "PERMANENT_FAILURE": RejectionReason.INVALID_ADDRESS,
    "DUPLICATE": RejectionReason.MESSAGE_REJECTED,
}


class PushSender:
    channel = Channel.PUSH
    service = "pinpoint"
    provider = "pinpoint-push"

    def __init__(self, client: Any, config: PushConfig):
        self._client = client
        self._config = config

    def _request(self, message: OutboundMessage, channel_type: str, token: str) -> dict[str, Any]:
        ids = {MESSAGE_ID_KEY: message.message_id, ACCOUNT_ID_KEY: message.account_id}
        notification: dict[str, Any] = {
            "Action": self._config.action,
            "Body": message.text,
            "Data": {MESSAGE_ID_KEY: message.message_id},
        }
        if message.push_title:
            notification["Title"] = message.push_title
        return {
            "ApplicationId": self._config.application_id,
            "MessageRequest": {
                "Addresses": {token: {"ChannelType": channel_type}},
                "Context": ids,
                "MessageConfiguration": {"DefaultPushNotificationMessage": notification},
                "TraceId": message.message_id,
            },
        }

    def send(self, message: OutboundMessage) -> SendReceipt:
        if message.channel is not Channel.PUSH:
            raise ValueError("PushSender sends push messages only")
        channel_type, token = split_push_address(message.to.strip(), self._config.default_channel_type)
        if not token:
            raise ChannelRejectedError(
                "empty device token", reason=RejectionReason.INVALID_ADDRESS, channel=self.channel
            )
        response = call_provider(
            self._client.send_messages,
            self._request(message, channel_type, token),
            service=self.service,
            channel=self.channel,
            message_id=message.message_id,
        )
        result = response.get("MessageResponse", {}).get("Result", {}).get(token)
        if result is None:
            raise ChannelThrottledError(
                "pinpoint returned no result for the address", channel=self.channel, provider_code=None
            )
        status = str(result.get("DeliveryStatus", "UNKNOWN_FAILURE"))
        if status in _REJECTED_STATUSES:
            raise ChannelRejectedError(
                f"push refused: {status}",
                reason=_REJECTED_STATUSES[status],
                channel=self.channel,
                provider_code=status,
            )
        if status != "SUCCESSFUL":
            # THROTTLED, TEMPORARY_FAILURE, UNKNOWN_FAILURE and any status added later.
            raise ChannelThrottledError(
                f"push not accepted: {status}", channel=self.channel, provider_code=status
            )
        logger.info("push accepted", extra={"message_id": message.message_id})
        return SendReceipt(
            message_id=message.message_id,
            channel=self.channel,
            provider_message_id=str(result.get("MessageId") or response["MessageResponse"].get("RequestId")),
            provider=self.provider,
        )
