"""Kinds of wording the rules read since the seventh fresh set: stop requests, balance questions, calls,
plans, refusals, disputes and vulnerability in isiZulu and isiXhosa; formal and legal wording from
Britain and the US (withdrawn consent, debt validation, bankruptcy, IVAs, benefits, cheques in the
mail); words of a sign used for something else; sums in dollars and pounds; US numeric dates.

Every reply here is worded afresh for this file; none is copied from a labelled set. The rules are
tested alone, so a change in the learned backstop cannot hide a rule that stopped working. All are
received Wednesday 9 December 2026, 10:00 in Johannesburg, unless a test says otherwise.
"""

from datetime import date, datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.amounts import find_offered_amount_cents
from rapport.analysis.text import normalise
from rapport.analysis.vulnerability import vulnerability_reasons
from rapport.models.enums import Intent

RECEIVED_AT = datetime.fromisoformat("2026-12-09T10:00:00+02:00")


def analyse(text: str, timezone: str = "Africa/Johannesburg") -> ReplyAnalysis:
    reply = ReplyToAnalyse(reply_id="kind-h", text=text, received_at=RECEIVED_AT, timezone=timezone)
    return LocalReplyAnalyser(use_learned=False).analyse(reply)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hou op met julle oproepe asseblief", Intent.OPT_OUT),
        ("Musa ukundithumelela ii-SMS", Intent.OPT_OUT),
        ("Please cease all texts and emails", Intent.OPT_OUT),
        ("Letters by post only from now on please", Intent.OPT_OUT),
        ("I withdraw consent to be contacted by phone", Intent.OPT_OUT),
        ("Message me once more and I will block you", Intent.OPT_OUT),
        ("Sawubona, ngikweleta malini manje?", Intent.BALANCE_QUERY),
        ("Kan ek by Shoprite inbetaal?", Intent.BALANCE_QUERY),
        ("Can I pay by credit card over the phone?", Intent.BALANCE_QUERY),
        ("Where did this R2 400 come from?", Intent.BALANCE_QUERY),
        ("Please send an itemised statement of the charges", Intent.BALANCE_QUERY),
        ("Ngicela ningifonele kusasa", Intent.CALLBACK_REQUEST),
        ("Ndicela ninditsalele umnxeba emva kwesithathu", Intent.CALLBACK_REQUEST),
        ("Call me on the phone please", Intent.CALLBACK_REQUEST),
        ("Ngicela ukukhokha kancane kancane", Intent.PAYMENT_PLAN_REQUEST),
        ("R250 ngenyanga, kulungile?", Intent.PAYMENT_PLAN_REQUEST),
        ("half now, half at month end", Intent.PAYMENT_PLAN_REQUEST),
        ("Ngizokhokha ngenyanga ezayo", Intent.PROMISE_TO_PAY),
        ("Ngeke!", Intent.REFUSAL),
        ("Andizukuhlawula tu", Intent.REFUSAL),
        ("That's not happening", Intent.REFUSAL),
        ("I have never been a customer of yours", Intent.DISPUTE),
        ("Whoever opened this account used a fake ID", Intent.DISPUTE),
        ("Angizange ngivule i-akhawunti kini", Intent.DISPUTE),
        ("I request validation of this debt under federal law", Intent.DISPUTE),
        ("My medical aid was meant to cover this bill", Intent.DISPUTE),
        ("I posted a cheque to your office last week", Intent.PAID_ALREADY),
        ("The check is in the mail", Intent.PAID_ALREADY),
        ("Already done, check your account", Intent.PAID_ALREADY),
        ("Nobody by the name of Sipho lives here", Intent.WRONG_PERSON),
        ("You sent this to me in error", Intent.WRONG_PERSON),
        ("Andimazi lo mntu", Intent.WRONG_PERSON),
    ],
)
def test_wordings_of_each_kind_are_recognised(text: str, intent: Intent) -> None:
    """Given a reply worded in one of the newly read kinds, when the rules analyse it, then its intent is
    returned."""
    assert analyse(text).intent is intent


