"""Phone numbers to E.164, for the regions Rapport collects in.

NOTE: this knows the numbering plans of a few regions only (length of the national number and the
trunk prefix), not every operator range; numbers of other countries are accepted when they arrive
in international form and have a plausible length. A full validation would use the ``phonenumbers``
package, which is not a dependency of the layer yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGION = "ZA"


class InvalidPhoneNumberError(ValueError):
    """The text is not a phone number we can dial."""


@dataclass(frozen=True)
class NumberingPlan:
    country_code: str
    national_lengths: tuple[int, ...]
    trunk_prefix: str | None
    international_prefixes: tuple[str, ...]


NUMBERING_PLANS: dict[str, NumberingPlan] = {
    "ZA": NumberingPlan("27", (9,), "0", ("00",)),
    "GB": NumberingPlan("44", (10,), "0", ("00",)),
    "US": NumberingPlan("1", (10,), "1", ("011",)),
}
# Jurisdiction.UK names the country GB in numbering plans.
NUMBERING_PLANS["UK"] = NUMBERING_PLANS["GB"]

_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
_DIGITS = re.compile(r"\d+")


def _plan_for_country_code(digits: str) -> NumberingPlan | None:
    # Country codes form a prefix code (no code begins another), so the first match is the country.
    for plan in NUMBERING_PLANS.values():
        if digits.startswith(plan.country_code):
            return plan
    return None


def _international_digits(digits: str) -> str:
    """Check a number written with its country code; drop a stray trunk prefix ("+27 (0)82 ...")."""
    plan = _plan_for_country_code(digits)
    if plan is not None:
        national = digits[len(plan.country_code) :]
        if (
            plan.trunk_prefix
            and national.startswith(plan.trunk_prefix)
            and len(national) - len(plan.trunk_prefix) in plan.national_lengths
        ):
            national = national[len(plan.trunk_prefix) :]
        if len(national) not in plan.national_lengths or national.startswith("0"):
            raise InvalidPhoneNumberError("national number has the wrong length for its country")
        return plan.country_code + national
    if not 8 <= len(digits) <= 15:
        raise InvalidPhoneNumberError("an international number has 8 to 15 digits")
    return digits


def to_e164(raw: str, default_region: str = DEFAULT_REGION) -> str:
    """Normalise a phone number to E.164 ("082 123 4567" -> "+27821234567" in region ZA).

    Raises InvalidPhoneNumberError (a ValueError) when the text cannot be a dialable number.
    """
    plan = NUMBERING_PLANS.get(default_region.upper())
    if plan is None:
        raise ValueError(f"no numbering plan for region {default_region!r}")
    text = _SEPARATORS.sub("", raw.strip())
    if text.lower().startswith("tel:"):
        text = text[4:]
    if not text:
        raise InvalidPhoneNumberError("empty phone number")
    if text.startswith("+"):
        digits = text[1:]
        if not _DIGITS.fullmatch(digits):
            raise InvalidPhoneNumberError("a phone number may contain only digits after '+'")
        return "+" + _international_digits(digits)
    if not _DIGITS.fullmatch(text):
        raise InvalidPhoneNumberError("a phone number may contain only digits and separators")
    for prefix in plan.international_prefixes:
        if text.startswith(prefix):
            return "+" + _international_digits(text[len(prefix) :])
    if plan.trunk_prefix and text.startswith(plan.trunk_prefix):
        national = text[len(plan.trunk_prefix) :]
        if len(national) in plan.national_lengths and not national.startswith("0"):
            return "+" + plan.country_code + national
    if len(text) in plan.national_lengths and not text.startswith("0"):
        return "+" + plan.country_code + text
    if text.startswith(plan.country_code):
        return "+" + _international_digits(text)
    raise InvalidPhoneNumberError("not a valid number for the default region")
