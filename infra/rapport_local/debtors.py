"""Simulated debtors: each account behaves the same way on every run (chosen from its ID).

Every message sent is reported on by its provider a moment later, in the provider's own event
format and through the function AWS would notify (``rapport_local.conversations.deliver_event``):
most are delivered; a few bounce, fail or (email) draw a complaint, and their debtors never see them.

A debtor acts when its journey starts waiting: pays through the payment link (the sandbox pay
page posts a signed webhook to the real webhook handler), replies on the channel the message came
on (a two-way SMS, a WhatsApp message or an email, each as AWS delivers it to the real inbound
handler), or stays silent. Replies are the labelled debtor replies shipped in ``data/``, so the run
also shows how the analyser reads real wording.

A debtor who promised to pay keeps the promise, keeps part of it or breaks it. A debtor offered a
plan accepts it through its signed link (``POST /plans/{plan_id}/accept``), or takes the
settlement, or lets the offer lapse; some say when they are paid (the last working day, weekly on
Fridays, a SASSA grant) and some state their monthly income and expenses, so instalments move to
their pay days and a budget that affords no plan is refused (they then take the plan as offered);
some give their bank account for a DebiCheck mandate, and their banks answer. Then they pay every
instalment, pay some and stop, or pay none: instalments arrive as webhooks on the plan's link, and
the plans of those who stop are swept on the dates their instalments fall due (the months ahead
pass at once), so missed instalments are retried and a second miss cancels the plan. Payments need
``rapport_local.payments_page.enable_payments``.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
import json
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from rapport.models.enums import Channel
from rapport.store.models import AccountModel, ContactModel
from rapport_infra.catalogue import PROJECT_ROOT
from rapport_local import payments_page
from rapport_local.cloud import LocalCloud
from rapport_local.conversations import deliver_event, reply_by_email, reply_by_whatsapp

# Share of debtors per first action, by segment: pay in full, pay part, reply, stay silent.
_FIRST_ACTION = {
    "self_cure": (0.55, 0.05, 0.20, 0.20),
    "needs_help": (0.25, 0.10, 0.35, 0.30),
    "cant_pay": (0.08, 0.12, 0.45, 0.35),
    "wont_pay": (0.10, 0.00, 0.20, 0.70),
}


# Of debtors who reply, the share who ask for a plan and who promise to pay, by segment.
_ASKS = {
    "self_cure": (0.05, 0.40),
    "needs_help": (0.25, 0.30),
    "cant_pay": (0.45, 0.15),
    "wont_pay": (0.05, 0.10),
}
# Plan offers: accept the instalments, take the settlement, or let the offer lapse; then of those
# who accept, the share who give a bank account for a DebiCheck mandate.
_PLAN_CHOICE = (0.60, 0.15, 0.25)
_MANDATE_SHARE = 0.6
# Of those who accept the instalments, the share who give their pay day on the page, by pay day (the
# rest keep the offer's): the last working day, weekly on Fridays, a SASSA grant; and of those who
# give one, the share who also state their monthly income and expenses.
_PAY_DAY_SHARES = (
    (0.20, {"pay_day": {"kind": "last_working_day"}}),
    (0.12, {"pay_day": {"kind": "weekly", "weekday": "friday"}, "frequency": "weekly"}),
    (0.10, {"pay_day": {"kind": "sassa"}}),
)
_SASSA_GRANTS = ("older_persons", "disability", "children")
_BUDGET_SHARE = 0.3
# Once on a plan: pay every instalment, pay some then stop, pay none.
_PLAN_KEEPING = (0.60, 0.20, 0.20)
_SWEEP_GRACE_DAYS = 3
# A webhook (a payment, a bank's answer on a mandate) answered with a 5xx is delivered again, up to this
# many attempts in all, each wait twice the one before (rails retry for hours; the run's day is short).
_PAYMENT_DELIVERY_TRIES = 6


def _redelivery_delay(base_seconds: float, tries_left: int) -> float:
    """The wait before the next attempt: the base delay, doubled with each attempt already made."""
    return base_seconds * 2 ** (_PAYMENT_DELIVERY_TRIES - tries_left)
# What providers report of a message sent, by channel: (share, the provider's event), the rest
# delivered. The shares are of the order providers publish for collections traffic.
_DELIVERY_PROBLEMS = {
    "email": ((0.025, "Bounce"), (0.004, "Complaint")),
    "sms": ((0.02, "TEXT_INVALID"),),
    "whatsapp": ((0.02, "failed"),),
}
_DELIVERED = {"email": "Delivery", "sms": "TEXT_DELIVERED", "whatsapp": "delivered"}
_NOT_RECEIVED = frozenset({"failed", "bounced", "complained"})


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

    def overdue_seconds(self) -> float:
        """How late the most overdue action waiting to run is; 0 when every due action has started."""
        with self._cv:
            return max(0.0, time.monotonic() - self._heap[0][0]) if self._heap else 0.0

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
                self.errors.append(f"{type(error).__name__}: {error} (at {_where(error)})")


def _where(error: Exception) -> str:
    """The innermost line of our own code the error passed through, as file:line."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [
        frame for frame in frames
        if Path(frame.filename).is_relative_to(PROJECT_ROOT) and ".venv" not in Path(frame.filename).parts
    ] or frames
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "unknown"


