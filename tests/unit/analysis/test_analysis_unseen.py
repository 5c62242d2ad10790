"""The analyser on a set no rule or weight was fitted to: a floor, so a change cannot quietly make it worse.

unseen/replies_fresh_k.jsonl (300: SMS, WhatsApp and email from South Africa, Britain and the US; English,
Afrikaans, isiZulu, isiXhosa, Setswana and Sesotho; 40 vulnerable) was written by the author of
replies_fresh_j.jsonl, from phrasings kept apart from that set's, and stayed sealed while fresh_j's misses
were fixed. It is not a training file (`rapport.analysis.train` reads only ``replies_*.jsonl`` beside this
file). Scored once each: local-rules-v7+learned-v4 intent accuracy 0.830, promise dates exact 0.807 (of 57),
vulnerability recall 0.950 at precision 0.760; local-rules-v8+learned-v5 0.880 / 0.877 / 0.900 at 0.878.
Below the targets (0.90 / 0.90 / 0.95), which is what the README reports. The floors are those v8 figures:
a change that fixes this file's misses by looking at them makes it one more fitted file, and should move it
beside the others with its first-sight readings instead.
"""

from pathlib import Path

from rapport.analysis import LocalReplyAnalyser
from rapport.analysis.benchmark import evaluate, load_labelled

UNSEEN = Path(__file__).parent / "unseen" / "replies_fresh_k.jsonl"


def test_the_unseen_set_reads_no_worse_than_when_it_was_first_scored() -> None:
    # Given the set no rule was fitted to, When the local analyser reads it
    labelled = load_labelled(UNSEEN)
    report = evaluate(labelled, LocalReplyAnalyser().analyse_batch([item.to_reply() for item in labelled]))

    # Then it does at least as well as local-rules-v8+learned-v5 did the one time it was scored
    assert len(labelled) == 300 and sum(item.vulnerable for item in labelled) == 40
    assert report.intent_accuracy >= 0.880
    assert report.promise_date_exact >= 0.877
    assert report.vulnerability_recall >= 0.900
