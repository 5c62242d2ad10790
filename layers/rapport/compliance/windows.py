"""The contact window: local hours per weekday, closed days and public holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from rapport.compliance.clock import (
    clock_changes_on,
    first_instant_at_or_after,
    require_aware,
    resolve_zone,
    spoken_day,
    wall_instants,
)
from rapport.compliance.errors import NoContactWindowError
from rapport.compliance.jurisdictions import WEEKDAY_NAMES, JurisdictionProfile

# How far ahead to look for an open window before giving up: three years of days.
SEARCH_HORIZON_DAYS = 3 * 366


@lru_cache(maxsize=32)
def _holiday_calendar(country: str, subdivision: str | None) -> Any:
    # Imported here: `holidays` costs a few hundred milliseconds to import, paid on first use only.
    # NOTE: the calendar fills in years lazily on lookup, a mutation that is safe in Lambda's single
    # thread; code that evaluates contacts from several threads should warm the years it needs first.
    import holidays

    return holidays.country_holidays(country, subdiv=subdivision)


def public_holiday(profile: JurisdictionProfile, day: date) -> str | None:
    """The name of the public holiday on ``day`` in the profile's calendar, or None."""
    calendar = _holiday_calendar(profile.holiday_country, profile.holiday_subdivision)
    return calendar.get(day)


@dataclass(frozen=True)
class WindowBlock:
    """Why a moment is outside the window: a rule id suffix, a plain reason and the facts used."""

    rule: str
    reason: str
    facts: dict[str, Any]


def inside_window(profile: JurisdictionProfile, zone: tzinfo, moment: datetime) -> bool:
    """Whether ``moment`` is inside the window: the fast form of :func:`window_block`."""
    wall = moment.astimezone(zone)
    day = wall.date()
    window = profile.weekly_windows[day.weekday()]
    if window is None or not window.contains(wall.time()):
        return False
    return not (profile.closed_on_public_holidays and public_holiday(profile, day) is not None)


def window_block(profile: JurisdictionProfile, zone: tzinfo, moment: datetime) -> WindowBlock | None:
    """None when ``moment`` is inside the profile's window in ``zone``, otherwise why it is not."""
    wall = moment.astimezone(zone)
    day = wall.date()
    weekday = WEEKDAY_NAMES[day.weekday()]
    facts: dict[str, Any] = {
        "local_time": wall.isoformat(timespec="minutes"),
        "weekday": weekday,
    }
    if profile.closed_on_public_holidays:
        holiday = public_holiday(profile, day)
        if holiday is not None:
            facts["public_holiday"] = holiday
            return WindowBlock(
                rule=f"{profile.rule_prefix}.window.public_holiday",
                reason=(
                    f"{weekday} {spoken_day(day)} is a public holiday ({holiday}) in {profile.name}, "
                    "and no contact is allowed on public holidays."
                ),
                facts=facts,
            )
    window = profile.window_on(day.weekday())
    if window is None:
        return WindowBlock(
            rule=f"{profile.rule_prefix}.window.{weekday.lower()}",
            reason=f"No contact is allowed on a {weekday} in {profile.name}.",
            facts=facts,
        )
    if not window.contains(wall.time()):
        facts["window"] = window.describe()
        return WindowBlock(
            rule=f"{profile.rule_prefix}.window.hours",
            reason=(
                f"It is {wall:%H:%M} on {weekday} in the debtor's time zone; on a {weekday} contact is "
                f"allowed in {profile.name} from {window.describe()} only."
            ),
            facts=facts,
        )
    return None


def _day_open(profile: JurisdictionProfile, day: date) -> bool:
    if profile.window_on(day.weekday()) is None:
        return False
    return not (profile.closed_on_public_holidays and public_holiday(profile, day) is not None)


def _openings(profile: JurisdictionProfile, zone: tzinfo, day: date) -> list[datetime]:
    """Every instant on local ``day`` at which the window could open, earliest first.

    The window opens where the wall clock reaches the start time (once, twice in a repeated hour, or at
    the jump if the start time is skipped) or where a clock change moves the wall time into the window.
    """
    window = profile.window_on(day.weekday())
    if window is None:
        return []
    candidates = {first_instant_at_or_after(zone, day, window.start)}
    candidates.update(wall_instants(zone, day, window.start))
    candidates.update(clock_changes_on(zone, day))
    return sorted(candidates)


def next_allowed_moment(profile: JurisdictionProfile, timezone: str | tzinfo, after: datetime) -> datetime:
    """The earliest instant at or after ``after`` that lies inside the contact window.

    Only the window and public holidays are considered (not caps, holidays of the account or opt-outs).
    The answer is ``after`` itself when that is inside the window. Raises :class:`NoContactWindowError`
    if nothing opens within three years (a profile that closes every day).
    """
    zone = resolve_zone(timezone)
    after = require_aware(after, "after")
    if inside_window(profile, zone, after):
        return after
    # Start a day early: a fall-back at midnight can give an instant after `after` an earlier local date.
    first_day = after.astimezone(zone).date() - timedelta(days=1)
    for offset in range(SEARCH_HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        if not _day_open(profile, day):
            continue
        for opening in _openings(profile, zone, day):
            if opening >= after and inside_window(profile, zone, opening):
                return opening
    raise NoContactWindowError(f"no contact window within {SEARCH_HORIZON_DAYS} days")
