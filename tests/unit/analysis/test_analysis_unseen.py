"""The analyser on sets no rule or weight was fitted to: floors, so a change cannot quietly make it worse.

Each set was written by an author who never saw the analyser, beside a twin set from disjoint phrasings that
was scored, then fitted; these stayed sealed until they were scored once, and their misses were not looked
at afterwards. Neither is a training file (`rapport.analysis.train` reads only ``replies_*.jsonl`` beside
this file's folder). The floors are their first figures; a change that fixes a set's misses by looking at
them makes it one more fitted file, and should move it beside the others with its first-sight readings.

- unseen/replies_fresh_l.jsonl (300: a retail store-card book; English, Afrikaans, isiZulu, isiXhosa,
  Setswana and Sesotho; South Africa, Britain and the US; 36 vulnerable), first scored by
  local-rules-v9+learned-v6: intent accuracy 0.923, promise dates exact 0.923 (of 65), vulnerability recall
  0.972 (precision 0.897). All three targets met.
- unseen/replies_fresh_n.jsonl (300: a cellphone-contract and fibre book, same languages and countries; 38
  vulnerable), first scored by local-rules-v10+learned-v7: intent 0.930, promise dates 0.887 (of 62),
  vulnerability recall 0.947 (precision 0.878). Dates and vulnerability just short of the targets.
- unseen/replies_fresh_r.jsonl and unseen/replies_fresh_s.jsonl (300 each, by a seventh author: a rent-arrears
  and gym-membership book, and a credit-card, overdraft and small-business-loan book; 34 and 33 vulnerable),
  both kept sealed and first scored by local-rules-v12+learned-v9: R intent 0.933, dates 0.949 (of 59),
  recall 1.000 (precision 0.829); S 0.897, 0.915 (of 59), 1.000 (precision 0.805).
- unseen/replies_fresh_t.jsonl and unseen/replies_fresh_u.jsonl (300 each, by an eighth author: everyday
  consumer collections of the kind of the development file (personal loans, store and clothing accounts,
  premiums, cellphone accounts), and a furniture, solar-finance, buy-now-pay-later and school-fees book; 32
  vulnerable each), both kept sealed and first scored by local-rules-v12+learned-v9: T intent 0.947, dates
  1.000 (of 59), recall 1.000 (precision 0.800); U 0.927, 0.948 (of 58), 1.000 (precision 0.865). All three
  targets met by each.
"""

from pathlib import Path

import pytest

from rapport.analysis import LocalReplyAnalyser
from rapport.analysis.benchmark import evaluate, load_labelled

UNSEEN = Path(__file__).parent / "unseen"


@pytest.mark.parametrize(
    ("name", "vulnerable", "intent", "dates", "recall"),
    [
        ("replies_fresh_l.jsonl", 36, 0.923, 0.923, 0.972),
        ("replies_fresh_n.jsonl", 38, 0.930, 0.887, 0.947),
        ("replies_fresh_r.jsonl", 34, 0.933, 0.949, 1.000),
        ("replies_fresh_s.jsonl", 33, 0.896, 0.915, 1.000),
        ("replies_fresh_t.jsonl", 32, 0.946, 1.000, 1.000),
        ("replies_fresh_u.jsonl", 32, 0.926, 0.948, 1.000),
    ],
)
def test_an_unseen_set_reads_no_worse_than_when_it_was_first_scored(
    name: str, vulnerable: int, intent: float, dates: float, recall: float
) -> None:
    # Given a set no rule was fitted to, When the local analyser reads it
    labelled = load_labelled(UNSEEN / name)
    report = evaluate(labelled, LocalReplyAnalyser().analyse_batch([item.to_reply() for item in labelled]))

    # Then it does at least as well as it did the one time it was scored
    assert len(labelled) == 300 and sum(item.vulnerable for item in labelled) == vulnerable
    assert report.intent_accuracy >= intent, report.misses
    assert report.promise_date_exact >= dates, report.misses
    assert report.vulnerability_recall >= recall, report.misses