class SimulatedDebtors:
    def __init__(self, cloud: LocalCloud, replies_path: Path, react_after_seconds: float = 0.3) -> None:
        self.cloud = cloud
        self.replies = [json.loads(line) for line in replies_path.read_text().splitlines() if line.strip()]
        self.delay = react_after_seconds
        self.actions: Counter[str] = Counter()
        self.expected_intents: dict[str, str] = {}
        self._acted: set[tuple[str, str]] = set()
        self._offers: dict[str, str] = {}
        self._offers_answered: set[str] = set()
        self._lock = threading.Lock()
        self._schedule = _Schedule(workers=16)

    def __enter__(self) -> SimulatedDebtors:
        self._schedule.start()
        self.cloud.on_invoke(self._observe)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._schedule.stop()

    def behind_seconds(self) -> float:
        """How far the debtors are behind: the most overdue reaction (a payment, reply, delivery
        report) still waiting for a free debtor thread."""
        return self._schedule.overdue_seconds()

    @property
    def errors(self) -> list[str]:
        return self._schedule.errors

    def _observe(self, function: str, event: dict[str, Any], result: Any) -> None:
        if function == "send_message" and isinstance(result, dict) and result.get("status") == "sent":
            account_id, message_id = event["account_id"], result["message_id"]
            if result.get("channel") in _DELIVERED:
                self._schedule.at(self.delay / 2, lambda: self._report_delivery(account_id, message_id))
            return
        if function == "offer_plan" and isinstance(result, dict) and result.get("offered"):
            with self._lock:
                self._offers[event["journey_id"]] = event["account_id"]
            return
        if function != "await_response":
            return
        account_id, journey_id, waiting_for = event["account_id"], event["journey_id"], event["waiting_for"]
        with self._lock:
            offer_pending = journey_id in self._offers and journey_id not in self._offers_answered
            if offer_pending:
                self._offers_answered.add(journey_id)
            visit = (journey_id, waiting_for)
            first_visit = visit not in self._acted
            self._acted.add(visit)
        if offer_pending:
            # The journey sent the plan offer and waits: the debtor opens the link (or does not).
            self._schedule.at(self.delay, lambda: self._answer_offer(account_id))
        elif first_visit:
            self._schedule.at(self.delay, lambda: self._act(account_id, journey_id, waiting_for))

    def _report_delivery(self, account_id: str, message_id: str) -> None:
        contact = ContactModel.get(account_id, message_id)
        roll, event = _unit(message_id, "delivery"), _DELIVERED[contact.channel]
        for share, problem in _DELIVERY_PROBLEMS[contact.channel]:
            if roll < share:
                event = problem
                break
            roll -= share
        detail = {"bounce_type": "Permanent"} if event == "Bounce" else {}
        if event == "failed":
            detail = {"error_code": 131026}  # WhatsApp: the message could not be delivered
        deliver_event(self.cloud, contact, event, **detail)
        self.actions[f"provider_reported_{contact.channel}_{event.lower()}"] += 1

    def _last_message(self, account_id: str, journey_id: str) -> ContactModel | None:
        sent = [
            c for c in ContactModel.query(account_id)
            if c.direction == "out" and c.journey_id == journey_id and c.provider_message_id
        ]
        return max(sent, key=lambda c: (c.at, c.contact_id), default=None)

    def _act(self, account_id: str, journey_id: str, waiting_for: str) -> None:
        account = AccountModel.get(account_id)
        last = self._last_message(account_id, journey_id)
        if last is not None and last.status in _NOT_RECEIVED:
            self.actions["message_never_arrived"] += 1
            return
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
        payment = self.cloud.latest_link_payment(account.account_id, amount_cents) if amount_cents > 0 else None
        if payment is None:
            self.actions["no_link_to_pay"] += 1
            return
        self.actions[label] += 1
        provider, headers, body = payment
        self._deliver_payment(provider, headers, body, tries=_PAYMENT_DELIVERY_TRIES)

    def _deliver_payment(
        self,
        provider: str,
        headers: dict[str, str],
        body: bytes,
        tries: int,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Post a payment webhook; like a rail, deliver the same event again later after a 5xx (the
        webhook answers 503 when, say, a plan's acceptance is still being written), signed afresh.
        ``then`` runs once the event is taken or given up on, so a debtor's next payment never
        overtakes one still being delivered."""
        response = self.cloud.post_webhook(provider, headers, body)
        status = response["statusCode"]
        if status >= 500 and tries > 1:
            self.actions["payment_webhook_redelivered"] += 1
            wait = _redelivery_delay(self.delay, tries)
            self._schedule.at(wait, lambda: self._redeliver_payment(provider, body, tries - 1, then))
            return
        if status != 200:
            self.actions[f"webhook_refused_{status}"] += 1
        if then is not None:
            self._schedule.at(self.delay, then)

    def _redeliver_payment(
        self, provider: str, body: bytes, tries: int, then: Callable[[], None] | None
    ) -> None:
        headers = self.cloud.services.payments.get(provider).redelivery_headers(body)
        self._deliver_payment(provider, headers, body, tries, then)

    def _choose_reply(self, account: AccountModel) -> dict[str, Any]:
        """What the debtor writes: some ask for a plan or promise to pay, as their segment would;
        the rest write any of the labelled replies."""
        plan_share, promise_share = _ASKS.get(account.segment or "needs_help", _ASKS["needs_help"])
        roll = _unit(account.account_id, "asks")
        wanted = "payment_plan_request" if roll < plan_share else None
        if wanted is None and roll < plan_share + promise_share:
            wanted = "promise_to_pay"
        pool = [reply for reply in self.replies if reply["intent"] == wanted] or self.replies
        return pool[int(_unit(account.account_id, "reply") * len(pool))]

    def _reply(self, account: AccountModel, journey_id: str) -> None:
        """Answer on the channel of the message the journey waits on, as debtors do.

        The debtor decided while the journey waited; when a busy machine delays the reply past the
        journey's (shortened) wait, a real debtor would have answered in time, so the reply is not
        sent late. Replies that arrive after a journey ended are tested on their own.
        """
        waiting = self.cloud.services.repos.journeys.waiting(account.account_id)
        if waiting is None or waiting.journey_id != journey_id:
            self.actions["reply_too_late_not_sent"] += 1
            return
        reply = self._choose_reply(account)
        with self._lock:
            self.expected_intents[journey_id] = reply["intent"]
        last = self._last_message(account.account_id, journey_id)
        channel = Channel(last.channel) if last is not None else Channel.SMS
        if channel is Channel.EMAIL and account.email:
            reply_by_email(self.cloud, account.email, reply["text"])
        elif channel is Channel.WHATSAPP and account.phone:
            reply_by_whatsapp(self.cloud, account.phone, reply["text"])
        else:
            channel = Channel.SMS
            self.cloud.reply_by_sms(account.phone, reply["text"])
        self.actions[f"replied_by_{channel.value}"] += 1

    # -- plans ------------------------------------------------------------------------------------
    def _plan_choices(self, account_id: str) -> dict[str, Any]:
        """What the debtor fills in on the acceptance page besides accepting: their pay day, and for
        some their monthly income and expenses (R6,000 to R20,000 earned, 60% to 95% of it spent)."""
        roll = _unit(account_id, "pay-day")
        for share, given in _PAY_DAY_SHARES:
            if roll < share:
                choices = copy.deepcopy(given)
                break
            roll -= share
        else:
            return {}
        if choices["pay_day"]["kind"] == "sassa":
            choices["pay_day"]["grant"] = _SASSA_GRANTS[int(_unit(account_id, "grant") * len(_SASSA_GRANTS))]
        if _unit(account_id, "budget") < _BUDGET_SHARE:
            income = 600_000 + int(_unit(account_id, "income") * 14_000) * 100
            spent = 0.60 + 0.35 * _unit(account_id, "expenses")
            choices.update(income_cents=income, expenses_cents=int(income * spent) // 100 * 100)
        return choices

    def _answer_offer(self, account_id: str) -> None:
        roll = _unit(account_id, "plan-offer")
        if roll >= _PLAN_CHOICE[0] + _PLAN_CHOICE[1]:
            self.actions["plan_offer_lapsed"] += 1
            return
        option = "instalments" if roll < _PLAN_CHOICE[0] else "settlement"
        bank = None
        if option == "instalments" and _unit(account_id, "mandate") < _MANDATE_SHARE:
            # The sandbox bank rejects accounts ending in 9; about one debtor in ten gives one.
            last = "9" if _unit(account_id, "bank-rejects") < 0.1 else "4"
            number = f"10{int(_unit(account_id, 'acct') * 1e7):07d}{last}"
            bank = {"account_number": number, "branch_code": "250655"}
        choices = self._plan_choices(account_id) if option == "instalments" else {}
        response = payments_page.accept_latest_offer(self.cloud, account_id, option, bank, **choices)
        if response is not None and response["statusCode"] == 422 and "income_cents" in choices:
            # The budget they stated affords no plan within the strategy's term: the page says so and
            # offers the settlement or an agent; they take the plan as it was offered instead.
            self.actions[f"plan_budget_refused_{response['json'].get('reason')}"] += 1
            choices = {}
            response = payments_page.accept_latest_offer(self.cloud, account_id, option, bank)
        if response is None:
            self.actions["plan_offer_without_link"] += 1
            return
        if response["statusCode"] != 200:
            self.actions[f"plan_acceptance_refused_{response['statusCode']}"] += 1
            return
        self.actions[f"plan_accepted_{option}"] += 1
        if choices:
            kind = choices["pay_day"]["kind"]
            self.actions[f"plan_pay_day_{kind}_{'budget' if 'income_cents' in choices else 'stated'}"] += 1
        if bank is not None:
            self._schedule.at(self.delay, self._banks_answer)
        self._schedule.at(self.delay, lambda: self._keep_plan(account_id))

    def _banks_answer(self) -> None:
        gateway = self.cloud.services.debicheck
        if gateway is None:
            return
        for callback in gateway.step(self.cloud.clock.now()):
            self._deliver_mandate_callback(callback, tries=_PAYMENT_DELIVERY_TRIES)

    def _deliver_mandate_callback(self, callback: Any, tries: int) -> None:
        """Post the bank's answer; like a provider, deliver it again later after a 5xx."""
        response = self.cloud.post_webhook("debicheck", callback.headers, callback.body)
        if response["statusCode"] >= 500 and tries > 1:
            self.actions["mandate_callback_redelivered"] += 1
            wait = _redelivery_delay(self.delay, tries)
            self._schedule.at(wait, lambda: self._redeliver_mandate_callback(callback, tries - 1))
            return
        self.actions[f"mandate_callback_{response['statusCode']}"] += 1

    def _redeliver_mandate_callback(self, callback: Any, tries: int) -> None:
        gateway = self.cloud.services.debicheck
        self._deliver_mandate_callback(gateway.redelivery(callback, self.cloud.clock.now()), tries)

    def _keep_plan(self, account_id: str) -> None:
        from rapport.payments.plans import PaymentPlan

        plan = payments_page.latest_plan(account_id)
        if plan is None or plan.status != "active":
            return
        instalments = len(PaymentPlan.model_validate(plan.plan["current"]).instalments)
        roll = _unit(account_id, "plan-keeping")
        if roll < _PLAN_KEEPING[0]:
            to_pay, label = instalments, "plan_kept"
        elif roll < _PLAN_KEEPING[0] + _PLAN_KEEPING[1] and instalments > 1:
            to_pay, label = max(1, instalments // 2), "plan_partly_kept"
        else:
            to_pay, label = 0, "plan_broken"
        self.actions[label] += 1
        self._pay_instalments(account_id, to_pay)

    def _pay_instalments(self, account_id: str, left: int) -> None:
        """One instalment now, the next after a pause; then the months ahead are swept."""
        if left > 0:
            payment = payments_page.next_instalment_payment(self.cloud, account_id)
            if payment is not None:
                plan = payments_page.latest_plan(account_id)
                option = (plan.plan or {}).get("option") if plan is not None else None
                self.actions["settlement_paid" if option == "settlement" else "instalment_paid"] += 1
                self._deliver_payment(
                    "sandbox",
                    *payment,
                    tries=_PAYMENT_DELIVERY_TRIES,
                    then=lambda: self._pay_instalments(account_id, left - 1),
                )
                return
        self._sweep_until_settled(account_id)

    def _sweep_until_settled(self, account_id: str) -> None:
        """Let the months pass for a plan nobody pays any more: sweep a few days after each due date."""
        from rapport.payments.plans import PaymentPlan

        for _ in range(4):
            plan = payments_page.latest_plan(account_id)
            if plan is None or plan.status != "active":
                return
            current = PaymentPlan.model_validate(plan.plan["current"])
            if not current.unpaid:
                return
            due = current.unpaid[0].due_date
            payments_page.review_plans(self.cloud, [account_id], due + timedelta(days=_SWEEP_GRACE_DAYS))
