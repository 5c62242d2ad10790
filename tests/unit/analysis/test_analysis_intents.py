"""Each of the eleven intents, in English and Afrikaans, and which one wins when several appear."""

from datetime import datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyAnalysis, ReplyToAnalyse
from rapport.models.enums import Intent, Sentiment


def analyse(text: str, language_hint: str | None = None, *, rules_only: bool = False) -> ReplyAnalysis:
    reply = ReplyToAnalyse(
        reply_id="r-1",
        text=text,
        received_at=datetime.fromisoformat("2026-12-09T10:00:00+02:00"),
        timezone="Africa/Johannesburg",
        language_hint=language_hint,
    )
    return LocalReplyAnalyser(use_learned=not rules_only).analyse(reply)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I will pay on Friday", Intent.PROMISE_TO_PAY),
        ("ok ill pay R500 2moro", Intent.PROMISE_TO_PAY),
        ("Can I pay next Wednesday?", Intent.PROMISE_TO_PAY),
        ("Payment will be made on the 25th", Intent.PROMISE_TO_PAY),
        ("Can you give me till month end?", Intent.PROMISE_TO_PAY),
        ("Ek sal Vrydag betaal", Intent.PROMISE_TO_PAY),
        ("ek sal probeer om Vrydag te betaal", Intent.PROMISE_TO_PAY),
        ("i paid yesterday already check ur system", Intent.PAID_ALREADY),
        ("Thank you, paid", Intent.PAID_ALREADY),
        ("The debit order went off yesterday already", Intent.PAID_ALREADY),
        ("Ek het klaar betaal", Intent.PAID_ALREADY),
        ("is there an option to pay in instalments", Intent.PAYMENT_PLAN_REQUEST),
        ("can I pay R300 per month until it's settled", Intent.PAYMENT_PLAN_REQUEST),
        ("Will pay half now and the rest end of January", Intent.PAYMENT_PLAN_REQUEST),
        ("Kan ek dit in paaiemente betaal?", Intent.PAYMENT_PLAN_REQUEST),
        ("I cant afford this right now", Intent.HARDSHIP),
        ("I can't pay this month", Intent.HARDSHIP),
        ("Ek kan nie nou betaal nie, ek sukkel", Intent.HARDSHIP),
        ("This is not my account. I never opened anything with you", Intent.DISPUTE),
        ("Someone used my ID fraudulently", Intent.DISPUTE),
        ("Dit is nie my rekening nie", Intent.DISPUTE),
        ("STOP", Intent.OPT_OUT),
        ("Unsubscribe", Intent.OPT_OUT),
        ("Please only email me, no more SMS", Intent.OPT_OUT),
        ("Moenie my weer kontak nie", Intent.OPT_OUT),
        ("call me back plz", Intent.CALLBACK_REQUEST),
        ("I want to speak to a consultant about this", Intent.CALLBACK_REQUEST),
        ("Bel my asseblief", Intent.CALLBACK_REQUEST),
        ("Wrong number, I don't know this person", Intent.WRONG_PERSON),
        ("I'm not Thabo", Intent.WRONG_PERSON),
        ("Verkeerde nommer", Intent.WRONG_PERSON),
        ("whats my outstanding balance", Intent.BALANCE_QUERY),
        ("The link doesn't work, how else can I pay?", Intent.BALANCE_QUERY),
        ("Hoeveel skuld ek nog?", Intent.BALANCE_QUERY),
        ("I am not paying anything. Take me to court", Intent.REFUSAL),
        ("Never going to pay you crooks", Intent.REFUSAL),
        ("Los my uit, ek gaan nie betaal nie", Intent.REFUSAL),
        ("Noted", Intent.ACKNOWLEDGE),
        ("👍", Intent.ACKNOWLEDGE),
        ("Dankie", Intent.ACKNOWLEDGE),
    ],
)
def test_each_intent_is_recognised(text: str, intent: Intent) -> None:
    """Given a typical reply of one intent, when analysed, then that intent is returned."""
    assert analyse(text).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I lost my job, can I pay R100 a month?", Intent.HARDSHIP),
        ("sorry ive been in hospital, will pay on the 25th", Intent.HARDSHIP),
        ("This is not my debt, I will not pay it on Friday or ever", Intent.DISPUTE),
        ("STOP. I lost my job", Intent.OPT_OUT),
        ("I settled this account last month, please stop sending me these", Intent.PAID_ALREADY),
        (
            "I can't pay it all at once, can we make an arrangement of R200 a month",
            Intent.PAYMENT_PLAN_REQUEST,
        ),
        ("Great, thanks for the discount offer, I'll take it and pay today", Intent.PROMISE_TO_PAY),
        ("I won't pay for a service I never received", Intent.REFUSAL),
    ],
)
def test_the_intent_a_careful_agent_acts_on_wins(text: str, intent: Intent) -> None:
    """Given a reply touching several intents, when analysed, then the one that matters most wins."""
    analysis = analyse(text)
    assert analysis.intent is intent