def test_a_document_saying_the_account_is_closed_reports_a_payment() -> None:
    """Given a payment backed by a letter saying the account is closed, when analysed, then it is a
    payment already made, not a dispute."""
    analysis = analyse("I settled it in full in March and got an email saying the account is closed")
    assert analysis.intent is Intent.PAID_ALREADY


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Ndigulile kakhulu", "illness"),
        ("Umama ulele esibhedlela", "hospital"),
        ("Ngilahlekelwe ngubaba ngesonto eledlule", "bereavement"),
        ("Ndiphelelwe ngumsebenzi ngoJanuwari", "job_loss"),
        ("Andinamsebenzi okwangoku", "job_loss"),
        ("We filed for bankruptcy in March", "debt_review"),
        ("I'm in a debt relief order until next year", "debt_review"),
        ("The bank repossessed our home", "housing_loss"),
        ("We're in emergency accommodation with the council", "housing_loss"),
        ("I get Carer's Allowance for looking after my son", "disability"),
        ("Since the divorce I'm on Universal Credit", "social_grant_only"),
        ("Ons leef van die kindertoelaag", "social_grant_only"),
        ("the stress of this is making me sick", "mental_distress"),
    ],
)
def test_signs_in_other_languages_and_systems_give_their_reason(text: str, reason: str) -> None:
    """Given a vulnerability told in isiZulu or isiXhosa, or in the terms of British and US insolvency,
    housing and benefits, when checked, then the reason is returned."""
    assert reason in vulnerability_reasons(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "Can you send a breakdown of my account?",
        "My gym contract ended in May and you kept debiting me",
        "The shop went bust years ago, why are you still sending this",
        "This is a doctor's bill from 2022 that I already paid",
        "They repossessed the car last year",
    ],
)
def test_words_of_a_sign_used_for_something_else_are_no_sign(text: str) -> None:
    """Given a sign's words used for the account, a service contract, a closure long past or a car, when
    checked, then no flag."""
    assert vulnerability_reasons(normalise(text)) == []


def test_a_bill_disputed_with_the_insurer_is_a_dispute_without_a_flag() -> None:
    """Given a hospital bill the debtor says the insurer should have paid, when analysed, then it is a
    dispute and the debtor is not flagged."""
    analysis = analyse("That was a hospital bill, my insurer was supposed to pay it")
    assert (analysis.intent, analysis.vulnerable) == (Intent.DISPUTE, False)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("I can't pay $200 a month, maybe $80", 8_000),
        ("\u00a360 a month is what I can manage", 6_000),
        ("Would you take $40/week?", 4_000),
        ("I get paid on Fridays, so R200 each week", 20_000),
        ("I will settle the full amount of R3 200 on the 30th", 320_000),
        ("I live on R1 800 a month from the grant", None),
        ("I cannot do the whole R9 000 at once", None),
        ("I can't pay \u00a375 a month", None),
    ],
)
def test_sums_abroad_refused_or_lived_on(text: str, cents: int | None) -> None:
    """Given sums in dollars and pounds, a sum after the clause about pay day, and sums refused or lived
    on, when read, then only the offered sum is returned."""
    assert find_offered_amount_cents(text) == cents


@pytest.mark.parametrize(
    ("text", "timezone", "expected"),
    [
        ("I'll pay on 3/4", "America/New_York", date(2027, 3, 4)),
        ("I'll pay on 3/4", "Africa/Johannesburg", date(2027, 4, 3)),
        ("I'll pay on 25/12", "America/Chicago", date(2026, 12, 25)),
        ("I will pay on 12/18", "Europe/London", date(2026, 12, 18)),
    ],
)
def test_numeric_dates_follow_the_debtors_convention(text: str, timezone: str, expected: date) -> None:
    """Given a numeric date, when analysed for a debtor in the Americas, then it is month first, elsewhere
    day first; a date that cannot be read in that order is read in the other."""
    assert analyse(text, timezone).promise_date == expected
