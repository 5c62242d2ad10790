"""Resolving the day a debtor names in a reply ("Friday", "die 25ste", "month end") to a date.

Every expression is resolved against the debtor's *local* date when the reply arrived (the caller
converts `received_at` into the debtor's time zone first), and only days on or after that date are
returned: a promise is never in the past.

The rules, where English is ambiguous:

- A bare weekday ("Friday", "on Vrydag", "this Friday") is its next occurrence, today included.
- "next Friday", "Friday next week", "volgende Vrydag" is that weekday in the following calendar
  week (weeks start on Monday). Said on a Monday, "next Thursday" is ten days later, not three.
- A window resolves to its last useful day, so a promise is not marked broken while the debtor is
  still inside the window they named: "next week" is the Friday of next week, "this week" and "end of
  the week" the Friday of this week, "next month" and "end of next month" the last day of next
  month, "month end" the last day of this month.
- A day of the month ("the 25th", "die 5de", "on the 3rd") is the next time that day comes round,
  today included; a day the month lacks ("the 31st" in April) is that month's last day.
- Numeric dates are day first, as written in South Africa and Britain: "1/12" is 1 December; for a
  debtor in the Americas (`month_first`) month first, as written in the US: "12/1" is 1 December.
  Either way a date that cannot be read in that order is read in the other ("12/18", "18/12").
- A day and month without a year ("2 Jan", "15 December") is the next such date, today included.
- "payday", "when I get paid", "when SASSA pays" name no day, so they resolve to nothing, unless the
  reply also names the day ("payday is the 25th").
- A weekday with a date ("Monday the 7th of December", "Friday, 2 July") is the date.
- Ordinal words count as days of the month ("the twentieth", "the twenty fifth", "die vyfde").
- "after the weekend" is the Monday after it; "after the 15th" is the 15th (the day named: it is
  usually the day the money comes in). "before the 15th", "before Friday" is the day before the one
  named (never before today); "on or before the 15th" and a window ("before the end of the month") keep
  their own day.
- "Friday week", "Friday after next", "a week on Friday", "Vrydag oor 'n week" is the Friday a week
  after the coming one; "next weekend" is the Saturday of next week; "end of day" is today.
- "end of the year", "year end", "einde van die jaar" is 31 December; "EOM" is month end.
- Holidays by name are their day: Christmas Eve and Day, Boxing Day (the Day of Goodwill), New Year's Eve
  and Day, and South Africa's public holidays (Human Rights Day 21 March, Freedom Day 27 April, Workers'
  Day 1 May, Youth Day 16 June, Women's Day 9 August, Heritage Day 24 September, the Day of
  Reconciliation 16 December). "before Christmas" is 24 December, like any "before"; "after Christmas" is
  Christmas Day, unless the reply names the day after it ("after Christmas, on the 28th").
- Time asked for counts from today: "give me 3 days", "give me a fortnight", "10 days from now", like "in
  3 days" and "within two weeks".
- A short weekday that opens the reply ("wed ill pay") is that weekday; "rn" after a sum is today.
- isiZulu and Sesotho words for today, tomorrow and the weekdays are understood ("kusasa", "hosane",
  "ngoLwesihlanu"), as are the Setswana and isiXhosa weekdays ("ka Labotlhano", "ngoMvulo") and
  "rn" (right now) after a word of paying; so are "the following" weekday ("ngoLwesihlanu olandelayo",
  "Labohlano e latelang"), next week ("kwiveki ezayo", "bekeng e tlang"), month end ("ekupheleni
  kwenyanga", "bofelong jwa kgwedi"), a day of the month ("ka la 25", "ngomhla wama-25") and Setswana
  "kamoso" (tomorrow).

Which named day is the promise: days in a negated clause ("can't make it on Friday", "not this
Friday") or set aside ("instead of the 25th") are left out when another day is named, a day in a
clause that answers a contrast ("but next Friday", "Monday instead") is preferred, then a day in a
clause about paying ("will pay on Thursday, my salary comes in on Wednesday"), and among those the
earliest day is the promise. "Now" gives way to any other day the reply names.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from rapport.analysis.clauses import clause_at, split_clauses
from rapport.analysis.prefilter import Prefilter

_WEEKDAY_WORDS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "monday munday mondag maandag ngomsombuluko msombuluko mantaha mosupologo ngomvulo mvulo",
        "tuesday tuesdy teusday tuseday tues dinsdag ngolwesibili lwesibili labobedi ngolwesibini lwesibini",
        "wednesday wednsday wensday wednesdy weds woensdag ngolwesithathu lwesithathu laboraro",
        "thursday thurday thursdy thurs donderdag ngolwesine lwesine labone",
        "friday fryday frieday firday fridy fri vrydag vrijdag ngolwesihlanu lwesihlanu labohlano labotlhano",
        "saturday saterday saturdy saterdag ngomgqibelo mgqibelo moqebelo matlhatso",
        "sunday sundy sondag sontaha latshipi ngecawa",
    )
):
    for _name in _names.split():
        _WEEKDAY_WORDS[_name] = _index
# Three-letter forms double as ordinary words ("sat", "sun", "mon"): only accepted after a preposition.
_SHORT_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "thur": 3, "sat": 5, "sun": 6}

_MONTH_WORDS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "january jan januarie",
        "february feb februarie febuary",
        "march mar maart",
        "april apr",
        "may mei",
        "june jun junie",
        "july jul julie",
        "august aug augustus",
        "september sept sep",
        "october oct oktober okt",
        "november nov",
        "december dec desember des",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTH_WORDS[_name] = _index

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "een": 1,
    "two": 2,
    "twee": 2,
    "a couple of": 2,
    "couple of": 2,
    "three": 3,
    "drie": 3,
    "four": 4,
    "vier": 4,
    "five": 5,
    "vyf": 5,
    "six": 6,
    "ses": 6,
    "seven": 7,
    "sewe": 7,
    "ten": 10,
    "tien": 10,
    "fourteen": 14,
    "veertien": 14,
}


def _split(words_separated_by_spaces: str) -> list[str]:
    return words_separated_by_spaces.split()


def _ordinal_words() -> dict[str, int]:
    """'fifth' -> 5, 'twenty fifth' / 'twenty-fifth' -> 25, 'vyf-en-twintigste' -> 25."""
    english = _split(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
    )
    afrikaans = _split(
        "eerste tweede derde vierde vyfde sesde sewende agtste negende tiende elfde twaalfde dertiende "
        "veertiende vyftiende sestiende sewentiende agtiende negentiende"
    )
    afrikaans_units = _split("een twee drie vier vyf ses sewe agt nege")
    words = {word: day for day, word in enumerate(english, start=1)}
    words.update({word: day for day, word in enumerate(afrikaans, start=1)})
    words.update({"twentieth": 20, "thirtieth": 30, "twintigste": 20, "dertigste": 30})
    for day, word in enumerate(english[:9], start=1):
        for joiner in (" ", "-", ""):
            words[f"twenty{joiner}{word}"] = 20 + day
    for joiner in (" ", "-", ""):
        words[f"thirty{joiner}first"] = 31
    for day, word in enumerate(afrikaans_units, start=1):
        for joiner in ("-en-", " en ", "en"):
            words[f"{word}{joiner}twintigste"] = 20 + day
    for joiner in ("-en-", " en ", "en"):
        words[f"een{joiner}dertigste"] = 31
    return words


_ORDINAL_WORDS = _ordinal_words()


def _alternation(names: list[str]) -> str:
    return "|".join(sorted((re.escape(name) for name in names), key=len, reverse=True))


_WD = _alternation(list(_WEEKDAY_WORDS))
_SHORT_WD = _alternation(list(_SHORT_WEEKDAYS))
_MONTH = _alternation(list(_MONTH_WORDS))
_COUNT = _alternation([*_NUMBER_WORDS, *(str(number) for number in range(1, 32))])
_ORDINAL_SUFFIX = r"(?:st|nd|rd|th|ste|de|e)"
_ORDWORD = _alternation(list(_ORDINAL_WORDS))
# isiZulu and isiXhosa "kwiveki ezayo", "evikini elizayo"; Sesotho and Setswana "bekeng e tlang".
_NEXT_WEEK = (
    r"(?:next week|volgende week|the following week|(?:kwi|e|nge)?v(?:e|i)ki(?:ni)? (?:e|eli)zayo|"
    r"(?:ka )?beke(?:ng)? e (?:e )?(?:tlang|latelang))"
)
# An ordinal word is a day only where it cannot be "the first thing", "the second payment".
_NOT_A_DAY_AFTER_ORDINAL = (
    r"(?!\s+(?:thing|time|one|payment|instal\w*|week|month|half|part|person|day|of which|paaiement|term|"
    r"terms|semester|quarter|round|kwartaal|"
    r"betaling|keer|helfte))"
)
# South Africa's public holidays and the days around Christmas and New Year, as (month, day); the keys are
# the names without an apostrophe or a trailing " day".
_HOLIDAYS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("christmas eve", "xmas eve", "oukersaand"), (12, 24)),
    **dict.fromkeys(("christmas", "xmas", "kersfees", "krismis"), (12, 25)),
    **dict.fromkeys(("boxing", "day of goodwill"), (12, 26)),
    **dict.fromkeys(("new years eve", "oujaarsaand"), (12, 31)),
    **dict.fromkeys(("new year", "new years", "nuwejaarsdag", "nuwejaar"), (1, 1)),
    "human rights": (3, 21),
    "freedom": (4, 27),
    **dict.fromkeys(("workers", "worker"), (5, 1)),
    "youth": (6, 16),
    **dict.fromkeys(("womens", "women"), (8, 9)),
    "heritage": (9, 24),
    "day of reconciliation": (12, 16),
}
_AFTER = re.compile(r"\b(?:after|na)\s+(?:the\s+|die\s+)?$")
# A day after these names no day to pay: a past one ("since Monday"), or how long a quote is valid ("a
# settlement quote valid till the end of the month").
_PAST_PREFIX = re.compile(
    r"(?:since|last|laas|verlede|sedert|ago|was|were|yesterday|gister|valid (?:till|until|to|through|for))\s+"
    r"(?:the\s+)?$"
)

# Each rule: a pattern, the name of the resolver and the prefilter that skips it when it cannot match.
# Earlier rules claim their span first.
_RULES: tuple[tuple[re.Pattern[str], str, Prefilter], ...] = tuple(
    (re.compile(pattern), kind, Prefilter(re.compile(pattern)))
    for pattern, kind in (
        (rf"\b(?:last|laas|verlede|since|sedert)\s+(?:{_WD}|{_SHORT_WD})\b", "past"),
        (
            rf"\b(?:{_WD}|{_SHORT_WD}),?\s+(?:the\s+|die\s+)?(?P<day>\d{{1,2}}){_ORDINAL_SUFFIX}?"
            rf"(?:\s+(?:of\s+|van\s+)?(?P<month>{_MONTH})(?:,?\s+(?P<year>20\d\d))?)?\b(?![:.]\d)",
            "weekday_and_date",
        ),
        (
            rf"\b(?:the\s+|die\s+)?(?P<ordword>{_ORDWORD})\s+(?:of\s+|van\s+)?(?P<month>{_MONTH})\b"
            r"(?:,?\s+(?P<year>20\d\d))?",
            "ordinal_month",
        ),
        (rf"\b(?:the|die)\s+(?P<ordword>{_ORDWORD})\b{_NOT_A_DAY_AFTER_ORDINAL}", "ordinal_day"),
        (r"\b(?:after|na)\s+(?:the\s+|this\s+|die\s+)?(?:weekend|naweek)\b", "after_weekend"),
        (
            rf"\b(?:(?:the\s+)?(?P<wd>{_WD})\s+(?:after\s+next|week|oor\s+'?n\s+week)|"
            rf"a\s+week\s+(?:on|from)\s+(?P<wd2>{_WD}))\b(?!'?s\b)",
            "weekday_week_later",
        ),
        (r"\b(?:day after tomorrow|oormore|overmore)\b", "plus2"),
        (rf"\b{_NEXT_WEEK}\s+(?:on\s+|op\s+)?(?P<wd>{_WD})\b", "nextweek_wd"),
        (rf"\b(?:next|volgende)\s+(?P<wd>{_WD}|{_SHORT_WD})\b", "nextweek_wd"),
        # "the following Friday" in isiZulu and isiXhosa ("ngoLwesihlanu olandelayo"), Sesotho and
        # Setswana ("Labohlano e latelang").
        (rf"\b(?P<wd>{_WD})\s+(?:o|e)landelayo\b|\b(?:ka\s+)?(?P<wd2>{_WD})\s+e\s+latelang\b", "nextweek_wd"),
        (rf"\b(?P<wd>{_WD})\s+(?:of\s+)?{_NEXT_WEEK}\b", "nextweek_wd"),
        (
            rf"\b(?:the |die )?(?P<day>\d{{1,2}}){_ORDINAL_SUFFIX}? (?:of|van) "
            r"(?:next|volgende|the next) (?:month|maand)\b",
            "day_next_month",
        ),
        (
            r"\b(?:end of next month|end of the next month|next month end|einde van volgende maand|"
            r"einde volgende maand|next month|volgende maand)\b",
            "next_month_end",
        ),
        (rf"\b(?:end of|einde van|einde|end)\s+(?P<month>{_MONTH})\b", "month_name_end"),
        (rf"\b(?P<month>{_MONTH})\s+(?:month )?end\b", "month_name_end"),
        (
            r"\b(?:end of (?:the |this )?month|month[- ]?end|end (?:of )?month|end of the months?|"
            r"last day of (?:the |this )?month|einde van (?:die |hierdie )?maand|einde (?:die )?maand|"
            r"maandeinde|maand[- ]einde|end van die maand|month's end|"
            # isiZulu and isiXhosa "ekupheleni kwenyanga", Sesotho and Setswana "qetellong ya kgwedi",
            # "bofelong jwa kgwedi".
            r"ekupheleni kwe?(?:nyanga|le nyanga)|ekugcineni kwenyanga|(?:qetellong|mafelong|bofelong|"
            r"kwa bofelong) (?:ya|jwa|a|ba) kgwedi(?: e| ena| eno| e)?)\b",
            "month_end",
        ),
        (r"\b(?:eom|e\.o\.m)\b", "month_end"),
        (
            r"\b(?:end of (?:the |this )?year|year[- ]?end|einde van (?:die |hierdie )?jaar|jaareinde)\b",
            "year_end",
        ),
        (r"\b(?:mid[- ]?month|middle of (?:the |this )?month|middel van (?:die )?maand)\b", "mid_month"),
        (rf"\b(?:end of )?{_NEXT_WEEK}\b", "next_week"),
        (r"\b(?:next|volgende|the following) (?:weekend|naweek)\b", "next_weekend"),
        (r"\b(?:this weekend|the weekend|weekend|hierdie naweek|die naweek|naweek)\b", "weekend"),
        (r"\b(?:end of (?:the |this )?week|this week|hierdie week|einde van (?:die )?week)\b", "this_week"),
        (
            rf"\b(?:in|within|oor|binne)\s+(?P<count>{_COUNT})\s+"
            r"(?P<unit>days?|weeks?|dae|dag|weke|week|fortnights?)\b",
            "plus_n",
        ),
        # Time asked for: "give me 3 days", "give me a fortnight", "gee my twee weke", "3 days from now".
        (
            rf"\b(?:give|gimme|allow|grant|gee)\s+(?:me|us|my|ons)\s+(?:another\s+|just\s+|nog\s+|net\s+)?"
            rf"(?P<count>{_COUNT})\s+(?:more\s+)?(?P<unit>days?|weeks?|dae|dag|weke|week|fortnights?)\b|"
            rf"\b(?P<count2>{_COUNT})\s+(?P<unit2>days?|weeks?|fortnights?)\s+from\s+(?:now|today)\b",
            "plus_n",
        ),
        # Holidays by name: "Christmas Eve", "Kersfees", "New Year's Day", "Heritage Day", "Youth Day".
        (
            r"\b(?P<holiday>christmas eve|xmas eve|oukersaand|christmas|xmas|kersfees|krismis|boxing day|"
            r"day of goodwill|new year'?s eve|oujaarsaand|(?<!in the )new year'?s?(?: day)?|nuwejaarsdag|nuwejaar|"
            r"human rights day|freedom day|workers'? day|youth day|women'?s day|heritage day|"
            r"day of reconciliation)\b",
            "holiday",
        ),
        (
            rf"\b(?P<day>\d{{1,2}}){_ORDINAL_SUFFIX}?\s+(?:of\s+|van\s+)?(?P<month>{_MONTH})\b"
            # "the 5th may I pay": "may" followed by a pronoun or verb is the modal, not the month.
            r"(?:(?<=\bmay)(?!\s+(?:be|i|we|you|not|have|pay|still|also)\b)|"
            r"(?<!\bmay))(?:,?\s+(?P<year>20\d\d))?",
            "day_month",
        ),
        (
            rf"\b(?P<month>{_MONTH})\s+(?P<day>\d{{1,2}}){_ORDINAL_SUFFIX}?\b(?![:.]\d)"
            r"(?:,?\s+(?P<year>20\d\d))?",
            "day_month",
        ),
        (r"\b(?P<year>20\d\d)-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b", "iso"),
        (
            r"(?<![\d/.,r])\b(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?(?![\d/])",
            "numeric",
        ),
        (rf"\b(?P<day>\d{{1,2}}){_ORDINAL_SUFFIX}\b", "day_of_month"),
        (
            r"\b(?:on|by|before|until|till|op|teen|voor|tot)\s+(?:the|die)\s+(?P<day>\d{1,2})\b"
            r"(?!\s*(?:[:.,/]\d|rand|%|months?|weeks?|days?|years?|maande|dae|weke|jaar|h\b|am\b|pm\b))",
            "day_of_month",
        ),
        (r"\b(?:on|by|op)\s+(?:the|die)\s+(?:first|eerste)\b", "first"),
        # isiZulu "ngo-30", "ngomhla ka-25": on the 30th, on the 25th.
        (r"\b(?:ngo|ngomhla ka)-?(?P<day>\d{1,2})\b", "day_of_month"),
        # isiXhosa "ngomhla wama-25", Sesotho and Setswana "ka la 25", "ka di 25", "ka letsatsi la 25".
        (
            r"\b(?:ngomhla (?:we|wama|wesi)|ka (?:la|di|letsatsi la|letšatši la))\s?-?(?P<day>\d{1,2})\b"
            r"(?!\s*(?:[:.,/]\d|%))",
            "day_of_month",
        ),
        (r"\b(?:on|by|before|op|teen)\s+(?P<day>\d{1,2})\b(?!\s*(?:[:.,/]\d|%|[a-z0-9]))", "day_of_month"),
        (
            r"\b(?:on|by|this|coming|this coming|before|until|till|op|teen|hierdie|from)\s+"
            rf"(?P<wd>{_SHORT_WD})\b",
            "weekday",
        ),
        # Straight after paying: "imma pay it sat", "paying u fri".
        (
            rf"(?:(?<=\bpay)|(?<=\bpaying)|(?<=\bsettle)|(?<=\bsettling)) (?:(?:it|this|you|u|that) )?"
            rf"(?P<wd>{_SHORT_WD})\b",
            "weekday",
        ),
        (rf"\b(?P<wd>{_WD})\b", "weekday"),
        # A short weekday that opens the reply: "wed ill make a plan and pay".
        (rf"^(?:(?:ok|okay|hi|sorry)\W+)?(?P<wd>{_SHORT_WD})\b(?!\s*(?:[:.,/]\d))", "weekday"),
        (r"\b(?:tomorrow|kusasa|hosane|ngomso|kamoso)\b", "plus1"),
        (
            r"\b(?:today|tonight|right now|now|this morning|this afternoon|this evening|later today|"
            r"vandag|vanaand|vanmiddag|vanoggend|nou|netnou|immediately|straks|namhlanje|namuhla|"
            r"end of (?:the |today'?s? )?day|eod|close of business|cob|"
            r"lamuhla|kajeno|gompieno|(?:(?<=pay )|(?<=paying )|(?<=pay it )|(?<=paying it )|(?<=\d ))rn)\b",
            "today",
        ),
    )
)
# "Goeie more" is good morning, not tomorrow.
_AFRIKAANS_TOMORROW = (re.compile(r"(?<!goeie )(?<!goeie)\b(?:more|mre|moro)\b"), "plus1")
# A day set aside for another: "on the 3rd instead of the 25th", "rather than Friday".
_SET_ASIDE_BEFORE = re.compile(
    r"\b(?:instead of|rather than|in plaas van|not on|nie op)\s+(?:the\s+|die\s+)?$"
)
# "before the 15th", "before Friday", "voor die 15de": the last day before the one named. A window ("before
# month end", "before the end of the month") already resolves to its last day, and "before 12" is an hour.
_BEFORE = re.compile(r"\b(?<!or )(?:before|voor|prior to)\s+(?:the\s+|die\s+|this\s+|next\s+|volgende\s+)?$")
_DAY_KINDS = frozenset(
    {
        "day_of_month", "ordinal_day", "day_month", "ordinal_month", "weekday_and_date", "numeric", "iso",
        "weekday", "nextweek_wd", "holiday",
    }
)
_BARE_NUMBER = re.compile(r"^(?:(?:on|by|before|op|teen)\s+)?\d{1,2}$")
# The moment of speaking ("I'm at work now", "dis nou Marietjie") is a weak day: it gives way to any
# other day the reply names.
_SPEAKING_NOW = re.compile(r"(?:right )?(?:now|nou)$")


_RULES_AFRIKAANS = (*_RULES, (*_AFRIKAANS_TOMORROW, Prefilter(_AFRIKAANS_TOMORROW[0])))

# Every rule above needs one of these in the reply (as part of a word or a number); most replies have
# none, and are done with one search instead of one per rule.
_DAY_WORDS = _alternation(
    [
        *_WEEKDAY_WORDS,
        *_SHORT_WEEKDAYS,
        *_MONTH_WORDS,
        *_ORDINAL_WORDS,
        *_split(
            "week weke month maand day dae dag end einde eom eod cob mid middel now nou today tonight "
            "morning afternoon fortnight evening tomorrow more mre moro vand vana immediately straks kusasa "
            "hosane ngomso namhla namuhla lamuhla kajeno ngo gompieno rn kamoso nyanga kgwedi veki viki "
            "beke landelayo latelang christmas xmas kersfees krismis oukersaand oujaarsaand nuwejaar year"
        ),
    ]
)
_MAY_NAME_A_DAY = re.compile(rf"\d|{_DAY_WORDS}")


@dataclass(frozen=True, slots=True)
class DayMention:
    """A future day named in a reply, and where in the normalised reply it was named."""

    start: int
    end: int
    day: date


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(day: date, months: int) -> tuple[int, int]:
    index = day.month - 1 + months
    return day.year + index // 12, index % 12 + 1


def _next_day_of_month(today: date, day: int) -> date | None:
    if not 1 <= day <= 31:
        return None
    this_month = _clamped(today.year, today.month, day)
    if this_month >= today:
        return this_month
    year, month = _add_months(today, 1)
    return _clamped(year, month, day)


def _next_day_and_month(today: date, day: int, month: int, year: int | None) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if day > calendar.monthrange(year or today.year, month)[1] and day > 29:
        return None
    if year is not None:
        if year < 100:
            year += 2000
        resolved = _clamped(year, month, day)
        return resolved if resolved >= today else None
    resolved = _clamped(today.year, month, day)
    return resolved if resolved >= today else _clamped(today.year + 1, month, day)


def _weekday_index(word: str) -> int:
    return _WEEKDAY_WORDS.get(word, _SHORT_WEEKDAYS.get(word, 0))


def _numeric(groups: dict[str, str | None], today: date, *, month_first: bool) -> date | None:
    first, second = int(groups["day"] or 0), int(groups["month"] or 0)
    year = int(groups["year"]) if groups.get("year") else None
    orders = [(second, first), (first, second)] if month_first else [(first, second), (second, first)]
    for day, month in orders:
        if 1 <= month <= 12:
            return _next_day_and_month(today, day, month, year)
    return None


def _resolve(kind: str, match: re.Match[str], today: date, *, month_first: bool = False) -> date | None:
    groups = match.groupdict()
    next_monday = today + timedelta(days=7 - today.weekday())
    if kind == "past":
        return None
    if kind == "today":
        return today
    if kind == "plus1":
        return today + timedelta(days=1)
    if kind == "plus2":
        return today + timedelta(days=2)
    if kind == "weekday":
        return today + timedelta(days=(_weekday_index(groups["wd"]) - today.weekday()) % 7)
    if kind == "nextweek_wd":
        return next_monday + timedelta(days=_weekday_index(groups["wd"] or groups.get("wd2") or ""))
    if kind == "next_week":
        return next_monday + timedelta(days=4)
    if kind == "this_week":
        return max(today, today + timedelta(days=4 - today.weekday()))
    if kind == "next_weekend":
        return next_monday + timedelta(days=5)
    if kind == "weekend":
        return max(today, today + timedelta(days=5 - today.weekday()))
    if kind == "month_end":
        return _last_day(today.year, today.month)
    if kind == "next_month_end":
        return _last_day(*_add_months(today, 1))
    if kind == "mid_month":
        return _next_day_of_month(today, 15)
    if kind == "month_name_end":
        month = _MONTH_WORDS[groups["month"]]
        year = today.year if month >= today.month else today.year + 1
        return _last_day(year, month)
    if kind == "plus_n":
        count_word = groups["count"] or groups["count2"]
        count = _NUMBER_WORDS.get(count_word) or int(count_word)
        unit = groups["unit"] or groups["unit2"]
        days = 14 if unit.startswith("fortnight") else 7 if unit.startswith("week") or unit == "weke" else 1
        return today + timedelta(days=count * days)
    if kind == "numeric":
        return _numeric(groups, today, month_first=month_first)
    if kind in ("day_month", "iso"):
        month_word = groups["month"]
        month = int(month_word) if month_word.isdigit() else _MONTH_WORDS[month_word]
        year = int(groups["year"]) if groups.get("year") else None
        return _next_day_and_month(today, int(groups["day"]), month, year)
    if kind == "day_next_month":
        year, month = _add_months(today, 1)
        day = int(groups["day"])
        return _clamped(year, month, day) if 1 <= day <= 31 else None
    if kind == "day_of_month":
        return _next_day_of_month(today, int(groups["day"]))
    if kind == "weekday_and_date":
        if groups["month"]:
            year = int(groups["year"]) if groups.get("year") else None
            return _next_day_and_month(today, int(groups["day"]), _MONTH_WORDS[groups["month"]], year)
        return _next_day_of_month(today, int(groups["day"]))
    if kind == "ordinal_month":
        year = int(groups["year"]) if groups.get("year") else None
        day, month = _ORDINAL_WORDS[groups["ordword"]], _MONTH_WORDS[groups["month"]]
        return _next_day_and_month(today, day, month, year)
    if kind == "ordinal_day":
        return _next_day_of_month(today, _ORDINAL_WORDS[groups["ordword"]])
    if kind == "after_weekend":
        return next_monday
    if kind == "weekday_week_later":
        weekday = _weekday_index(groups["wd"] or groups["wd2"])
        return today + timedelta(days=(weekday - today.weekday()) % 7 + 7)
    if kind == "holiday":
        month, day = _HOLIDAYS[groups["holiday"].replace("'", "").removesuffix(" day")]
        return _next_day_and_month(today, day, month, None)
    if kind == "year_end":
        return date(today.year, 12, 31)
    if kind == "first":
        return _next_day_of_month(today, 1)
    raise ValueError(kind)


def find_day_mentions(
    normalised: str, today: date, language: str = "en", *, month_first: bool = False
) -> list[DayMention]:
    """Every future day a normalised reply names, with its place in the reply, in reading order.

    `month_first` reads numeric dates the US way ("12/18"), for debtors in the Americas."""
    if not _MAY_NAME_A_DAY.search(normalised):
        return []
    rules = _RULES_AFRIKAANS if language == "af" else _RULES
    claimed: list[tuple[int, int]] = []
    found: list[DayMention] = []
    # "after Christmas, on the 28th": a holiday after which the debtor names the day gives way to that day.
    landmarks: list[DayMention] = []
    for pattern, kind, prefilter in rules:
        if not prefilter.may_match(normalised):
            continue
        for match in pattern.finditer(normalised):
            start, end = match.span()
            if any(start < taken_end and taken_start < end for taken_start, taken_end in claimed):
                continue
            claimed.append((start, end))
            if _PAST_PREFIX.search(normalised[max(0, start - 24) : start]):
                continue
            resolved = _resolve(kind, match, today, month_first=month_first)
            named = normalised[start:end]
            lead = normalised[max(0, start - 20) : start] + ("before " if named.startswith("before ") else "")
            if (
                resolved is not None
                and kind in _DAY_KINDS
                and not _BARE_NUMBER.match(named)
                and _BEFORE.search(lead)
            ):
                resolved = max(today, resolved - timedelta(days=1))
            if resolved is not None and resolved >= today:
                found.append(DayMention(start=start, end=end, day=resolved))
                if kind == "holiday" and _AFTER.search(normalised[max(0, start - 8) : start]):
                    landmarks.append(found[-1])
    if landmarks and len(landmarks) < len(found):
        found = [mention for mention in found if mention not in landmarks]
    return sorted(found, key=lambda mention: mention.start)


def find_dates(normalised: str, today: date, language: str = "en") -> list[date]:
    """Every future day a normalised reply names, in the order they appear."""
    return [mention.day for mention in find_day_mentions(normalised, today, language)]


def choose_promise_day(normalised: str, mentions: list[DayMention]) -> date | None:
    """The day a reply promises: not a negated one, preferably the one a contrast offers instead."""
    if not mentions:
        return None
    named = [
        mention for mention in mentions if not _SPEAKING_NOW.match(normalised[mention.start : mention.end])
    ]
    mentions = named or mentions
    clauses = split_clauses(normalised)
    standing = []
    for mention in mentions:
        clause = clause_at(clauses, mention.start)
        set_aside = _SET_ASIDE_BEFORE.search(normalised, max(0, mention.start - 16), mention.start)
        if not set_aside and (clause is None or not clause.negated_before(mention.start)):
            standing.append((mention, clause))
    if not standing:
        return min(mention.day for mention in mentions)
    offered_instead = [mention for mention, clause in standing if clause is not None and clause.contrastive]
    if offered_instead:
        return min(mention.day for mention in offered_instead)
    # "will pay on Thursday, my salary comes in on Wednesday": the day in the clause about paying.
    paying = [mention for mention, clause in standing if clause is not None and clause.about_paying]
    return min(mention.day for mention in (paying or [mention for mention, _ in standing]))


def resolve_promise_date(normalised: str, today: date, language: str = "en") -> date | None:
    """The day the debtor's next payment is expected, from the days the reply names."""
    return choose_promise_day(normalised, find_day_mentions(normalised, today, language))