def test_a_vulnerable_promise_is_hardship_and_keeps_no_promise_date() -> None:
    """Given hardship and a promise together, when analysed, then hardship wins and is flagged vulnerable."""
    analysis = analyse("sorry ive been in hospital, will pay on the 25th")
    assert (analysis.vulnerable, analysis.promise_date) == (True, None)


def test_an_opt_out_with_hardship_is_honoured_and_still_flags_vulnerability() -> None:
    """Given 'STOP' with a job loss, when analysed, then the opt-out wins and the vulnerability is kept."""
    analysis = analyse("STOP. I lost my job")
    assert (analysis.intent, analysis.vulnerable, analysis.vulnerability_reasons) == (
        Intent.OPT_OUT,
        True,
        ["job_loss"],
    )


def test_confidence_is_lower_when_intents_compete() -> None:
    """Given a single clear intent and a mixed reply, when analysed, then the mixed one is less certain."""
    assert (
        analyse("Unsubscribe").intent_confidence
        > analyse("Stop sending me messages I'm not paying").intent_confidence
    )


def test_a_reply_with_no_cue_is_an_acknowledgement_with_low_confidence() -> None:
    """Given a reply no rule recognises, when the rules alone analyse it, then it is an acknowledgement at
    low confidence (with the learned backstop, the model's intent replaces so unsure a reading)."""
    analysis = analyse("hello there", rules_only=True)
    assert (analysis.intent, analysis.intent_confidence) == (Intent.ACKNOWLEDGE, 0.3)


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("Ok thanks", Sentiment.POSITIVE),
        ("Sorry for the delay, I'll pay on the 25th", Sentiment.POSITIVE),
        ("Noted", Sentiment.NEUTRAL),
        ("STOP", Sentiment.NEUTRAL),
        ("stop messaging me", Sentiment.NEGATIVE),
        ("I dispute this debt", Sentiment.NEGATIVE),
        ("I'm under debt review, please contact my debt counsellor", Sentiment.NEUTRAL),
        ("Thanks, but your link does not work", Sentiment.MIXED),
    ],
)
def test_sentiment_follows_tone_and_subject(text: str, sentiment: Sentiment) -> None:
    """Given replies of different tone, when analysed, then the sentiment and its scores agree."""
    analysis = analyse(text)
    assert analysis.sentiment is sentiment
    assert max(analysis.sentiment_scores, key=analysis.sentiment_scores.__getitem__) == sentiment.value
    assert abs(sum(analysis.sentiment_scores.values()) - 1.0) < 0.01


