"""How our ids ride along with a message so that delivery events map back to it.

Every adapter attaches ``message_id`` and ``account_id`` under the same names: SES email tags, the
SMS ``Context``, the push ``Context`` and (message id only) WhatsApp's ``biz_opaque_callback_data``.
"""

from __future__ import annotations

import base64
import binascii
import re

MESSAGE_ID_KEY = "message_id"
ACCOUNT_ID_KEY = "account_id"

# SES message tags allow only ASCII letters, digits, "_" and "-", at most 256 characters.
_SES_TAG_SAFE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_ENCODED_PREFIX = "b32-"
_MAX_TAG_LENGTH = 256


def to_ses_tag_value(value: str) -> str:
    """``value`` itself when SES accepts it as a tag value, otherwise a reversible base32 form.

    Base32 (lower case, padding dropped) uses only letters and digits, so any id survives the trip
    through SES event publishing and ``from_ses_tag_value`` restores it.
    """
    if _SES_TAG_SAFE.fullmatch(value) and not value.startswith(_ENCODED_PREFIX):
        return value
    encoded = _ENCODED_PREFIX + base64.b32encode(value.encode("utf-8")).decode("ascii").rstrip("=").lower()
    if len(encoded) > _MAX_TAG_LENGTH:
        raise ValueError("id too long to carry as an SES tag")
    return encoded


def from_ses_tag_value(tag_value: str) -> str:
    """Inverse of ``to_ses_tag_value``; a value that was never encoded comes back unchanged."""
    if not tag_value.startswith(_ENCODED_PREFIX):
        return tag_value
    body = tag_value[len(_ENCODED_PREFIX) :].upper()
    try:
        return base64.b32decode(body + "=" * (-len(body) % 8)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return tag_value
