"""Kinds of wording the rules read since the tenth and eleventh fresh sets (replies_fresh_k.jsonl and
replies_fresh_m.jsonl, the second from a vehicle-finance and personal-loan book): the plain negative of
paying and thanks in isiZulu, isiXhosa, Setswana and Sesotho, living on a pension or grant in those
languages, statements and disputed sums asked for in them; promises told from the creditor's side; an
instalment of a running plan, which asks for no plan; arrears moved to the end of a loan; car-finance
disputes (a shortfall, a fee for what never happened); defiance; contact allowed in writing only;
holidays and time asked for as days; and a breakdown of figures, which is no breakdown of a person.

Every reply here is worded afresh for this file; none is copied from a labelled set. The rules are
tested alone, so a change in the learned backstop cannot hide a rule that stopped working. All are
received Wednesday 9 December 2026, 10:00 in Johannesburg, unless a test says otherwise.
"""

from datetime import date, datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyAnalysis, ReplyToAnalyse, resolve_promise_date
from rapport.analysis.text import normalise
from rapport.analysis.vulnerability import vulnerability_reasons
from rapport.models.enums import Intent

RECEIVED_AT = datetime.fromisoformat("2026-12-09T10:00:00+02:00")
WEDNESDAY = date(2026, 12, 9)


