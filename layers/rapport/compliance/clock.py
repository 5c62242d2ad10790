"""Wall-clock arithmetic in the debtor's time zone, safe across daylight-saving changes.

A contact window is local wall time ("08:00 to 20:00"), but a contact happens at an instant. Around a
clock change a wall time can be missing (spring forward) or happen twice (fall back), so this module
never builds an instant from a wall time without checking that the instant really shows that wall
time, and it finds clock changes by searching the zone's UTC offset rather than guessing.

Everything returned here is an aware datetime in UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapport.compliance.errors import NaiveDatetimeError, UnknownTimeZoneError

MINUTE = timedelta(minutes=1)


def resolve_zone(timezone: str | tzinfo) -> tzinfo:
    """Return the zone for an IANA key (``"Africa/Johannesburg"``) or pass a tzinfo through."""
    if isinstance(timezone, tzinfo):
        return timezone
    return _zone(timezone)


@lru_cache(maxsize=512)
def _zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UnknownTimeZoneError(f"unknown time zone {key!r}") from error


def require_aware(moment: datetime, name: str = "moment") -> datetime:
    """Return ``moment`` in UTC, refusing a naive datetime (it could mean any instant)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def ceil_to_minute(moment: datetime) -> datetime:
    """The first whole minute at or after ``moment``."""
    floored = moment.replace(second=0, microsecond=0)
    return floored if floored == moment else floored + MINUTE


def spoken_day(day: date) -> str:
    """``"1 June 2026"``: a date as people write it, without a leading zero."""
    return f"{day.day} {day:%B %Y}"


def _offset_at(zone: tzinfo, epoch_seconds: int) -> timedelta | None:
    return datetime.fromtimestamp(epoch_seconds, UTC).astimezone(zone).utcoffset()


def _offset_change_between(zone: tzinfo, lower: datetime, upper: datetime) -> datetime:
    """The first instant in ``(lower, upper]`` whose UTC offset differs from the offset at ``lower``.

    The caller guarantees that the offsets at ``lower`` and ``upper`` differ. Offsets change on whole
    seconds, so a bisection on epoch seconds finds the exact instant of the clock change.
    """
    low = math.floor(lower.timestamp())
    high = math.ceil(upper.timestamp())
    before = _offset_at(zone, low)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(zone, middle) == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


@lru_cache(maxsize=8192)
def wall_instants(zone: tzinfo, day: date, wall: time) -> tuple[datetime, ...]:
    """Every instant whose local date and time are exactly ``day`` and ``wall``, earliest first.

    None on a spring-forward day when ``wall`` falls in the gap, two on a fall-back day when it falls in
    the repeated hour, one otherwise.
    """
    naive = datetime.combine(day, wall)
    found: list[datetime] = []
    for fold in (0, 1):
        candidate = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        # Naive datetimes that differ only in fold compare equal, so this checks the wall time shown.
        if candidate.astimezone(zone).replace(tzinfo=None) == naive and candidate not in found:
            found.append(candidate)
    return tuple(sorted(found))


@lru_cache(maxsize=8192)
def first_instant_at_or_after(zone: tzinfo, day: date, wall: time) -> datetime:
    """The earliest instant at which the local clock on ``day`` shows ``wall`` or later.

    When ``wall`` is missing (the clocks jumped over it) that is the instant of the jump, whose wall
    time is the first one after the gap. When ``wall`` happens twice it is the first occurrence.
    """
    existing = wall_instants(zone, day, wall)
    if existing:
        return existing[0]
    naive = datetime.combine(day, wall)
    # In a gap, fold=1 reads the wall time with the offset after the jump (an instant before the jump)
    # and fold=0 with the offset before it (an instant after the jump): the jump lies between them.
    first = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    lower, upper = min(first, second), max(first, second)
    return _offset_change_between(zone, lower, upper)


def local_day_start(zone: tzinfo, day: date) -> datetime:
    """The first instant of the local calendar day ``day`` (midnight, or later if midnight is skipped)."""
    return first_instant_at_or_after(zone, day, time(0))


@lru_cache(maxsize=8192)
def clock_changes_on(zone: tzinfo, day: date) -> tuple[datetime, ...]:
    """Instants inside the local day ``day`` at which the zone's UTC offset changes.

    NOTE: this compares the offset at the start and the end of the day, so it finds a single change;
    no zone in the tz database changes its clocks twice in one local day in the years we contact
    anyone, and a zone that starts to would need a scan of sub-intervals here.
    """
    start = local_day_start(zone, day)
    last = local_day_start(zone, day + timedelta(days=1)) - timedelta(seconds=1)
    if start.astimezone(zone).utcoffset() == last.astimezone(zone).utcoffset():
        return ()
    return (_offset_change_between(zone, start, last),)
