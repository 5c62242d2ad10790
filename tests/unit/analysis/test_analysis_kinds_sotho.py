"""Kinds of wording the rules read since the eighth fresh set: Setswana and Sesotho basics (paying, paid,
refusing, parts, not my debt, wrong number, calls, stop messages, weekdays), the same in isiZulu and
isiXhosa where they were missing, contact moved to another channel, a stop request that is a sentence of
its own, polite and Afrikaans refusals, payments told in the passive, questions about what a payment
would cost, debts written off or discharged, natural disasters, and sums that are an age, refused after
they are named or described rather than offered.

Every reply here is worded afresh for this file; none is copied from a labelled set. The rules are
tested alone, so a change in the learned backstop cannot hide a rule that stopped working. All are
received Wednesday 9 December 2026, 10:00 in Johannesburg.
"""

from datetime import date, datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.amounts import find_offered_amount_cents
from rapport.analysis.text import normalise
from rapport.analysis.vulnerability import vulnerability_reasons
from rapport.models.enums import Intent

RECEIVED_AT = datetime.fromisoformat("2026-12-09T10:00:00+02:00")


def analyse(text: str) -> ReplyAnalysis:
    reply = ReplyToAnalyse(
        reply_id="kind-i", text=text, received_at=RECEIVED_AT, timezone="Africa/Johannesburg"
    )
    return LocalReplyAnalyser(use_learned=False).analyse(reply)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Setswana and Sesotho.
        ("Re tla le duelela", Intent.PROMISE_TO_PAY),
        ("Ke setse ke e duetse", Intent.PAID_ALREADY),
        ("Re sa tswa go duela", Intent.PAID_ALREADY),
        ("Ga re kitla re duela", Intent.REFUSAL),
        ("Nke ke ka patala sekoloto seo", Intent.REFUSAL),
        ("Ke kopa go duela ka dikarolwana", Intent.PAYMENT_PLAN_REQUEST),
        ("Molato o ga se wa me", Intent.DISPUTE),
        ("Ha ke kolote letho", Intent.DISPUTE),
        ("O romela nomoro e e sa siamang", Intent.WRONG_PERSON),
        ("Ga ke Lerato, ke mang yo o mo batlang?", Intent.WRONG_PERSON),
        ("Ke kopa o nteletse mantsiboa", Intent.CALLBACK_REQUEST),
        ("O se ka wa nthomelela melaetsa gape", Intent.OPT_OUT),
        # isiZulu and isiXhosa.
        ("Sendihlawule kudala", Intent.PAID_ALREADY),
        ("Unenombolo engafanele mngane", Intent.WRONG_PERSON),
        ("Niphosisile umuntu", Intent.WRONG_PERSON),
        ("Angiyena uSipho lowo", Intent.WRONG_PERSON),
        ("Ngicela ningishayele ntambama", Intent.CALLBACK_REQUEST),
        ("Ndicela ningaphindi nindifonele", Intent.OPT_OUT),
        # Spanish.
        ("Me despidieron y no tengo dinero", Intent.HARDSHIP),
        # Contact moved to another channel or a workplace, and shorthand stop words.
        ("Emails only please, no phone calls", Intent.OPT_OUT),
        ("Don't ring my office ever again", Intent.OPT_OUT),
        ("unsub", Intent.OPT_OUT),
        ("Quit calling me", Intent.OPT_OUT),
        # Refusals: "nothing to discuss" is no shortage; Afrikaans and polite refusals.
        ("I have nothing to discuss with you. Not one cent.", Intent.REFUSAL),
        ("Jy kry nie een rand nie", Intent.REFUSAL),
        ("No thanks, I'm fine", Intent.REFUSAL),
        # What is left, said as a sum.
        ("I've got R25 to my name till month end", Intent.HARDSHIP),
        # Payments told in the passive or by who takes them.
        ("Payment in full was wired on 2 November", Intent.PAID_ALREADY),
        ("Full payment was posted by cheque on the 1st", Intent.PAID_ALREADY),
        ("My employer takes it off my salary each month", Intent.PAID_ALREADY),
        # Questions about the sum, with a day, a discount or interest.
        ("How much to pay it off on Friday?", Intent.BALANCE_QUERY),
        ("Is hierdie bedrag met of sonder die fooie", Intent.BALANCE_QUERY),
        ("Die totaal sonder rente asseblief", Intent.BALANCE_QUERY),
        ("who is the creditor on this one", Intent.BALANCE_QUERY),
        ("Do I get a discount if I pay it off in full?", Intent.BALANCE_QUERY),
        ("How much remains? I believed it was nearly paid", Intent.BALANCE_QUERY),
        # Disputes: written off, discharged, billed to the insurer, never delivered.
        ("The creditor wrote the debt off in 2021 after my complaint", Intent.DISPUTE),
        ("This was discharged in my Chapter 7 case last year", Intent.DISPUTE),
        ("The X-ray bill should have been billed to my insurer", Intent.DISPUTE),
        ("The fridge was never delivered", Intent.DISPUTE),
        # Plans by the calendar month.
        ("Could I do \u00a325 pcm?", Intent.PAYMENT_PLAN_REQUEST),
    ],
)
def test_wordings_of_each_kind_are_recognised(text: str, intent: Intent) -> None:
    """Given a reply worded in one of the newly read kinds, when the rules analyse it, then its intent is
    returned."""
    assert analyse(text).intent is intent


