"""Promise dates resolved in the debtor's time zone, relative to when the reply arrived."""

from datetime import date, datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyToAnalyse, resolve_promise_date
from rapport.analysis.text import normalise

FRIDAY = date(2026, 12, 4)
WEDNESDAY_BEFORE_NEW_YEAR = date(2026, 12, 30)
MONDAY = date(2026, 10, 19)


def _promise_date(text: str, today: date, language: str = "en") -> date | None:
    return resolve_promise_date(normalise(text), today, language)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("I will pay on Friday next week", FRIDAY, date(2026, 12, 11)),
        ("I'll pay next Friday", FRIDAY, date(2026, 12, 11)),
        ("I'll pay Friday", FRIDAY, FRIDAY),
        ("I'll pay on Monday", FRIDAY, date(2026, 12, 7)),
        ("I'll pay next Thursday", MONDAY, date(2026, 10, 29)),
        ("pay this Thursday", MONDAY, date(2026, 10, 22)),
        ("will pay fri", MONDAY, date(2026, 10, 23)),
        ("ok ill pay tomorrow", FRIDAY, date(2026, 12, 5)),
        ("will pay 2moro", FRIDAY, date(2026, 12, 5)),
        ("paying today", FRIDAY, FRIDAY),
        ("Sorry I forgot! Paying now", FRIDAY, FRIDAY),
        ("pay the day after tomorrow", FRIDAY, date(2026, 12, 6)),
        ("I'll pay on the 25th", FRIDAY, date(2026, 12, 25)),
        ("I'll pay on the 3rd", FRIDAY, date(2027, 1, 3)),
        ("I'll pay on the 4th", FRIDAY, FRIDAY),
        ("I'll pay on the 5th", WEDNESDAY_BEFORE_NEW_YEAR, date(2027, 1, 5)),
        ("will pay the 31st", date(2026, 4, 10), date(2026, 4, 30)),
        ("will pay month end", FRIDAY, date(2026, 12, 31)),
        ("I'll pay at the end of the month", date(2027, 2, 10), date(2027, 2, 28)),
        ("I'll pay at the end of the month", date(2028, 2, 10), date(2028, 2, 29)),
        ("will pay end of next month", FRIDAY, date(2027, 1, 31)),
        ("I'll pay on the 15th of next month", date(2026, 12, 9), date(2027, 1, 15)),
        ("will pay 2 Jan", FRIDAY, date(2027, 1, 2)),
        ("I'll pay on the 2nd of January", FRIDAY, date(2027, 1, 2)),
        ("I'll make a payment on 20 December", FRIDAY, date(2026, 12, 20)),
        ("I'll pay on 15 December", date(2026, 12, 20), date(2027, 12, 15)),
        ("will pay December 15th", FRIDAY, date(2026, 12, 15)),
        ("Will pay 1/12", date(2026, 11, 20), date(2026, 12, 1)),
        ("Will pay 1/12", FRIDAY, date(2027, 12, 1)),
        ("will pay 5/1/2027", FRIDAY, date(2027, 1, 5)),
        ("I'll pay next week", WEDNESDAY_BEFORE_NEW_YEAR, date(2027, 1, 8)),
        ("I'll pay this week", MONDAY, date(2026, 10, 23)),
        ("I can pay in two weeks", date(2026, 6, 25), date(2026, 7, 9)),
        ("I can pay in 3 days", WEDNESDAY_BEFORE_NEW_YEAR, date(2027, 1, 2)),
        ("i will pay mid month", FRIDAY, date(2026, 12, 15)),
    ],
)
def test_english_expressions_resolve_to_the_named_day(text: str, today: date, expected: date) -> None:
    """Given a debtor's English wording and their local date, when resolved, then it is the day meant."""
    assert _promise_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("Ek sal Vrydag betaal", MONDAY, date(2026, 10, 23)),
        ("Ek sal Maandag betaal", FRIDAY, date(2026, 12, 7)),
        ("Ek sal môre betaal", FRIDAY, date(2026, 12, 5)),
        ("ek betaal more", FRIDAY, date(2026, 12, 5)),
        ("Ek betaal vandag", FRIDAY, FRIDAY),
        ("ek betaal oormôre", FRIDAY, date(2026, 12, 6)),
        ("Ek sal aan die einde van die maand betaal", WEDNESDAY_BEFORE_NEW_YEAR, date(2026, 12, 31)),
        ("Ek betaal op die 25ste", FRIDAY, date(2026, 12, 25)),
        ("Ek sal die 5de betaal", WEDNESDAY_BEFORE_NEW_YEAR, date(2027, 1, 5)),
        ("Ek sal volgende Dinsdag betaal", date(2026, 8, 14), date(2026, 8, 18)),
        ("Ek sal Vrydag volgende week betaal", FRIDAY, date(2026, 12, 11)),
        ("Ek sal volgende week betaal", date(2026, 11, 28), date(2026, 12, 4)),
        ("ek sal 15 Desember betaal", FRIDAY, date(2026, 12, 15)),
    ],
)
def test_afrikaans_expressions_resolve_to_the_named_day(text: str, today: date, expected: date) -> None:
    """Given an Afrikaans reply, when resolved as Afrikaans, then 'môre', 'Vrydag',
    'die 25ste' are understood."""
    assert _promise_date(text, today, "af") == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'll pay on payday",
        "will pay when I get paid",
        "I'll pay when SASSA pays",
        "Can someone phone me after 5pm",
        "Please split it over 3 months",
        "I paid last Friday",
        "I can pay more next time",
        "cancelled in 2022",
    ],
)
def test_replies_that_name_no_day_resolve_to_nothing(text: str) -> None:
    """Given a reply that names no day (payday alone, a time, a count), when resolved,
    then there is no date."""
    assert _promise_date(text, FRIDAY) is None