def analyse(text: str) -> ReplyAnalysis:
    reply = ReplyToAnalyse(
        reply_id="kind-k", text=text, received_at=RECEIVED_AT, timezone="Africa/Johannesburg"
    )
    return LocalReplyAnalyser(use_learned=False).analyse(reply)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # isiZulu, isiXhosa, Setswana and Sesotho.
        ("Mina angiyikhokhi le mali", Intent.REFUSAL),
        ("Andihlawuli nto kuwe", Intent.REFUSAL),
        ("Ha re lefe sekoloto seo", Intent.REFUSAL),
        ("Siyabonga kakhulu", Intent.ACKNOWLEDGE),
        ("Ke a leboga mme", Intent.ACKNOWLEDGE),
        ("Ho lokile", Intent.ACKNOWLEDGE),
        ("Re e lefile kgwedi e fetileng", Intent.PAID_ALREADY),
        ("Sengiyiqedile imali yenu", Intent.PAID_ALREADY),
        ("Tjhelete re tla e romela ka Labohlano", Intent.PROMISE_TO_PAY),
        ("Emisa go ntletsetsa bosigo", Intent.OPT_OUT),
        ("Ningaphinde nifowune kule nombolo", Intent.OPT_OUT),
        ("Ke kopa setatemente sa akhaonto", Intent.BALANCE_QUERY),
        ("Ngicela ukwazi ibhalansi yami", Intent.BALANCE_QUERY),
        ("Chelete eo le e batlang e fosahetse", Intent.DISPUTE),
        ("Angikweleti imali engaka", Intent.DISPUTE),
        ("Ngingakhokha ngezitolimende ezincane?", Intent.PAYMENT_PLAN_REQUEST),
        ("Ga ke kgone go duela kgwedi e", Intent.HARDSHIP),
        ("Ke kopa go duela bonnye kgwedi le kgwedi", Intent.PAYMENT_PLAN_REQUEST),
        ("Ke kopa le mpitse ka mohala mantsiboa", Intent.CALLBACK_REQUEST),
        ("Ha se nna motho eo le mmatlang", Intent.WRONG_PERSON),
        # Promises told from the creditor's side.
        ("You'll get your money on the 18th", Intent.PROMISE_TO_PAY),
        ("Expect a payment from me next Tuesday", Intent.PROMISE_TO_PAY),
        # One instalment of a running plan is a promise, several or a smaller one a plan.
        ("I'll pay this month's instalment on Friday", Intent.PROMISE_TO_PAY),
        ("The bakkie instalment will go off on the 15th", Intent.PROMISE_TO_PAY),
        ("Can I get a smaller instalment for the next six months?", Intent.PAYMENT_PLAN_REQUEST),
        ("Could the missed payments be added to the end of the term?", Intent.PAYMENT_PLAN_REQUEST),
        ("I'd like to spread the arrears over the rest of the contract", Intent.PAYMENT_PLAN_REQUEST),
        ("If I pay half today can I pay the balance in February?", Intent.PAYMENT_PLAN_REQUEST),
        # Paid, without a subject or by the money's path.
        ("Settled in full, please update your system", Intent.PAID_ALREADY),
        ("The debit order ran on the 25th as usual", Intent.PAID_ALREADY),
        ("Transfer went through last night", Intent.PAID_ALREADY),
        ("Die lening is klaar afbetaal", Intent.PAID_ALREADY),
        ("I have the bank slip to prove it, paid on the 2nd", Intent.PAID_ALREADY),
        # Disputes of car finance and of what never happened.
        ("The shortfall after the auction is far too high", Intent.DISPUTE),
        ("You billed me for a service plan that was never activated", Intent.DISPUTE),
        ("There's an admin fee when my account was never late", Intent.DISPUTE),
        ("How is it possible that we owe R40 000 on a R15 000 loan?", Intent.DISPUTE),
        ("Hoekom is daar nog 'n balans as ek die kar teruggegee het en julle dit teruggeneem het?", Intent.DISPUTE),
        ("Die bedrag klop nie met my staat nie", Intent.DISPUTE),
        ("Show me the signed contract before I pay a cent", Intent.DISPUTE),
        # Defiance.
        ("Go jump in a lake", Intent.REFUSAL),
        ("This debt goes to the grave with me", Intent.REFUSAL),
        ("Come fetch the car, I'm done paying", Intent.REFUSAL),
        ("Sien julle in die hof", Intent.REFUSAL),
        ("Haha you wish", Intent.REFUSAL),
        # Contact in writing only, a do-not-call list, contact not allowed.
        ("Add me to your do not call list", Intent.OPT_OUT),
        ("I will only communicate with you in writing from now on", Intent.OPT_OUT),
        ("Don't call or text me again", Intent.OPT_OUT),
        ("My lawyer says you're not allowed to contact me", Intent.OPT_OUT),
        ("Ek wil geen sms'e meer ontvang nie", Intent.OPT_OUT),
        # Not the person, out of touch with the debtor.
        ("I'm his sister, we haven't spoken in years", Intent.WRONG_PERSON),
        ("Not the lady you're looking for", Intent.WRONG_PERSON),
        # What settling early costs and saves, and a call to go through the account.
        ("What would I need to pay to settle the loan this month?", Intent.BALANCE_QUERY),
        ("If I pay it all now how much do I save?", Intent.BALANCE_QUERY),
        ("Please can someone go through the statement with me", Intent.CALLBACK_REQUEST),
        ("I saw your sms", Intent.ACKNOWLEDGE),
        # Micro-loans, funeral cover and premiums (the thirteenth fresh set's kinds).
        ("I'm paying the whole loan off when my bonus comes", Intent.PROMISE_TO_PAY),
        ("The premium goes across on the 1st", Intent.PROMISE_TO_PAY),
        ("Friday the loan gets paid, promise", Intent.PROMISE_TO_PAY),
        ("By month end I'll have paid", Intent.PROMISE_TO_PAY),
        ("I wired the money this morning", Intent.PAID_ALREADY),
        ("That account was closed off in March", Intent.PAID_ALREADY),
        ("The premium was deducted on the 7th, check again", Intent.PAID_ALREADY),
        ("Put me on the credit bureau then, I'm already listed", Intent.REFUSAL),
        ("Come and get it yourselves", Intent.REFUSAL),
        ("Not a chance I'm paying that", Intent.REFUSAL),
        ("Ga re na go duela sepe", Intent.REFUSAL),
        ("Angeke ngiyikhokhe le mali", Intent.REFUSAL),
        ("Ha re a kadima letho ho lona", Intent.DISPUTE),
        ("You debited me twice this month", Intent.DISPUTE),
        ("My banking app shows a zero balance with you", Intent.DISPUTE),
        ("The total should be R450, not R4 500", Intent.DISPUTE),
        ("The agent said there was no admin fee, now there is one?", Intent.DISPUTE),
        ("You only paid out R900 of the R1 200 I applied for", Intent.DISPUTE),
        ("Ek het nooit 'n polis by julle gekoop nie", Intent.DISPUTE),
        ("Could I skip one premium and pay double in May?", Intent.PAYMENT_PLAN_REQUEST),
        ("Can we stretch the loan over another year?", Intent.PAYMENT_PLAN_REQUEST),
        ("One payment of R3 000 is too much, can it be three?", Intent.PAYMENT_PLAN_REQUEST),
        ("Ngingakhokha ngezinyanga ezine?", Intent.PAYMENT_PLAN_REQUEST),
        ("The fridge broke so the instalment won't happen this month", Intent.HARDSHIP),
        ("Die premie gaan nie moontlik wees nie, die kar het gebreek", Intent.HARDSHIP),
        ("Is interest still being charged on this?", Intent.BALANCE_QUERY),
        ("How much to get the policy back on again?", Intent.BALANCE_QUERY),
        ("Ke kopa go bua le motho", Intent.CALLBACK_REQUEST),
        ("Ngicela ukukhuluma nomuntu", Intent.CALLBACK_REQUEST),
        ("Please call me on my work number", Intent.CALLBACK_REQUEST),
        ("He was my lodger, he moved out last year", Intent.WRONG_PERSON),
        ("Wrong person, I've never lived in Gauteng", Intent.WRONG_PERSON),
        ("Please never call me again", Intent.OPT_OUT),
        ("Opt me out please", Intent.OPT_OUT),
        # Municipal and medical accounts, school fees, student loans and hire purchase (the fourteenth and
        # fifteenth fresh sets' kinds).
        ("Those are estimated readings again, nobody reads the meter", Intent.DISPUTE),
        ("How can our water bill be R9 000 for two people?", Intent.DISPUTE),
        ("Why should we pay for street lights when none of them work?", Intent.DISPUTE),
        ("The surgeon billed separately although I was quoted a package price", Intent.DISPUTE),
        ("My medical scheme should have paid that", Intent.DISPUTE),
        ("That usage is the previous tenant's", Intent.DISPUTE),
        ("Our daughter left in March, you're charging for terms she never attended", Intent.DISPUTE),
        ("The couch I sent back was returned with the slip", Intent.DISPUTE),
        ("Dit is 'n fout, ons was nooit daar nie", Intent.DISPUTE),
        ("Which dentist is this account for?", Intent.BALANCE_QUERY),
        ("Please send a breakdown per month", Intent.BALANCE_QUERY),
        ("Month end I'll pay the hospital", Intent.PROMISE_TO_PAY),
        ("I'll pay the doctor's account on Friday", Intent.PROMISE_TO_PAY),
        ("I'll make sure it's paid by the 20th", Intent.PROMISE_TO_PAY),
        ("Within a week it'll be paid", Intent.PROMISE_TO_PAY),
        ("Paid it at the clinic's front desk", Intent.PAID_ALREADY),
        ("Sorted it out this morning, check again", Intent.PAID_ALREADY),
        ("Die skoolfooie is al afgetrek", Intent.PAID_ALREADY),
        ("Would 12 months instead of 6 work?", Intent.PAYMENT_PLAN_REQUEST),
        ("Can I give post-dated payments for the term?", Intent.PAYMENT_PLAN_REQUEST),
        ("Could the arrears go on the back of the contract?", Intent.PAYMENT_PLAN_REQUEST),
        ("R200 a week until the fridge is paid off?", Intent.PAYMENT_PLAN_REQUEST),
        ("Get a supervisor to call me", Intent.CALLBACK_REQUEST),
        ("A real person please", Intent.CALLBACK_REQUEST),
        ("This is a work phone, the lady you're after left last year", Intent.WRONG_PERSON),
        ("You want my cousin, not me", Intent.WRONG_PERSON),
        ("Ha se nna", Intent.WRONG_PERSON),
        ("Go away", Intent.REFUSAL),
        ("Tell them they can whistle for it", Intent.REFUSAL),
        ("Cancel these reminders", Intent.OPT_OUT),
    ],
)
def test_wordings_of_each_kind_are_recognised(text: str, intent: Intent) -> None:
    """Given a reply worded in one of the newly read kinds, when the rules analyse it, then its intent is
    returned."""
    assert analyse(text).intent is intent


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Ngiphila ngesibonelelo sezingane", "social_grant_only"),
        ("Re phela ka phenshene ya mme", "social_grant_only"),
        ("My pension doesn't stretch to cover this anymore", "social_grant_only"),
        ("The company let me go in March", "job_loss"),
        ("We lost the workshop in a fire last winter", "disaster"),
        ("Indlu yethu yakhukhulwa izikhukhula", "disaster"),
        ("These letters frighten me", "mental_distress"),
        ("Ke a lwala haesale ka Phatwe", "illness"),
        ("I'm on crutches after I was injured on duty", "illness"),
        ("Ek is my werk kwyt", "job_loss"),
        ("My husband's family buried him last week, he passed suddenly", "bereavement"),
        ("Their father stopped paying maintenance in June", "loss_of_income"),
        ("Ek het my werk in Julie verloor", "job_loss"),
        ("Rre o tlhokafetse kgwedi e e fetileng", "bereavement"),
        ("Ons het alles in die vloed verloor", "disaster"),
        ("I got stabbed in March and I've been off work since", "illness"),
    ],
)
def test_signs_of_each_kind_give_their_reason(text: str, reason: str) -> None:
    """Given a pension or grant in isiZulu or Sesotho, a pension that no longer covers the debt, being let
    go, a business lost in a fire, floods in isiZulu, letters that frighten or illness in Setswana, when
    checked, then the reason is returned."""
    assert reason in vulnerability_reasons(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "Please send me a breakdown before the end of the week",
        "Let me go check my banking app",
        "Illl explain when you call me",
        "I'd like to cancel my funeral policy",
        "I work at a funeral parlour and will pay on Monday",
        "I was at the clinic for my normal check-up",
        "R400 loan and now I owe you a kidney",
        "You're not getting paid",
        "I'll pay the hospital account at month end",
        "Is this for the doctor's visit in July?",
        "I never saw that doctor",
        "The medical aid shortfall is R400",
    ],
)
def test_words_of_a_sign_used_for_something_else_are_no_sign(text: str) -> None:
    """Given a breakdown of figures, "let me go check", a typo beside "explain", a funeral policy or parlour,
    a routine check-up, a kidney as a figure of speech, "you're not getting paid", or a hospital or doctor
    named as the creditor, when checked, then no sign is read."""
    assert vulnerability_reasons(normalise(text)) == []


