"""Property-based tests: across zones, years, clock changes, holidays, histories, caps and holds.

An independent oracle restates the rules from the brief (windows, holidays, caps, Regulation F, holds,
opt-outs) without using the package's logic, and answers "is a contact allowed at this instant?".
The properties:

* the decision allows exactly when the oracle does, so an allow is never outside the window, on a
  closed day or holiday, or (for a collection message; answers to the debtor are not capped) above a cap;
* a deferral's ``not_before`` is a whole minute that the oracle and ``evaluate_contact`` both allow,
  and a brute-force scan of every minute between now and then finds none allowed: it is the earliest;
* a refusal happens exactly when waiting cannot help, and names its rule.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rapport.compliance import (
    SOUTH_AFRICA,
    AttemptKind,
    ChannelLimit,
    ClientOverrides,
    ContactAttempt,
    ContactPurpose,
    ContactRequest,
    ContactWindow,
    DecisionOutcome,
    Hold,
    JurisdictionProfile,
    OptOut,
    evaluate_contact,
    next_allowed_moment,
    profile_for,
)
from rapport.models.enums import Channel, HoldKind, Jurisdiction

ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Africa/Johannesburg",
    "Pacific/Auckland",
)
YEARS = range(2024, 2031)
# A deferral from late in the last year can land early in the next, so the oracle's calendar runs a year on.
CALENDAR_YEARS = range(YEARS.start, YEARS.stop + 1)
MINUTE = timedelta(minutes=1)
WEEK = timedelta(days=7)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# The rules as the brief states them, Monday first: (start hour, end hour) or None for a closed day.
WINDOWS = {
    Jurisdiction.ZA: ((8, 20),) * 5 + ((9, 13), None),
    Jurisdiction.US: ((8, 21),) * 7,
    Jurisdiction.UK: ((8, 21),) * 6 + (None,),
}
CLOSED_HOLIDAYS = {Jurisdiction.ZA: ("ZA", None), Jurisdiction.US: None, Jurisdiction.UK: ("GB", "ENG")}
STOPS_EVERY_PURPOSE = {HoldKind.DECEASED, HoldKind.FRAUD, HoldKind.LEGAL_REPRESENTATION}
LAPSING = {HoldKind.BREATHING_SPACE, HoldKind.HARDSHIP}
BREATHING_SPACE_DAYS = 60
REQUEST_NUMBER = "+27 82 123 4567"
REQUEST_EMAIL = "debtor@example.com"


@lru_cache(maxsize=8)
def holiday_dates(country: str, subdivision: str | None) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=CALENDAR_YEARS))


def _clock_change_days() -> list[date]:
    days = set()
    for key in ZONES:
        zone = ZoneInfo(key)
        day = date(YEARS.start, 1, 1)
        previous = datetime.combine(day, time(12), zone).utcoffset()
        while day.year < YEARS.stop:
            day += timedelta(days=1)
            offset = datetime.combine(day, time(12), zone).utcoffset()
            if offset != previous:
                days.add(day)
            previous = offset
    return sorted(days)


CLOCK_CHANGE_DAYS = _clock_change_days()
INTERESTING_DAYS = sorted(
    day
    for day in set(CLOCK_CHANGE_DAYS)
    | holiday_dates("ZA", None)
    | holiday_dates("GB", "ENG")
    | holiday_dates("US", None)
    | {date(year, 12, 31) for year in YEARS}
    if day.year in YEARS
)

plain_instants = st.datetimes(
    min_value=datetime(2024, 1, 2), max_value=datetime(2030, 12, 20), timezones=st.just(UTC)
)


def _around(day: date, minutes: int, seconds: int) -> datetime:
    return datetime.combine(day, time(), UTC) + timedelta(minutes=minutes, seconds=seconds)


def _near(days: list[date]) -> st.SearchStrategy[datetime]:
    """Instants from a day and a half before to two days after the start (UTC) of one of ``days``."""
    return st.builds(
        _around,
        st.sampled_from(days),
        st.integers(-36 * 60, 48 * 60),
        st.sampled_from([0, 0, 0, 17, 59]),
    )


instants = st.one_of(plain_instants, _near(INTERESTING_DAYS), _near(CLOCK_CHANGE_DAYS))


# Scenario -------------------------------------------------------------------------------------------


@dataclass
class Scenario:
    request: ContactRequest
    now: datetime
    jurisdiction: Jurisdiction
    limit: ChannelLimit


def _address(channel: Channel) -> str:
    return REQUEST_EMAIL if channel is Channel.EMAIL else REQUEST_NUMBER


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    jurisdiction = draw(st.sampled_from(list(Jurisdiction)))
    zone = draw(st.sampled_from(ZONES))
    channel = draw(st.sampled_from(list(Channel)))
    now = draw(instants)

    history = []
    for _ in range(draw(st.integers(0, 10))):
        on = draw(st.one_of(st.just(channel), st.sampled_from(list(Channel))))
        if on is Channel.CALL:
            kind = draw(st.sampled_from([AttemptKind.CALL_ATTEMPT] * 2 + [AttemptKind.CONVERSATION]))
        else:
            kind = AttemptKind.MESSAGE
        ago = timedelta(minutes=draw(st.integers(0, 9 * 24 * 60)), seconds=draw(st.integers(0, 59)))
        history.append(ContactAttempt(at=now - ago, channel=on, kind=kind, delivered=draw(st.booleans())))

    ceiling = profile_for(jurisdiction).cap_ceilings[channel]
    overrides = None
    if draw(st.booleans()):
        per_day = draw(st.integers(1, ceiling.per_day or 3))
        week_options = st.integers(1, ceiling.per_7_days or 7)
        per_7_days = draw(week_options if ceiling.per_7_days else st.one_of(st.none(), week_options))
        overrides = ClientOverrides(caps={channel: ChannelLimit(per_day=per_day, per_7_days=per_7_days)})

    holds = []
    # Most scenarios carry no hold or opt-out, so that allows and deferrals are well represented.
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2]))):
        kind = draw(st.sampled_from(list(HoldKind)))
        if kind is HoldKind.BREATHING_SPACE:
            # Placed 55 to 62 days ago, so the 60 days run out within a few days either side of now.
            placed = now - timedelta(days=55) - timedelta(minutes=draw(st.integers(0, 7 * 24 * 60)))
        else:
            placed = now - timedelta(minutes=draw(st.integers(0, 10 * 24 * 60)))
        until = now + timedelta(
            minutes=draw(st.integers(-3 * 24 * 60, 4 * 24 * 60)), seconds=draw(st.integers(0, 59))
        )
        until = until if until > placed and draw(st.booleans()) else None
        cleared_at = None
        if draw(st.integers(0, 3)) == 0:
            cleared_at = placed + (now - placed) * draw(st.floats(0, 1))
        holds.append(
            Hold(
                kind=kind,
                placed_by="agent-1",
                placed_at=placed,
                reason="property test",
                until=until,
                cleared_at=cleared_at,
                cleared_by="agent-2" if cleared_at else None,
            )
        )

    opt_outs = []
    if draw(st.sampled_from([False] * 7 + [True])):
        opt_channel = draw(st.one_of(st.none(), st.sampled_from(list(Channel))))
        opt_address = draw(st.sampled_from([None, "same", "other"]))
        if opt_address == "same":
            opt_address = _address(channel)
        elif opt_address == "other":
            opt_address = "other@example.com" if channel is Channel.EMAIL else "+27 83 999 0000"
        opt_outs.append(OptOut(channel=opt_channel, address=opt_address))

    request = ContactRequest(
        account_id="ACC-P",
        jurisdiction=jurisdiction,
        overrides=overrides,
        debtor_timezone=zone,
        channel=channel,
        address=_address(channel),
        purpose=draw(st.sampled_from(list(ContactPurpose))),
        history=tuple(history),
        holds=tuple(holds),
        opt_outs=tuple(opt_outs),
    )
    return Scenario(request, now, jurisdiction, request.resolved_profile.cap_for(channel))


# The oracle -----------------------------------------------------------------------------------------


class Oracle:
    """The rules restated plainly, for one scenario. Knows nothing of the package's algorithms."""

    def __init__(self, scenario: Scenario) -> None:
        request = scenario.request
        self.scenario = scenario
        self.zone = ZoneInfo(request.debtor_timezone)
        self.windows = WINDOWS[scenario.jurisdiction]
        calendar = CLOSED_HOLIDAYS[scenario.jurisdiction]
        self.holidays = holiday_dates(*calendar) if calendar else frozenset()
        on_channel = [a for a in request.history if a.channel is request.channel]
        self.times = sorted(a.at.timestamp() for a in on_channel)
        self.per_day = Counter(a.at.astimezone(self.zone).date() for a in on_channel)
        self.regf = scenario.jurisdiction is Jurisdiction.US and request.channel is Channel.CALL
        calls = [a for a in request.history if a.channel is Channel.CALL]
        self.connected = Counter(a.at.astimezone(self.zone).date() for a in calls if a.delivered)
        self.conversations = [
            a.at.astimezone(self.zone).date() for a in calls if a.kind is AttemptKind.CONVERSATION
        ]
        collection = request.purpose is ContactPurpose.COLLECTION
        self.holds = [h for h in request.holds if h.kind in STOPS_EVERY_PURPOSE or collection]

    def _hold_end(self, hold: Hold) -> datetime | None:
        if hold.kind not in LAPSING:
            return None
        if hold.until is not None:
            return hold.until
        if hold.kind is HoldKind.BREATHING_SPACE:
            return hold.placed_at + timedelta(days=BREATHING_SPACE_DAYS)
        return None

    def _hold_in_force(self, hold: Hold, at: datetime) -> bool:
        if hold.cleared_at is not None and hold.cleared_at <= at:
            return False
        end = self._hold_end(hold)
        return end is None or at < end

    def refused(self) -> bool:
        request, now = self.scenario.request, self.scenario.now
        for opt_out in request.opt_outs:
            if opt_out.channel in (None, request.channel) and opt_out.address in (None, request.address):
                return True
        return any(self._hold_in_force(h, now) and self._hold_end(h) is None for h in self.holds)

    def allowed(self, at: datetime) -> bool:
        wall = at.astimezone(self.zone)
        day = wall.date()
        if day in self.holidays:
            return False
        hours = self.windows[day.weekday()]
        if hours is None or not (time(hours[0]) <= wall.time() < time(hours[1])):
            return False
        if any(self._hold_in_force(h, at) for h in self.holds):
            return False
        limit = self.scenario.limit
        if self.scenario.request.purpose is not ContactPurpose.COLLECTION:
            # Caps limit collection messages; an answer to the debtor goes inside the window alone.
            limit = ChannelLimit(per_day=None, per_7_days=None)
        if limit.per_day is not None and self.per_day[day] >= limit.per_day:
            return False
        if limit.per_7_days is not None:
            recent = len(self.times) - bisect.bisect_right(self.times, (at - WEEK).timestamp())
            if recent >= limit.per_7_days:
                return False
        if self.regf:
            placed = sum(self.connected[day - timedelta(days=back)] for back in range(7))
            if placed >= 7:
                return False
            if any(c <= day < c + timedelta(days=7) for c in self.conversations):
                return False
        return True