def test_payday_resolves_when_the_day_is_given() -> None:
    """Given 'payday is the 25th', when resolved, then the promise is the 25th."""
    assert _promise_date("Payday is the 25th, I'll pay then", FRIDAY) == date(2026, 12, 25)


def test_the_earliest_named_day_is_the_promise() -> None:
    """Given two days in one reply, when resolved, then the earlier one is the next expected payment."""
    assert _promise_date("I'll pay some on Friday and the rest on the 25th", date(2026, 12, 9)) == date(
        2026, 12, 11
    )


def _analyse(text: str, received_at: str, timezone: str) -> date | None:
    reply = ReplyToAnalyse(
        reply_id="r-1", text=text, received_at=datetime.fromisoformat(received_at), timezone=timezone
    )
    return LocalReplyAnalyser().analyse(reply).promise_date


def test_a_reply_at_2330_utc_is_already_tomorrow_in_johannesburg() -> None:
    """Given a reply received Friday 23:30 UTC (Saturday 01:30 in Johannesburg),
    when it says 'tomorrow', then the promise is Sunday."""
    assert _analyse("ok will pay tomorrow", "2026-12-04T23:30:00+00:00", "Africa/Johannesburg") == date(
        2026, 12, 6
    )


def test_the_same_instant_is_still_today_in_london() -> None:
    """Given the same instant for a debtor in London (still Friday there), when 'tomorrow', then Saturday."""
    assert _analyse("ok will pay tomorrow", "2026-12-04T23:30:00+00:00", "Europe/London") == date(2026, 12, 5)


def test_a_new_york_debtor_resolves_against_their_own_calendar() -> None:
    """Given 03:00 UTC on 1 December (30 November in New York), when 'the 1st', then 1 December."""
    assert _analyse("I will pay on the 1st", "2026-12-01T03:00:00+00:00", "America/New_York") == date(
        2026, 12, 1
    )


def test_month_end_crosses_into_the_next_month_in_the_debtors_zone() -> None:
    """Given 22:30 UTC on 31 January (1 February in Johannesburg), when 'month end', then 28 February."""
    assert _analyse("Will pay month end", "2027-01-31T22:30:00+00:00", "Africa/Johannesburg") == date(
        2027, 2, 28
    )


def test_friday_said_on_new_years_eve_eve_is_in_the_next_year() -> None:
    """Given a Wednesday 30 December reply, when it says 'Friday',
    then the promise is 1 January of the next year."""
    assert _analyse("ill pay on friday", "2026-12-30T09:15:00+02:00", "Africa/Johannesburg") == date(
        2027, 1, 1
    )


def test_only_a_promise_carries_a_promise_date() -> None:
    """Given a reply that reports a past payment on a date, when analysed, then it has no promise date."""
    assert (
        _analyse("Payment was made on the 1st via EFT", "2026-12-04T10:00:00+02:00", "Africa/Johannesburg")
        is None
    )


TUESDAY = date(2026, 11, 3)


@pytest.mark.parametrize(
    ("text", "today", "expected", "language"),
    [
        (
            "I will be making payment on Monday the 7th of December",
            date(2026, 11, 30),
            date(2026, 12, 7),
            "en",
        ),
        ("I will pay R1 350,00 on Friday, 2 July 2027", date(2027, 6, 30), date(2027, 7, 2), "en"),
        ("I'm going to pay on the twentieth", date(2026, 9, 19), date(2026, 9, 20), "en"),
        ("I'll pay the twenty fifth when I get paid", date(2027, 5, 3), date(2027, 5, 25), "en"),
        ("I'll pay on the second of January", date(2026, 12, 30), date(2027, 1, 2), "en"),
        ("Ek sal die vyf-en-twintigste betaal", TUESDAY, date(2026, 11, 25), "af"),
        ("I will pay after the weekend on monday", date(2027, 1, 15), date(2027, 1, 18), "en"),
        ("I'll pay after the weekend", TUESDAY, date(2026, 11, 9), "en"),
        ("I'll pay you in a fortnight", TUESDAY, date(2026, 11, 17), "en"),
        ("will pay in a week's time", TUESDAY, date(2026, 11, 10), "en"),
        ("ngizokhokha kusasa", TUESDAY, date(2026, 11, 4), "zu"),
        ("ke tla lefa hosane", TUESDAY, date(2026, 11, 4), "st"),
        ("yebo ngizokhokha ngoLwesihlanu", TUESDAY, date(2026, 11, 6), "zu"),
        ("ngizokhokha ngo-30", TUESDAY, date(2026, 11, 30), "zu"),
        ("Goeie more, ek sal volgende Vrydag betaal", TUESDAY, date(2026, 11, 13), "af"),
        ("dis nou Marietjie hier, ek sal more betaal", TUESDAY, date(2026, 11, 4), "af"),
    ],
)
def test_compound_dates_ordinal_words_and_other_languages_resolve(
    text: str, today: date, expected: date, language: str
) -> None:
    """Given a weekday with its date, an ordinal in words, 'after the weekend', a fortnight, isiZulu and
    Sesotho day words, or Afrikaans 'goeie more' and 'nou', when resolved, then it is the day meant."""
    assert _promise_date(text, today, language) == expected


