"""Helpers for the integration tests: play the debtor and follow the journey on the local cloud."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rapport.portfolio import MonthRecord, PortfolioAccount, synthetic_debtor
from rapport_local.cloud import LocalCloud
from rapport_local.loading import to_record

MONDAY_MORNING = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Africa/Johannesburg"))


class Waits:
    """Signals when a journey reaches a waiting task, so a test can act like the debtor."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    def _event(self, account_id: str, waiting_for: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault((account_id, waiting_for), threading.Event())

    def observe(self, function: str, event: dict[str, Any], result: Any) -> None:
        if function == "await_response":
            self._event(event["account_id"], event["waiting_for"]).set()

    def wait(self, account_id: str, waiting_for: str = "response", timeout: float = 30) -> None:
        assert self._event(account_id, waiting_for).wait(timeout), f"{account_id} never waited for {waiting_for}"
        self._event(account_id, waiting_for).clear()


def account(source_id: int, *, balance_cents: int = 250_000, months_late: int = 2) -> PortfolioAccount:
    """A portfolio account with a made-up debtor, ``months_late`` behind."""
    history = tuple(
        MonthRecord(
            month=f"2005-{9 - i:02d}", status=months_late if i == 0 else 0, bill_cents=balance_cents, paid_cents=0
        )
        for i in range(6)
    )
    return PortfolioAccount(
        account_id=f"ACC-{source_id:06d}",
        credit_limit_cents=1_000_000,
        balance_cents=balance_cents,
        days_past_due=30 * months_late,
        history=history,
        debtor=synthetic_debtor(source_id),
    )


def load(cloud: LocalCloud, *accounts: PortfolioAccount, **changes: Any) -> None:
    now = cloud.clock.now()
    records = []
    for item in accounts:
        record = to_record(item, cloud, now)
        record.holds, record.opt_outs = [], []
        for name, value in changes.items():
            setattr(record, name, value)
        records.append(record)
    cloud.services.repos.accounts.save_all(records)


def start(cloud: LocalCloud, account_id: str, reply_timeout: int = 2, promise_wait: int = 2) -> str:
    """Start one journey exactly as the campaign function does, and return its id."""
    from rapport.journey.campaign import CampaignRun, _start_journey

    journey_id = f"{account_id}-test-2026-12-07"
    run = CampaignRun(
        campaign="test", timings={"reply_timeout_seconds": reply_timeout, "promise_wait_seconds": promise_wait}
    )
    assert _start_journey(cloud.services, account_id, run, "2026-12-07", cloud.clock.now())
    return journey_id


def finished(cloud: LocalCloud, journey_id: str, timeout: float = 60) -> dict[str, Any]:
    status = cloud.wait_for_executions([journey_id], timeout)[journey_id]
    assert status != "RUNNING", f"{journey_id} still running"
    return cloud.execution_status(journey_id)