def _first_whole_minute(moment: datetime) -> datetime:
    floored = moment.replace(second=0, microsecond=0)
    return floored if floored == moment else floored + MINUTE


def _assert_no_allowed_minute_between(allowed, start: datetime, end: datetime) -> None:
    minute = _first_whole_minute(start)
    while minute < end:
        assert not allowed(minute), f"{minute.isoformat()} is allowed but comes before {end.isoformat()}"
        minute += MINUTE


# Properties -----------------------------------------------------------------------------------------


def _new_year_deferral() -> Scenario:
    """Found by Hypothesis: a cap reached on Christmas Day 2030 defers past 1 January 2031, a ZA holiday."""
    christmas = datetime(2030, 12, 25, 1, tzinfo=UTC)
    limit = ChannelLimit(per_day=1, per_7_days=3)
    request = ContactRequest(
        account_id="ACC-P",
        jurisdiction=Jurisdiction.ZA,
        overrides=ClientOverrides(caps={Channel.EMAIL: limit}),
        debtor_timezone="America/New_York",
        channel=Channel.EMAIL,
        address=REQUEST_EMAIL,
        history=tuple(ContactAttempt(at=christmas, channel=Channel.EMAIL, kind=AttemptKind.MESSAGE) for _ in range(3)),
    )
    return Scenario(request, christmas, Jurisdiction.ZA, request.resolved_profile.cap_for(Channel.EMAIL))


