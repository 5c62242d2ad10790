"""Phrasings found by probing the rules with fresh replies after the first version was written.

These are regression cases, not a measure of accuracy. Three probes of 65, 53 and 51 replies were
each labelled, run once, and only then had their misses fixed; on first sight the rules scored 0.79,
0.83 and 0.75 intent accuracy on them, which is the better guide to accuracy on unseen wording than
the dev and held-out figures. All received Wednesday 9 December 2026, 10:00 in Johannesburg.
"""

from datetime import date, datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyToAnalyse

RECEIVED_AT = datetime.fromisoformat("2026-12-09T10:00:00+02:00")


@pytest.mark.parametrize(
    ("text", "intent", "promise_date", "amount_cents", "vulnerable"),
    [
        ("I will pay the outstanding R650 on Monday the 14th", "promise_to_pay", "2026-12-14", 65000, False),
        ("Can i pay on the 1st of January pls", "promise_to_pay", "2027-01-01", None, False),
        ("Ill pay after the 15th", "promise_to_pay", "2026-12-15", None, False),
        ("sorry was at a funeral, will pay tomorrow", "hardship", None, None, True),
        ("Hey, I'll pay it off completely on Friday", "promise_to_pay", "2026-12-11", None, False),
        (
            "My salary is paid on the 25th, I'll pay you R1000 then",
            "promise_to_pay",
            "2026-12-25",
            100000,
            False,
        ),
        ("I'll see what I can do by month end", "promise_to_pay", "2026-12-31", None, False),
        ("Going to pay later today", "promise_to_pay", "2026-12-09", None, False),
        ("Ek sal dit teen die einde van die week betaal", "promise_to_pay", "2026-12-11", None, False),
        ("Ek sal jou volgende Vrydag betaal", "promise_to_pay", "2026-12-18", None, False),
        ("Transfer done. Please confirm receipt", "paid_already", None, None, False),
        ("I paid R200 yesterday, please update the balance", "paid_already", None, None, False),
        ("I settled the account in October", "paid_already", None, None, False),
        ("The money went off my account on the 1st", "paid_already", None, None, False),
        ("I can only manage R300 per month, please accept", "payment_plan_request", None, 30000, False),
        ("Can you spread it over 12 months", "payment_plan_request", None, None, False),
        ("I'd like to make an arrangement", "payment_plan_request", None, None, False),
        ("Ek kan net R150 elke maand betaal", "payment_plan_request", None, 15000, False),
        # Hardship with no sign of vulnerability to the rules; the learned backstop flags it for a person to
        # read (a false flag by this probe's labels, an accepted price of vulnerability recall).
        ("I'm battling to make ends meet", "hardship", None, None, True),
        ("I am currently unemployed and looking for work", "hardship", None, None, True),
        ("my mom is sick and I'm looking after her full time", "hardship", None, None, True),
        ("I have been diagnosed with TB", "hardship", None, None, True),
        ("Ek het kanker", "hardship", None, None, True),
        ("Our house burnt down last week", "hardship", None, None, True),
        ("i am under debt review since 2024", "hardship", None, None, True),
        ("This is identity fraud", "dispute", None, None, False),
        ("I did not take this contract", "dispute", None, None, False),
        ("The interest is illegal, I won't accept it", "dispute", None, None, False),
        ("I returned the goods and was told the account was closed", "dispute", None, None, False),
        ("Ek betwis hierdie skuld", "dispute", None, None, False),
        ("Stop texting me", "opt_out", None, None, False),
        ("Please take me off your list", "opt_out", None, None, False),
        ("Opt-out", "opt_out", None, None, False),
        ("NO MORE MESSAGES PLEASE", "opt_out", None, None, False),
        ("Please call me back on this number", "callback_request", None, None, False),
        ("I'd like to speak to your manager", "callback_request", None, None, False),
        ("Can someone from your office contact me?", "callback_request", None, None, False),
        ("This is the wrong number", "wrong_person", None, None, False),
        (
            "I bought this sim card last month, I don't know who you're looking for",
            "wrong_person",
            None,
            None,
            False,
        ),
        ("The person you're looking for doesn't stay here", "wrong_person", None, None, False),
        ("How much is left on my account?", "balance_query", None, None, False),
        ("What happens if I don't pay?", "balance_query", None, None, False),
        ("Please send me your banking details", "balance_query", None, None, False),
        ("Can I pay with SnapScan?", "balance_query", None, None, False),
        ("I will not pay a cent", "refusal", None, None, False),
        ("Do your worst", "refusal", None, None, False),
        ("Stop wasting your time, I'm not paying", "refusal", None, None, False),
        ("Alright thanks", "acknowledge", None, None, False),
        ("Will do, thanks", "acknowledge", None, None, False),
        ("Got it 👍", "acknowledge", None, None, False),
        ("Ek het gister R500 inbetaal", "paid_already", None, None, False),
        ("Can I do R150 every two weeks", "payment_plan_request", None, 15000, False),
        ("Kan ek maandeliks R200 betaal totdat dit klaar is?", "payment_plan_request", None, 20000, False),
        # Flagged by the learned backstop too, as above.
        ("My hours were cut at work and I can barely pay rent", "hardship", None, None, True),
        ("my son was murdered last month", "hardship", None, None, True),
        ("You charged me R900 extra for nothing, I want it reversed", "dispute", None, None, False),
        ("Ek het nooit so 'n rekening oopgemaak nie", "dispute", None, None, False),
        ("STOP ALL MESSAGES", "opt_out", None, None, False),
        ("Kan julle my asseblief skakel", "callback_request", None, None, False),
        ("I'd like to discuss this with someone over the phone", "callback_request", None, None, False),
        ("Hierdie is nie Johan se nommer nie", "wrong_person", None, None, False),
        ("I'm not paying anything until you stop calling my work", "refusal", None, None, False),
        ("ja ok ek sal dit Maandag sort", "promise_to_pay", "2026-12-14", None, False),
        ("Money will be there on the 24th", "promise_to_pay", "2026-12-24", None, False),
        (
            "I've been paying R300 every month already, why are you still sending these",
            "paid_already",
            None,
            None,
            False,
        ),
        ("Ek wil 'n betalingsooreenkoms maak", "payment_plan_request", None, None, False),
        ("I am on maternity leave with no pay", "hardship", None, None, True),
        (
            "My husband left and I have three kids to feed, I cant afford anything",
            "hardship",
            None,
            None,
            True,
        ),
        ("I only took R2000, how is it now R9000?", "dispute", None, None, False),
        ("I don't recognise this debt", "dispute", None, None, False),
        ("Ek erken nie hierdie skuld nie", "dispute", None, None, False),
        ("Ek is nie Pieter nie", "wrong_person", None, None, False),
    ],
)
def test_probed_phrasings_are_understood(
    text: str, intent: str, promise_date: str | None, amount_cents: int | None, vulnerable: bool
) -> None:
    """Given a probed phrasing, when analysed, then intent, promise date, amount and vulnerability match."""
    reply = ReplyToAnalyse(
        reply_id="probe", text=text, received_at=RECEIVED_AT, timezone="Africa/Johannesburg"
    )
    analysis = LocalReplyAnalyser().analyse(reply)
    expected_date = date.fromisoformat(promise_date) if promise_date else None
    assert (analysis.intent.value, analysis.promise_date, analysis.amount_cents, analysis.vulnerable) == (
        intent,
        expected_date,
        amount_cents,
        vulnerable,
    )


def test_a_promise_on_grant_day_is_flagged_for_care_whatever_intent_the_backstop_gives() -> None:
    """Given "I'll make payment on the 3rd when SASSA pays", when analysed, then the debtor is flagged as
    vulnerable (living on a grant), so the journey holds the reply for a person; the rules read a promise
    for the 3rd, and the labelled sets read every grant-only reply as hardship, so the learned backstop may
    give either, and a promise keeps its date."""
    reply = ReplyToAnalyse(
        reply_id="probe", text="I'll make payment on the 3rd when SASSA pays", received_at=RECEIVED_AT,
        timezone="Africa/Johannesburg",
    )
    analysis = LocalReplyAnalyser().analyse(reply)

    assert analysis.vulnerable
    assert analysis.intent.value in ("promise_to_pay", "hardship")
    if analysis.intent.value == "promise_to_pay":
        assert analysis.promise_date == date(2027, 1, 3)
