"""The port every reply analyser implements, so journeys do not care which one runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from rapport.analysis.models import ReplyAnalysis, ReplyToAnalyse


@runtime_checkable
class ReplyAnalyser(Protocol):
    """Reads debtor replies and says what they mean for the collections journey."""

    def analyse(self, reply: ReplyToAnalyse) -> ReplyAnalysis:
        """Analyse one reply."""
        ...

    def analyse_batch(self, replies: Sequence[ReplyToAnalyse]) -> list[ReplyAnalysis]:
        """Analyse several replies; the result is in the order of `replies`."""
        ...
