"""Measure how many contacts a second the guardrails can judge: ``python -m rapport.compliance.benchmark``.

Builds a seeded mix of requests (three jurisdictions, five time zones, every channel, histories of up
to twelve contacts, some holds and opt-outs, instants spread over 2026 and 2027 by default) and times
``evaluate_contact`` alone and together with building the request. Prints figures; asserts nothing.
Per-call percentiles are wall time, so on a busy machine the p99 mostly measures the scheduler.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rapport.compliance.decision import evaluate_contact
from rapport.compliance.holds import Hold
from rapport.compliance.jurisdictions import profile_for
from rapport.compliance.models import AttemptKind, ContactAttempt, ContactPurpose, ContactRequest, OptOut
from rapport.compliance.windows import public_holiday
from rapport.models.enums import Channel, HoldKind, Jurisdiction

ZONES = (
    "Africa/Johannesburg",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Pacific/Auckland",
)
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BenchmarkResult:
    contacts: int
    evaluate_seconds: float
    build_and_evaluate_seconds: float
    per_call_microseconds_p50: float
    per_call_microseconds_p99: float
    outcomes: dict[str, int]

    @property
    def evaluations_per_second(self) -> float:
        return self.contacts / self.evaluate_seconds

    @property
    def built_evaluations_per_second(self) -> float:
        return self.contacts / self.build_and_evaluate_seconds


def _request_fields(rng: random.Random, now: datetime) -> dict[str, Any]:
    channel = rng.choice(list(Channel))
    history = []
    for _ in range(rng.randint(0, 12)):
        on = channel if rng.random() < 0.6 else rng.choice(list(Channel))
        kind = AttemptKind.MESSAGE
        if on is Channel.CALL:
            kind = AttemptKind.CONVERSATION if rng.random() < 0.2 else AttemptKind.CALL_ATTEMPT
        ago = timedelta(minutes=rng.randint(0, 10 * 24 * 60))
        history.append(ContactAttempt(at=now - ago, channel=on, kind=kind, delivered=rng.random() < 0.9))
    holds = []
    if rng.random() < 0.1:
        kind = rng.choice(list(HoldKind))
        placed = now - timedelta(days=rng.randint(0, 30))
        holds.append(Hold(kind=kind, placed_by="bench", placed_at=placed, reason="benchmark"))
    opt_outs = [OptOut(channel=Channel.SMS, address="+27820000000")] if rng.random() < 0.05 else []
    return {
        "account_id": f"BENCH-{rng.randint(1, 10**6)}",
        "jurisdiction": rng.choice(list(Jurisdiction)),
        "debtor_timezone": rng.choice(ZONES),
        "channel": channel,
        "address": "debtor@example.com" if channel is Channel.EMAIL else "082 000 0000",
        "purpose": rng.choice(list(ContactPurpose)),
        "history": tuple(history),
        "holds": tuple(holds),
        "opt_outs": tuple(opt_outs),
    }


def run_benchmark(contacts: int = 5000, seed: int = 7, spread_days: int = 730) -> BenchmarkResult:
    """Judge ``contacts`` seeded contacts at instants spread over ``spread_days`` from 1 January 2026."""
    rng = random.Random(seed)
    instants = [START + timedelta(minutes=rng.randint(0, spread_days * 24 * 60)) for _ in range(contacts)]
    fields = [_request_fields(rng, now) for now in instants]

    # Fill the holiday calendars for the years judged, as a warm Lambda would have them; the first
    # lookup of a country and year costs milliseconds.
    for jurisdiction in Jurisdiction:
        for year in range(START.year - 1, START.year + 4):
            public_holiday(profile_for(jurisdiction), date(year, 6, 1))

    started = time.perf_counter()
    requests = [ContactRequest(**values) for values in fields]
    built = time.perf_counter() - started

    timings = []
    outcomes: Counter[str] = Counter()
    for request, now in zip(requests, instants, strict=True):
        before = time.perf_counter()
        decision = evaluate_contact(request, now)
        timings.append(time.perf_counter() - before)
        outcomes[decision.outcome.value] += 1
    evaluated = sum(timings)
    quantiles = statistics.quantiles(timings, n=100)
    return BenchmarkResult(
        contacts=contacts,
        evaluate_seconds=evaluated,
        build_and_evaluate_seconds=built + evaluated,
        per_call_microseconds_p50=statistics.median(timings) * 1e6,
        per_call_microseconds_p99=quantiles[98] * 1e6,
        outcomes=dict(outcomes),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--spread-days", type=int, default=730, help="1 models a day's batch; 730 spreads over two years"
    )
    arguments = parser.parse_args()
    result = run_benchmark(arguments.contacts, arguments.seed, arguments.spread_days)
    print(f"contacts judged: {result.contacts} {result.outcomes}")
    print(
        f"evaluate_contact: {result.evaluations_per_second:,.0f}/s "
        f"(p50 {result.per_call_microseconds_p50:.0f} us, p99 {result.per_call_microseconds_p99:.0f} us)"
    )
    print(f"build request + evaluate: {result.built_evaluations_per_second:,.0f}/s")


if __name__ == "__main__":
    main()
