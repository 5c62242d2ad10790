"""Replacing personal numbers and addresses in a reply with placeholders before it is stored.

Covers what South African debtors paste into replies: email addresses, phone numbers (local
"082 555 1234", international "+27 82 555 1234"), 13-digit South African ID numbers, card numbers
and account numbers. Rand amounts, dates and short payment references are kept: an agent needs them
and they identify nobody.
"""

from __future__ import annotations

import re

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
ID_NUMBER = "[ID_NUMBER]"
CARD_NUMBER = "[CARD_NUMBER]"
ACCOUNT_NUMBER = "[ACCOUNT_NUMBER]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_CARD_GROUPED = re.compile(r"(?<![\d])\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7}(?![\d])")
_ID_NUMBER = re.compile(r"(?<![\d])\d{6}[ -]?\d{4}[ -]?\d{3}(?![\d])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)?(?:27[ -]?\(?0?\)?|\(?0)\d{2}\)?[ -]?\d{3}[ -]?\d{4}(?![\d])"
    r"|(?<![\w])\+\d{1,3}[ -]?\d(?:[ -]?\d){6,13}(?![\d])"
)
_ACCOUNT_LABELLED = re.compile(
    r"(?P<label>\b(?:account|acc|acct|a/c|rekening|rek|policy|card|kaart|contract)\.?\s*"
    r"(?:number|no|nr|num|"
    r"nommer)?\.?\s*(?:is\s+)?[:#]?\s*)(?P<number>(?![Rr]\s?\d)[A-Z]{0,4}\d[\d -]{3,22}\d)",
    re.IGNORECASE,
)
_DATE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4})$")
_LONG_DIGITS = re.compile(r"(?<![\w])(?<![Rr] )\d(?:[ -]?\d){7,22}(?![\d])")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _placeholder_for(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if len(digits) == 13:
        return ID_NUMBER
    if 14 <= len(digits) <= 19 and _luhn_valid(digits):
        return CARD_NUMBER
    return ACCOUNT_NUMBER


def _replace_long_digits(match: re.Match[str]) -> str:
    return match.group(0) if _DATE.match(match.group(0)) else _placeholder_for(match.group(0))


def _replace_labelled_number(match: re.Match[str]) -> str:
    return match.group("label") + _placeholder_for(match.group("number"))


def redact(text: str) -> str:
    """The reply with emails, phone, ID, card and account numbers replaced by placeholders."""
    redacted = _EMAIL.sub(EMAIL, text)
    redacted = _CARD_GROUPED.sub(CARD_NUMBER, redacted)
    redacted = _ID_NUMBER.sub(ID_NUMBER, redacted)
    redacted = _PHONE.sub(PHONE, redacted)
    redacted = _ACCOUNT_LABELLED.sub(_replace_labelled_number, redacted)
    return _LONG_DIGITS.sub(_replace_long_digits, redacted)
