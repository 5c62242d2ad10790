"""Contact windows and public holidays on named dates, in the debtor's local time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rapport.compliance import (
    SOUTH_AFRICA,
    UNITED_KINGDOM,
    UNITED_STATES,
    ClientOverrides,
    ContactWindow,
    DecisionOutcome,
    JurisdictionProfile,
    NaiveDatetimeError,
    NoContactWindowError,
    next_allowed_moment,
    public_holiday,
)
from rapport.compliance.clock import first_instant_at_or_after, wall_instants
from rapport.models.enums import Channel, Jurisdiction

JHB = ZoneInfo("Africa/Johannesburg")
NYC = ZoneInfo("America/New_York")
LON = ZoneInfo("Europe/London")
AKL = ZoneInfo("Pacific/Auckland")


def _local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


class TestSouthAfrica:
    def test_day_of_reconciliation_defers_to_next_morning(self, decide_at):
        # Given Wednesday 16 December 2026, the Day of Reconciliation, mid-morning in Johannesburg
        at = _local(JHB, 2026, 12, 16, 10, 0)
        # When an SMS is proposed
        decision = decide_at(at)
        # Then it waits for Thursday 08:00 under the public holiday rule
        assert decision.outcome is DecisionOutcome.DEFER
        assert decision.rule == "za.cpa.window.public_holiday"
        assert decision.inputs["public_holiday"] == "Day of Reconciliation"
        assert decision.not_before == _local(JHB, 2026, 12, 17, 8, 0)

    def test_saturday_after_one_oclock_waits_for_monday(self, decide_at):
        # Given Saturday 7 March 2026 at 13:05 (the Saturday window closes at 13:00)
        decision = decide_at(_local(JHB, 2026, 3, 7, 13, 5))
        # Then the contact waits for Monday 9 March at 08:00, Sunday being closed
        assert decision.outcome is DecisionOutcome.DEFER
        assert decision.rule == "za.cpa.window.hours"
        assert decision.not_before == _local(JHB, 2026, 3, 9, 8, 0)

    @pytest.mark.parametrize(
        ("wall", "allowed"),
        [((8, 59), False), ((9, 0), True), ((12, 59), True), ((13, 0), False)],
    )
    def test_saturday_window_is_nine_to_one_half_open(self, decide_at, wall, allowed):
        # Given a Saturday at the edges of the window
        decision = decide_at(_local(JHB, 2026, 3, 7, *wall))
        # Then only 09:00 up to (not including) 13:00 is allowed
        assert (decision.outcome is DecisionOutcome.ALLOW) is allowed

    def test_sunday_is_closed_all_day(self, decide_at):
        # Given Sunday 8 March 2026 at noon
        decision = decide_at(_local(JHB, 2026, 3, 8, 12, 0))
        # Then the Sunday rule defers to Monday 08:00
        assert decision.rule == "za.cpa.window.sunday"
        assert decision.not_before == _local(JHB, 2026, 3, 9, 8, 0)

    @pytest.mark.parametrize(("wall", "allowed"), [((7, 59), False), ((8, 0), True), ((19, 59), True)])
    def test_weekday_window_edges(self, decide_at, wall, allowed):
        decision = decide_at(_local(JHB, 2026, 3, 10, *wall))
        assert (decision.outcome is DecisionOutcome.ALLOW) is allowed

    def test_easter_thursday_evening_skips_good_friday_to_saturday_morning(self, decide_at):
        # Given Thursday 2 April 2026 at 20:30; Friday 3 April is Good Friday
        decision = decide_at(_local(JHB, 2026, 4, 2, 20, 30))
        # Then the next moment is Saturday 4 April 09:00 (Easter Saturday is no public holiday)
        assert decision.not_before == _local(JHB, 2026, 4, 4, 9, 0)

    def test_family_day_monday_is_closed(self, decide_at):
        # Given Family Day, Monday 6 April 2026
        decision = decide_at(_local(JHB, 2026, 4, 6, 9, 0))
        # Then Tuesday 7 April at 08:00 is the next moment
        assert decision.rule == "za.cpa.window.public_holiday"
        assert decision.not_before == _local(JHB, 2026, 4, 7, 8, 0)

    def test_new_year_eve_at_eight_pm_skips_new_year_to_saturday(self, decide_at):
        # Given Thursday 31 December 2026 at 20:00 exactly; 1 January is a holiday, 2 January a Saturday
        decision = decide_at(_local(JHB, 2026, 12, 31, 20, 0))
        assert decision.rule == "za.cpa.window.hours"
        assert decision.not_before == _local(JHB, 2027, 1, 2, 9, 0)

    def test_just_before_midnight_moves_to_the_next_open_morning(self, decide_at):
        # Given 23:59 on Monday 9 March 2026
        decision = decide_at(_local(JHB, 2026, 3, 9, 23, 59))
        # Then Tuesday 08:00 is next, not a moment on the same evening
        assert decision.not_before == _local(JHB, 2026, 3, 10, 8, 0)

    def test_observed_holiday_monday_after_a_sunday_holiday(self):
        # Given Sunday 9 August 2026 is Women's Day, observed on Monday 10 August
        # Then the Monday is a public holiday in the calendar the profile uses
        assert public_holiday(SOUTH_AFRICA, date(2026, 8, 10)) is not None

    def test_the_window_is_judged_in_the_debtors_time_zone(self, decide_at):
        # Given 07:30 in Johannesburg, which is already 09:30 in Auckland
        at = _local(JHB, 2026, 3, 10, 7, 30)
        # When the same instant is judged for a debtor living in Auckland under South African rules
        auckland = decide_at(at, debtor_timezone="Pacific/Auckland")
        johannesburg = decide_at(at)
        # Then it is allowed for one and deferred for the other
        assert auckland.outcome is DecisionOutcome.ALLOW
        assert johannesburg.outcome is DecisionOutcome.DEFER


class TestUnitedStates:
    def _us(self, decide_at, at):
        return decide_at(
            at, jurisdiction=Jurisdiction.US, debtor_timezone="America/New_York", address="(212) 555-0100"
        )

    def test_nine_pm_exactly_is_too_late(self, decide_at):
        # Given 21:00 exactly in New York
        decision = self._us(decide_at, _local(NYC, 2026, 6, 10, 21, 0))
        # Then the contact waits for 08:00 the next morning
        assert decision.rule == "us.regf.window.hours"
        assert decision.not_before == _local(NYC, 2026, 6, 11, 8, 0)

    def test_one_minute_before_nine_pm_is_allowed(self, decide_at):
        assert self._us(decide_at, _local(NYC, 2026, 6, 10, 20, 59)).outcome is DecisionOutcome.ALLOW

    def test_sunday_and_federal_holidays_are_open_by_default(self, decide_at):
        # Given Saturday 4 July 2026 (Independence Day) and a Sunday, both at 10:00
        holiday = self._us(decide_at, _local(NYC, 2026, 7, 4, 10, 0))
        sunday = self._us(decide_at, _local(NYC, 2026, 7, 5, 10, 0))
        # Then Regulation F's hours alone apply: both are allowed
        assert holiday.outcome is DecisionOutcome.ALLOW
        assert sunday.outcome is DecisionOutcome.ALLOW

    def test_a_client_may_close_federal_holidays(self, decide_at):
        # Given a client who closes public holidays
        decision = decide_at(
            _local(NYC, 2026, 7, 3, 10, 0),  # Independence Day observed, Friday 3 July 2026
            jurisdiction=Jurisdiction.US,
            debtor_timezone="America/New_York",
            overrides=ClientOverrides(closed_on_public_holidays=True),
        )
        # Then Friday (observed) and Saturday 4 July (the day itself) are closed: Sunday 08:00 is next
        assert decision.rule == "us.regf.window.public_holiday"
        assert decision.not_before == _local(NYC, 2026, 7, 5, 8, 0)

    def test_spring_forward_morning_opens_at_eight_local(self, decide_at):
        # Given Sunday 8 March 2026, when New York jumps from 02:00 EST to 03:00 EDT
        decision = self._us(decide_at, _local(NYC, 2026, 3, 8, 1, 30))
        # Then the window opens at 08:00 EDT, which is 12:00 UTC (13:00 UTC the day before)
        assert decision.not_before == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
        day_before = self._us(decide_at, _local(NYC, 2026, 3, 7, 1, 30))
        assert day_before.not_before == datetime(2026, 3, 7, 13, 0, tzinfo=UTC)

    def test_fall_back_evening_closes_at_nine_local(self, decide_at):
        # Given Sunday 1 November 2026 (New York back to EST): 21:00 EST is 02:00 UTC on 2 November
        late = self._us(decide_at, datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
        still_open = self._us(decide_at, datetime(2026, 11, 2, 1, 59, tzinfo=UTC))
        assert late.outcome is DecisionOutcome.DEFER
        assert still_open.outcome is DecisionOutcome.ALLOW

    def test_los_angeles_is_judged_on_pacific_time(self, decide_at):
        # Given 10:30 in New York, which is 07:30 in Los Angeles
        decision = decide_at(
            _local(NYC, 2026, 6, 10, 10, 30),
            jurisdiction=Jurisdiction.US,
            debtor_timezone="America/Los_Angeles",
        )
        assert decision.not_before == _local(ZoneInfo("America/Los_Angeles"), 2026, 6, 10, 8, 0)


class TestUnitedKingdom:
    def _uk(self, decide_at, at):
        return decide_at(at, jurisdiction=Jurisdiction.UK, debtor_timezone="Europe/London")

    def test_spring_forward_sunday_is_closed_and_monday_opens_on_summer_time(self, decide_at):
        # Given Sunday 29 March 2026, the day the UK moves to BST
        decision = self._uk(decide_at, datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
        # Then Sunday is closed and the next moment is Monday 08:00 BST = 07:00 UTC
        assert decision.rule == "uk.conc.window.sunday"
        assert decision.not_before == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)

    def test_easter_monday_is_an_english_bank_holiday(self, decide_at):
        decision = self._uk(decide_at, _local(LON, 2026, 4, 6, 10, 0))
        assert decision.rule == "uk.conc.window.public_holiday"
        assert decision.not_before == _local(LON, 2026, 4, 7, 8, 0)

    def test_scottish_only_holiday_is_open_under_the_english_default(self, decide_at):
        # Given 2 January 2026, a bank holiday in Scotland only
        decision = self._uk(decide_at, _local(LON, 2026, 1, 2, 10, 0))
        assert decision.outcome is DecisionOutcome.ALLOW

    def test_saturday_evening_is_open_until_nine(self, decide_at):
        assert self._uk(decide_at, _local(LON, 2026, 3, 7, 20, 59)).outcome is DecisionOutcome.ALLOW
        late = self._uk(decide_at, _local(LON, 2026, 3, 7, 21, 0))
        # Sunday closed, so Monday 08:00
        assert late.not_before == _local(LON, 2026, 3, 9, 8, 0)

    def test_christmas_to_new_year_block(self, decide_at):
        # Given Christmas Eve 2026 (Thursday) at 21:30: Christmas Friday, Boxing Day Saturday,
        # Sunday, Boxing Day observed Monday 28 December
        decision = self._uk(decide_at, _local(LON, 2026, 12, 24, 21, 30))
        assert decision.not_before == _local(LON, 2026, 12, 29, 8, 0)


class TestNextAllowedMoment:
    def test_inside_the_window_returns_the_same_instant(self):
        at = _local(JHB, 2026, 3, 10, 10, 15, 30)
        assert next_allowed_moment(SOUTH_AFRICA, "Africa/Johannesburg", at) == at

    def test_refuses_a_naive_datetime(self):
        with pytest.raises(NaiveDatetimeError):
            next_allowed_moment(SOUTH_AFRICA, "Africa/Johannesburg", datetime(2026, 3, 10, 10))

    def test_auckland_spring_forward(self):
        # Given Sunday 27 September 2026, when Auckland jumps from 02:00 to 03:00, at 05:00 local
        at = _local(AKL, 2026, 9, 27, 5, 0)
        # When the US window (08:00-21:00) is asked for
        moment = next_allowed_moment(UNITED_STATES, AKL, at)
        # Then it opens at 08:00 NZDT (19:00 UTC the day before)
        assert moment == datetime(2026, 9, 26, 19, 0, tzinfo=UTC)

    def test_uk_profile_after_saturday_close(self):
        moment = next_allowed_moment(UNITED_KINGDOM, "Europe/London", _local(LON, 2026, 10, 24, 22, 0))
        # Sunday 25 October (clocks go back) is closed; Monday 08:00 GMT
        assert moment == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def _night_profile(start: time, end: time) -> JurisdictionProfile:
    """A profile whose window sits in the hours that clock changes move (no law has one; it tests DST)."""
    window = ContactWindow(start=start, end=end)
    return JurisdictionProfile.model_validate(
        SOUTH_AFRICA.model_dump() | {"weekly_windows": (window,) * 7, "closed_on_public_holidays": False}
    )


class TestWindowsAcrossClockChanges:
    def test_a_window_opening_in_the_skipped_hour_opens_at_the_jump(self):
        # Given a window from 02:30 to 04:00 and New York's jump from 02:00 to 03:00 on 8 March 2026
        profile = _night_profile(time(2, 30), time(4, 0))
        # When the next moment is asked for from 00:00 local
        moment = next_allowed_moment(profile, NYC, _local(NYC, 2026, 3, 8, 0, 0))
        # Then it is 03:00 EDT (07:00 UTC), the first instant whose wall time is at or after 02:30
        assert moment == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
        assert moment.astimezone(NYC).time() == time(3, 0)

    def test_a_window_wholly_inside_the_skipped_hour_moves_to_the_next_day(self):
        profile = _night_profile(time(2, 15), time(2, 45))
        moment = next_allowed_moment(profile, NYC, _local(NYC, 2026, 3, 8, 0, 0))
        assert moment.astimezone(NYC) == _local(NYC, 2026, 3, 9, 2, 15)

    def test_a_window_in_the_repeated_hour_opens_twice(self):
        # Given a window 01:15-01:45 and New York's fall back from 02:00 EDT to 01:00 EST on 1 Nov 2026
        profile = _night_profile(time(1, 15), time(1, 45))
        first = next_allowed_moment(profile, NYC, _local(NYC, 2026, 11, 1, 0, 0))
        # When asked again just after the first pass closes (01:45 EDT)
        second = next_allowed_moment(profile, NYC, first + timedelta(minutes=30))
        # Then the window opens at 01:15 EDT (05:15 UTC) and again at 01:15 EST (06:15 UTC)
        assert first == datetime(2026, 11, 1, 5, 15, tzinfo=UTC)
        assert second == datetime(2026, 11, 1, 6, 15, tzinfo=UTC)

    def test_fall_back_reopens_a_window_that_had_closed(self):
        # Given a window 00:30-01:30 and London's fall back at 02:00 BST to 01:00 GMT (25 Oct 2026)
        profile = _night_profile(time(0, 30), time(1, 30))
        # When asked at 01:45 BST (00:45 UTC), after the window closed the first time
        moment = next_allowed_moment(profile, LON, datetime(2026, 10, 25, 0, 45, tzinfo=UTC))
        # Then the clocks going back to 01:00 GMT (01:00 UTC) reopen it at once
        assert moment == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)

    def test_a_profile_with_no_open_day_has_no_next_moment(self):
        # Given a profile copied without validation so that every weekday is closed (validation forbids it)
        profile = SOUTH_AFRICA.model_copy(update={"weekly_windows": (None,) * 7})
        with pytest.raises(NoContactWindowError):
            next_allowed_moment(profile, JHB, _local(JHB, 2026, 1, 1, 0, 0))


class TestClock:
    def test_missing_wall_time_has_no_instant(self):
        assert wall_instants(NYC, date(2026, 3, 8), time(2, 30)) == ()

    def test_repeated_wall_time_has_two_instants(self):
        instants = wall_instants(NYC, date(2026, 11, 1), time(1, 30))
        assert [i.astimezone(UTC).hour for i in instants] == [5, 6]

    def test_first_instant_at_midnight_skipped_in_santiago(self):
        # Given Santiago, which springs forward at midnight (6 September 2026: 00:00 becomes 01:00)
        zone = ZoneInfo("America/Santiago")
        start = first_instant_at_or_after(zone, date(2026, 9, 6), time(0))
        # Then the day starts at 01:00 local
        assert start.astimezone(zone).time() == time(1, 0)
        assert start.astimezone(zone).date() == date(2026, 9, 6)


@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_obeys_the_same_window(decide_at, channel):
    address = "debtor@example.com" if channel is Channel.EMAIL else "082 123 4567"
    decision = decide_at(_local(JHB, 2026, 3, 8, 12, 0), channel=channel, address=address)
    assert decision.rule == "za.cpa.window.sunday"
