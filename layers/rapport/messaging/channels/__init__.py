"""Sending messages on each channel: the port, its errors and one adapter per AWS service.

Names are imported on first use (PEP 562), so ``from rapport.messaging.channels import
OutboundMessage`` does not load every adapter and its dependencies into a Lambda that needs one.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    # port
    "OutboundMessage": "port",
    "SendReceipt": "port",
    "ChannelSender": "port",
    "ChannelError": "port",
    "ChannelThrottledError": "port",
    "ChannelRejectedError": "port",
    "ChannelUnavailableError": "port",
    "RejectionReason": "port",
    # adapters and their configuration
    "SesEmailSender": "ses",
    "SesEmailConfig": "ses",
    "EumSmsSender": "sms",
    "EumSmsConfig": "sms",
    "SnsSmsSender": "sms",
    "SnsSmsConfig": "sms",
    "FallbackSender": "fallback",
    "WhatsAppSender": "whatsapp",
    "WhatsAppConfig": "whatsapp",
    "PushSender": "push",
    "PushConfig": "push",
    # helpers
    "to_e164": "phone",
    "InvalidPhoneNumberError": "phone",
    "translate_client_error": "errors",
    "MalformedNotificationError": "notifications",
}

__all__ = [
    "ChannelError",
    "ChannelRejectedError",
    "ChannelSender",
    "ChannelThrottledError",
    "ChannelUnavailableError",
    "EumSmsConfig",
    "EumSmsSender",
    "FallbackSender",
    "InvalidPhoneNumberError",
    "MalformedNotificationError",
    "OutboundMessage",
    "PushConfig",
    "PushSender",
    "RejectionReason",
    "SendReceipt",
    "SesEmailConfig",
    "SesEmailSender",
    "SnsSmsConfig",
    "SnsSmsSender",
    "WhatsAppConfig",
    "WhatsAppSender",
    "to_e164",
    "translate_client_error",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from rapport.messaging.channels.errors import translate_client_error
    from rapport.messaging.channels.fallback import FallbackSender
    from rapport.messaging.channels.notifications import MalformedNotificationError
    from rapport.messaging.channels.phone import InvalidPhoneNumberError, to_e164
    from rapport.messaging.channels.port import (
        ChannelError,
        ChannelRejectedError,
        ChannelSender,
        ChannelThrottledError,
        ChannelUnavailableError,
        OutboundMessage,
        RejectionReason,
        SendReceipt,
    )
    from rapport.messaging.channels.push import PushConfig, PushSender
    from rapport.messaging.channels.ses import SesEmailConfig, SesEmailSender
    from rapport.messaging.channels.sms import EumSmsConfig, EumSmsSender, SnsSmsConfig, SnsSmsSender
    from rapport.messaging.channels.whatsapp import WhatsAppConfig, WhatsAppSender
