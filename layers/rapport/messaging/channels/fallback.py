"""A second provider for the same channel, used only when the first one certainly sent nothing."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from rapport.messaging.channels.port import (
    ChannelSender,
    ChannelUnavailableError,
    OutboundMessage,
    SendReceipt,
)
from rapport.models.enums import Channel

logger = Logger(child=True)


class FallbackSender:
    """Sends through ``primary``; through ``fallback`` only when ``primary`` is unavailable.

    ``ChannelUnavailableError`` means the primary could not send at all (not configured, disabled,
    spend limit reached, endpoint unreachable), so nothing reached the debtor and the fallback cannot
    produce a duplicate.

    Throttling is deliberately *not* a reason to fall back:

    - It is a request to slow down, not a fault. The same provider accepts the message moments later
      (the caller's retry with back-off), with the sender identity, opt-out list and delivery events
      that the debtor and our records expect; switching moves the whole burst to the other provider.
    - A throttling error can hide an earlier attempt that did arrive. botocore retries internally: if
      its first attempt timed out after the service accepted the message and the retry was then
      throttled, the error we see is "throttled" although the SMS is on its way. Falling back at that
      point would text the debtor twice, and a duplicate demand for money is exactly the harm a
      collections platform must avoid.

    Rejections are not a reason either: an opted-out or invalid number stays so on every provider.
    Errors with an unknown outcome (read timeouts) propagate unchanged from the adapters.
    """

    def __init__(self, primary: ChannelSender, fallback: ChannelSender):
        if primary.channel != fallback.channel:
            raise ValueError("primary and fallback must send on the same channel")
        self._primary = primary
        self._fallback = fallback

    @property
    def channel(self) -> Channel:
        return self._primary.channel

    def send(self, message: OutboundMessage) -> SendReceipt:
        try:
            return self._primary.send(message)
        except ChannelUnavailableError as error:
            logger.warning(
                "primary sender unavailable, using fallback",
                extra={"message_id": message.message_id, "provider_code": error.provider_code},
            )
            return self._fallback.send(message)