@pytest.mark.parametrize(
    ("text", "hint", "language"),
    [
        ("I will pay on Friday", None, "en"),
        ("Ek sal Maandag betaal", None, "af"),
        ("Baie dankie, ek sal more betaal", None, "af"),
        ("Reg so", None, "af"),
        ("Sharp", None, "en"),
        ("👍", None, "und"),
        ("Ngiyabonga, ngizokhokha kusasa", None, "zu"),
        ("Enkosi, ndiza kuhlawula ngomso", None, "xh"),
        ("Ke tla lefa hosane", None, "st"),
        ("opt out", "af", "af"),
    ],
)
def test_language_is_detected(text: str, hint: str | None, language: str) -> None:
    """Given replies in different languages, when analysed,
    then the language is recognised (hint as tie-break)."""
    assert analyse(text, language_hint=hint).language == language


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ngizokhokha kusasa", Intent.PROMISE_TO_PAY),
        ("Ngiyikhokhile imali", Intent.PAID_ALREADY),
        ("ngeke ngikhokhe", Intent.REFUSAL),
        ("Angimazi uThandi", Intent.WRONG_PERSON),
        ("Goeie dag, ek het die betaling Vrydag gemaak", Intent.PAID_ALREADY),
        ("My debit order runs on the 1st, it already went off", Intent.PAID_ALREADY),
        ("Ek gaan niks betaal nie, los my", Intent.REFUSAL),
        ("You'll never see that money", Intent.REFUSAL),
        ("hahaha no", Intent.REFUSAL),
        ("I do not consent to you contacting me. POPIA. Delete my number", Intent.OPT_OUT),
        ("Moenie my ooit weer bel of SMS nie", Intent.OPT_OUT),
        ("i said STOP already how many times", Intent.OPT_OUT),
        ("My name is not Zanele", Intent.WRONG_PERSON),
        ("This number was recycled, Nomsa doesn't have it anymore", Intent.WRONG_PERSON),
        ("I'll pay Friday but first fix the wrong interest charges", Intent.DISPUTE),
        ("Someone opened this in my name, I've reported it to SAPS", Intent.DISPUTE),
        ("i can do 2 payments of R600, one now and one on the 25th", Intent.PAYMENT_PLAN_REQUEST),
        ("I can't do the full thing but I can do R200 every Friday", Intent.PAYMENT_PLAN_REQUEST),
        ("will pay in a week's time", Intent.PROMISE_TO_PAY),
        ("Kan julle my more-oggend bel?", Intent.CALLBACK_REQUEST),
        ("How much will it be if I settle today?", Intent.BALANCE_QUERY),
    ],
)
def test_wordings_found_on_fresh_replies_are_recognised(text: str, intent: Intent) -> None:
    """Given wordings first missed on fresh replies (isiZulu, Afrikaans morphology, defiance, consent,
    two-part plans, conditionals), when analysed, then the intent is the one an agent acts on."""
    assert analyse(text).intent is intent


def test_a_divorce_named_to_say_whose_debt_it_is_is_no_hardship() -> None:
    """Given 'not me, you want my ex-husband, we divorced', when analysed, then it is a wrong person and
    not flagged vulnerable."""
    analysis = analyse("Not me. I think you want my ex husband, we divorced in 2019")
    assert (analysis.intent, analysis.vulnerable) == (Intent.WRONG_PERSON, False)


def test_a_divorce_told_as_hardship_is_still_flagged() -> None:
    """Given a divorce told as the reason for struggling, when analysed, then it is vulnerable hardship."""
    analysis = analyse("I'm going through a divorce and I'm struggling")
    assert (analysis.intent, analysis.vulnerable) == (Intent.HARDSHIP, True)