@pytest.mark.parametrize(
    ("text", "intent", "vulnerable"),
    [
        ("I was made redundant in May. Please stop phoning me.", Intent.OPT_OUT, True),
        ("I was made redundant in May, please stop phoning me", Intent.HARDSHIP, True),
        ("Hurricane season wrecked us, the storm ripped off our roof", Intent.HARDSHIP, True),
    ],
)
def test_a_stop_request_of_its_own_sentence_wins_over_hardship(
    text: str, intent: Intent, vulnerable: bool
) -> None:
    """Given a vulnerable reply with a stop request, when it is a sentence of its own it is an opt-out (the
    debtor is still flagged); after a comma the hardship shows; a storm that took the roof is hardship."""
    analysis = analyse(text)
    assert (analysis.intent, analysis.vulnerable) == (intent, vulnerable)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Monna wa me o latlhegetswe ke tiro", "job_loss"),
        ("Ga ke sa bereke ka ntlha ya bolwetse", "job_loss"),
        ("Perdimos el empleo en octubre", "job_loss"),
        ("A tornado flattened our street", "disaster"),
        ("We lost our son in the summer", "bereavement"),
        ("My car was repossessed so I can't get to work anymore", "job_loss"),
        ("We're eating porridge every day until payday", "food_insecurity"),
    ],
)
def test_signs_in_other_languages_and_events_give_their_reason(text: str, reason: str) -> None:
    """Given job loss in Setswana, Sesotho or Spanish or as no way to get to work, a natural disaster, a
    child lost or living on a staple, when checked, then the reason is returned."""
    assert reason in vulnerability_reasons(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "I have a check-up with the doctor tomorrow but will pay Friday",
        "The debt was discharged in my bankruptcy in 2018",
        "Payroll deducts it every month under a garnishee order",
        "The hospital bill was supposed to go to my insurance, the hospital is in-network",
    ],
)
def test_words_of_a_sign_used_for_something_else_are_no_sign(text: str) -> None:
    """Given a routine check-up, a bankruptcy that discharged the debt, a garnishee order paying it, or a
    bill from an in-network hospital, when checked, then no flag."""
    assert vulnerability_reasons(normalise(text)) == []


@pytest.mark.parametrize(
    ("text", "require_offer_words", "cents"),
    [
        ("I am 72 on a state pension", False, None),
        ("$1,800 up front isn't doable for us", False, None),
        ("I'm not in a position to settle the \u00a3900, but \u00a360 a month is fine", False, 6_000),
        ("Ek kan nie meer as R80 'n maand betaal nie", True, 8_000),
        ("I get SSDI. That is $1,100 a month", True, None),
        ("Ek sal R150 volgende Vrydag probeer betaal", True, 15_000),
    ],
)
def test_ages_refused_and_described_sums_are_not_offers(
    text: str, require_offer_words: bool, cents: int | None
) -> None:
    """Given an age, a sum refused after it is named, a ceiling in Afrikaans, a sum that describes an
    income, and an Afrikaans offer with its day, when read, then only the offered sum is returned."""
    assert find_offered_amount_cents(text, require_offer_words=require_offer_words) == cents


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ke tla go duela ka Labone", date(2026, 12, 10)),
        ("Ke tla duela ka Mosupologo", date(2026, 12, 14)),
        ("Ndizohlawula ngoMvulo", date(2026, 12, 14)),
        ("Ima settle it sun", date(2026, 12, 13)),
        ("Ok paying it rn", date(2026, 12, 9)),
    ],
)
def test_promises_name_their_day(text: str, expected: date) -> None:
    """Given a promise with a Setswana or isiXhosa weekday, a short weekday straight after paying, or "rn",
    when analysed, then it is a promise for that day."""
    analysis = analyse(text)
    assert (analysis.intent, analysis.promise_date) == (Intent.PROMISE_TO_PAY, expected)
