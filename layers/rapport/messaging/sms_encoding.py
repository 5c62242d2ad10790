"""How an SMS body will travel: GSM-7 or UCS-2, and how many segments it costs.

A text made only of characters in the GSM 03.38 default alphabet (3GPP TS 23.038) is sent as GSM-7:
160 septets in a single message, 153 per segment once it has to be concatenated (the user data
header takes the rest). A character from the extension table is sent as an escape septet followed by
its code, so it costs two septets, and the two are never split across segments. One character
outside both tables turns the whole message into UCS-2: 70 UTF-16 code units alone, 67 per segment
when concatenated, and a character outside the Basic Multilingual Plane (most emoji) is a surrogate
pair of two code units that is never split across segments either.

NOTE: the national language shift tables (Turkish, Spanish, Portuguese, Indian languages) are not
used: South African, British and American networks send the default alphabet, so the counts here
are what those networks bill. A gateway that transliterates (ê to e, say) would send fewer segments
than counted here; counting without transliteration is the safe, never-underestimated figure.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict

GSM7_SINGLE_LIMIT = 160
GSM7_SEGMENT_LIMIT = 153
UCS2_SINGLE_LIMIT = 70
UCS2_SEGMENT_LIMIT = 67

_ESCAPE = 0x1B

# The default alphabet in code order, eight rows of sixteen. Position 0x1B is the escape to the
# extension table, not a character; it is marked with a placeholder and left out of the mapping.
_GSM7_ROWS = (
    "@£$¥èéùìòÇ\nØø\rÅå",
    "Δ_ΦΓΛΩΠΨΣΘΞ\x00ÆæßÉ",
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "¡ABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "¿abcdefghijklmno",
    "pqrstuvwxyzäöñüà",
)

GSM7_BASIC: dict[str, int] = {
    character: code for code, character in enumerate("".join(_GSM7_ROWS)) if code != _ESCAPE
}
"""Character to septet for the GSM 03.38 default alphabet (127 characters)."""

GSM7_EXTENSION: dict[str, int] = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
"""Character to code in the extension table; each is sent as ESC (0x1B) plus this code."""


class SmsEncoding(BaseModel):
    """What an SMS body costs.

    ``characters`` is in the encoding's own unit: septets for GSM-7 (an extension character counts
    two), UTF-16 code units for UCS-2 (a surrogate pair counts two). ``per_segment_limit`` is the
    limit that applies to this message: the single-message limit when it fits in one, the
    concatenated limit otherwise. ``remaining_in_segment`` is the room left in the last segment.
    An empty text is counted as one segment, since sending it still takes one message.
    """

    model_config = ConfigDict(frozen=True)

    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    segments: int
    per_segment_limit: int
    remaining_in_segment: int
    non_gsm_characters: tuple[str, ...] = ()
    """The distinct characters, in order of first use, that forced UCS-2 (empty for GSM-7)."""


def gsm7_septets(character: str) -> int | None:
    """Septets one character costs in GSM-7, or None when it is in neither table."""
    if character in GSM7_BASIC:
        return 1
    if character in GSM7_EXTENSION:
        return 2
    return None


def _ucs2_units(character: str) -> int:
    return 2 if ord(character) > 0xFFFF else 1


def _pack(costs: list[int], segment_limit: int) -> tuple[int, int]:
    """Greedily fill segments without splitting any character; return (segments, used in the last)."""
    segments, used = 1, 0
    for cost in costs:
        if used + cost > segment_limit:
            segments += 1
            used = 0
        used += cost
    return segments, used


def sms_encoding(text: str) -> SmsEncoding:
    """Work out the encoding, length and number of segments of an SMS body."""
    non_gsm = tuple(dict.fromkeys(c for c in text if gsm7_septets(c) is None))
    if non_gsm:
        encoding: Literal["GSM-7", "UCS-2"] = "UCS-2"
        costs = [_ucs2_units(c) for c in text]
        single_limit, segment_limit = UCS2_SINGLE_LIMIT, UCS2_SEGMENT_LIMIT
    else:
        encoding = "GSM-7"
        costs = [1 if c in GSM7_BASIC else 2 for c in text]
        single_limit, segment_limit = GSM7_SINGLE_LIMIT, GSM7_SEGMENT_LIMIT

    characters = sum(costs)
    if characters <= single_limit:
        return SmsEncoding(
            encoding=encoding,
            characters=characters,
            segments=1,
            per_segment_limit=single_limit,
            remaining_in_segment=single_limit - characters,
            non_gsm_characters=non_gsm,
        )
    segments, used_in_last = _pack(costs, segment_limit)
    return SmsEncoding(
        encoding=encoding,
        characters=characters,
        segments=segments,
        per_segment_limit=segment_limit,
        remaining_in_segment=segment_limit - used_in_last,
        non_gsm_characters=non_gsm,
    )


def fits_in(text: str, max_segments: int) -> bool:
    """True when the text can be sent in at most ``max_segments`` segments."""
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    return sms_encoding(text).segments <= max_segments
