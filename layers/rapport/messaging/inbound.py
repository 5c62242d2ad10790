"""Replies from debtors: two-way SMS, WhatsApp and email, parsed into one ``InboundMessage`` shape.

Each ``parse_*_replies`` function takes the event as the handler received it (Lambda SNS or SQS
event, a single SNS notification, or the bare payload; see ``channels.notifications``) and returns
the messages in it. A notification that lacks a field we need raises ``MalformedNotificationError``
naming that field.
"""

from __future__ import annotations

import base64
import binascii
import email
import re
from collections.abc import Mapping
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from rapport.messaging.channels.notifications import (
    MalformedNotificationError,
    optional,
    parse_timestamp,
    require,
    unwrap,
    whatsapp_envelope,
    whatsapp_values,
)
from rapport.messaging.channels.phone import InvalidPhoneNumberError, to_e164
from rapport.models.enums import Channel

logger = Logger(child=True)

__all__ = [
    "InboundEmailRejectedError",
    "InboundMessage",
    "MalformedNotificationError",
    "email_reply",
    "parse_email_replies",
    "parse_inbound",
    "parse_sms_replies",
    "parse_whatsapp_replies",
    "sms_reply",
    "strip_quoted_reply",
    "whatsapp_replies",
]

SMS_SOURCE = "two-way sms"
WHATSAPP_SOURCE = "whatsapp"
EMAIL_SOURCE = "ses receipt"


