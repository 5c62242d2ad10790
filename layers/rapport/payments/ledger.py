"""Reconciliation of payment events against a payment link: every rand accounted for exactly once.

Pure domain code. The caller loads a link and the events already recorded for it, asks for a
``Decision`` on a newly verified event, stores the event when the decision says so
(``decision.recorded``), and moves the debtor's balance by ``decision.credit_delta_cents``.

Rules, in the order they are checked:

1. Unknown link: no link was found for the event -> rejected (``unknown_link``). An event that
   names a different link than the one given -> rejected (``link_mismatch``).
2. Duplicate: the provider's ``event_id`` was seen before, or the same fact was seen before under
   another id: same provider, ``transaction_id``, ``kind`` and ``refund_id`` -> duplicate, no
   effect. Providers deliver at least once; a duplicate is normal, not an error.
3. Rejected: currency differs from the link's (``currency_mismatch``); a money-moving event
   (success, refund, chargeback) whose amount is not positive, or any event with a negative amount
   (``non_positive_amount``); a refund or chargeback that would take more back from a payment than
   is still credited for it (``reversal_exceeds_credit``); a success above the link's
   ``payment_ceiling_cents``, when it has one (``amount_beyond_link``). The ceiling is checked only
   when a payment arrives, never when recorded events are folded again: it is set by the caller
   from the moment's balance, and a payment accepted once must keep counting.
4. Otherwise the event is recorded. A success credits its amount. A refund or chargeback debits
   its amount from the payment it names. ``failed`` and ``pending`` move no money.

Out-of-order delivery, and the rule chosen for each case:

- ``failed`` after ``succeeded`` for one transaction does not undo the credit: a success is a
  final fact about money that moved; a late failure is a stale status.
- ``succeeded`` after ``failed`` credits: the later success is the fact that counts.
- A refund or chargeback that arrives before the success it reverses is *held*: recorded, with no
  effect on the balance, because there is nothing yet to take it from. When the success arrives,
  held reversals are applied in the order they were recorded, each only if it still fits in what
  is credited for that payment. A held reversal that does not fit stays unmatched and sets
  ``needs_review``: money was reported returned that we never saw arrive, which a person must look
  at. Taking it from the balance anyway could make the credit negative; ignoring it silently would
  lose a rand.

The state is a fold over the recorded events, so the balance never depends on anything but the
events. For any set of deliveries the credit is never negative and never exceeds what was paid;
once every delivery has arrived it equals the distinct successful payments minus the distinct
reversals that fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from pydantic import BaseModel, ConfigDict

from rapport.payments.models import LinkSnapshot, LinkStatus, PaymentEvent, PaymentEventKind


class DecisionOutcome(StrEnum):
    APPLIED = "applied"
    HELD = "held"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class RejectReason(StrEnum):
    UNKNOWN_LINK = "unknown_link"
    LINK_MISMATCH = "link_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    NON_POSITIVE_AMOUNT = "non_positive_amount"
    REVERSAL_EXCEEDS_CREDIT = "reversal_exceeds_credit"
    AMOUNT_BEYOND_LINK = "amount_beyond_link"


class Decision(BaseModel):
    """What to do with one event, and what the link looks like afterwards.

    For a duplicate or a rejection the figures are those of the link before the event.
    ``status`` is ``None`` only when the link is unknown.
    """

    model_config = ConfigDict(frozen=True)

    outcome: DecisionOutcome
    reason: RejectReason | None = None
    credit_delta_cents: int = 0
    status: LinkStatus | None
    credited_cents: int = 0
    outstanding_cents: int = 0
    overpaid_cents: int = 0
    is_partial: bool = False
    is_overpayment: bool = False
    needs_review: bool = False

    @property
    def recorded(self) -> bool:
        """True when the caller must store the event (it counts now, or it is held for later)."""
        return self.outcome in (DecisionOutcome.APPLIED, DecisionOutcome.HELD)


def fact_key(event: PaymentEvent) -> tuple[str, str, str, str | None]:
    """The identity of a payment fact, independent of which delivery carried it."""
    return (event.provider, event.transaction_id, event.kind.value, event.refund_id)


def _delivery_key(event: PaymentEvent) -> tuple[str, str]:
    return (event.provider, event.event_id)


@dataclass
class _Transaction:
    """Running figures for one provider transaction while folding."""

    success_cents: int | None = None
    reversed_cents: int = 0
    waiting: list[int] = field(default_factory=list)
    unmatched_cents: int = 0
    failed: bool = False

    def reverse(self, amount_cents: int) -> None:
        if self.success_cents is None:
            self.waiting.append(amount_cents)
        elif self.reversed_cents + amount_cents <= self.success_cents:
            self.reversed_cents += amount_cents
        else:
            self.unmatched_cents += amount_cents

    def succeed(self, amount_cents: int) -> None:
        self.success_cents = amount_cents
        waiting, self.waiting = self.waiting, []
        for held in waiting:
            self.reverse(held)

    @property
    def credited_cents(self) -> int:
        return 0 if self.success_cents is None else self.success_cents - self.reversed_cents


@dataclass
class _Tally:
    """The fold of a sequence of recorded events."""

    transactions: dict[tuple[str, str], _Transaction] = field(default_factory=dict)
    delivery_keys: set[tuple[str, str]] = field(default_factory=set)
    fact_keys: set[tuple[str, str, str, str | None]] = field(default_factory=set)

    @property
    def credited_cents(self) -> int:
        return sum(t.credited_cents for t in self.transactions.values())

    @property
    def paid_cents(self) -> int:
        return sum(t.success_cents or 0 for t in self.transactions.values())

    @property
    def reversed_cents(self) -> int:
        return sum(t.reversed_cents for t in self.transactions.values())

    @property
    def held_cents(self) -> int:
        return sum(sum(t.waiting) for t in self.transactions.values())

    @property
    def unmatched_cents(self) -> int:
        return sum(t.unmatched_cents for t in self.transactions.values())

    @property
    def any_failed(self) -> bool:
        return any(t.failed and t.success_cents is None for t in self.transactions.values())


def _rejection(link: LinkSnapshot, event: PaymentEvent) -> RejectReason | None:
    """The checks that do not depend on earlier events."""
    if event.link_id is not None and event.link_id != link.link_id:
        return RejectReason.LINK_MISMATCH
    if event.currency != link.currency:
        return RejectReason.CURRENCY_MISMATCH
    if event.amount_cents < 0 or (event.moves_money and event.amount_cents == 0):
        return RejectReason.NON_POSITIVE_AMOUNT
    return None


def _fold(link: LinkSnapshot, events: Iterable[PaymentEvent]) -> _Tally:
    """Fold recorded events. Defensive: duplicates and events that fail the stateless checks are
    skipped, so even a corrupted event list can never give a negative or inflated credit."""
    tally = _Tally()
    for event in events:
        if _delivery_key(event) in tally.delivery_keys or fact_key(event) in tally.fact_keys:
            continue
        if _rejection(link, event) is not None:
            continue
        tally.delivery_keys.add(_delivery_key(event))
        tally.fact_keys.add(fact_key(event))
        transaction = tally.transactions.setdefault((event.provider, event.transaction_id), _Transaction())
        if event.kind is PaymentEventKind.SUCCEEDED:
            transaction.succeed(event.amount_cents)
        elif event.is_reversal:
            transaction.reverse(event.amount_cents)
        elif event.kind is PaymentEventKind.FAILED:
            transaction.failed = True
    return tally


def _status(link: LinkSnapshot, tally: _Tally) -> LinkStatus:
    credited = tally.credited_cents
    if credited > 0:
        if credited < link.amount_cents:
            return LinkStatus.PARTLY_PAID
        return LinkStatus.PAID if credited == link.amount_cents else LinkStatus.OVERPAID
    if tally.paid_cents > 0:
        return LinkStatus.REFUNDED
    if link.status is LinkStatus.EXPIRED:
        return LinkStatus.EXPIRED
    return LinkStatus.FAILED if tally.any_failed else LinkStatus.OPEN


class LinkLedger(BaseModel):
    """A payment link and the events recorded for it, in the order they were recorded.

    A value: ``apply`` returns a new ledger. Build one from raw deliveries with ``fold``.
    """

    model_config = ConfigDict(frozen=True)

    link: LinkSnapshot
    events: tuple[PaymentEvent, ...] = ()

    @classmethod
    def fold(cls, link: LinkSnapshot, deliveries: Iterable[PaymentEvent]) -> LinkLedger:
        """Apply each delivery in turn, keeping those the rules record."""
        ledger = cls(link=link)
        for event in deliveries:
            ledger, _ = ledger.apply(event)
        return ledger

    @cached_property
    def _tally(self) -> _Tally:
        return _fold(self.link, self.events)

    @property
    def credited_cents(self) -> int:
        """What this link has actually brought in, net of reversals that were applied."""
        return self._tally.credited_cents

    @property
    def paid_cents(self) -> int:
        """Sum of distinct successful payments, before reversals."""
        return self._tally.paid_cents

    @property
    def reversed_cents(self) -> int:
        return self._tally.reversed_cents

    @property
    def held_reversal_cents(self) -> int:
        """Refunds and chargebacks waiting for the payment they reverse."""
        return self._tally.held_cents

    @property
    def unmatched_reversal_cents(self) -> int:
        """Held reversals that did not fit once their payment arrived (see ``needs_review``)."""
        return self._tally.unmatched_cents

    @property
    def needs_review(self) -> bool:
        return self._tally.unmatched_cents > 0

    @property
    def status(self) -> LinkStatus:
        return _status(self.link, self._tally)

    def decide(self, event: PaymentEvent) -> Decision:
        """Decide what ``event`` does to this link, without changing the ledger."""
        return self._decide(event)[0]

    def apply(self, event: PaymentEvent) -> tuple[LinkLedger, Decision]:
        """Decide, and return the ledger with the event recorded when the decision records it."""
        decision, after = self._decide(event)
        return after, decision

    def _decide(self, event: PaymentEvent) -> tuple[Decision, LinkLedger]:
        before = self._tally
        if _delivery_key(event) in before.delivery_keys or fact_key(event) in before.fact_keys:
            return self._unchanged(DecisionOutcome.DUPLICATE, None), self
        reason = _rejection(self.link, event)
        transaction = before.transactions.get((event.provider, event.transaction_id))
        if (
            reason is None
            and event.is_reversal
            and transaction is not None
            and transaction.success_cents is not None
            and transaction.reversed_cents + event.amount_cents > transaction.success_cents
        ):
            reason = RejectReason.REVERSAL_EXCEEDS_CREDIT
        ceiling = self.link.payment_ceiling_cents
        if (
            reason is None
            and event.kind is PaymentEventKind.SUCCEEDED
            and ceiling is not None
            and event.amount_cents > ceiling
        ):
            reason = RejectReason.AMOUNT_BEYOND_LINK
        if reason is not None:
            return self._unchanged(DecisionOutcome.REJECTED, reason), self

        after_ledger = self._with(event)
        after = after_ledger._tally
        held = event.is_reversal and (transaction is None or transaction.success_cents is None)
        decision = self._decision(
            DecisionOutcome.HELD if held else DecisionOutcome.APPLIED,
            None,
            after.credited_cents - before.credited_cents,
            after_ledger,
        )
        return decision, after_ledger

    def _with(self, event: PaymentEvent) -> LinkLedger:
        # A new instance rather than model_copy (which would carry the cached tally over). The
        # link and the events are already validated, so construct without validating again.
        return LinkLedger.model_construct(link=self.link, events=(*self.events, event))

    def _unchanged(self, outcome: DecisionOutcome, reason: RejectReason | None) -> Decision:
        return self._decision(outcome, reason, 0, self)

    def _decision(
        self, outcome: DecisionOutcome, reason: RejectReason | None, delta: int, ledger: LinkLedger
    ) -> Decision:
        credited = ledger.credited_cents
        amount = self.link.amount_cents
        return Decision(
            outcome=outcome,
            reason=reason,
            credit_delta_cents=delta,
            status=ledger.status,
            credited_cents=credited,
            outstanding_cents=max(amount - credited, 0),
            overpaid_cents=max(credited - amount, 0),
            is_partial=0 < credited < amount,
            is_overpayment=credited > amount,
            needs_review=ledger.needs_review,
        )


def reconcile(link: LinkSnapshot | None, applied: Sequence[PaymentEvent], event: PaymentEvent) -> Decision:
    """Decide what a newly verified ``event`` does to ``link`` given the events already recorded.

    ``applied`` is every event previously recorded for the link (applied or held), in recording
    order. ``link`` is ``None`` when no link matches the event's reference.
    """
    if link is None:
        return Decision(outcome=DecisionOutcome.REJECTED, reason=RejectReason.UNKNOWN_LINK, status=None)
    return LinkLedger(link=link, events=tuple(applied)).decide(event)
