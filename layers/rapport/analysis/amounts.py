"""Finding the sum a debtor offers to pay ("R500", "R 1 500", "R1,500.50", "500 rand", "pay 300").

South Africans write thousands with spaces, commas or full stops and cents after a comma or a full
stop, so "R1 500,50", "R1,500.50" and "R1.500,50" are the same sum. A number without a currency is
taken only where the words around it make it an offer ("I can pay 300 on Monday", "200 a month"),
never where it is a count ("over 3 months"), a time ("after 5pm"), a year or a reference. Sums the
debtor says they owe, were charged or dispute ("I only owed R1200 not R4800") are not offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rapport.analysis.text import clean

_NUMBER = r"(?P<number>\d{1,3}(?:[ ,.\u00a0]\d{3})+|\d+)(?:[.,](?P<cents>\d{1,2}))?(?![\d])(?P<k>\s?k\b)?"
# Rand first; dollars, pounds and euros for debtors abroad ("$75/month", "can't pay \u00a390").
# NOTE: the sum is returned in cents of whichever currency the debtor wrote, and `ReplyAnalysis.currency`
# stays ZAR; a debtor's account currency (or the symbol found here) should set it once accounts abroad
# are collected in their own currency.
_CURRENCY_FIRST = re.compile(
    # isiZulu and isiXhosa put a noun prefix on the sum: "iR150", "i-R150".
    rf"(?<![A-Za-z0-9])(?:i-?)?(?:R|ZAR|US\$|\$|\u00a3|\u20ac|USD|GBP|EUR)\s?{_NUMBER}", re.IGNORECASE
)
_CURRENCY_AFTER = re.compile(
    r"(?<![\w.,])(?P<number>\d{1,3}(?:[ ,.]\d{3})+|\d+)(?:[.,](?P<cents>\d{1,2}))?(?P<k>\s?k)?"
    r"\s?(?:rand|zar|bucks|dollars?|pounds?|quid|euros?)\b",
    re.IGNORECASE,
)
_BARE = re.compile(
    r"(?<![\w/.,:#-])(?P<number>\d{1,3}(?:[ ,]\d{3})?|\d{1,6})(?:[.,](?P<cents>\d{2}))?(?P<k>k\b)?"
    r"(?![\w/:%])(?!\s*(?:am|pm|h\b|hrs|hours?|mins?|minutes?|days?|dae|weeks?|weke|months?|maande|"
    r"years?|jaar|times|x\b|people|kids|children|st\b|nd\b|rd\b|th\b|de\b|ste\b|/|-\d|"
    r"(?:jan|feb|mar|apr|may|mei|jun|jul|aug|sep|oct|okt|nov|dec|des)[a-z]*\b))",
    re.IGNORECASE,
)
_OFFER_BEFORE = re.compile(
    r"\b(?:pay|paying|payment of|pay you|afford|offer|offering|manage|give|send|deposit|do|transfer|eft|"
    r"instalments? of|installments? of|arrangement of|only|just|betaal|inbetaal|bekostig|gee|stuur|oorbetaal|"
    r"about|around|maybe|say|settle|settling|clear|vereffen|(?:you|u)(?: will|'ll| shall) (?:get|receive|have)"
    r")\s+(?:(?:you|u|jou|only|just|about|around|net|"
    r"maybe|the|outstanding|full|remaining|balance of|first|another|die|volle|amount of|sum of|"
    r"bedrag van)\s+){0,3}$",
    re.IGNORECASE,
)
_OFFER_AFTER = re.compile(
    r"^\s*(?:per month|a month|pm\b|p/m|p\.m\.|monthly|every month|each month|a week|per week|weekly|"
    r"every week|each week|every two weeks|fortnightly|per maand|elke maand|maandeliks|per week|weekliks|"
    r"now|today|tomorrow|tonight|on\b|by\b|this\b|next\b|at month end|month end|op\b|more\b|vandag|nou|"
    r"volgende\b|betaal\b|inbetaal\b|is all (?:i|we) can (?:do|pay|afford|manage)\b|"
    r"/ ?(?:month|mo|mth|week|wk)\b)",
    re.IGNORECASE,
)
_NOT_OFFERED_BEFORE = re.compile(
    r"\b(?:owe|owed|owing|owes|balance|balance of|charged|charging|billed|debt of|not|instead of|total|"
    r"outstanding|only owed|skuld|was|were|of only|earn|earning|earns|salary|income|"
    r"(?<!\bu will )(?<!\byou will )(?<!\byou'll )(?<!\bu'll )(?<!\bshall )get|paid|received|"
    r"verdien|kry|from|than|grant|pension|pensioen|toelaag|uif|wages?|live on|living on|survive on|"
    r"surviving on|leef van|lewe van|that'?s|thats|that is|which is|took|took out|borrowed|loan of|"
    r"instead of (?:one |a |the )?(?:payment|lump sum|amount) of)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
# "I have been paying R500 every month": what the debtor used to pay is history, not an offer.
_PAST_PAYMENT_BEFORE = re.compile(
    r"\b(?:been paying|was paying|were paying|used to pay|have paid|had paid|already paid|paid|betaal al|"
    r"het (?:[\w']+ )?betaal)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
# "I can't afford more than R50": a ceiling the debtor names is what they offer.
_CEILING_BEFORE = re.compile(
    r"\b(?:cannot|can ?not|can'?t|not|nie) (?:afford|pay|manage|do|give|bekostig|betaal) (?:more than|over|"
    r"meer as)\s+$|\b(?:no more than|not more than|nie meer as|at most|maximum of|max|hoogstens)\s+$",
    re.IGNORECASE,
)
# "I can't pay \u00a390 a month", "I cannot do the full R6 800 in one go": a sum refused is not offered.
_NEGATED_OFFER_BEFORE = re.compile(
    r"\b(?:cannot|can'?t|cant|won'?t|not able to|not in a position to|not|nie|never|unable to)\s+"
    r"(?:\w+\s+){0,2}"
    r"(?:the\s+(?:full|whole|entire|total)\s+)?$",
    re.IGNORECASE,
)
# "$2,300 at once isn't doable for me": a sum refused after it is named.
# "The R1 500 from January and the R800 top-up": a sum named as a loan taken is not offered.
_LOAN_NAMED_AFTER = re.compile(
    r"^\s*(?:loan\b|top-?up\b|from (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*(?!\s*(?:on|onwards)))",
    re.IGNORECASE,
)
_REFUSED_AFTER = re.compile(
    r"^\s*(?:[\w']+\s+){0,3}?(?:(?:is not|isn'?t|is nie|was never) (?:really )?(?:doable|possible|"
    r"manageable|affordable|feasible|realistic|an option)|is (?:way |far )?too much|"
    r"(?:a month |per month |pm )?is all (?:i|we) (?:get|earn|have|receive)|(?:at once |in one go )?is "
    r"(?:impossible|not possible))\b",
    re.IGNORECASE,
)
# "I can afford 200 pm": "pm" after a number that is no hour (13 or more), with words of offering before it,
# is per month. NOTE: "pay 230pm" would read as R230; debtors who name an hour write "at 2:30pm", and a
# time that loses to a sum costs less than an offer missed, but a reply of that kind would change this.
_PER_MONTH_PM = re.compile(
    r"(?<![\w/.,:#-])(?P<number>\d{2,5})(?P<cents>)(?P<k>)(?=\s?(?:pm|p/m)\b)", re.IGNORECASE
)
# "I'm 70 on social security": an age, not a sum.
_AGE_BEFORE = re.compile(r"\b(?:i'?m|i am|im|aged?|turn(?:ed|ing)|ek is)\s+$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
# What is said about a sum is said in its own clause: "I get paid weekly, so R150 every Friday" offers
# R150; the pay day before "so" is circumstance.
_CLAUSE_BREAK = re.compile(r"[.;!?\n]\s|,\s|\b(?:so|but|maar|dus)\s", re.IGNORECASE)


def _clause_before(text: str, start: int) -> str:
    """Up to 40 characters before a sum, from the start of the sum's clause."""
    before = text[max(0, start - 40) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    return before[breaks[-1].end() :] if breaks else before

# Sums written in words ("five hundred rand", "vyf honderd"), with no more grammar than replies use.
_SMALL_NUMBERS = {
    word: value
    for value, words in enumerate(
        (
            "zero nul",
            "one een",
            "two twee",
            "three drie",
            "four vier",
            "five vyf",
            "six ses",
            "seven sewe",
            "eight agt",
            "nine nege",
            "ten tien",
            "eleven elf",
            "twelve twaalf",
            "thirteen dertien",
            "fourteen veertien",
            "fifteen vyftien",
            "sixteen sestien",
            "seventeen sewentien",
            "eighteen agtien",
            "nineteen negentien",
        )
    )
    for word in words.split()
}
_TENS = {
    word: value * 10
    for value, words in enumerate(
        (
            "",
            "",
            "twenty twintig",
            "thirty dertig",
            "forty fourty veertig",
            "fifty vyftig",
            "sixty sestig",
            "seventy sewentig",
            "eighty tagtig",
            "ninety negentig",
        ),
    )
    for word in words.split()
}
_NUMBER_WORD = "|".join(
    sorted([*_SMALL_NUMBERS, *_TENS, "hundred", "honderd", "thousand", "duisend"], key=len, reverse=True)
)
# "a" counts only before hundred or thousand ("a hundred"); "three hundred a month" is 300 a month.
_WORDS_AMOUNT = re.compile(
    rf"\b(?P<number>(?:a\s+(?=hundred|thousand|honderd|duisend))?(?:{_NUMBER_WORD})"
    rf"(?:[\s-]+(?:and[\s-]+|en[\s-]+)?(?:{_NUMBER_WORD}))*)\b"
    r"(?P<rand>\s+(?:rand|zar)\b)?",
    re.IGNORECASE,
)


def _words_to_rand(phrase: str) -> int | None:
    """'one thousand five hundred' -> 1500; None unless the phrase names hundreds or thousands."""
    parts = [part for part in re.split(r"[\s-]+", phrase.lower()) if part not in ("and", "en")]
    if not any(part in ("hundred", "honderd", "thousand", "duisend") for part in parts):
        return None
    total = current = 0
    for part in parts:
        if part in ("hundred", "honderd"):
            current = (current or 1) * 100
        elif part in ("thousand", "duisend"):
            total += (current or 1) * 1000
            current = 0
        elif part == "a":
            current += 1
        else:
            current += _SMALL_NUMBERS.get(part, _TENS.get(part, 0))
    return total + current


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    cents: int
    offered: bool


def _to_cents(number: str, cents: str | None, thousands: bool) -> int | None:
    digits = re.sub(r"[ ,.\u00a0]", "", number)
    try:
        value = Decimal(digits)
        if cents:
            value += Decimal(cents.ljust(2, "0")) / 100
    except InvalidOperation:
        return None
    if thousands:
        value *= 1000
    return int(value * 100)


def _candidates(text: str) -> list[_Candidate]:
    found: list[_Candidate] = []
    taken: list[tuple[int, int]] = []
    patterns = ((_CURRENCY_FIRST, False), (_CURRENCY_AFTER, False), (_BARE, True), (_PER_MONTH_PM, True))
    for pattern, needs_offer in patterns:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
                continue
            number = match.group("number")
            digits = re.sub(r"\D", "", number)
            if pattern is _PER_MONTH_PM and (
                int(digits) < 13 or not _OFFER_BEFORE.search(_clause_before(text, start))
            ):
                continue
            if needs_offer and (_YEAR.match(number) or len(digits) > 6):
                continue
            if needs_offer and len(digits) < 2 and not match.group("k"):
                continue
            if needs_offer and _AGE_BEFORE.search(text[max(0, start - 12) : start]):
                continue
            before = _clause_before(text, start)
            after = text[end : end + 24]
            ceiling = bool(_CEILING_BEFORE.search(before))
            offered = ceiling or bool(_OFFER_BEFORE.search(before) or _OFFER_AFTER.match(after))
            if needs_offer and not offered:
                continue
            if not ceiling and (
                _NEGATED_OFFER_BEFORE.search(before)
                or _REFUSED_AFTER.match(text[end : end + 48])
                or _LOAN_NAMED_AFTER.match(text[end : end + 24])
                or _PAST_PAYMENT_BEFORE.search(before)
                or (_NOT_OFFERED_BEFORE.search(before) and not _OFFER_BEFORE.search(before))
            ):
                # A sum set aside stays read: the digits after "\u00a3" are not read again as a bare number.
                taken.append((start, end))
                continue
            cents = _to_cents(number, match.group("cents"), bool(match.group("k")))
            if cents is None or cents <= 0:
                continue
            taken.append((start, end))
            found.append(_Candidate(start=start, cents=cents, offered=offered))
    for match in _WORDS_AMOUNT.finditer(text):
        rand = _words_to_rand(match.group("number"))
        if rand is None or any(match.start() < end and start < match.end() for start, end in taken):
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        offered = bool(
            _OFFER_BEFORE.search(before) or _OFFER_AFTER.match(text[match.end() : match.end() + 24])
        )
        if not (offered or match.group("rand")) or _NOT_OFFERED_BEFORE.search(before):
            continue
        found.append(_Candidate(start=match.start(), cents=rand * 100, offered=offered))
    return sorted(found, key=lambda candidate: candidate.start)


def find_offered_amount_cents(text: str, *, require_offer_words: bool = False) -> int | None:
    """The sum the debtor offers, in cents, or None.

    With `require_offer_words`, a currency amount also needs offer words around it (used for
    hardship replies, where "I only earn R3000" is circumstance, not an offer).
    """
    candidates = [
        candidate for candidate in _candidates(clean(text)) if candidate.offered or not require_offer_words
    ]
    if not candidates:
        return None
    offered = [candidate for candidate in candidates if candidate.offered]
    return (offered or candidates)[0].cents
