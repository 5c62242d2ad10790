"""The main job: the whole collections loop on the local cloud, over the real portfolio.

    python -m rapport_local.main                      # all 30,000 accounts, acme-za strategy
    python -m rapport_local.main --limit 2000         # a slice: the first 2,000 rows
    python -m rapport_local.main --client clients/harbour-uk.toml

It imports the portfolio, runs the client's campaign with a bounded number of journeys in flight
(``--wave``; more start as others finish), lets simulated debtors pay, reply or stay silent, then
prints a summary and writes a JSON report. The portfolio is split across one local cloud per core
(``--workers``), each in its own process.
"""

from __future__ import annotations

import os

# The local cloud runs many "Lambdas" in one process: keep their logs to warnings and errors, and
# trace nothing (there is no X-Ray daemon). Set before any Powertools object is created.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "rapport-local")

import argparse
import dataclasses
import gc
import multiprocessing
import queue
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rapport.clock import SimulatedClock
from rapport.portfolio import PortfolioError, read_portfolio
from rapport.strategy.config import ClientConfigError, load_client_config
from rapport_infra.catalogue import PROJECT_ROOT
from rapport_local.cloud import LocalCloud
from rapport_local.debtors import SimulatedDebtors
from rapport_local.loading import load_accounts
from rapport_local.merging import merge_reports
from rapport_local.payments_page import enable_payments
from rapport_local.report import build_report, print_summary, write_report

# The campaign day starts at 09:00 in Johannesburg and runs ten times faster than real time: a
# 15-minute run plays 09:00 to 11:30, so every journey of the run belongs to the same campaign day
# (the repeat run then proves no journey starts twice). Waits longer than ``max_wait_seconds``
# are shortened; the journey's own clock still moves to the moment it waited for.
_CAMPAIGN_DAY_STARTS = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Africa/Johannesburg"))
_CLOCK_SCALE = 10


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rapport-local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", type=Path, default=PROJECT_ROOT / "clients" / "acme-za.toml")
    parser.add_argument("--portfolio", type=Path, default=PROJECT_ROOT / "data" / "uci-credit-card-default.csv")
    parser.add_argument("--replies", type=Path, default=PROJECT_ROOT / "data" / "replies-dev.jsonl")
    parser.add_argument("--limit", type=_positive_int, default=None, help="read only the first N rows of the portfolio")
    parser.add_argument("--campaign", default=None, help="campaign name (default: the client's first)")
    parser.add_argument("--wave", type=_positive_int, default=250, help="journeys in flight at most, per process")
    parser.add_argument("--reply-timeout", type=_positive_int, default=8, help="seconds a journey waits for a response")
    parser.add_argument("--report", type=Path, default=None, help="where to write the JSON report")
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=min(4, os.cpu_count() or 1),
        help="local clouds run side by side, one process each (default: one per core, at most 4)",
    )
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
    try:
        load_client_config(args.client)
    except ClientConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.replies.is_file():
        print(f"error: {args.replies}: no such file of labelled replies", file=sys.stderr)
        return 2
    for problem in portfolio.errors[:20]:
        print(f"skipped row {problem.row_number}: field {problem.field}: {problem.message}", file=sys.stderr)
    print(
        f"portfolio: {portfolio.rows_read} rows, {len(portfolio.accounts)} accounts, "
        f"{len(portfolio.errors)} rows skipped"
    )
    workers = max(1, min(args.workers, len(portfolio.accounts) or 1))
    try:
        report = run_shard(args, portfolio, _print_progress) if workers == 1 else _run_shards(args, workers)
    except ShardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1 if error.during_run else 2

    report["portfolio"]["rows_read"] = portfolio.rows_read
    report["portfolio"]["rows_skipped"] = len(portfolio.errors)
    report["workers"] = workers
    wall = time.monotonic() - started
    report["wall_seconds"] = round(wall, 1)
    report["accounts_per_second"] = round(report["portfolio"]["in_arrears"] / wall, 2) if wall else None
    path = args.report or PROJECT_ROOT / "reports" / f"run-{report['client']}.json"
    write_report(report, path)
    print_summary(report)
    print(f"report written to {path}")
    return 0


class ShardError(Exception):
    """A part of the run could not start (bad client file) or did not finish."""

    def __init__(self, message: str, *, during_run: bool) -> None:
        super().__init__(message)
        self.during_run = during_run


def _print_progress(line: str) -> None:
    print(line, flush=True)


