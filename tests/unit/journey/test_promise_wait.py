"""A promise's wait, resumed early (a part payment, a question answered), goes on only for what is left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conversation_helpers import ACCOUNT_ID, NOW, save_account

from rapport.journey.steps import CheckPromiseInput, check_promise
from rapport.store.models import PromiseModel


def _promise(made_minutes_ago: int, check_date: str) -> None:
    PromiseModel(
        ACCOUNT_ID, "P1", amount_cents=50_000, due_date=check_date, check_date=check_date,
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
