"""The prefilter skips a rule only when the rule cannot match, so answers never change."""

import re
from pathlib import Path

import pytest

from rapport.analysis import LocalReplyAnalyser, dates, intents, vulnerability
from rapport.analysis.benchmark import load_labelled
from rapport.analysis.prefilter import Prefilter, required_literals
from rapport.analysis.text import normalise

HERE = Path(__file__).parent
LABELLED = [
    HERE.parents[2] / "data" / "replies-dev.jsonl",
    *sorted(HERE.glob("replies_*.jsonl")),
]


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"\bstop (?:sending|calling)\b", {"sending", "calling"}),
        (r"\b(?:instal+ments?|paaiement|split)\b", {"insta", "paaiement", "split"}),
        (r"(?:r ?\d+|rand)", {"r"}),
        (r"[a-z]+ ?\d", None),
        (r"\bpay(?:ing)?\b", {"pay"}),
        (r"^(?:ok|okay)?$", None),
    ],
)
def test_required_literals_are_what_every_match_must_contain(pattern: str, literals: set[str] | None) -> None:
    """Given a pattern, when analysed, then the literals are the most selective set of which any match
    contains one, or None when nothing can be said (a class, an optional part)."""
    found = required_literals(re.compile(pattern))
    assert (None if found is None else set(found)) == literals


def test_a_case_insensitive_pattern_is_never_filtered() -> None:
    """Given a case-insensitive pattern, when prefiltered, then it always runs."""
    assert Prefilter(re.compile(r"\bstop\b", re.IGNORECASE)).may_match("STOP") is True


def _all_rules() -> list[tuple[re.Pattern[str], Prefilter]]:
    return [
        *((cue.pattern, cue.prefilter) for cue in intents._CUES),
        *((pattern, prefilter) for pattern, _, prefilter in dates._RULES_AFRIKAANS),
        *((pattern, prefilter) for _, pattern, prefilter in vulnerability._SIGNS),
    ]


def test_no_rule_that_matches_a_labelled_reply_is_skipped() -> None:
    """Given every rule and every labelled reply, when a rule matches a reply, then its prefilter let
    the reply through."""
    texts = [normalise(item.text) for path in LABELLED for item in load_labelled(path)]
    skipped = [
        (pattern.pattern[:40], text)
        for pattern, prefilter in _all_rules()
        for text in texts
        if pattern.search(text) and not prefilter.may_match(text)
    ]
    assert skipped == []


def test_answers_are_the_same_with_and_without_the_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given every labelled reply, when analysed with the prefilter and with it switched off, then
    every analysis is identical."""
    replies = [item.to_reply() for path in LABELLED for item in load_labelled(path)]
    analyser = LocalReplyAnalyser()
    filtered = analyser.analyse_batch(replies)
    monkeypatch.setattr(Prefilter, "may_match", lambda self, text: True)
    assert analyser.analyse_batch(replies) == filtered
