"""Simulated debtors: each account behaves the same way on every run (chosen from its ID).

A debtor acts when its journey starts waiting: pays through the payment link (the sandbox pay
page posts a signed webhook to the real webhook handler), replies by SMS (an End User Messaging
two-way SMS notification to the real inbound handler), or stays silent. Replies are the labelled
debtor replies shipped in ``data/``, so the run also shows how the analyser reads real wording.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapport.store.models import AccountModel
from rapport_local.cloud import LocalCloud

# Share of debtors per first action, by segment: pay in full, pay part, reply, stay silent.
_FIRST_ACTION = {
    "self_cure": (0.55, 0.05, 0.20, 0.20),
    "needs_help": (0.25, 0.10, 0.35, 0.30),
    "cant_pay": (0.08, 0.12, 0.45, 0.35),
    "wont_pay": (0.10, 0.00, 0.20, 0.70),
}


def _unit(*parts: str) -> float:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class _Schedule:
    """A tiny timer wheel: a few worker threads run actions when they fall due."""

    workers: int = 8
    _heap: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _cv: threading.Condition = field(default_factory=threading.Condition)
    _seq: itertools.count = field(default_factory=itertools.count)
    _stopped: bool = False
    _threads: list[threading.Thread] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def start(self) -> None:
        for index in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"debtor-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def at(self, delay_seconds: float, action: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._heap, (time.monotonic() + delay_seconds, next(self._seq), action))
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = None if not self._heap else max(0.0, self._heap[0][0] - time.monotonic())
                    self._cv.wait(timeout)
                if self._stopped:
                    return
                _, _, action = heapq.heappop(self._heap)
            try:
                action()
            except Exception as error:
                self.errors.append(f"{type(error).__name__}: {error}")


class SimulatedDebtors:
    def __init__(self, cloud: LocalCloud, replies_path: Path, react_after_seconds: float = 0.3) -> None:
        self.cloud = cloud
        self.replies = [json.loads(line) for line in replies_path.read_text().splitlines() if line.strip()]
        self.delay = react_after_seconds
        self.actions: Counter[str] = Counter()
        self.expected_intents: dict[str, str] = {}
        self._acted: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._schedule = _Schedule()

    def __enter__(self) -> SimulatedDebtors:
        self._schedule.start()
        self.cloud.on_invoke(self._observe)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._schedule.stop()

    @property
    def errors(self) -> list[str]:
        return self._schedule.errors

    def _observe(self, function: str, event: dict[str, Any], result: Any) -> None:
        if function != "await_response":
            return
        account_id, journey_id, waiting_for = event["account_id"], event["journey_id"], event["waiting_for"]
        with self._lock:
            visit = (journey_id, waiting_for)
            first_visit = visit not in self._acted
            self._acted.add(visit)
        if first_visit:
            self._schedule.at(self.delay, lambda: self._act(account_id, journey_id, waiting_for))

    def _act(self, account_id: str, journey_id: str, waiting_for: str) -> None:
        account = AccountModel.get(account_id)
        if waiting_for == "promise":
            roll = _unit(account_id, "promise")
            if roll < 0.60:
                self._pay(account, account.balance_cents, "promise_paid_full")
            elif roll < 0.75:
                self._pay(account, max(100, account.balance_cents // 3), "promise_paid_part")
            else:
                self.actions["promise_broken"] += 1
            return
        if self._replied(journey_id):
            self.actions["silent_after_reply"] += 1
            return
        share = _FIRST_ACTION.get(account.segment or "needs_help", _FIRST_ACTION["needs_help"])
        roll = _unit(account_id, "first")
        if roll < share[0]:
            self._pay(account, account.balance_cents, "paid_full")
        elif roll < share[0] + share[1]:
            self._pay(account, max(100, account.balance_cents // 2), "paid_part")
        elif roll < share[0] + share[1] + share[2]:
            self._reply(account, journey_id)
        else:
            self.actions["silent"] += 1

    def _replied(self, journey_id: str) -> bool:
        with self._lock:
            return journey_id in self.expected_intents

    def _pay(self, account: AccountModel, amount_cents: int, label: str) -> None:
        response = self.cloud.pay_latest_link(account.account_id, amount_cents) if amount_cents > 0 else None
        if response is None:
            self.actions["no_link_to_pay"] += 1
            return
        self.actions[label] += 1
        if response["statusCode"] != 200:
            self.actions[f"webhook_refused_{response['statusCode']}"] += 1

    def _reply(self, account: AccountModel, journey_id: str) -> None:
        reply = self.replies[int(_unit(account.account_id, "reply") * len(self.replies))]
        with self._lock:
            self.expected_intents[journey_id] = reply["intent"]
        self.cloud.reply_by_sms(account.phone, reply["text"])
        self.actions["replied"] += 1
