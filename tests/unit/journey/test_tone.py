"""A debtor who has written twice in anger is written to more gently: the tone the journey takes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conversation_helpers import ACCOUNT_ID, NOW, save_account

from rapport.journey.steps import AssessInput, assess_account
from rapport.store.models import AuditModel, ContactModel


def _replied(*sentiments: str) -> None:
    for number, sentiment in enumerate(sentiments):
        at = NOW - timedelta(days=len(sentiments) - number)
        ContactModel(
            ACCOUNT_ID, f"in.sms.r{number}", at=at, direction="in", channel="sms", status="received",
            text="...", sentiment=sentiment,
        ).save()


def _tone(services) -> tuple[str, bool]:
    result = assess_account(services, AssessInput(account_id=ACCOUNT_ID, journey_id="J-tone"))
    (assessed,) = [e for e in AuditModel.query(ACCOUNT_ID) if e.action == "assessed"]
    assessed.delete()
    return result["tone"], assessed.inputs["tone_softened"]


@pytest.mark.parametrize(
    ("sentiments", "softened"),
    [
        ((), False),
        (("NEGATIVE",), False),
        (("NEGATIVE", "NEGATIVE"), True),
        (("POSITIVE", "NEGATIVE", "NEGATIVE"), True),
        (("NEGATIVE", "NEGATIVE", "POSITIVE"), False),  # the latest two decide: the debtor has calmed down
    ],
)
def test_two_negative_replies_in_a_row_soften_the_tone(services, sentiments, softened):
    # Given an account that would cure itself (a few days late, a small balance): a friendly treatment
    save_account(days_past_due=5, balance_cents=20_000, credit_limit_cents=1_000_000)
    usual, was_softened = _tone(services)
    assert usual == "friendly" and not was_softened

    # When the debtor's replies carry these sentiments, oldest first
    _replied(*sentiments)

    # Then the journey softens its tone one step only after the latest two were negative, and says so
    assert _tone(services) == (("supportive", True) if softened else ("friendly", False))


def test_a_tone_already_softened_by_the_assessment_is_not_softened_again_by_later_steps(services):
    from rapport.journey.steps import PlanContactInput, plan_contact

    # Given a firm treatment (a long way behind, months unpaid) and two negative replies before the journey
    history = [(f"2005-{month:02d}", 4, 300_000, 0) for month in range(9, 3, -1)]
    save_account(days_past_due=150, balance_cents=900_000, credit_limit_cents=1_000_000, history=history)
    _replied("NEGATIVE", "NEGATIVE")
    assessment = assess_account(services, AssessInput(account_id=ACCOUNT_ID, journey_id="J-tone"))
    assert (assessment["treatment_tone"], assessment["tone"]) == ("firm", "neutral")

    # When the journey plans its next attempt
    contact = plan_contact(
        services,
        PlanContactInput(
            account_id=ACCOUNT_ID, journey_id="J-tone", attempt=0, assessment={**assessment, "channels": ["sms"]}
        ),
    )

    # Then the attempt keeps the one step the assessment took (neutral), not a second one (supportive)
    assert contact.get("tone") == "neutral", contact
    assert "tone_softened" not in [e.action for e in AuditModel.query(ACCOUNT_ID)]