def test_ill_before_a_verb_of_explaining_is_i_will() -> None:
    """Given "ill explain" typed for "I'll explain", when read, then it is a call asked for, not illness."""
    analysis = analyse("just phone me ill explain everything")

    assert (analysis.intent, analysis.vulnerable) == (Intent.CALLBACK_REQUEST, False)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("I'll pay on Christmas Eve", date(2026, 12, 9), date(2026, 12, 24)),
        ("Will pay before Christmas", date(2026, 12, 9), date(2026, 12, 24)),
        ("Ek betaal na Kersfees, op die 28ste", date(2026, 12, 9), date(2026, 12, 28)),
        ("Paying you on New Year's Day", date(2026, 12, 9), date(2027, 1, 1)),
        ("I'll pay after Youth Day", date(2027, 6, 1), date(2027, 6, 16)),
        ("Heritage Day I'll pay", date(2027, 9, 30), date(2028, 9, 24)),
        ("Give me 5 days and I'll pay", WEDNESDAY, date(2026, 12, 14)),
        ("give me a fortnight please", WEDNESDAY, date(2026, 12, 23)),
        ("Gee my twee weke", WEDNESDAY, date(2026, 12, 23)),
        ("I'll pay 10 days from now", WEDNESDAY, date(2026, 12, 19)),
        ("thu ill pay", WEDNESDAY, date(2026, 12, 10)),
        ("paying R800 rn", WEDNESDAY, WEDNESDAY),
        ("Not Friday, the money comes on Monday. So Tuesday it is", WEDNESDAY, date(2026, 12, 15)),
        ("The 18th is no good, make it the 21st", WEDNESDAY, date(2026, 12, 21)),
        ("My birthday is tomorrow so I'll pay on Friday", WEDNESDAY, date(2026, 12, 11)),
        ("Premium goes across on Tuesday, Monday is a holiday", WEDNESDAY, date(2026, 12, 15)),
    ],
)
def test_holidays_time_asked_for_and_short_forms_resolve(text: str, today: date, expected: date) -> None:
    """Given a holiday by name (the day before it when paying before it, the day named when paying after it
    on a given day), time asked for ("give me 5 days", "a fortnight", "10 days from now"), a short weekday
    opening the reply, "rn" after a sum, or a day settled on ("so Tuesday it is"), when resolved, then it
    is the day meant."""
    language = "af" if text.startswith(("Ek ", "Gee ")) else "en"

    assert resolve_promise_date(normalise(text), today, language) == expected


@pytest.mark.parametrize(
    ("text", "amount_cents"),
    [
        ("On the 20th you will get R650", 65_000),
        ("Ek sal Vrydag R450 betaal, ek is siek", 45_000),
        ("Ndicela ukuhlawula iR200 ngenyanga", 20_000),
    ],
)
def test_sums_offered_from_the_creditors_side_or_before_an_afrikaans_verb_are_offers(
    text: str, amount_cents: int
) -> None:
    """Given "you will get R650" or "ek sal R450 betaal" beside hardship, when analysed, then the sum is the
    offer."""
    assert analyse(text).amount_cents == amount_cents