class InboundMessage(BaseModel):
    """One message a debtor sent us. Addresses are E.164 numbers or lower-case email addresses."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    from_address: str
    to_address: str
    text: str
    provider_message_id: str
    received_at: datetime
    in_reply_to_provider_message_id: str | None = None
    keyword: str | None = None
    # What the debtor sent besides words, when it was not text: "audio", "image", "video", "document",
    # "sticker", "location" or "contacts". A caption, if any, is the text.
    attachment: str | None = None
    # The provider's id of the media, to fetch it (WhatsApp media ids); None for a location or contacts.
    attachment_id: str | None = None


class InboundEmailRejectedError(ValueError):
    """SES judged the email spam or infected; it must not reach a person or the reply analysis."""

    def __init__(self, reason: str, provider_message_id: str | None = None):
        super().__init__(f"inbound email rejected: {reason}")
        self.reason = reason
        self.provider_message_id = provider_message_id


def _phone(value: str) -> str:
    """E.164 when the number parses; otherwise the number as AWS gave it (it is already E.164 there)."""
    try:
        return to_e164(value)
    except InvalidPhoneNumberError:
        return value.strip()


# --- two-way SMS ------------------------------------------------------------------------------


def sms_reply(payload: Mapping[str, Any], received_at: datetime | None) -> InboundMessage:
    """An End User Messaging two-way SMS payload (``originationNumber``, ``messageBody``...)."""
    if received_at is None:
        raise MalformedNotificationError("Timestamp", SMS_SOURCE)
    body = payload.get("messageBody")
    if body is None:
        raise MalformedNotificationError("messageBody", SMS_SOURCE)
    keyword = payload.get("messageKeyword")
    return InboundMessage(
        channel=Channel.SMS,
        from_address=_phone(str(require(payload, "originationNumber", SMS_SOURCE))),
        to_address=_phone(str(require(payload, "destinationNumber", SMS_SOURCE))),
        text=str(body),
        provider_message_id=str(require(payload, "inboundMessageId", SMS_SOURCE)),
        received_at=received_at,
        in_reply_to_provider_message_id=payload.get("previousPublishedMessageId") or None,
        keyword=str(keyword).strip() if keyword else None,
    )


def parse_sms_replies(event: Mapping[str, Any]) -> list[InboundMessage]:
    return [sms_reply(item.payload, item.published_at) for item in unwrap(event, SMS_SOURCE)]


# --- WhatsApp ---------------------------------------------------------------------------------


# WhatsApp message kinds a debtor sends that carry no text of their own (a caption at most).
_WHATSAPP_ATTACHMENTS = frozenset({"audio", "image", "video", "document", "sticker", "location", "contacts"})


class _WhatsAppContent(NamedTuple):
    text: str
    keyword: str | None = None
    attachment: str | None = None
    attachment_id: str | None = None


def _whatsapp_content(message: Mapping[str, Any], index: str) -> _WhatsAppContent | None:
    """Text, keyword and attachment of a debtor's message; None for kinds that are no message to
    answer (a reaction, a system notice)."""
    kind = message.get("type")
    if kind == "text":
        return _WhatsAppContent(str(require(message, "text.body", WHATSAPP_SOURCE, index)))
    if kind == "button":
        # A quick-reply button of a template: the label the debtor saw, and our payload.
        button = require(message, "button", WHATSAPP_SOURCE, index)
        return _WhatsAppContent(str(button.get("text") or ""), str(button.get("payload") or "") or None)
    if kind == "interactive":
        interactive = require(message, "interactive", WHATSAPP_SOURCE, index)
        reply = interactive.get("button_reply") or interactive.get("list_reply")
        if not isinstance(reply, Mapping):
            raise MalformedNotificationError(f"{index}interactive.button_reply", WHATSAPP_SOURCE)
        return _WhatsAppContent(str(reply.get("title") or ""), str(reply.get("id") or "") or None)
    if kind in _WHATSAPP_ATTACHMENTS:
        # NOTE: a voice note or a photo of a payslip is kept as a reply without words and read by a
        # person; transcribing audio (Amazon Transcribe) and downloading media would let the reply
        # analysis read them too.
        details = message.get(kind)
        caption = details.get("caption") if isinstance(details, Mapping) else None
        media_id = details.get("id") if isinstance(details, Mapping) else None
        return _WhatsAppContent(str(caption or ""), None, kind, str(media_id) if media_id else None)
    return None


def whatsapp_replies(payload: Mapping[str, Any]) -> list[InboundMessage]:
    """Text messages and button replies in one End User Messaging Social event.

    Status-only entries (sent, delivered, read, failed) give an empty list here; they are delivery
    events, parsed by ``rapport.messaging.delivery``.
    """
    envelope = whatsapp_envelope(payload, WHATSAPP_SOURCE)
    replies: list[InboundMessage] = []
    for value in whatsapp_values(envelope, WHATSAPP_SOURCE):
        phone_number_id = optional(value, "metadata.phone_number_id")
        for position, message in enumerate(value.get("messages") or []):
            index = f"messages[{position}]."
            content = _whatsapp_content(message, index)
            if content is None:
                logger.info("whatsapp message kind skipped", extra={"kind": message.get("type")})
                continue
            if not phone_number_id:
                raise MalformedNotificationError("value.metadata.phone_number_id", WHATSAPP_SOURCE)
            sender = str(require(message, "from", WHATSAPP_SOURCE, index))
            replies.append(
                InboundMessage(
                    channel=Channel.WHATSAPP,
                    from_address=_phone("+" + sender.lstrip("+")),
                    # The ARN is what WhatsAppSender needs to answer from the same number.
                    to_address=envelope.phone_number_arns.get(str(phone_number_id), str(phone_number_id)),
                    text=content.text,
                    provider_message_id=str(require(message, "id", WHATSAPP_SOURCE, index)),
                    received_at=parse_timestamp(
                        require(message, "timestamp", WHATSAPP_SOURCE, index),
                        index + "timestamp",
                        WHATSAPP_SOURCE,
                    ),
                    in_reply_to_provider_message_id=optional(message, "context.id"),
                    keyword=content.keyword,
                    attachment=content.attachment,
                    attachment_id=content.attachment_id,
                )
            )
    return replies


def parse_whatsapp_replies(event: Mapping[str, Any]) -> list[InboundMessage]:
    replies: list[InboundMessage] = []
    for item in unwrap(event, WHATSAPP_SOURCE):
        replies.extend(whatsapp_replies(item.payload))
    return replies


# --- email ------------------------------------------------------------------------------------

# Lines that start the quoted earlier message in common mail clients (English and Afrikaans).
_QUOTE_HEADER_PATTERNS = [
    re.compile(r"^\s*On\b.+\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Op\b.+\b(?:geskryf|skryf)\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(?:Original Message|Oorspronklike boodskap)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*Sent from my \w+", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for \w+", re.IGNORECASE),
]
_HEADER_BLOCK_START = re.compile(r"^\s*\*?(?:From|Van)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Subject|Gestuur|Datum|Aan|Onderwerp)\s*:", re.IGNORECASE
)
_WROTE_CONTINUATION = re.compile(r"\b(?:wrote|geskryf|skryf)\s*:\s*$", re.IGNORECASE)
_SIGNATURE_DELIMITER = "-- "


def strip_quoted_reply(text: str) -> str:
    """The new part of a reply: everything above the quoted earlier message or the signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for position, line in enumerate(lines):
        following = lines[position + 1] if position + 1 < len(lines) else ""
        if line.lstrip().startswith(">") or line == _SIGNATURE_DELIMITER or line.rstrip() == "--":
            break
        if any(pattern.match(line) for pattern in _QUOTE_HEADER_PATTERNS):
            break
        # "On Tue, 3 Dec 2026 at 10:00, Acme Collections <...>" wrapped before "wrote:".
        if re.match(r"^\s*(?:On|Op)\s", line, re.IGNORECASE) and _WROTE_CONTINUATION.search(following):
            break
        if _HEADER_BLOCK_START.match(line) and _HEADER_BLOCK_NEXT.match(following):
            break
        kept.append(line)
    return "\n".join(kept).strip()