def run_shard(args: argparse.Namespace, portfolio: Any, progress: Any, shard: str = "") -> dict[str, Any]:
    """One local cloud: load these accounts, run the campaign page by page, report from the records."""
    started = time.monotonic()
    clock = SimulatedClock(_CAMPAIGN_DAY_STARTS, scale=_CLOCK_SCALE)
    with LocalCloud(args.client, clock=clock) as cloud, SimulatedDebtors(cloud, args.replies) as debtors:
        enable_payments(cloud)  # plan links and DebiCheck, as an operator completes the real secret
        client = cloud.client
        campaign = args.campaign or (client.campaigns[0].name if client.campaigns else None)
        if campaign is None:
            raise ShardError(f"{args.client} declares no campaign", during_run=False)
        loaded = load_accounts(cloud, portfolio.accounts)
        progress(
            f"{shard}loaded {loaded.accounts} accounts into the local cloud, {loaded.in_arrears} in arrears "
            f"({time.monotonic() - started:.1f}s)"
        )

        finished = _Progress()
        cloud.on_invoke(finished.observe)
        timings = {
            "reply_timeout_seconds": args.reply_timeout,
            "promise_wait_seconds": args.reply_timeout,
            "max_wait_seconds": 2,
        }
        cloud.services.reply_journey_timings = timings
        # The portfolio is loaded: what is in memory now lives to the end of the run. Freezing it keeps
        # the garbage collector from walking it again on every full collection (seconds each, with
        # every journey thread stopped, at 15,000 accounts).
        gc.freeze()

        # A sliding window: at most ``--wave`` journeys in flight, topped up a batch at a time as
        # journeys finish, and only while the simulated debtors keep up. One process runs every
        # journey's steps and every debtor's reaction, so more in flight only makes each wait longer
        # for the interpreter: debtors then reply after the journey stopped waiting (a run that
        # measures nothing) and Lambda tasks time out. The simulated day runs on throughout, so every
        # batch plays the same campaign day.
        batch = max(1, args.wave // 10)
        cursor, total_started, last_report = None, 0, time.monotonic()
        campaign_started = time.monotonic()

        def report_progress(note: str) -> None:
            elapsed = time.monotonic() - campaign_started
            progress(
                f"{shard}{note}: {total_started} journeys started, {finished.finished}/{loaded.in_arrears} "
                f"finished, {finished.finished / max(elapsed, 1e-9):.1f} journeys/s"
            )

        while True:
            page = cloud.start_campaign(campaign, page_size=batch, cursor=cursor, timings=timings)
            total_started += page["started"]
            cursor = page["cursor"]
            if cursor is None:
                break
            if not finished.wait_for(total_started - args.wave + batch, timeout=600):
                raise ShardError(f"{shard}no journey finished for 10 minutes", during_run=True)
            if not _wait_until_debtors_keep_up(debtors, timeout=600):
                raise ShardError(f"{shard}simulated debtors fell 10 minutes behind", during_run=True)
            if time.monotonic() - last_report >= 15:
                report_progress("running")
                last_report = time.monotonic()
        # Replies may have started journeys of their own (a reply with no journey in progress): the
        # report is read once no journey of any kind runs.
        if not finished.wait_for(total_started, timeout=600) or not cloud.wait_until_no_journey_runs(600):
            raise ShardError(f"{shard}the last journeys did not finish within 10 minutes", during_run=True)
        report_progress("all journeys")
        repeat = cloud.start_campaign(campaign, page_size=args.wave * 100, timings=timings)
        return build_report(
            cloud,
            debtors,
            portfolio,
            loaded,
            wall_seconds=time.monotonic() - started,
            campaign=campaign,
            repeat_run=repeat,
        )


# Debtors react within this many seconds of when they mean to, or no new journey starts.
_DEBTORS_MAY_BE_BEHIND_SECONDS = 1.0


def _wait_until_debtors_keep_up(debtors: SimulatedDebtors, timeout: float) -> bool:
    """Backpressure on the campaign: wait until the debtors' most overdue reaction is under a second late."""
    deadline = time.monotonic() + timeout
    while debtors.behind_seconds() > _DEBTORS_MAY_BE_BEHIND_SECONDS:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def _run_shards(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    """Split the portfolio across ``workers`` local clouds, one process each, and add up their reports.

    Journeys of different accounts share nothing, so the accounts are dealt round-robin: each
    process runs the same campaign on its share with its own moto. One Python process uses one
    core (the interpreter lock), so this is what lets the run use the machine.
    """
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    processes = [
        context.Process(target=_shard_main, args=(args, index, workers, messages), name=f"shard-{index}", daemon=True)
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    reports: dict[int, dict[str, Any]] = {}
    failure: ShardError | None = None
    while len(reports) < workers and failure is None:
        try:
            kind, index, payload = messages.get(timeout=5)
        except queue.Empty:
            dead = [p.name for p in processes if not p.is_alive() and p.exitcode not in (0, None)]
            if dead:
                failure = ShardError(f"{', '.join(dead)} stopped unexpectedly", during_run=True)
            continue
        if kind == "progress":
            _print_progress(payload)
        elif kind == "report":
            reports[index] = payload
        else:
            failure = ShardError(payload["message"], during_run=payload["during_run"])
    for process in processes:
        if failure is not None:
            process.terminate()
        process.join(timeout=30)
    if failure is not None:
        raise failure
    return merge_reports([reports[index] for index in range(workers)])


def _shard_main(args: argparse.Namespace, index: int, workers: int, messages: Any) -> None:
    def progress(line: str) -> None:
        messages.put(("progress", index, line))

    try:
        portfolio = read_portfolio(args.portfolio, limit=args.limit)
        share = dataclasses.replace(portfolio, accounts=portfolio.accounts[index::workers])
        messages.put(("report", index, run_shard(args, share, progress, shard=f"[part {index + 1}/{workers}] ")))
    except ShardError as error:
        messages.put(("failed", index, {"message": str(error), "during_run": error.during_run}))
    except Exception as error:  # the parent must hear of any failure, or it waits for nothing
        messages.put(("failed", index, {"message": f"part {index + 1}: {type(error).__name__}: {error}",
                                        "during_run": True}))


if __name__ == "__main__":
    sys.exit(run())
