"""Property tests: for any delivery sequence, every rand is counted exactly once.

Given a set of payment facts (successes, failures, pendings, partial refunds and chargebacks),
delivered in any order, some twice under the same id and some again under a new id, when they
are folded into a ledger one by one, then:

- at every step the credit is >= 0 and <= the distinct successful payments delivered so far;
- the credit always equals the sum of the decisions' deltas (nothing moves outside a decision);
- once every delivery has arrived, the credit equals the distinct successful payments minus the
  distinct refunds and chargebacks (when those fit within their payments, as real ones do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.payments import LinkLedger, LinkSnapshot, PaymentEvent, PaymentEventKind

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LINK = LinkSnapshot(link_id="lnk_p", amount_cents=50_000, currency="ZAR")
# Strategies built once: building them inside the composite on every draw dominates the run time.
COIN = st.booleans()
REVERSAL_KIND = st.sampled_from([PaymentEventKind.REFUNDED, PaymentEventKind.CHARGEBACK])
TRANSACTION_COUNT = st.integers(1, 5)
PAYMENT_AMOUNT = st.integers(1, 100_000)
REVERSAL_COUNT = st.integers(0, 3)
COPY_COUNT = st.integers(0, 2)


@dataclass(frozen=True)
class Scenario:
    successes: dict[str, int]
    reversals: list[tuple[str, int]]
    deliveries: list[PaymentEvent]


def _event(
    index: int, kind: PaymentEventKind, transaction: str, amount: int, refund_id: str | None
) -> PaymentEvent:
    return PaymentEvent(
        provider="sandbox",
        event_id=f"evt_{index}",
        transaction_id=transaction,
        link_id=LINK.link_id,
        kind=kind,
        amount_cents=amount,
        currency="ZAR",
        occurred_at=T0 + timedelta(minutes=index),
        provider_status=kind.value,
        refund_id=refund_id,
    )


@st.composite
def scenarios(draw: st.DrawFn, reversals_fit: bool) -> Scenario:
    facts: list[tuple[PaymentEventKind, str, int, str | None]] = []
    successes: dict[str, int] = {}
    reversals: list[tuple[str, int]] = []
    for t in range(draw(TRANSACTION_COUNT)):
        transaction = f"txn_{t}"
        amount = draw(PAYMENT_AMOUNT)
        successes[transaction] = amount
        facts.append((PaymentEventKind.SUCCEEDED, transaction, amount, None))
        if draw(COIN):
            facts.append((PaymentEventKind.FAILED, transaction, amount, None))
        if draw(COIN):
            facts.append((PaymentEventKind.PENDING, transaction, amount, None))
        remaining = amount
        for r in range(draw(REVERSAL_COUNT)):
            if reversals_fit:
                if remaining == 0:
                    break
                reversed_amount = draw(st.integers(1, remaining))
                remaining -= reversed_amount
            else:
                reversed_amount = draw(st.integers(1, amount))
            kind = draw(REVERSAL_KIND)
            reversals.append((transaction, reversed_amount))
            facts.append((kind, transaction, reversed_amount, f"rfd_{t}_{r}"))

    deliveries: list[PaymentEvent] = []
    for index, (kind, transaction, amount, refund_id) in enumerate(facts):
        original = _event(index, kind, transaction, amount, refund_id)
        deliveries.append(original)
        for copy in range(draw(COPY_COUNT)):
            # A redelivery under the same id, or the same fact under a new delivery id.
            same_id = draw(COIN)
            deliveries.append(
                original if same_id else original.model_copy(update={"event_id": f"evt_{index}_{copy}"})
            )
    order = draw(st.permutations(range(len(deliveries))))
    return Scenario(successes, reversals, [deliveries[i] for i in order])


def _fold_checking_bounds(scenario: Scenario) -> LinkLedger:
    ledger = LinkLedger(link=LINK)
    delivered_successes: dict[str, int] = {}
    delta_total = 0
    for delivery in scenario.deliveries:
        ledger, decision = ledger.apply(delivery)
        delta_total += decision.credit_delta_cents
        if delivery.kind is PaymentEventKind.SUCCEEDED:
            delivered_successes[delivery.transaction_id] = delivery.amount_cents
        paid_so_far = sum(delivered_successes.values())
        assert 0 <= ledger.credited_cents <= paid_so_far
        assert ledger.paid_cents == paid_so_far
        assert delta_total == ledger.credited_cents == decision.credited_cents
    return ledger


@settings(max_examples=150, deadline=None)
@given(scenarios(reversals_fit=True))
def test_once_everything_is_delivered_the_credit_is_the_net_of_distinct_facts(scenario: Scenario) -> None:
    ledger = _fold_checking_bounds(scenario)
    expected = sum(scenario.successes.values()) - sum(amount for _, amount in scenario.reversals)
    assert ledger.credited_cents == expected
    assert ledger.held_reversal_cents == 0 and not ledger.needs_review


@settings(max_examples=150, deadline=None)
@given(scenarios(reversals_fit=False))
def test_even_excessive_reversals_never_push_the_credit_out_of_bounds(scenario: Scenario) -> None:
    ledger = _fold_checking_bounds(scenario)
    assert 0 <= ledger.credited_cents <= sum(scenario.successes.values())


@settings(max_examples=60, deadline=None)
@given(scenarios(reversals_fit=True), st.randoms(use_true_random=False))
def test_the_final_credit_does_not_depend_on_arrival_order(scenario: Scenario, random) -> None:
    shuffled = list(scenario.deliveries)
    random.shuffle(shuffled)
    assert (
        LinkLedger.fold(LINK, scenario.deliveries).credited_cents
        == LinkLedger.fold(LINK, shuffled).credited_cents
    )
