"""Scoring a reply analyser against labelled replies.

    python -m rapport.analysis.benchmark data/replies-dev.jsonl [more.jsonl ...] [--repeat N] [--rules-only]

Each line of a file is one labelled reply (fields documented in data/README.md): id, text,
received_at, timezone, intent, sentiment, promise_date, amount (rand, may have cents), vulnerable,
language. The command prints, per file, intent accuracy and macro-F1, sentiment accuracy,
promise-date exact match (and promise dates given where none is labelled), amount exact match (and
amounts given where none is labelled), vulnerability recall and precision, language accuracy, the
misses, and replies per second of the local analyser (rules and learned backstop; `--rules-only`
for the rules alone). It always exits 0: the figures are for
people; tests assert the targets.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from rapport.analysis.local import LocalReplyAnalyser
from rapport.analysis.models import ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.ports import ReplyAnalyser
from rapport.models.enums import Intent, Sentiment


class LabelledReply(BaseModel):
    """One line of a labelled replies file."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    received_at: datetime
    timezone: str
    intent: Intent
    sentiment: Sentiment
    promise_date: date | None = None
    amount: Decimal | None = None
    vulnerable: bool
    language: str

    def to_reply(self) -> ReplyToAnalyse:
        return ReplyToAnalyse(
            reply_id=self.id, text=self.text, received_at=self.received_at, timezone=self.timezone
        )

    @property
    def amount_cents(self) -> int | None:
        return None if self.amount is None else int(self.amount * 100)


def load_labelled(path: Path) -> list[LabelledReply]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [LabelledReply.model_validate_json(line) for line in lines if line.strip()]


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


@dataclass
class BenchmarkReport:
    """The figures for one labelled set."""

    replies: int
    intent_accuracy: float
    intent_macro_f1: float
    sentiment_accuracy: float
    promise_dates_labelled: int
    promise_date_exact: float
    false_promise_dates: int
    amounts_labelled: int
    amount_exact: float
    false_amounts: int
    vulnerability_recall: float
    vulnerability_precision: float
    language_accuracy: float
    intent_confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)


def _macro_f1(pairs: list[tuple[Intent, Intent]]) -> float:
    labels = {gold for gold, _ in pairs} | {predicted for _, predicted in pairs}
    scores = []
    for label in labels:
        true_positive = sum(1 for gold, predicted in pairs if gold == label == predicted)
        predicted_count = sum(1 for _, predicted in pairs if predicted == label)
        gold_count = sum(1 for gold, _ in pairs if gold == label)
        precision = _ratio(true_positive, predicted_count)
        recall = _ratio(true_positive, gold_count)
        scores.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    return sum(scores) / len(scores) if scores else 1.0


