"""A promise's wait, resumed early (a part payment, a question answered), goes on only for what is left; a
promise is judged on its check date, grace days included, and a journey's end leaves none pending."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conversation_helpers import ACCOUNT_ID, NOW, park_journey, save_account

from rapport.journey.steps import CheckPromiseInput, FinishInput, check_promise, finish_journey
from rapport.payments.promises import PromiseSource, PromiseToPay, promise_check_date
from rapport.store.models import PromiseModel


def _promise(made_minutes_ago: int, check_date: str, due_date: str | None = None) -> None:
    PromiseModel(
        ACCOUNT_ID, "P1", amount_cents=50_000, due_date=due_date or check_date, check_date=check_date,
        made_at=NOW - timedelta(minutes=made_minutes_ago), source="reply", journey_id="J1",
    ).save()


@pytest.mark.parametrize(
    ("override", "made_minutes_ago", "left"),
    [
        (3_600, 10, 3_000),  # an hour's wait, ten minutes gone: fifty minutes left
        (3_600, 59, 60),
        (3_600, 90, 1),  # past its time: check at once
    ],
)
def test_a_wait_the_timings_set_goes_on_for_what_is_left(services, override, made_minutes_ago, left):
    # Given a promise made some minutes ago, whose journey waits a set time
    save_account()
    _promise(made_minutes_ago, "2026-12-09")

    # When a payment or an answered reply resumes the wait early and the promise is still pending
    result = check_promise(
        services,
        CheckPromiseInput(
            account_id=ACCOUNT_ID, journey_id="J1", promise_id="P1", on_check_date=False,
            wait_override_seconds=override,
        ),
    )

    # Then the journey waits only for what is left of the wait
    assert (result["status"], result["wait_seconds"]) == ("pending", left)


def test_without_set_timings_the_wait_runs_to_nine_on_the_check_date_in_the_debtors_zone(services):
    # Given a promise to be checked on 9 December, for a debtor in Johannesburg (UTC+2); now is 7 December 08:00 UTC
    save_account()
    _promise(30, "2026-12-09")

    # When the wait is resumed early
    result = check_promise(
        services, CheckPromiseInput(account_id=ACCOUNT_ID, journey_id="J1", promise_id="P1", on_check_date=False)
    )

    # Then it goes on until 9 December 09:00 in Johannesburg (07:00 UTC): 47 hours from now
    assert result["wait_seconds"] == 47 * 3600


def test_an_early_check_within_the_grace_days_keeps_the_promise_pending(services):
    # Given a promise to pay on Saturday 5 December with two grace days, checked as record_promise stores it
    # (after Monday 7 December); now is Monday 7 December, nothing paid
    save_account()
    promise = PromiseToPay(
        promise_id="P1", account_id=ACCOUNT_ID, amount_cents=50_000, due_date=date(2026, 12, 5),
        made_at=NOW - timedelta(days=3), source=PromiseSource.REPLY, grace_days=2,
    )
    check = promise_check_date(promise)
    assert check > NOW.date()
    _promise(3 * 24 * 60, check.isoformat(), due_date="2026-12-05")

    # When a question answered during the wait resumes it early
    result = check_promise(
        services, CheckPromiseInput(account_id=ACCOUNT_ID, journey_id="J1", promise_id="P1", on_check_date=False)
    )

    # Then it is still pending: the debtor has the grace days to pay
    assert result["status"] == "pending"
    assert PromiseModel.get(ACCOUNT_ID, "P1").status == "pending"


@pytest.mark.parametrize(
    ("check_date", "status"),
    [
        ("2026-12-03", "broken"),  # its date came and went unpaid while the journey chased on
        ("2026-12-09", "set_aside"),  # not due yet: never judged broken
    ],
)
def test_a_journeys_end_judges_a_promise_whose_date_has_come_and_sets_aside_one_not_yet_due(
    services, check_date, status
):
    # Given a promise of this journey still pending, nothing paid; now is 7 December
    save_account()
    park_journey()
    _promise(10 * 24 * 60, check_date, due_date="2026-12-01")

    # When the journey ends
    finish_journey(services, FinishInput(account_id=ACCOUNT_ID, journey_id="J1", outcome="no_response"))

    # Then the promise is judged if its check date has come, and set aside if not
    assert PromiseModel.get(ACCOUNT_ID, "P1").status == status
