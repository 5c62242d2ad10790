"""Understanding debtor replies: intent, sentiment, promise date and amount, vulnerability, redaction.

`LocalReplyAnalyser` runs anywhere with rules and a small learned backstop (`learned.py`, weights in
`learned_weights.json`, trained by `python -m rapport.analysis.train`); `ComprehendReplyAnalyser` adds Amazon
Comprehend's language, sentiment and PII detection on top of it. Both implement `ReplyAnalyser`.
The Comprehend adapter (and botocore with it) is imported only when first used, to keep Lambda
init time low.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rapport.analysis.dates import find_dates, resolve_promise_date
from rapport.analysis.local import LOCAL_ANALYSER_NAME, LocalReplyAnalyser
from rapport.analysis.models import ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.ports import ReplyAnalyser
from rapport.analysis.redaction import redact

if TYPE_CHECKING:
    from rapport.analysis.comprehend import ComprehendReplyAnalyser

__all__ = [
    "LOCAL_ANALYSER_NAME",
    "ComprehendReplyAnalyser",
    "LocalReplyAnalyser",
    "ReplyAnalyser",
    "ReplyAnalysis",
    "ReplyToAnalyse",
    "find_dates",
    "redact",
    "resolve_promise_date",
]


def __getattr__(name: str) -> Any:
    if name == "ComprehendReplyAnalyser":
        from rapport.analysis.comprehend import ComprehendReplyAnalyser

        return ComprehendReplyAnalyser
    raise AttributeError(name)
