"""Propensity to pay as an explainable points scorecard, and segmentation from it.

A scorecard with reason codes is the industry's explainable standard: every point comes from a
named characteristic, and the codes say which ones pulled the score down. Only behaviour counts:
repayment status, payments against bills, utilisation, days past due. Protected attributes are
not inputs and cannot become inputs (the function takes no such field).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from rapport.models.enums import Segment
from rapport.strategy.config import SegmentRule, Variant

BASE_POINTS = 600


@dataclass(frozen=True)
class MonthBehaviour:
    status: int
    bill_cents: int
    paid_cents: int


@dataclass(frozen=True)
class Score:
    points: int
    reason_codes: tuple[str, ...]
    months_late: int


def _payment_ratio(months: Sequence[MonthBehaviour]) -> float:
    billed = sum(max(0, month.bill_cents) for month in months)
    paid = sum(max(0, month.paid_cents) for month in months)
    return 1.0 if billed == 0 else min(1.0, paid / billed)


def score_account(
    history: Sequence[MonthBehaviour], balance_cents: int, credit_limit_cents: int, days_past_due: int
) -> Score:
    """Points for each behaviour; the reason codes are the three largest deductions."""
    months_late = sum(1 for month in history if month.status >= 1)
    deductions: dict[str, int] = {
        "R01_DAYS_PAST_DUE": min(180, days_past_due // 30 * 45),
        "R02_MONTHS_LATE_IN_SIX": months_late * 20,
        "R03_LOW_PAYMENTS_AGAINST_BILLS": int((1.0 - _payment_ratio(history[:3])) * 90),
        "R04_HIGH_UTILISATION": int(min(1.5, balance_cents / max(credit_limit_cents, 1)) * 60),
    }
    worsening = len(history) >= 3 and history[0].status > history[2].status >= 0
    deductions["R05_WORSENING_TREND"] = 40 if worsening else 0
    points = BASE_POINTS - sum(deductions.values())
    if len(history) >= 3 and all(month.status <= 0 for month in history[1:3]):
        points += 30
    ranked = sorted((item for item in deductions.items() if item[1] > 0), key=lambda item: -item[1])
    return Score(points=points, reason_codes=tuple(code for code, _ in ranked[:3]), months_late=months_late)


def assign_segment(
    rules: Sequence[SegmentRule], default: Segment, days_past_due: int, balance_cents: int, score: Score
) -> Segment:
    def within(value: int, low: int | None, high: int | None) -> bool:
        return (low is None or value >= low) and (high is None or value <= high)

    for rule in rules:
        if (
            within(days_past_due, rule.min_days_past_due, rule.max_days_past_due)
            and within(balance_cents, rule.min_balance_cents, rule.max_balance_cents)
            and within(score.points, rule.min_score, rule.max_score)
            and within(score.months_late, rule.min_months_late, rule.max_months_late)
        ):
            return rule.segment
    return default


def assign_variant(variants: Sequence[Variant], account_id: str, salt: str) -> str:
    """Deterministic champion/challenger split: the same account always lands in the same variant."""
    bucket = int.from_bytes(hashlib.sha256(f"{salt}:{account_id}".encode()).digest()[:4], "big") % 100
    threshold = 0
    for variant in variants:
        threshold += variant.weight
        if bucket < threshold:
            return variant.name
    return variants[-1].name
