"""Adding up the reports of a run split across several local clouds (``--workers``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def merge_reports(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One report for the whole portfolio from one report per share of its accounts.

    Counts and amounts add up; lists join; a ratio is recomputed from the counts behind it; a mean
    time is weighted by its count. Text (client, campaign) must agree across the parts. The caller
    sets the whole run's wall time and rate.
    """
    if not parts:
        raise ValueError("no reports to merge")
    merged = _add(list(parts))
    replies = merged.get("replies", {})
    judged = replies.get("intent_judged")
    if judged is not None:
        agreed = sum(
            round((part["replies"].get("intent_agrees_with_label") or 0) * part["replies"]["intent_judged"])
            for part in parts
        )
        replies["intent_agrees_with_label"] = round(agreed / judged, 3) if judged else None
    invocations: dict[str, dict[str, float]] = {}
    for part in parts:
        for name, figures in part.get("lambda_invocations", {}).items():
            total = invocations.setdefault(name, {"count": 0, "ms": 0.0})
            total["count"] += figures["count"]
            total["ms"] += figures["count"] * figures["mean_ms"]
    merged["lambda_invocations"] = {
        name: {"count": int(total["count"]), "mean_ms": round(total["ms"] / total["count"], 1)}
        for name, total in sorted(invocations.items())
        if total["count"]
    }
    return merged


def _add(values: list[Any]) -> Any:
    first = values[0]
    if isinstance(first, dict):
        keys: list[str] = []
        for value in values:
            keys.extend(key for key in value if key not in keys)
        return {key: _add([value[key] for value in values if key in value]) for key in keys}
    if isinstance(first, bool) or first is None:
        return first
    if isinstance(first, int | float):
        total = sum(value for value in values if value is not None)
        return round(total, 2) if isinstance(total, float) else total
    if isinstance(first, list):
        return [item for value in values for item in value]
    if any(value != first for value in values):
        raise ValueError(f"parts disagree: {sorted(set(map(str, values)))}")
    return first
