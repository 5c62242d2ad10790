"""A scheduled campaign starts every due journey: page after page, paced, and handed over to a fresh
invocation when one runs short of time (a single page used to be all a schedule ever started)."""

from __future__ import annotations

from typing import Any

import pytest
from conversation_helpers import save_account

from rapport.journey.campaign import (
    HAND_OVER_WITH_MS_LEFT,
    CampaignRun,
    CampaignStalledError,
    run_campaign,
)

CAMPAIGN = "weekday-arrears"


def _accounts(count: int) -> set[str]:
    ids = {f"ACC-{n:06d}" for n in range(1, count + 1)}
    for account_id in ids:
        save_account(account_id, arrears_segment="needs_help", segment="needs_help", days_past_due=60)
    return ids


def _started_accounts(services) -> set[str]:
    return {payload["account_id"] for payload in services.stepfunctions.started.values()}


def _paced(services, per_minute: int | None) -> None:
    campaign = services.client.campaigns[0]
    services.client.campaigns[0] = campaign.model_copy(update={"max_journeys_per_minute": per_minute})


class _Invocation:
    """A Lambda invocation's clock: ``time_left_ms`` falls by ``ms_per_page`` each time it is asked."""

    def __init__(self, left_ms: int, ms_per_page: int = 0) -> None:
        self.left_ms, self.ms_per_page = left_ms, ms_per_page
        self.handed: list[dict[str, Any]] = []
        self.slept: list[float] = []

    def time_left_ms(self) -> int:
        self.left_ms -= self.ms_per_page
        return self.left_ms

    def hand_over(self, event: dict[str, Any]) -> None:
        self.handed.append(event)


def test_one_scheduled_run_starts_every_due_journey_over_many_pages(services):
    # Given 25 accounts in arrears and pages of 4
    due = _accounts(25)
    invocation = _Invocation(left_ms=900_000)
    # When the schedule fires once
    answer = run_campaign(
        services, CampaignRun(campaign=CAMPAIGN, page_size=4), invocation.time_left_ms, invocation.hand_over
    )
    # Then every due account has its journey, in one invocation
    assert _started_accounts(services) == due
    assert (answer["started"], answer["handed_over"]) == (25, False)
    assert invocation.handed == []


def test_a_run_short_of_time_hands_the_rest_to_a_fresh_invocation_that_finishes_it(services):
    # Given 25 due accounts, and invocations that have time for three pages of 4 each
    due = _accounts(25)
    event: dict[str, Any] = {"campaign": CAMPAIGN, "page_size": 4, "timings": {"reply_timeout_seconds": 60}}
    invocations = 0
    while event is not None:
        invocations += 1
        invocation = _Invocation(left_ms=HAND_OVER_WITH_MS_LEFT + 25_000, ms_per_page=10_000)
        run = CampaignRun.model_validate(event)
        run_campaign(services, run, invocation.time_left_ms, invocation.hand_over)
        event = invocation.handed[0] if invocation.handed else None
        if event is not None:
            # What the fresh invocation is sent carries the run on: its cursor, timings and count
            assert event["cursor"] and event["timings"] == {"reply_timeout_seconds": 60}
            assert event["handed_over"] == invocations
    # Then the journeys were started across invocations, each once
    assert _started_accounts(services) == due
    assert len(services.stepfunctions.started) == 25
    assert invocations == 3


def test_a_paced_campaign_waits_so_no_minute_starts_more_than_its_limit(services):
    # Given 10 due accounts and a campaign paced at 4 journeys a minute
    _accounts(10)
    _paced(services, 4)
    invocation = _Invocation(left_ms=900_000)
    # When it runs
    run_campaign(
        services,
        CampaignRun(campaign=CAMPAIGN, page_size=1000),
        invocation.time_left_ms,
        invocation.hand_over,
        sleep=invocation.slept.append,
    )
    # Then it starts 4, waits about a minute, 4 more, waits, then the last 2
    assert len(services.stepfunctions.started) == 10
    assert len(invocation.slept) == 2
    assert all(55 < pause <= 60 for pause in invocation.slept)


def test_an_invocation_that_gets_through_no_account_stops_instead_of_handing_over(services, monkeypatch):
    # Given pages that come back empty with a cursor, in an invocation already short of time
    from rapport.journey import campaign

    empty = {"campaign": CAMPAIGN, "started": 0, "already_started": 0, "cursor": {"segment_index": 0}}
    monkeypatch.setattr(campaign, "run_campaign_page", lambda services, run: empty)
    invocation = _Invocation(left_ms=0)
    # Then it fails (to the dead-letter queue) rather than handing the same run on again
    with pytest.raises(CampaignStalledError):
        run_campaign(services, CampaignRun(campaign=CAMPAIGN), invocation.time_left_ms, invocation.hand_over)
    assert invocation.handed == []


def test_a_slowly_paced_run_is_handed_over_as_often_as_it_takes(services):
    # Given a run already handed over many times (a campaign paced at a few journeys a minute)
    _accounts(3)
    invocation = _Invocation(left_ms=0)
    run = CampaignRun(campaign=CAMPAIGN, page_size=1, handed_over=500)
    # When this invocation gets through a page and runs out of time, it hands the rest on
    run_campaign(services, run, invocation.time_left_ms, invocation.hand_over)
    assert [event["handed_over"] for event in invocation.handed] == [501]


def test_a_single_page_run_returns_its_cursor_for_the_caller_to_pace(services):
    _accounts(5)
    invocation = _Invocation(left_ms=900_000)
    page = run_campaign(
        services,
        CampaignRun(campaign=CAMPAIGN, page_size=2, run_to_end=False),
        invocation.time_left_ms,
        invocation.hand_over,
    )
    assert page["started"] == 2 and page["cursor"] is not None
    assert len(services.stepfunctions.started) == 2


def test_an_account_whose_journey_still_waits_gets_no_second_journey(services):
    # Given two accounts in arrears; one's journey of the day before waits on the debtor's promise
    from conversation_helpers import park_journey

    _accounts(2)
    park_journey("ACC-000001", f"ACC-000001-{CAMPAIGN}-2026-12-06", waiting_for="promise")
    invocation = _Invocation(left_ms=900_000)
    # When today's schedule fires
    answer = run_campaign(services, CampaignRun(campaign=CAMPAIGN), invocation.time_left_ms, invocation.hand_over)
    # Then only the account with no journey in progress gets one: the promise is not talked over
    assert _started_accounts(services) == {"ACC-000002"}
    assert (answer["started"], answer["busy"]) == (1, 1)
