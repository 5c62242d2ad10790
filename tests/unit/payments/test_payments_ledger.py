"""Reconciliation rules, one case at a time (Given / When / Then)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from rapport.payments import (
    DecisionOutcome,
    LinkLedger,
    LinkSnapshot,
    LinkStatus,
    PaymentEvent,
    PaymentEventKind,
    RejectReason,
    reconcile,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
_ids = count(1)


def event(
    kind: PaymentEventKind,
    amount: int,
    transaction: str = "txn_1",
    *,
    event_id: str | None = None,
    link_id: str | None = "lnk_1",
    currency: str = "ZAR",
    refund_id: str | None = None,
    provider: str = "sandbox",
) -> PaymentEvent:
    if kind in (PaymentEventKind.REFUNDED, PaymentEventKind.CHARGEBACK) and refund_id is None:
        refund_id = f"rfd_{next(_ids)}"
    return PaymentEvent(
        provider=provider,
        event_id=event_id or f"evt_{next(_ids)}",
        transaction_id=transaction,
        link_id=link_id,
        kind=kind,
        amount_cents=amount,
        currency=currency,
        occurred_at=T0 + timedelta(seconds=next(_ids)),
        provider_status=kind.value,
        refund_id=refund_id,
    )


SUCCEEDED = PaymentEventKind.SUCCEEDED
FAILED = PaymentEventKind.FAILED
REFUNDED = PaymentEventKind.REFUNDED
CHARGEBACK = PaymentEventKind.CHARGEBACK
PENDING = PaymentEventKind.PENDING


@pytest.fixture
def link() -> LinkSnapshot:
    return LinkSnapshot(link_id="lnk_1", amount_cents=10_000, currency="ZAR")


def test_full_payment_credits_the_amount_and_marks_the_link_paid(link: LinkSnapshot) -> None:
    # Given an open link for R100.00
    ledger = LinkLedger(link=link)
    # When a success for the full amount arrives
    ledger, decision = ledger.apply(event(SUCCEEDED, 10_000))
    # Then exactly R100.00 is credited and the link is paid
    assert decision.outcome is DecisionOutcome.APPLIED
    assert decision.credit_delta_cents == 10_000
    assert decision.status is LinkStatus.PAID
    assert (decision.is_partial, decision.is_overpayment, decision.outstanding_cents) == (False, False, 0)
    assert ledger.credited_cents == 10_000


def test_part_payment_is_flagged_partial_with_what_is_outstanding(link: LinkSnapshot) -> None:
    # Given an open link for R100.00; When R40.00 arrives
    _, decision = LinkLedger(link=link).apply(event(SUCCEEDED, 4_000))
    # Then the link is partly paid with R60.00 outstanding
    assert decision.status is LinkStatus.PARTLY_PAID
    assert decision.is_partial and not decision.is_overpayment
    assert decision.outstanding_cents == 6_000


def test_overpayment_is_credited_in_full_and_flagged(link: LinkSnapshot) -> None:
    # Given a link paid R70.00 already; When a second payment of R50.00 arrives
    ledger, _ = LinkLedger(link=link).apply(event(SUCCEEDED, 7_000, "txn_a"))
    _, decision = ledger.apply(event(SUCCEEDED, 5_000, "txn_b"))
    # Then every rand received is credited, and R20.00 is reported as overpaid
    assert decision.credit_delta_cents == 5_000
    assert decision.status is LinkStatus.OVERPAID
    assert decision.is_overpayment and decision.overpaid_cents == 2_000


def test_a_payment_above_the_ceiling_is_rejected_and_one_at_it_is_credited() -> None:
    # Given a R100.00 link whose payments may bring in at most R150.00 each
    link = LinkSnapshot(link_id="lnk_1", amount_cents=10_000, payment_ceiling_cents=15_000)
    # When R150.01 is reported, then R150.00
    ledger, above = LinkLedger(link=link).apply(event(SUCCEEDED, 15_001, "txn_a"))
    ledger, at = ledger.apply(event(SUCCEEDED, 15_000, "txn_b"))
    # Then the first credits nothing and is not recorded; the second is an overpayment, kept
    assert (above.outcome, above.reason, above.credit_delta_cents) == (
        DecisionOutcome.REJECTED,
        RejectReason.AMOUNT_BEYOND_LINK,
        0,
    )
    assert (at.outcome, at.credit_delta_cents, at.is_overpayment) == (DecisionOutcome.APPLIED, 15_000, True)
    assert [e.transaction_id for e in ledger.events] == ["txn_b"]


def test_the_ceiling_bounds_new_payments_only_never_refunds_or_what_was_recorded() -> None:
    # Given R150.00 credited while the ceiling allowed it
    ledger, _ = LinkLedger(link=LinkSnapshot(link_id="lnk_1", amount_cents=10_000)).apply(
        event(SUCCEEDED, 15_000, "txn_a")
    )
    # When the ceiling has since dropped (the balance was paid), and a refund of it arrives
    lower = LinkLedger(
        link=LinkSnapshot(link_id="lnk_1", amount_cents=10_000, payment_ceiling_cents=100),
        events=ledger.events,
    )
    _, decision = lower.apply(event(REFUNDED, 15_000, "txn_a"))
    # Then the recorded payment still counts and the refund takes it back
    assert lower.credited_cents == 15_000
    assert (decision.outcome, decision.credit_delta_cents) == (DecisionOutcome.APPLIED, -15_000)


def test_redelivery_with_the_same_event_id_is_a_duplicate(link: LinkSnapshot) -> None:
    # Given a recorded success
    first = event(SUCCEEDED, 10_000, event_id="evt_same")
    ledger, _ = LinkLedger(link=link).apply(first)
    # When the provider delivers the very same event again
    after, decision = ledger.apply(first)
    # Then nothing more is credited and nothing is recorded
    assert decision.outcome is DecisionOutcome.DUPLICATE
    assert decision.credit_delta_cents == 0 and not decision.recorded
    assert after.credited_cents == 10_000 and len(after.events) == 1


def test_same_transaction_and_kind_under_a_new_event_id_is_a_duplicate(link: LinkSnapshot) -> None:
    # Given a recorded success for txn_1
    ledger, _ = LinkLedger(link=link).apply(event(SUCCEEDED, 10_000, event_id="evt_a"))
    # When the same fact arrives under another delivery id
    _, decision = ledger.apply(event(SUCCEEDED, 10_000, event_id="evt_b"))
    # Then it is a duplicate
    assert decision.outcome is DecisionOutcome.DUPLICATE


def test_the_same_transaction_id_at_another_provider_is_a_different_payment(link: LinkSnapshot) -> None:
    # Given a success for txn_1 at one provider; When another provider reports its own txn_1
    ledger, _ = LinkLedger(link=link).apply(event(SUCCEEDED, 3_000, provider="ozow"))
    _, decision = ledger.apply(event(SUCCEEDED, 3_000, provider="payfast"))
    # Then both count
    assert decision.outcome is DecisionOutcome.APPLIED and decision.credited_cents == 6_000


@pytest.mark.parametrize(
    ("bad_event", "reason"),
    [
        (event(SUCCEEDED, 10_000, currency="USD"), RejectReason.CURRENCY_MISMATCH),
        (event(SUCCEEDED, 0), RejectReason.NON_POSITIVE_AMOUNT),
        (event(SUCCEEDED, -500), RejectReason.NON_POSITIVE_AMOUNT),
        (event(REFUNDED, 0), RejectReason.NON_POSITIVE_AMOUNT),
        (event(FAILED, -1), RejectReason.NON_POSITIVE_AMOUNT),
        (event(SUCCEEDED, 10_000, link_id="lnk_other"), RejectReason.LINK_MISMATCH),
    ],
)
def test_invalid_events_are_rejected_with_a_reason(
    link: LinkSnapshot, bad_event: PaymentEvent, reason: RejectReason
) -> None:
    # Given an open link; When an invalid event arrives
    ledger, decision = LinkLedger(link=link).apply(bad_event)
    # Then it is rejected, not recorded, and moves no money
    assert decision.outcome is DecisionOutcome.REJECTED
    assert decision.reason is reason
    assert decision.credit_delta_cents == 0 and ledger.events == ()


def test_a_failed_event_may_carry_a_zero_amount(link: LinkSnapshot) -> None:
    # Given an open link; When a failure with amount 0 arrives
    _, decision = LinkLedger(link=link).apply(event(FAILED, 0))
    # Then it is recorded and the link shows the failure
    assert decision.outcome is DecisionOutcome.APPLIED and decision.status is LinkStatus.FAILED


def test_an_event_for_no_known_link_is_rejected() -> None:
    # Given no link matches; When reconciling
    decision = reconcile(None, [], event(SUCCEEDED, 100))
    # Then it is rejected as unknown, with no status
    assert decision.outcome is DecisionOutcome.REJECTED
    assert decision.reason is RejectReason.UNKNOWN_LINK and decision.status is None


def test_partial_refund_debits_and_two_distinct_refunds_both_count(link: LinkSnapshot) -> None:
    # Given a paid link
    ledger, _ = LinkLedger(link=link).apply(event(SUCCEEDED, 10_000))
    # When two partial refunds of the same payment arrive
    ledger, first = ledger.apply(event(REFUNDED, 3_000))
    ledger, second = ledger.apply(event(REFUNDED, 2_000))
    # Then both debit, and the link is partly paid again
    assert (first.credit_delta_cents, second.credit_delta_cents) == (-3_000, -2_000)
    assert ledger.credited_cents == 5_000 and ledger.status is LinkStatus.PARTLY_PAID


def test_refund_larger_than_what_is_still_credited_is_rejected(link: LinkSnapshot) -> None:
    # Given a payment of R100.00 with R70.00 already refunded
    ledger = LinkLedger.fold(link, [event(SUCCEEDED, 10_000), event(REFUNDED, 7_000)])
    # When a refund of R40.00 arrives for the same payment
    _, decision = ledger.apply(event(REFUNDED, 4_000))
    # Then it is rejected: only R30.00 is left to give back
    assert decision.outcome is DecisionOutcome.REJECTED
    assert decision.reason is RejectReason.REVERSAL_EXCEEDS_CREDIT
    assert ledger.credited_cents == 3_000


def test_full_refund_leaves_the_link_refunded(link: LinkSnapshot) -> None:
    # Given a paid link; When the whole payment is refunded
    ledger = LinkLedger.fold(link, [event(SUCCEEDED, 10_000), event(REFUNDED, 10_000)])
    # Then nothing is credited and the link says refunded
    assert ledger.credited_cents == 0 and ledger.status is LinkStatus.REFUNDED


def test_chargeback_debits_like_a_refund(link: LinkSnapshot) -> None:
    # Given a paid link; When a chargeback for the whole payment arrives
    ledger, _ = LinkLedger(link=link).apply(event(SUCCEEDED, 10_000))
    _, decision = ledger.apply(event(CHARGEBACK, 10_000))
    # Then the credit is taken back
    assert decision.credit_delta_cents == -10_000 and decision.status is LinkStatus.REFUNDED


def test_failure_after_success_does_not_undo_the_credit(link: LinkSnapshot) -> None:
    # Given a success for txn_1; When a late failure for txn_1 arrives
    ledger, _ = LinkLedger(link=link).apply(event(SUCCEEDED, 10_000))
    ledger, decision = ledger.apply(event(FAILED, 10_000))
    # Then it is recorded but the credit stands
    assert decision.outcome is DecisionOutcome.APPLIED and decision.credit_delta_cents == 0
    assert ledger.credited_cents == 10_000 and ledger.status is LinkStatus.PAID


def test_success_after_failure_credits(link: LinkSnapshot) -> None:
    # Given a failure for txn_1; When a success for txn_1 arrives
    ledger, first = LinkLedger(link=link).apply(event(FAILED, 10_000))
    ledger, second = ledger.apply(event(SUCCEEDED, 10_000))
    # Then the link goes from failed to paid
    assert first.status is LinkStatus.FAILED
    assert second.credit_delta_cents == 10_000 and second.status is LinkStatus.PAID


def test_refund_before_its_success_is_held_then_applied_with_it(link: LinkSnapshot) -> None:
    # Given a refund of R25.00 that outran its payment
    ledger, held = LinkLedger(link=link).apply(event(REFUNDED, 2_500))
    # When the payment of R100.00 arrives
    ledger, success = ledger.apply(event(SUCCEEDED, 10_000))
    # Then the refund was held without effect, and the success credits the net R75.00
    assert held.outcome is DecisionOutcome.HELD and held.recorded and held.credit_delta_cents == 0
    assert success.credit_delta_cents == 7_500
    assert ledger.credited_cents == 7_500 and ledger.held_reversal_cents == 0


def test_held_refunds_that_do_not_fit_are_left_for_review(link: LinkSnapshot) -> None:
    # Given two held refunds of R60.00 and R50.00 for one payment
    ledger = LinkLedger.fold(link, [event(REFUNDED, 6_000), event(REFUNDED, 5_000)])
    # When the payment of R100.00 arrives
    ledger, decision = ledger.apply(event(SUCCEEDED, 10_000))
    # Then the first refund (in recording order) applies, the second is unmatched and flagged
    assert decision.credit_delta_cents == 4_000
    assert ledger.unmatched_reversal_cents == 5_000
    assert decision.needs_review and ledger.needs_review


def test_pending_moves_no_money(link: LinkSnapshot) -> None:
    # Given an open link; When a pending status arrives
    _, decision = LinkLedger(link=link).apply(event(PENDING, 10_000))
    # Then it is recorded and the link stays open
    assert decision.outcome is DecisionOutcome.APPLIED
    assert decision.credit_delta_cents == 0 and decision.status is LinkStatus.OPEN


def test_expired_link_stays_expired_until_money_arrives() -> None:
    # Given a link the timer marked expired
    expired = LinkSnapshot(link_id="lnk_1", amount_cents=10_000, status=LinkStatus.EXPIRED)
    ledger, failure = LinkLedger(link=expired).apply(event(FAILED, 10_000))
    # When a late payment still arrives
    _, success = ledger.apply(event(SUCCEEDED, 10_000, "txn_2"))
    # Then the failure leaves it expired, and the money is still credited
    assert failure.status is LinkStatus.EXPIRED
    assert success.credit_delta_cents == 10_000 and success.status is LinkStatus.PAID


def test_reconcile_reads_the_recorded_events(link: LinkSnapshot) -> None:
    # Given recorded events for a link, as a store would return them
    recorded = [event(SUCCEEDED, 6_000, "txn_a"), event(SUCCEEDED, 4_000, "txn_b")]
    # When a refund for txn_a arrives
    decision = reconcile(link, recorded, event(REFUNDED, 6_000, "txn_a"))
    # Then it applies against what was recorded
    assert decision.credit_delta_cents == -6_000 and decision.credited_cents == 4_000


def test_a_corrupted_event_list_still_never_double_counts(link: LinkSnapshot) -> None:
    # Given a stored list that wrongly holds one success three times and a wrong-currency event
    success = event(SUCCEEDED, 10_000)
    ledger = LinkLedger(
        link=link, events=(success, success, success, event(SUCCEEDED, 5, "t", currency="USD"))
    )
    # Then the fold counts the success once and ignores the foreign currency
    assert ledger.credited_cents == 10_000 and ledger.paid_cents == 10_000


def test_decide_does_not_change_the_ledger(link: LinkSnapshot) -> None:
    # Given an empty ledger; When deciding on a success without applying it
    ledger = LinkLedger(link=link)
    decision = ledger.decide(event(SUCCEEDED, 10_000))
    # Then the decision is computed but the ledger is unchanged
    assert decision.credit_delta_cents == 10_000
    assert ledger.events == () and ledger.credited_cents == 0
