"""The main job: the whole collections loop on the local cloud, over the real portfolio.

    python -m rapport_local.main                      # all 30,000 accounts, acme-za strategy
    python -m rapport_local.main --limit 2000         # a slice: the first 2,000 rows
    python -m rapport_local.main --client clients/harbour-uk.toml

It imports the portfolio, runs the client's campaign page by page (each page is a wave of
journeys, run to the end before the next starts), lets simulated debtors pay, reply or stay
silent, then prints a summary and writes a JSON report.
"""

from __future__ import annotations

import os

# The local cloud runs many "Lambdas" in one process: keep their logs to warnings and errors, and
# trace nothing (there is no X-Ray daemon). Set before any Powertools object is created.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "rapport-local")

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rapport.portfolio import PortfolioError, read_portfolio
from rapport_infra.catalogue import PROJECT_ROOT
from rapport_local.cloud import LocalCloud
from rapport_local.debtors import SimulatedDebtors
from rapport_local.loading import load_accounts
from rapport_local.report import build_report, print_summary, write_report


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rapport-local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", type=Path, default=PROJECT_ROOT / "clients" / "acme-za.toml")
    parser.add_argument("--portfolio", type=Path, default=PROJECT_ROOT / "data" / "uci-credit-card-default.csv")
    parser.add_argument("--replies", type=Path, default=PROJECT_ROOT / "data" / "replies-dev.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N rows of the portfolio")
    parser.add_argument("--campaign", default=None, help="campaign name (default: the client's first)")
    parser.add_argument("--wave", type=int, default=500, help="journeys per campaign page")
    parser.add_argument("--reply-timeout", type=int, default=8, help="seconds a journey waits for a response")
    parser.add_argument("--report", type=Path, default=None, help="where to write the JSON report")
    return parser.parse_args(argv)


class _Progress:
    """Counts journeys as they finish (every journey ends in the finish_journey task)."""

    def __init__(self) -> None:
        self.finished = 0
        self._cv = threading.Condition()

    def observe(self, function: str, event: dict[str, Any], result: Any) -> None:
        if function == "finish_journey":
            with self._cv:
                self.finished += 1
                self._cv.notify_all()

    def wait_for(self, target: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cv:
            while self.finished < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(min(remaining, 1.0))
        return True


def run(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    started = time.monotonic()
    try:
        portfolio = read_portfolio(args.portfolio, limit=args.limit)
    except PortfolioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for problem in portfolio.errors[:20]:
        print(f"skipped row {problem.row_number}: field {problem.field}: {problem.message}", file=sys.stderr)
    print(
        f"portfolio: {portfolio.rows_read} rows, {len(portfolio.accounts)} accounts, "
        f"{len(portfolio.errors)} rows skipped"
    )

    with LocalCloud(args.client) as cloud, SimulatedDebtors(cloud, args.replies) as debtors:
        client = cloud.client
        campaign = args.campaign or (client.campaigns[0].name if client.campaigns else None)
        if campaign is None:
            print(f"error: {args.client} declares no campaign", file=sys.stderr)
            return 2
        loaded = load_accounts(cloud, portfolio.accounts)
        print(
            f"loaded {loaded.accounts} accounts into the local cloud, {loaded.in_arrears} in arrears "
            f"({time.monotonic() - started:.1f}s)"
        )

        progress = _Progress()
        cloud.on_invoke(progress.observe)
        timings = {
            "reply_timeout_seconds": args.reply_timeout,
            "promise_wait_seconds": args.reply_timeout,
            "max_wait_seconds": 2,
        }
        origin = cloud.clock.now()
        cursor, total_started, wave = None, 0, 0
        campaign_started = time.monotonic()
        while True:
            wave += 1
            cloud.clock.rebase(origin)
            page = cloud.start_campaign(campaign, page_size=args.wave, cursor=cursor, timings=timings)
            total_started += page["started"]
            if not progress.wait_for(total_started, timeout=600):
                print("error: journeys did not finish within 10 minutes", file=sys.stderr)
                return 1
            elapsed = time.monotonic() - campaign_started
            print(
                f"wave {wave}: {page['started']} journeys started, {progress.finished}/{loaded.in_arrears} "
                f"finished, {progress.finished / max(elapsed, 1e-9):.1f} journeys/s",
                flush=True,
            )
            cursor = page["cursor"]
            if cursor is None:
                break
        repeat = cloud.start_campaign(campaign, page_size=args.wave * 100, timings=timings)

        wall = time.monotonic() - started
        report = build_report(
            cloud, debtors, portfolio, loaded, wall_seconds=wall, campaign=campaign, repeat_run=repeat
        )
    path = args.report or PROJECT_ROOT / "reports" / f"run-{client.client_id}.json"
    write_report(report, path)
    print_summary(report)
    print(f"report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