@PROPERTY_SETTINGS
@given(scenarios())
@example(_new_year_deferral())
def test_decision_agrees_with_the_oracle_and_a_deferral_is_the_earliest_minute(scenario: Scenario):
    # Given a random contact, history, caps, holds and opt-outs at a random instant
    oracle = Oracle(scenario)
    # When the contact is evaluated
    decision = evaluate_contact(scenario.request, scenario.now)

    if oracle.refused():
        # Then a contact no waiting can save is refused, under a hold or opt-out rule
        assert decision.outcome is DecisionOutcome.REFUSE
        assert decision.rule.startswith(("hold.", "optout."))
        assert decision.not_before is None
        return

    if oracle.allowed(scenario.now):
        # Then an allowed instant is allowed: inside the window, no holiday, under every cap
        assert decision.outcome is DecisionOutcome.ALLOW, decision.reason
        assert decision.rule == "allow"
        return

    # Then anything else is deferred to the earliest whole minute the rules allow
    assert decision.outcome is DecisionOutcome.DEFER, decision.reason
    assert decision.rule in decision.inputs["blocking_rules"]
    not_before = decision.not_before
    assert not_before is not None and not_before > scenario.now
    assert not_before == _first_whole_minute(not_before)
    assert oracle.allowed(not_before)
    assert evaluate_contact(scenario.request, not_before).outcome is DecisionOutcome.ALLOW
    _assert_no_allowed_minute_between(oracle.allowed, scenario.now, not_before)