def test_a_promise_set_against_a_shortage_is_a_promise_when_no_vulnerability_shows() -> None:
    """Given 'broke until payday but will pay then', when analysed, then it is a promise, not hardship; the
    same promise after a job loss stays vulnerable hardship."""
    short = analyse("Haha I'm broke until payday but will pay then")
    jobless = analyse("I lost my job, but I'll pay R200 on Friday")

    assert (short.intent, short.vulnerable) == (Intent.PROMISE_TO_PAY, False)
    assert (jobless.intent, jobless.vulnerable) == (Intent.HARDSHIP, True)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Ndizakuyibhatala ngoMvulo", Intent.PROMISE_TO_PAY),
        ("ndiza kuzihlawula ngomso", Intent.PROMISE_TO_PAY),
        ("Sendiyibhatele izolo", Intent.PAID_ALREADY),
        ("Angisakweleti lutho, ngakhokha ngoNovemba", Intent.PAID_ALREADY),
        ("Ga ke sa kolota sepe", Intent.PAID_ALREADY),
        ("Ngicela ukukhokha ngezavenge", Intent.PAYMENT_PLAN_REQUEST),
        ("Ha ke na sekoloto le lona", Intent.DISPUTE),
        ("Goreng ke tshwanetse go duela selo se ke sa se rekang", Intent.DISPUTE),
        ("How can I still owe you when I paid it off last year?", Intent.DISPUTE),
        ("Since when did I open an account with you people?", Intent.DISPUTE),
        ("Why should I pay for something I never ordered?", Intent.DISPUTE),
        ("Your balance does not reflect the R500 I paid last week", Intent.DISPUTE),
        ("I was never a guarantor on his loan", Intent.DISPUTE),
        ("Please send me a settlement figure", Intent.BALANCE_QUERY),
        ("What is the early settlement quote on this account?", Intent.BALANCE_QUERY),
        ("When will my next instalment be deducted?", Intent.BALANCE_QUERY),
        ("how much interest are you charging me a month", Intent.BALANCE_QUERY),
        ("Is this a different account from the one I settled, or the same one?", Intent.BALANCE_QUERY),
        ("When will the listing come off my credit report?", Intent.BALANCE_QUERY),
        ("Could you give me 12 months to settle?", Intent.PAYMENT_PLAN_REQUEST),
        ("I could do three payments of R700", Intent.PAYMENT_PLAN_REQUEST),
        ("I'm going to have it all paid off by month end", Intent.PROMISE_TO_PAY),
        ("R800 by next Friday, it is all I can manage", Intent.PROMISE_TO_PAY),
        ("I'll pay once my SARS refund comes in", Intent.PROMISE_TO_PAY),
        ("Ke kopa o nteletsa mo maitseboeng", Intent.CALLBACK_REQUEST),
        ("Ndicela undifowunele emva kwentsimbi yesithathu", Intent.CALLBACK_REQUEST),
        ("Ningaphinde ningithinte", Intent.OPT_OUT),
        ("O se ke wa nteletsa gape", Intent.OPT_OUT),
        ("Ga ke mo itse motho yo o mmatlang", Intent.WRONG_PERSON),
        ("Piss off", Intent.REFUSAL),
        ("Sure, I'll pay the day I win the lottery", Intent.REFUSAL),
        ("Ja, ek sal betaal as ek die lotto wen", Intent.REFUSAL),
        ("I'll have a look at it and get back to you", Intent.ACKNOWLEDGE),
        ("Received your SMS this morning", Intent.ACKNOWLEDGE),
    ],
)
def test_kinds_found_on_the_ninth_fresh_set_are_recognised_by_the_rules(text: str, intent: Intent) -> None:
    """Given neighbours of the kinds the ninth fresh set found (isiXhosa "bhatala" and object forms, owing
    no more, Setswana and Sesotho debts denied, rhetorical denials, settlement figures, questions about
    interest and debits, plans as months or counts of sums, the future perfect, imperative calls, stop
    requests with "thinta", rude dismissals, impossible conditions, non-committal answers), when the rules
    alone read them, then the intent is the one an agent acts on."""
    assert analyse(text, rules_only=True).intent is intent


def test_a_day_a_letter_arrived_is_no_promise() -> None:
    """Given "got your letter today", when the rules read it, then it acknowledges and names no promise
    date."""
    analysis = analyse("Got the reminder today", rules_only=True)

    assert (analysis.intent, analysis.promise_date) == (Intent.ACKNOWLEDGE, None)
