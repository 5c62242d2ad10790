"""Where "now" comes from.

In AWS the clock is the system clock. The local cloud runs a simulated campaign day faster than
real time, so waits computed from the strategy (defer until 08:00, give the debtor two days to
reply) are converted to real seconds through the same clock: a Wait state then sleeps for the
converted time. Handlers never know which clock they have.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol

# The moment a journey has already waited for. A journey's clock never runs behind it: after a
# Wait "until 08:00 tomorrow", 08:00 tomorrow has come for that journey. In AWS the Wait lasts that
# long, so the floor is always in the past and changes nothing; a local run may shorten long waits
# (``max_wait_seconds`` in the journey's timings) and relies on the floor to keep time consistent.
_floor: ContextVar[datetime | None] = ContextVar("rapport_clock_floor", default=None)


@contextmanager
def journey_time(not_before: str | datetime | None) -> Iterator[None]:
    """Within the block, ``now()`` of every clock is at least ``not_before``."""
    if isinstance(not_before, str):
        not_before = datetime.fromisoformat(not_before)
    token = _floor.set(not_before)
    try:
        yield
    finally:
        _floor.reset(token)


def _at_least_floor(moment: datetime) -> datetime:
    floor = _floor.get()
    return moment if floor is None or floor <= moment else floor.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def real_seconds(self, span: timedelta) -> int:
        """How many real seconds a Wait or a task timeout needs to cover ``span`` of this clock."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return _at_least_floor(datetime.now(UTC))

    def real_seconds(self, span: timedelta) -> int:
        return max(0, int(span.total_seconds()))


class SimulatedClock:
    """A clock that starts at ``origin`` and runs ``scale`` times faster than real time.

    ``rebase`` moves the origin; the local campaign runner rebases before each batch of journeys
    so that every batch plays the same campaign day.
    """

    def __init__(self, origin: datetime, scale: float, minimum_wait_seconds: int = 1) -> None:
        if origin.tzinfo is None:
            raise ValueError("origin must carry a time zone")
        # (origin, real moment it applies from), replaced as one value: readers need no lock, so
        # hundreds of journey threads asking the time never queue behind each other.
        self._base = (origin.astimezone(UTC), time.monotonic())
        self.scale = scale
        self.minimum_wait_seconds = minimum_wait_seconds

    def rebase(self, origin: datetime) -> None:
        self._base = (origin.astimezone(UTC), time.monotonic())

    def now(self) -> datetime:
        origin, real_origin = self._base
        return _at_least_floor(origin + timedelta(seconds=(time.monotonic() - real_origin) * self.scale))

    def real_seconds(self, span: timedelta) -> int:
        if span <= timedelta(0):
            return 0
        return max(self.minimum_wait_seconds, round(span.total_seconds() / self.scale))