@pytest.mark.parametrize(
    "text",
    ["I'll pay the first thing I can", "the second payment bounced", "Goeie more"],
)
def test_ordinal_words_that_are_not_days_and_greetings_resolve_to_nothing(text: str) -> None:
    """Given 'the first thing', 'the second payment' or a greeting, when resolved, then no day."""
    assert _promise_date(text, TUESDAY, "af" if text.startswith("Goeie") else "en") is None


@pytest.mark.parametrize(
    ("text", "today", "expected", "language"),
    [
        ("Friday week I'll pay the lot", date(2027, 5, 3), date(2027, 5, 14), "en"),
        ("Paying Friday after next", date(2027, 8, 2), date(2027, 8, 13), "en"),
        ("I'll pay a week on Friday", date(2027, 8, 6), date(2027, 8, 13), "en"),
        ("Ek betaal Vrydag oor 'n week", date(2027, 4, 19), date(2027, 4, 30), "af"),
        ("I'll pay next weekend", date(2027, 4, 21), date(2027, 5, 1), "en"),
        ("will pay EOM", date(2027, 9, 2), date(2027, 9, 30), "en"),
        ("I'll settle by the end of the year", date(2027, 7, 29), date(2027, 12, 31), "en"),
        ("pay you by end of day", date(2027, 4, 14), date(2027, 4, 14), "en"),
        ("Ek betaal oor twee weke", date(2027, 8, 10), date(2027, 8, 24), "af"),
        ("will pay tmw", date(2027, 8, 10), date(2027, 8, 11), "en"),
    ],
)
def test_colloquial_days_resolve(text: str, today: date, expected: date, language: str) -> None:
    """Given "Friday week", "a week on Friday", "Vrydag oor 'n week", "next weekend", "EOM", "end of the
    year", "end of day", "oor twee weke" or "tmw", when resolved, then it is the day meant: a weekday a
    week after its next occurrence, the Saturday of next week, the last day of the month or year, today,
    fourteen days on, tomorrow."""
    assert _promise_date(text, today, language) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("I'll have it settled before the 20th", date(2027, 3, 2), date(2027, 3, 19)),
        ("Will pay before Friday", date(2027, 3, 2), date(2027, 3, 4)),
        ("Ek betaal voor die 10de", date(2027, 3, 2), date(2027, 3, 9)),
        ("I undertake to pay on or before 31 March", date(2027, 3, 2), date(2027, 3, 31)),
        ("I will pay before the end of the month", date(2027, 3, 2), date(2027, 3, 31)),
        ("Ngizokhokha ngoLwesihlanu olandelayo", date(2027, 3, 2), date(2027, 3, 12)),
        ("Ke tla lefa ka Labohlano e latelang", date(2027, 3, 2), date(2027, 3, 12)),
        ("Ndiza kuhlawula kwiveki ezayo", date(2027, 3, 2), date(2027, 3, 12)),
        ("Ngizokhokha ekupheleni kwenyanga", date(2027, 3, 2), date(2027, 3, 31)),
        ("Ke tla duela bofelong jwa kgwedi", date(2027, 3, 2), date(2027, 3, 31)),
        ("Ke tla duela ka di 15", date(2027, 3, 2), date(2027, 3, 15)),
        ("Ndiza kuhlawula ngomhla wama-20", date(2027, 3, 2), date(2027, 3, 20)),
        ("Re tla lefa kamoso", date(2027, 3, 2), date(2027, 3, 3)),
    ],
)
def test_days_before_a_day_and_days_in_nguni_and_sotho_tswana_resolve(
    text: str, today: date, expected: date
) -> None:
    """Given "before the 20th" (the day before; "on or before" and a window keep their day), "the
    following Friday" in isiZulu and Sesotho, next week and month end in isiZulu, isiXhosa and Setswana,
    "ka di 15", "ngomhla wama-20" and Setswana "kamoso", when resolved, then it is the day meant."""
    assert _promise_date(text, today) == expected
