"""Reports of a split run add up to the report of the whole portfolio."""

from __future__ import annotations

import pytest

from rapport_local.merging import merge_reports


def _part(in_arrears: int, agreed: float | None, judged: int, sends: int, mean_ms: float) -> dict:
    return {
        "client": "acme-za",
        "campaign": "weekday-arrears",
        "portfolio": {"in_arrears": in_arrears, "rows_read": 1000},
        "journeys": {"by_outcome": {"paid": in_arrears // 2, "no_response": in_arrears - in_arrears // 2}},
        "replies": {"intent_agrees_with_label": agreed, "intent_judged": judged, "vulnerable": 1},
        "payments": {"collected": 100.10, "collected_by_route": {"link": 100.10}},
        "simulator_errors": [f"error in part of {in_arrears}"],
        "lambda_invocations": {"send_message": {"count": sends, "mean_ms": mean_ms}},
    }


def test_counts_amounts_ratios_and_means_add_up_across_parts() -> None:
    # Given two parts of a run with different sizes, agreement and timings
    parts = [_part(10, 0.5, 4, 10, 2.0), _part(30, 1.0, 12, 30, 6.0)]

    # When they are merged
    merged = merge_reports(parts)

    # Then counts and amounts add up, ratios and means are recomputed from the counts behind them
    assert merged["portfolio"]["in_arrears"] == 40
    assert merged["journeys"]["by_outcome"] == {"paid": 20, "no_response": 20}
    assert merged["payments"]["collected"] == pytest.approx(200.20)
    assert merged["payments"]["collected_by_route"] == {"link": pytest.approx(200.20)}
    assert merged["replies"]["intent_judged"] == 16
    assert merged["replies"]["intent_agrees_with_label"] == pytest.approx(14 / 16, abs=1e-3)
    assert merged["lambda_invocations"]["send_message"] == {"count": 40, "mean_ms": 5.0}
    assert merged["simulator_errors"] == ["error in part of 10", "error in part of 30"]
    assert merged["client"] == "acme-za"


def test_a_part_with_nothing_judged_leaves_the_ratio_to_the_others() -> None:
    merged = merge_reports([_part(10, None, 0, 1, 1.0), _part(10, 0.75, 4, 1, 1.0)])
    assert merged["replies"]["intent_agrees_with_label"] == 0.75


def test_parts_from_different_clients_cannot_be_merged() -> None:
    other = _part(10, None, 0, 1, 1.0) | {"client": "harbour-uk"}
    with pytest.raises(ValueError, match="disagree"):
        merge_reports([_part(10, None, 0, 1, 1.0), other])
