"""The sending port: one message out on one channel, and the three ways a send can fail.

Adapters translate each provider's errors into the three exceptions below, so that a journey (and a
Step Functions Retry/Catch, which matches on the class name) only has to know:

- ``ChannelThrottledError``: nothing was accepted; try the same channel again later.
- ``ChannelRejectedError``: this address (or this message) will not be accepted; do not retry it as is.
- ``ChannelUnavailableError``: the channel cannot send at all right now (not configured, disabled,
  unreachable); nothing was sent, so another channel or provider may be used.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rapport.models.enums import Channel


class OutboundMessage(BaseModel):
    """A rendered message ready to leave on one channel.

    ``message_id`` is our idempotency id. Every adapter sends it along (SES tag, SMS context, WhatsApp
    callback data, push context) so that delivery events can be mapped back to the message.
    """

    model_config = ConfigDict(frozen=True)

    message_id: str = Field(min_length=1, max_length=128, pattern=r"^\S+$")
    account_id: str = Field(min_length=1, max_length=128, pattern=r"^\S+$")
    channel: Channel
    to: str = Field(min_length=1, description="email address, phone number or push token")
    subject: str | None = None
    text: str = Field(min_length=1)
    html: str | None = None
    whatsapp_template: str | None = None
    whatsapp_language: str = "en"
    whatsapp_parameters: list[str] = Field(default_factory=list)
    push_title: str | None = None

    @model_validator(mode="after")
    def _fields_for_channel(self) -> OutboundMessage:
        if self.channel is Channel.EMAIL and not self.subject:
            raise ValueError("an email needs a subject")
        if self.channel is Channel.WHATSAPP and not self.whatsapp_template:
            # NOTE: business-initiated WhatsApp messages must use an approved template; free text is
            # only allowed inside the 24-hour window after the debtor wrote. Session replies would
            # need a second message type here.
            raise ValueError("a WhatsApp message needs an approved template name")
        return self


class SendReceipt(BaseModel):
    """Proof that a provider accepted a message (accepted, not yet delivered)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    channel: Channel
    provider_message_id: str
    provider: str


@runtime_checkable
class ChannelSender(Protocol):
    """Sends one message on one channel, or raises one of the channel errors below."""

    @property
    def channel(self) -> Channel: ...

    def send(self, message: OutboundMessage) -> SendReceipt: ...


class RejectionReason(StrEnum):
    OPTED_OUT = "opted_out"
    INVALID_ADDRESS = "invalid_address"
    SUPPRESSED = "suppressed"
    UNVERIFIED_DESTINATION = "unverified_destination"
    DESTINATION_BLOCKED = "destination_blocked"
    MESSAGE_REJECTED = "message_rejected"


class ChannelError(Exception):
    """Base of the channel errors. Messages name codes and reasons, never addresses or content."""

    def __init__(self, detail: str, *, channel: Channel | None = None, provider_code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.channel = channel
        self.provider_code = provider_code


class ChannelThrottledError(ChannelError):
    """Not accepted because of throttling, a rate limit or a transient service fault: retry later."""


class ChannelRejectedError(ChannelError):
    """Permanently refused for this address or this message (opted out, invalid, suppressed...)."""

    def __init__(
        self,
        detail: str,
        *,
        reason: RejectionReason,
        channel: Channel | None = None,
        provider_code: str | None = None,
    ):
        super().__init__(detail, channel=channel, provider_code=provider_code)
        self.reason = reason


class ChannelUnavailableError(ChannelError):
    """The channel is not configured, disabled or unreachable; nothing was sent."""
