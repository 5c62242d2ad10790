"""Kinds of wording the rules read since the fifth and sixth fresh sets: signs said around the event,
denied signs, stop requests by position, irony, figures set against each other, loose plan wording,
passive payments, and the topic of a reply no cue recognises.

Every reply here is worded afresh for this file; none is copied from a labelled set. All are received
Wednesday 9 December 2026, 10:00 in Johannesburg, unless a test says otherwise.
"""

from datetime import date, datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.text import normalise
from rapport.analysis.vulnerability import vulnerability_reasons
from rapport.models.enums import Intent

RECEIVED_AT = datetime.fromisoformat("2026-12-09T10:00:00+02:00")


def analyse(
    text: str,
    received_at: datetime = RECEIVED_AT,
    timezone: str = "Africa/Johannesburg",
    *,
    rules_only: bool = False,
) -> ReplyAnalysis:
    reply = ReplyToAnalyse(reply_id="kind-1", text=text, received_at=received_at, timezone=timezone)
    return LocalReplyAnalyser(use_learned=not rules_only).analyse(reply)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("the factory shut its doors in July and we were all sent home", "job_loss"),
        ("they are shedding workers and my name was on the list", "job_loss"),
        ("I haven't worked since the shop closed", "job_loss"),
        ("our baby came early and is in an incubator", "illness"),
        ("my uncle was stabbed last month, we are still mourning", "bereavement"),
        ("my gran passed and I had to pay for everything", "bereavement"),
        ("I'm at the end of my rope with all of this", "mental_distress"),
        ("I lie awake at night over these debts", "mental_distress"),
        ("the debt counsellor's form 17 should reach you this week", "debt_review"),
        ("my son has leukemia and is in the cancer ward", "illness"),
        ("I am 84 and my eyes are failing", "elderly"),
    ],
)
def test_signs_said_around_the_event_give_their_reason(text: str, reason: str) -> None:
    """Given a reply that tells what happened around a vulnerability rather than naming it, when
    checked, then the reason is returned."""
    assert reason in vulnerability_reasons(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "I'm not sick, I was just away, will pay Friday",
        "nobody died, I simply forgot",
        "I wasn't retrenched, I changed jobs",
        "not depressed or anything, just busy",
        "can't work out how much I owe",
    ],
)
def test_denied_signs_are_not_signs(text: str) -> None:
    """Given a sign denied where it is said, when checked, then no flag."""
    assert vulnerability_reasons(normalise(text)) == []


def test_a_sign_said_with_a_negation_is_still_a_sign() -> None:
    """Given a sign of what is missing said with a negation, when checked, then it is flagged."""
    assert "food_insecurity" in vulnerability_reasons(normalise("we don't even have money for food"))


def test_a_stop_request_that_opens_the_reply_is_honoured_over_hardship() -> None:
    """Given a reply that opens by asking to stop messages and then reports a bereavement, when analysed,
    then the opt-out wins and the vulnerability is flagged."""
    analysis = analyse("Please stop phoning me, my brother passed away on Sunday")
    assert (analysis.intent, analysis.vulnerable) == (Intent.OPT_OUT, True)


def test_a_stop_request_after_a_payment_claim_stays_the_softer_request() -> None:
    """Given a payment claim followed by a request to stop, when analysed, then the payment claim wins."""
    assert analyse("I cleared this in October so stop messaging me").intent is Intent.PAID_ALREADY


def test_a_bare_stop_ends_contact_unless_it_is_a_plea() -> None:
    """Given a bare 'stop' after a complaint, and a bare 'stop' after distress, when analysed, then the
    first is an opt-out and the second hardship."""
    assert analyse("these reminders every day, stop").intent is Intent.OPT_OUT
    assert analyse("I'm so stressed I can't think, please stop").intent is Intent.HARDSHIP


@pytest.mark.parametrize(
    "text",
    ["oh sure, I'll pay on Friday, in your dreams", "yeah right", "I'll settle it over my dead body"],
)
def test_irony_turns_a_promise_into_a_refusal(text: str) -> None:
    """Given a promise said with irony, when analysed, then it is a refusal with no promise date."""
    analysis = analyse(text)
    assert (analysis.intent, analysis.promise_date) == (Intent.REFUSAL, None)


def test_figures_set_against_each_other_dispute_the_balance() -> None:
    """Given a quoted sum set against another the debtor was told, when analysed, then it is a dispute."""
    assert analyse("Your letter says R2 750 while the shop told me R900").intent is Intent.DISPUTE


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I don't want any further reminders from your company", Intent.OPT_OUT),
        ("Moenie asseblief weer vir my sms nie", Intent.OPT_OUT),
        ("never heard of that lady", Intent.WRONG_PERSON),
        ("There's no Mpho here", Intent.WRONG_PERSON),
        ("It's been paid, look again", Intent.PAID_ALREADY),
        ("I did the transfer an hour ago", Intent.PAID_ALREADY),
        ("I transfered the money on Monday", Intent.PAID_ALREADY),
        ("could we work out an arrangement", Intent.PAYMENT_PLAN_REQUEST),
        ("I'd like to spread the payments over the year", Intent.PAYMENT_PLAN_REQUEST),
        ("I can't afford the whole balance, only part of it", Intent.PAYMENT_PLAN_REQUEST),
        ("What happens if I can't pay?", Intent.BALANCE_QUERY),
        ("what's the total including the fees", Intent.BALANCE_QUERY),
        ("Could your supervisor phone me", Intent.CALLBACK_REQUEST),
        ("I'd rather deal with a real person", Intent.CALLBACK_REQUEST),
        ("The R1 000 will be paid on Friday", Intent.PROMISE_TO_PAY),
    ],
)
def test_wordings_of_each_kind_are_recognised(text: str, intent: Intent) -> None:
    """Given a reply worded in one of the newly read kinds, when analysed, then its intent is returned."""
    assert analyse(text).intent is intent


def test_a_day_and_month_followed_by_i_is_a_date() -> None:
    """Given '15 Jan I will pay', when analysed, then the date is 15 January."""
    assert analyse("On 15 Jan I will pay the arrears").promise_date == date(2027, 1, 15)


def test_a_reply_with_no_cue_is_read_by_its_topic() -> None:
    """Given a reply of some length that no cue recognises, when the rules alone analyse it, then the
    topic its words share decides the intent, at low confidence; with the learned backstop the same
    reply is also flagged for a person to read."""
    text = "the salary situation at home is very difficult lately"
    by_rules = analyse(text, rules_only=True)
    assert (by_rules.intent, by_rules.intent_confidence, by_rules.vulnerable) == (Intent.HARDSHIP, 0.4, False)
    combined = analyse(text)
    assert (combined.intent, combined.vulnerability_reasons) == (Intent.HARDSHIP, ["possible_vulnerability"])


def test_a_short_thank_you_stays_an_acknowledgement_despite_topic_words() -> None:
    """Given a thank-you that mentions the message, when analysed, then it is an acknowledgement."""
    assert analyse("ok thanks, saw the message").intent is Intent.ACKNOWLEDGE


def test_the_month_end_is_the_debtors_month_end() -> None:
    """Given 'end of the month' received at 23:30 UTC on 30 April by a debtor in Johannesburg (already
    1 May there), when analysed, then the promise is 31 May."""
    received_at = datetime.fromisoformat("2027-04-30T23:30:00+00:00")
    assert analyse("I'll pay at the end of the month", received_at).promise_date == date(2027, 5, 31)
