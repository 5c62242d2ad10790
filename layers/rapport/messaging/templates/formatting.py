"""Money, dates and times written the way a debtor reads them, per language and country.

The tables are our own rather than the operating system's locale, so a Lambda renders the same
text as a laptop. Separators are plain spaces (never a no-break space): a no-break space is not in
the GSM-7 alphabet and would turn a whole SMS into UCS-2.
"""

from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict

from rapport.models.enums import Jurisdiction

Frequency = Literal["weekly", "fortnightly", "monthly"]

CURRENCY_SYMBOLS: dict[str, str] = {"ZAR": "R", "USD": "$", "GBP": "£", "EUR": "€"}
"""Currencies we can write, all with two decimal places of minor units."""


class FormattingError(ValueError):
    """A value cannot be written in the requested form."""


class FormatLocale(BaseModel):
    """How one language in one country writes money, dates, times and plan frequencies."""

    model_config = ConfigDict(frozen=True)

    tag: str
    thousands_separator: str
    decimal_separator: str
    weekdays: tuple[str, str, str, str, str, str, str]
    """Monday first, as ``date.weekday()`` counts."""
    months: tuple[str, str, str, str, str, str, str, str, str, str, str, str]
    month_first: bool = False
    """True writes "Friday, December 11"; False writes "Friday 11 December"."""
    twelve_hour_clock: bool = False
    frequencies: dict[str, str]
    """A plan frequency as an adjective before "payments" in this language."""

    def money(self, amount_cents: int, currency: str) -> str:
        symbol = CURRENCY_SYMBOLS.get(currency)
        if symbol is None:
            raise FormattingError(f"no money format for currency {currency!r}")
        units, cents = divmod(abs(amount_cents), 100)
        digits = f"{units:,}".replace(",", self.thousands_separator)
        sign = "-" if amount_cents < 0 else ""
        return f"{sign}{symbol}{digits}{self.decimal_separator}{cents:02d}"

    def day(self, value: date, with_year: bool = False) -> str:
        weekday = self.weekdays[value.weekday()]
        month = self.months[value.month - 1]
        if self.month_first:
            text = f"{weekday}, {month} {value.day}"
            return f"{text}, {value.year}" if with_year else text
        text = f"{weekday} {value.day} {month}"
        return f"{text} {value.year}" if with_year else text

    def clock(self, value: time | datetime) -> str:
        if self.twelve_hour_clock:
            hour = value.hour % 12 or 12
            suffix = "AM" if value.hour < 12 else "PM"
            return f"{hour}:{value.minute:02d} {suffix}"
        return f"{value.hour:02d}:{value.minute:02d}"

    def frequency(self, value: str) -> str:
        try:
            return self.frequencies[value]
        except KeyError:
            raise FormattingError(f"unknown plan frequency {value!r}") from None


_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_EN_FREQUENCIES = {"weekly": "weekly", "fortnightly": "fortnightly", "monthly": "monthly"}

EN_ZA = FormatLocale(
    tag="en-ZA",
    thousands_separator=" ",
    decimal_separator=".",
    weekdays=_EN_WEEKDAYS,
    months=_EN_MONTHS,
    frequencies=_EN_FREQUENCIES,
)
EN_GB = EN_ZA.model_copy(update={"tag": "en-GB", "thousands_separator": ","})
EN_US = EN_ZA.model_copy(
    update={"tag": "en-US", "thousands_separator": ",", "month_first": True, "twelve_hour_clock": True}
)
AF_ZA = FormatLocale(
    tag="af-ZA",
    thousands_separator=" ",
    decimal_separator=",",
    weekdays=("Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrydag", "Saterdag", "Sondag"),
    months=(
        "Januarie",
        "Februarie",
        "Maart",
        "April",
        "Mei",
        "Junie",
        "Julie",
        "Augustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    frequencies={"weekly": "weeklikse", "fortnightly": "tweeweeklikse", "monthly": "maandelikse"},
)

_LOCALES: dict[tuple[str, Jurisdiction], FormatLocale] = {
    ("en", Jurisdiction.ZA): EN_ZA,
    ("en", Jurisdiction.UK): EN_GB,
    ("en", Jurisdiction.US): EN_US,
    ("af", Jurisdiction.ZA): AF_ZA,
    ("af", Jurisdiction.UK): AF_ZA,
    ("af", Jurisdiction.US): AF_ZA,
}

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(language for language, _ in _LOCALES)


def format_locale(language: str, jurisdiction: Jurisdiction) -> FormatLocale:
    """The conventions for a language as written in a jurisdiction (Afrikaans is always af-ZA)."""
    try:
        return _LOCALES[(language, jurisdiction)]
    except KeyError:
        raise FormattingError(f"no formatting conventions for language {language!r}") from None