class _TextFromHtml(HTMLParser):
    """Visible text of an HTML body, leaving out quoted blocks (Gmail, Outlook), styles and scripts."""

    _SKIPPED = {"blockquote", "style", "script", "head", "title"}
    _QUOTE_CLASSES = ("gmail_quote", "gmail_attr", "yahoo_quoted", "moz-cite-prefix")
    _BREAKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table"}
    _VOID = {"br", "img", "hr", "meta", "input", "link", "wbr", "col", "area", "base", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._skip_depth = 0
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_depth:
            if tag not in self._VOID:
                self._skip_depth += 1
            return
        classes = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        if tag in self._SKIPPED or any(marker in classes for marker in self._QUOTE_CLASSES):
            if tag not in self._VOID:
                self._skip_depth = 1
            return
        if tag in self._BREAKS:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_depth:
            self._skip_depth -= 1
        elif tag in self._BREAKS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._parts.append(data)

    def text(self) -> str:
        lines = [" ".join(line.split()) for line in "".join(self._parts).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    parser.feed(html)
    parser.close()
    return parser.text()


def _mime_bytes(content: str, encoding: str | None) -> bytes:
    """The raw email from ``content``: UTF-8 text by default, base64 when the SNS action says so.

    The notification does not always say which encoding the receipt rule used, so content that does
    not look like a MIME message (no header line at the top) is tried as base64.
    """
    looks_like_mime = bool(re.match(r"^[\w-]+:", content.lstrip()[:200]))
    if (encoding or "").upper() == "BASE64" or not looks_like_mime:
        try:
            return base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            if (encoding or "").upper() == "BASE64":
                raise MalformedNotificationError("content", EMAIL_SOURCE, "is not valid base64") from error
    return content.encode("utf-8", errors="surrogateescape")


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    if part.get_content_subtype() == "html":
        return html_to_text(str(content))
    return str(content)


def _ses_message_id(header_value: str | None) -> str | None:
    """Our SES message id from an In-Reply-To value: SES writes "<id@<region>.amazonses.com>"."""
    if not header_value:
        return None
    ids = re.findall(r"<([^<>]+)>", header_value) or [header_value.strip()]
    for candidate in ids:
        local, _, domain = candidate.partition("@")
        if domain.lower().endswith("amazonses.com"):
            return local
    return ids[-1] or None


def _in_reply_to(mail: Mapping[str, Any], parsed: EmailMessage) -> str | None:
    common = optional(mail, "commonHeaders.inReplyTo")
    if isinstance(common, list):
        common = common[0] if common else None
    header = common or parsed.get("In-Reply-To")
    if not header:
        for item in mail.get("headers") or []:
            if isinstance(item, Mapping) and str(item.get("name", "")).lower() == "in-reply-to":
                header = item.get("value")
                break
    return _ses_message_id(str(header)) if header else None


def _check_verdicts(receipt: Mapping[str, Any], provider_message_id: str) -> None:
    for verdict in ("virusVerdict", "spamVerdict"):
        status = str(optional(receipt, f"{verdict}.status") or "").upper()
        if status == "FAIL":
            kind = "virus" if verdict == "virusVerdict" else "spam"
            logger.warning(
                "inbound email rejected", extra={"verdict": verdict, "ses_id": provider_message_id}
            )
            raise InboundEmailRejectedError(f"SES {kind} verdict is FAIL", provider_message_id)
    # NOTE: DKIM, SPF and DMARC failures are not rejected: many small senders fail them honestly. A
    # reply claiming a payment is checked against the payment rails, never trusted on its own.


def email_reply(payload: Mapping[str, Any]) -> InboundMessage:
    """An SES receipt notification from an SNS action, with the raw email in ``content``."""
    if payload.get("notificationType") != "Received":
        raise MalformedNotificationError("notificationType", EMAIL_SOURCE, "is not 'Received'")
    mail = require(payload, "mail", EMAIL_SOURCE)
    receipt = require(payload, "receipt", EMAIL_SOURCE)
    provider_message_id = str(require(payload, "mail.messageId", EMAIL_SOURCE))
    _check_verdicts(receipt, provider_message_id)
    content = require(payload, "content", EMAIL_SOURCE)
    raw = _mime_bytes(str(content), optional(receipt, "action.encoding"))
    parsed = email.message_from_bytes(raw, policy=policy.default)
    if not isinstance(parsed, EmailMessage):
        raise MalformedNotificationError("content", EMAIL_SOURCE, "is not a MIME message")

    senders = optional(mail, "commonHeaders.from") or []
    sender_text = senders[0] if isinstance(senders, list) and senders else mail.get("source")
    if not sender_text:
        raise MalformedNotificationError("mail.commonHeaders.from", EMAIL_SOURCE)
    sender = parseaddr(str(sender_text))[1] or str(sender_text)

    recipients = optional(receipt, "recipients") or mail.get("destination") or []
    if not recipients:
        raise MalformedNotificationError("receipt.recipients", EMAIL_SOURCE)
    recipient = getaddresses([str(recipients[0])])[0][1] or str(recipients[0])

    return InboundMessage(
        channel=Channel.EMAIL,
        from_address=sender.strip().lower(),
        to_address=recipient.strip().lower(),
        text=strip_quoted_reply(_body_text(parsed)),
        provider_message_id=provider_message_id,
        received_at=parse_timestamp(
            require(payload, "mail.timestamp", EMAIL_SOURCE), "mail.timestamp", EMAIL_SOURCE
        ),
        in_reply_to_provider_message_id=_in_reply_to(mail, parsed),
        keyword=None,
    )


def parse_email_replies(event: Mapping[str, Any]) -> list[InboundMessage]:
    """Replies in an event; raises InboundEmailRejectedError for spam or a virus.

    SNS invokes Lambda with one record per call, so a rejection concerns exactly one email.
    """
    return [email_reply(item.payload) for item in unwrap(event, EMAIL_SOURCE)]


_PARSERS = {
    Channel.SMS: parse_sms_replies,
    Channel.WHATSAPP: parse_whatsapp_replies,
    Channel.EMAIL: parse_email_replies,
}


def parse_inbound(event: Mapping[str, Any], channel: Channel) -> list[InboundMessage]:
    """Replies of ``channel`` in ``event``; the topic a handler subscribes to decides the channel."""
    parser = _PARSERS.get(channel)
    if parser is None:
        raise ValueError(f"no inbound messages on channel {channel}")
    return parser(event)

