"""The sum a debtor offers, in cents, however they write it."""

from datetime import datetime

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyToAnalyse
from rapport.analysis.amounts import find_offered_amount_cents


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("ok ill pay R500 tomorrow", 50_000),
        ("I'll pay r500 tomorrow", 50_000),
        ("I'll pay R 500 on Friday", 50_000),
        ("I'll make a payment of R1 000 on 20 December", 100_000),
        ("I'll pay R 1 500 next Friday", 150_000),
        ("I will pay R1,500.50 on the 15th", 150_050),
        ("I will pay R1 500,50 on the 15th", 150_050),
        ("I will pay R1.500,00 on the 15th", 150_000),
        ("I will send R2,000.00 on the 3rd", 200_000),
        ("I will pay R450.5 now", 45_050),
        ("I can pay 500 rand on Friday", 50_000),
        ("I can pay ZAR 750 on Friday", 75_000),
        ("I can pay 300 on Monday", 30_000),
        ("I'll pay 250 tomorrow", 25_000),
        ("I can only afford 200 a month", 20_000),
        ("I can pay R1k on the 1st", 100_000),
        ("I will pay five hundred rand on Friday", 50_000),
        ("Ek betaal R400 op die 25ste", 40_000),
        ("Kan ons 'n reëling tref? R150 per maand", 15_000),
    ],
)
def test_offered_sums_are_read_in_every_common_notation(text: str, cents: int) -> None:
    """Given a sum written as South Africans write it, when read, then it is the right number of cents."""
    assert find_offered_amount_cents(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "Please split the balance over 3 months",
        "Can someone phone me after 5pm",
        "this was cancelled in 2022",
        "Payment was made on the 1st via EFT, reference 88213",
        "I'll pay on 15 December",
        "Will pay 1/9",
        "I only owed R1200 not R4800",
        "I'll pay 50% now",
    ],
)
def test_counts_times_years_references_and_disputed_sums_are_not_offers(text: str) -> None:
    """Given numbers that are not an offer, when read, then no amount is found."""
    assert find_offered_amount_cents(text) is None


def test_the_offer_wins_over_a_quoted_balance() -> None:
    """Given a balance quoted before an offer, when read, then the offer is the amount."""
    assert find_offered_amount_cents("I owe R4800 but I can pay R500 on Friday") == 50_000


def test_hardship_amounts_need_offer_words() -> None:
    """Given hardship wording, when read with offer words required,
    then income is not an offer but a sum is."""
    assert find_offered_amount_cents("I only earn R3000 now", require_offer_words=True) is None
    assert (
        find_offered_amount_cents("lost my job, can only pay R100 a month", require_offer_words=True)
        == 10_000
    )


def _analyse(text: str) -> tuple[str, int | None, str]:
    reply = ReplyToAnalyse(
        reply_id="r-1",
        text=text,
        received_at=datetime.fromisoformat("2026-12-04T10:00:00+02:00"),
        timezone="Africa/Johannesburg",
    )
    analysis = LocalReplyAnalyser().analyse(reply)
    return analysis.intent.value, analysis.amount_cents, analysis.currency


def test_a_dispute_carries_no_amount_even_with_sums_in_it() -> None:
    """Given a disputed balance, when analysed, then the amounts quoted are not taken as an offer."""
    assert _analyse("The amount is wrong, I only owed R1200 not R4800") == ("dispute", None, "ZAR")


def test_a_plan_carries_the_instalment() -> None:
    """Given a plan request with an instalment, when analysed, then the instalment is the amount in ZAR."""
    assert _analyse("can we make an arrangement of R200 a month") == ("payment_plan_request", 20_000, "ZAR")


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("can we do a debit order for like three hundred a month", 30_000),
        ("so I pay like five hundred a month until it's finished", 50_000),
        ("I can pay a hundred rand on Friday", 10_000),
        ("I can't afford more than R50", 5_000),
        ("I'll pay no more than R300 a month", 30_000),
    ],
)
def test_spoken_sums_and_ceilings_are_offers(text: str, cents: int) -> None:
    """Given a sum said in words, or a ceiling the debtor names, when read, then it is the offer."""
    assert find_offered_amount_cents(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "I have been paying R500 every month as agreed",
        "I was paying R300 a month before",
        "I live on a disability grant of R2 180 a month",
    ],
)
def test_past_payments_and_income_are_not_offers(text: str) -> None:
    """Given what the debtor used to pay or lives on, when read, then no offer is found."""
    assert find_offered_amount_cents(text, require_offer_words=True) is None


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("I can afford 350 pm", 35_000),
        ("can I do 3 x R450?", 45_000),
    ],
)
def test_sums_per_month_with_pm_and_counted_instalments_are_offers(text: str, cents: int) -> None:
    """Given "350 pm" after words of offering and "3 x R450", when read, then the sum offered is found."""
    assert find_offered_amount_cents(text) == cents


def test_pm_after_an_hour_is_no_sum() -> None:
    """Given an hour with "pm" after words of paying, when read, then no sum is found."""
    assert find_offered_amount_cents("I will pay 12 pm today") is None


def test_a_stop_request_keeps_the_sum_it_offers() -> None:
    """Given a sum and a day followed by a stop request, when analysed, then it is an opt-out that still
    carries the sum offered."""
    assert _analyse("R700 on the 30th. Then stop messaging me.") == ("opt_out", 70_000, "ZAR")
