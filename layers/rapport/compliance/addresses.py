"""Normalised contact addresses, so that an opt-out matches however the number or email was typed."""

from __future__ import annotations

import re

from rapport.models.enums import Channel

PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.CALL})
_NOT_DIGIT = re.compile(r"\D")


def normalise_phone(number: str, country_code: str) -> str:
    """An E.164-style ``+<digits>`` form of ``number``, reading a national number in ``country_code``.

    ``"082 123 4567"``, ``"+27 82 123 4567"``, ``"0027821234567"`` and ``"whatsapp:+27821234567"`` all
    become ``"+27821234567"`` for country code 27. ``"+44 (0)20 7946 0000"`` drops the bracketed trunk 0.
    """
    text = number.strip()
    for prefix in ("whatsapp:", "tel:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    text = text.replace("(0)", "")
    digits = _NOT_DIGIT.sub("", text)
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if country_code == "1":
        # North American numbers are dialled nationally as ten digits, or with the leading 1.
        if len(digits) == 10:
            return "+1" + digits
        return "+" + digits
    if digits.startswith("0"):
        return "+" + country_code + digits[1:]
    if digits.startswith(country_code):
        return "+" + digits
    return "+" + country_code + digits


def normalise_email(address: str) -> str:
    """Lower-cased, trimmed, without a ``mailto:`` prefix.

    Strictly the part before the @ may be case-sensitive; no real mailbox provider treats it so, and
    matching more generously only makes an opt-out harder to miss.
    """
    text = address.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.lower()


def normalise_address(channel: Channel, address: str, country_code: str) -> str:
    """The form of ``address`` that two records of the same destination share on ``channel``."""
    if channel in PHONE_CHANNELS:
        return normalise_phone(address, country_code)
    if channel is Channel.EMAIL:
        return normalise_email(address)
    # Push: a device token or endpoint id, compared exactly apart from surrounding spaces.
    return address.strip()