def evaluate(labelled: Sequence[LabelledReply], analyses: Sequence[ReplyAnalysis]) -> BenchmarkReport:
    """Compare analyses with their labels (same order)."""
    pairs = list(zip(labelled, analyses, strict=True))
    intents = [(gold.intent, got.intent) for gold, got in pairs]
    with_date = [(gold, got) for gold, got in pairs if gold.promise_date is not None]
    with_amount = [(gold, got) for gold, got in pairs if gold.amount_cents is not None]
    vulnerable_gold = sum(1 for gold, _ in pairs if gold.vulnerable)
    vulnerable_flagged = sum(1 for _, got in pairs if got.vulnerable)
    vulnerable_hits = sum(1 for gold, got in pairs if gold.vulnerable and got.vulnerable)
    confusions: Counter[tuple[str, str]] = Counter(
        (gold.intent.value, got.intent.value) for gold, got in pairs if gold.intent != got.intent
    )
    misses = []
    for gold, got in pairs:
        wrong = []
        if gold.intent != got.intent:
            wrong.append(f"intent {gold.intent.value}->{got.intent.value}")
        if gold.promise_date != got.promise_date:
            wrong.append(f"date {gold.promise_date}->{got.promise_date}")
        if gold.amount_cents != got.amount_cents:
            wrong.append(f"amount {gold.amount_cents}->{got.amount_cents}")
        if gold.vulnerable != got.vulnerable:
            wrong.append(f"vulnerable {gold.vulnerable}->{got.vulnerable}")
        if wrong:
            misses.append(f"{gold.id}: {'; '.join(wrong)} | {gold.text}")
    return BenchmarkReport(
        replies=len(pairs),
        intent_accuracy=_ratio(sum(1 for gold, got in intents if gold == got), len(pairs)),
        intent_macro_f1=_macro_f1(intents),
        sentiment_accuracy=_ratio(
            sum(1 for gold, got in pairs if gold.sentiment == got.sentiment), len(pairs)
        ),
        promise_dates_labelled=len(with_date),
        promise_date_exact=_ratio(
            sum(1 for gold, got in with_date if gold.promise_date == got.promise_date), len(with_date)
        ),
        false_promise_dates=sum(1 for gold, got in pairs if gold.promise_date is None and got.promise_date),
        amounts_labelled=len(with_amount),
        amount_exact=_ratio(
            sum(1 for gold, got in with_amount if gold.amount_cents == got.amount_cents), len(with_amount)
        ),
        false_amounts=sum(
            1 for gold, got in pairs if gold.amount_cents is None and got.amount_cents is not None
        ),
        vulnerability_recall=_ratio(vulnerable_hits, vulnerable_gold),
        vulnerability_precision=_ratio(vulnerable_hits, vulnerable_flagged),
        language_accuracy=_ratio(sum(1 for gold, got in pairs if gold.language == got.language), len(pairs)),
        intent_confusions=confusions,
        misses=misses,
    )


def replies_per_second(analyser: ReplyAnalyser, replies: Sequence[ReplyToAnalyse], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        analyser.analyse_batch(replies)
    elapsed = time.perf_counter() - started
    return len(replies) * repeat / elapsed if elapsed > 0 else float("inf")


def format_report(name: str, report: BenchmarkReport, throughput: float | None = None) -> str:
    lines = [
        f"== {name}: {report.replies} replies",
        f"intent accuracy          {report.intent_accuracy:.3f}",
        f"intent macro-F1          {report.intent_macro_f1:.3f}",
        f"sentiment accuracy       {report.sentiment_accuracy:.3f}",
        f"promise date exact       {report.promise_date_exact:.3f}"
        f" (of {report.promise_dates_labelled} labelled)",
        f"false promise dates      {report.false_promise_dates}",
        f"amount exact             {report.amount_exact:.3f} (of {report.amounts_labelled} labelled)",
        f"false amounts            {report.false_amounts}",
        f"vulnerability recall     {report.vulnerability_recall:.3f}",
        f"vulnerability precision  {report.vulnerability_precision:.3f}",
        f"language accuracy        {report.language_accuracy:.3f}",
    ]
    if throughput is not None:
        lines.append(f"replies per second       {throughput:,.0f}")
    lines.append("intent confusions (labelled -> predicted):")
    lines.extend(
        f"  {gold} -> {got}: {count}" for (gold, got), count in report.intent_confusions.most_common()
    )
    if not report.intent_confusions:
        lines.append("  none")
    lines.append("misses (intent, promise date, amount or vulnerability):")
    lines.extend(f"  {miss}" for miss in report.misses)
    if not report.misses:
        lines.append("  none")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rapport.analysis.benchmark", description=__doc__.split("\n")[0]
    )
    parser.add_argument("files", nargs="+", type=Path, help="labelled replies, JSON Lines")
    parser.add_argument("--repeat", type=int, default=20, help="passes over each file when timing")
    parser.add_argument("--rules-only", action="store_true", help="score the rules without the learned model")
    arguments = parser.parse_args(argv)
    analyser = LocalReplyAnalyser(use_learned=not arguments.rules_only)
    for path in arguments.files:
        labelled = load_labelled(path)
        replies = [item.to_reply() for item in labelled]
        report = evaluate(labelled, analyser.analyse_batch(replies))
        throughput = replies_per_second(analyser, replies, max(1, arguments.repeat))
        print(format_report(f"{path} ({analyser.name})", report, throughput))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