@PROPERTY_SETTINGS
@given(st.sampled_from(list(Jurisdiction)), st.sampled_from(ZONES), instants)
def test_next_allowed_moment_is_the_first_moment_inside_the_window(jurisdiction, zone_key, after):
    # Given a jurisdiction's window and a debtor's zone
    profile = profile_for(jurisdiction)
    oracle = Oracle(
        Scenario(
            ContactRequest(
                account_id="A",
                jurisdiction=jurisdiction,
                debtor_timezone=zone_key,
                channel=Channel.SMS,
                address="1",
            ),
            after,
            jurisdiction,
            ChannelLimit(),
        )
    )
    # When the next allowed moment is asked for
    moment = next_allowed_moment(profile, zone_key, after)
    # Then it is inside the window, is `after` itself when that is allowed, and no minute before it is
    assert oracle.allowed(moment)
    if oracle.allowed(after):
        assert moment == after
    else:
        assert moment > after and moment == _first_whole_minute(moment)
        _assert_no_allowed_minute_between(oracle.allowed, after, moment)


QUARTERS = [time(hour, minute) for hour in range(5) for minute in (0, 15, 30, 45)]


@st.composite
def night_windows(draw: st.DrawFn) -> ContactWindow:
    start = draw(st.sampled_from(QUARTERS[:-1]))
    end = draw(st.sampled_from([q for q in QUARTERS if q > start]))
    return ContactWindow(start=start, end=end)


@PROPERTY_SETTINGS
@given(
    night_windows(),
    st.sampled_from(["America/New_York", "Europe/London", "Pacific/Auckland", "America/Los_Angeles"]),
    _near(CLOCK_CHANGE_DAYS),
)
def test_windows_in_the_hours_clocks_skip_or_repeat(window, zone_key, after):
    # Given a window placed in the small hours, where clock changes skip or repeat local times
    profile = JurisdictionProfile.model_validate(
        SOUTH_AFRICA.model_dump() | {"weekly_windows": (window,) * 7, "closed_on_public_holidays": False}
    )
    zone = ZoneInfo(zone_key)

    def inside(at: datetime) -> bool:
        return window.contains(at.astimezone(zone).time())

    # When the next moment is asked for, and a contact is evaluated at the instant itself
    moment = next_allowed_moment(profile, zone_key, after)
    decision = evaluate_contact(
        ContactRequest(
            account_id="A",
            profile=profile,
            debtor_timezone=zone_key,
            channel=Channel.PUSH,
            address="device",
        ),
        after,
    )
    # Then every allowed instant shows a wall time inside the window, and none before `moment` does
    assert inside(moment)
    assert (decision.outcome is DecisionOutcome.ALLOW) is inside(after)
    if decision.outcome is DecisionOutcome.DEFER:
        assert decision.not_before == moment
    _assert_no_allowed_minute_between(inside, after, moment)

