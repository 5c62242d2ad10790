"""Fakes of our own ports, for the services moto does not model (End User Messaging Social, push)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from rapport.messaging.channels import OutboundMessage, SendReceipt
from rapport.models.enums import Channel


@dataclass
class RecordingSender:
    """A ChannelSender that accepts every message and keeps it, as the provider would."""

    channel: Channel
    sent: list[OutboundMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: OutboundMessage) -> SendReceipt:
        with self._lock:
            self.sent.append(message)
        return SendReceipt(
            message_id=message.message_id,
            channel=self.channel,
            provider_message_id=f"local-{self.channel.value}-{uuid.uuid4().hex[:16]}",
            provider="local-fake",
        )
