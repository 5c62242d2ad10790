"""Reading a reply clause by clause: negated and contrasted days, and the rules that need clauses."""

from datetime import date, datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyToAnalyse
from rapport.analysis.clauses import clause_at, split_clauses
from rapport.analysis.text import normalise

TUESDAY = "2026-11-03T09:12:00+02:00"


def analyse(text: str, received_at: str = TUESDAY, timezone: str = "Africa/Johannesburg"):
    reply = ReplyToAnalyse(
        reply_id="c-1", text=text, received_at=datetime.fromisoformat(received_at), timezone=timezone
    )
    return LocalReplyAnalyser().analyse(reply)


def test_clauses_split_at_punctuation_commas_and_contrast_but_not_inside_numbers() -> None:
    """Given a reply with a comma, a 'but' and a sum with a thousands comma, when split, then the
    clauses fall at the comma and before 'but', and the sum stays whole."""
    text = normalise("Can't make it Friday, I'll pay R1,500 on Monday but not before")
    clauses = [clause.text for clause in split_clauses(text)]
    assert clauses == ["cannot make it friday", "i will pay r1,500 on monday", "but not before"]


def test_a_clause_opened_by_but_or_saying_instead_is_contrastive() -> None:
    """Given 'but' and 'instead' clauses, when split, then both are contrastive and the first is not."""
    clauses = split_clauses(normalise("not today, Monday instead but only R200"))
    assert [clause.contrastive for clause in clauses] == [False, True, True]


def test_negation_counts_only_before_the_position_and_within_the_clause() -> None:
    """Given 'I will pay Friday, not Monday', when asked, then Monday is negated and Friday is not."""
    text = normalise("I will pay Friday, not Monday")
    clauses = split_clauses(text)
    friday, monday = text.index("friday"), text.index("monday")
    assert clause_at(clauses, friday).negated_before(friday) is False  # type: ignore[union-attr]
    assert clause_at(clauses, monday).negated_before(monday) is True  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can't make it on Friday, I'll pay Monday instead", date(2026, 11, 9)),
        ("not this friday but next friday", date(2026, 11, 13)),
        ("I won't be able to pay today but tomorrow for sure", date(2026, 11, 4)),
        ("I will pay on the 28th, not the 25th", date(2026, 11, 28)),
        ("I'll pay on the 5th instead of the 25th", date(2026, 11, 5)),
        ("will pay on thursday, my salary comes in on wednesday night", date(2026, 11, 5)),
        ("I'm at work now so I'll do it tomorrow", date(2026, 11, 4)),
    ],
)
def test_the_promise_day_is_the_one_offered_not_the_one_turned_down(text: str, expected: date) -> None:
    """Given a reply naming a day it turns down and a day it offers, when analysed, then it is a promise
    for the offered day."""
    analysis = analyse(text)
    assert (analysis.intent.value, analysis.promise_date) == ("promise_to_pay", expected)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # history, then a commitment
        ("I paid last month but not this one, I'll pay it on Friday", "promise_to_pay"),
        ("I paid R500 last week and I'll pay another R500 on Friday", "promise_to_pay"),
        ("I paid on Friday", "paid_already"),
        # a time or place for calls
        ("stop calling me at work, call after 5", "callback_request"),
        ("Please don't call during work hours. After 17:00 is fine", "callback_request"),
        ("Stop calling me, rather whatsapp", "opt_out"),
        # an undated wish gives way to a request
        ("pls send me the bank details so i can pay", "balance_query"),
        ("Can you call me? I want to settle but need to discuss the discount", "callback_request"),
        ("I want to settle on Friday, can you call me?", "promise_to_pay"),
        # a question about a running plan
        ("Could you tell me how many instalments are left on my plan?", "balance_query"),
        ("Can I pay in instalments?", "payment_plan_request"),
        # a bare day answers a reminder; a question with a day does not
        ("ok month end", "promise_to_pay"),
        ("is the account up to date now?", "balance_query"),
    ],
)
def test_clause_rules_pick_what_the_agent_acts_on(text: str, intent: str) -> None:
    """Given replies whose clauses pull different ways, when analysed, then the intent an agent acts on
    wins."""
    assert analyse(text).intent.value == intent


def test_rescheduling_does_not_override_a_vulnerable_hardship() -> None:
    """Given a job loss with a rescheduled day, when analysed, then it is still vulnerable hardship."""
    analysis = analyse("I lost my job so not today, but I'll try on Friday")
    assert (analysis.intent.value, analysis.vulnerable, analysis.promise_date) == ("hardship", True, None)
