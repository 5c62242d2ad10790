"""The local analyser meets its targets on the shipped dev set and on every labelled set of ours.

replies_heldout.jsonl (beside this file) was written before the rules were tuned against it: 106
replies in English and Afrikaans, received at different times (month and year ends, 23:30 UTC,
London and New York debtors). Labelling conventions, shared with data/replies-dev.jsonl:
`promise_date` only for promise_to_pay replies that name a day; `amount` (rand) only for a sum the
debtor offers; hardship wins over a promise, an explicit opt-out over everything.

replies_fresh_a.jsonl (276, SMS and WhatsApp voice: typos, slang, code-switching with isiZulu and
Sesotho, multi-intent replies, tricky negatives) and replies_fresh_b.jsonl (183, formal emails and
voice-note transcripts) were written before their first run; replies_fresh_c.jsonl (137) and
replies_fresh_d.jsonl (98) were written later, after the rules had been read. Each set was run once
as it was, and only then were its misses fixed by general rules. First-run figures (intent accuracy,
promise dates exact, vulnerability recall): B 0.869 / 0.922 / 0.867, C 0.905 / 0.895 / 0.909,
D 0.888 / 0.957 / 0.900. Those, not the figures asserted here, are the guide to accuracy on unseen
replies. The analyser is deterministic, so these thresholds are not flaky.

replies_fresh_e.jsonl (212: SMS, WhatsApp and email, slang, typos, Afrikaans, sarcasm, negation, 34
vulnerable replies mostly told indirectly, promise dates in many forms and six time zones) was written
before its author read the rules; first run 0.877 / 0.958 / 0.853. Its misses were then fixed by kind
(vulnerability cues said around the event and denied cues, stop requests by position, irony, figures
set against each other, a topic reading for replies no cue recognises). replies_fresh_f.jsonl (117,
20 vulnerable) was written after those changes without running it reply by reply; first run 0.897 /
0.944 / 0.800 (the rules before fresh_e scored 0.795 / 0.944 / 0.750 on it). That first run is the
latest honest figure for unseen replies: intent accuracy is near the 0.90 target and vulnerability
recall below 0.95. Its misses were then fixed by kind too, so both files now pass like the others.

Since local-rules-v4+learned-v1 a linear model trained on all these files backs the rules up (see
rapport.analysis.local and rapport.analysis.train). The figures here are then no test of it; its
cross-validated figures by file, against what the rules said when they first met each fresh file,
pooled over A-F, were intent accuracy 0.918 (rules 0.856) and vulnerability recall 0.953 (rules 0.843)
at precision 0.959 (rules 0.980). 250 unseen replies then scored far lower: intent 0.744, promise
dates exact 0.692, vulnerability recall 0.871 at precision 0.76. Many of those misses were vulnerable
replies whose author labelled the request underneath (a promise or a plan from someone who lost their
job), where these files label hardship; the others were relative and colloquial dates and
vulnerability told indirectly. local-rules-v5+learned-v2 added, by kind, cues for vulnerability told
around the event (burials and "laid to rest", nerves, psychiatric care, indirect suicidal wording,
evictions, cut hours, an employer that stopped paying, Afrikaans and isiZulu forms), fewer false
flags (where a debtor works, medical aid, routine check-ups, a debt "passed on"), dates ("Friday
week", "Vrydag oor 'n week", "next weekend", "EOM", "end of the year", "end of day", "oor twee
weke"), a promise set against a shortage with no vulnerability ("broke until payday but will pay
then"), and a vulnerability threshold chosen with a recall margin (0.14: pooled recall 0.971,
precision 0.918, intent 0.915).

replies_fresh_h.jsonl (300: SMS, WhatsApp and email from South Africa, Britain and the US; English,
Afrikaans, isiZulu and isiXhosa; 78 vulnerable) was written by someone who never saw the analyser. At
first sight local-rules-v5+learned-v2 scored intent accuracy 0.880 (macro-F1 0.857), promise dates
exact 0.974 (of 39) and vulnerability recall 0.936 at precision 0.924; the rules alone 0.840 / 0.974 /
0.808, and local-rules-v4 0.873 / 0.974 / 0.872. Intent accuracy and vulnerability recall were below
target on unseen replies again. Its misses were then fixed by kind in local-rules-v6+learned-v3: stop
requests in Afrikaans, isiZulu and isiXhosa and formal ones ("cease all calls", "post only", withdrawn
consent, a threat to block the number); balance questions, calls, plans, refusals, disputes, job loss,
illness, hospital and bereavement in isiZulu and isiXhosa; British and US insolvency (bankruptcy, IVA,
Breathing Space), benefits, repossessed homes and emergency accommodation; legal disputes (FDCPA
validation, a bill insurance should have paid); cheques in the mail; words of a sign used for something
else (a medical bill as the debt, a service contract that ended, a closure years ago, "a breakdown of the
charges"); sums in dollars and pounds, refused or lived on; US numeric dates. Its figures here are
therefore fitted, like the others'. One of its labels keeps a convention the held-out file does not:
"next week" with no day names no promise date there, where replies_heldout.jsonl resolves "I'll pay next
week" to the Friday of next week; the rules keep the Friday, so that reply counts as a false promise date,
which no target reads.

replies_fresh_i.jsonl (300: SMS, WhatsApp and email from South Africa, Britain and the US; English,
Afrikaans, isiZulu, isiXhosa, Setswana, Sesotho and one Spanish reply; 78 vulnerable, two of them opt-outs)
was written by another author who never saw the analyser. At first sight local-rules-v6+learned-v3 scored
intent accuracy 0.853, promise dates exact 0.821 (of 28) and vulnerability recall 0.962 at precision
0.915; the rules alone 0.820 / 0.821 / 0.910, and local-rules-v5+learned-v2 0.820 / 0.786 / 0.846. Intent
accuracy and promise dates were below target on unseen replies again. Its "next Friday" said on a Tuesday
is the Friday of the following week, as in the other files ("next <weekday>" is that weekday in the next
calendar week). Its misses were then fixed by kind in local-rules-v7+learned-v4: Setswana and Sesotho
paying, paid, refusing, parts, "not my debt", wrong numbers, calls, stop requests, job loss and weekdays
("ka Labotlhano", "Mosupologo"); the isiZulu and isiXhosa forms still missing ("sendihlawulile",
"ngoMvulo", "ninenombolo engafanele", "ningaphindi nindithumelele"); job loss in Spanish; contact limited to
another channel ("WhatsApp only", "only in writing", "do not call my workplace"); a stop request that is a
sentence of its own, which wins over hardship; payments told in the passive ("payment in full was mailed
by check") or taken by the employer; questions about what paying would cost; debts written off, discharged
in a bankruptcy or billed to the insurer; natural disasters; slang promises ("imma pay it sat", "paying
rn"); and sums that are an age, refused after they are named or describe an income. Its figures here are
therefore fitted, like the others'.

replies_fresh_j.jsonl (300: SMS, WhatsApp and formal email from South Africa, Britain and the US; English,
Afrikaans, isiZulu, isiXhosa, Setswana and Sesotho; 40 vulnerable) was written by another author who never
saw the analyser. At first sight local-rules-v7+learned-v4 scored intent accuracy 0.920 (macro-F1 0.915),
promise dates exact 0.914 (of 58, one false promise date), amounts exact 0.864 (of 22) and vulnerability
recall 1.000 at precision 0.909: the first fresh set on which every target held at first sight, though
the rules alone missed six of its 40 vulnerable replies, which the learned model caught. Its misses were
then fixed by kind in local-rules-v8+learned-v5: isiXhosa paying with "bhatala" and with an object
("ndiza kuyihlawula", "ndibhatele"), paid in full or long ago, owing no more ("angisakweleti", "ga ke sa
kolota"), instalments ("ngezavenge"), debts denied in Setswana and Sesotho ("ga ke na molato le lona",
"ntho eo ke sa e rekang"), the Setswana call ("ntetsetsa"), isiZulu and isiXhosa "don't contact me again"
("ungaphinde ungithinte"), not knowing the person in Setswana and a wrong number in isiXhosa; days in those
languages ("olandelayo", "e latelang", "ekupheleni kwenyanga", "ka la 25", "kamoso") and "before the 15th"
as the day before; denials asked as questions ("how can I owe", "since when do I have an account"), a
balance that leaves out a payment, never a co-signer; settlement and paid-up figures, questions about
interest, the next debit order, which account this is and a credit record; plans as months to pay or a
count of sums ("4 x R1 050", "200 pm"); the future perfect ("I'll have it paid"), a sum and a day alone,
a promise on a tax refund; impossible conditions ("after I win the Lotto") and rude dismissals; non-
committal answers and letters reported received; a routine check-up said with a space; vulnerability
told as darkness, a business looted, maintenance that stopped, food on the table, job loss in isiXhosa
and living off someone's grant; and a sum offered beside a stop request. Its figures here are therefore
fitted, like the others'.

replies_fresh_k.jsonl (300, by fresh_j's author, phrasings kept apart from fresh_j's) stayed sealed while
fresh_j was fitted. At first sight local-rules-v7+learned-v4 scored 0.830 / 0.807 (of 57) / 0.950, and
local-rules-v8+learned-v5, fitted to fresh_j, 0.880 / 0.877 / 0.900 (precision 0.878). Its misses were then
fixed by kind in local-rules-v9+learned-v6: the plain negative present of paying and thanks in isiZulu,
isiXhosa, Setswana and Sesotho, grants and pensions, statements and disputed sums in those languages;
promises from the creditor's side ("you'll have your money"); holidays, "give me 3 days" and short weekdays
as days; payments reported without a subject; do-not-call lists and contact in writing only; defiance.

replies_fresh_l.jsonl and replies_fresh_m.jsonl (300 each, SMS, WhatsApp and email from a retail store-card
book and from a vehicle-finance and personal-loan book; English, Afrikaans, isiZulu, isiXhosa, Setswana and
Sesotho; 36 vulnerable each) were written by a fourth author who never saw the analyser, and scored once
each by local-rules-v9+learned-v6: L 0.923 / 0.923 (of 65) / 0.972 (precision 0.897), every target met at
first sight; M 0.880 / 0.873 (of 63) / 0.972 (precision 0.854). M was then fitted by kind in
local-rules-v10+learned-v7 (an instalment of a running plan, arrears moved to the end of a loan, car-finance
disputes, Setswana calls and inability, walking away from a debt, proof demanded before paying). L stays
unseen: it is not a training file and guards a floor in test_analysis_unseen.py.

replies_fresh_n.jsonl and replies_fresh_o.jsonl (300 each: a cellphone-contract and fibre book, and a
micro-loan, funeral-cover and insurance-premium book; 38 and 37 vulnerable) were written by a fifth author
who never saw the analyser, and scored once each by local-rules-v10+learned-v7: N 0.930 / 0.887 (of 62) /
0.947 (precision 0.878); O 0.847 / 0.841 (of 63) / 0.973 (precision 0.667: "funeral" in a funeral policy
read as a bereavement). O was then fitted by kind in local-rules-v11+learned-v8 (a funeral policy, cover,
premium or parlour is no bereavement; paying in the present tense; premiums debited; loans never paid out
in full; "zero chance"; skipping a month; Sesotho and isiZulu calls and loans never taken). N stays unseen
beside L.

replies_fresh_p.jsonl and replies_fresh_q.jsonl (300 each: municipal rates and medical accounts; school
fees, student loans and furniture on hire purchase; 42 and 41 vulnerable) were written by a sixth author who
never saw the analyser, and scored once each by local-rules-v11+learned-v8: P 0.897 / 0.933 (of 60) / 0.952
(precision 0.690: a hospital or a doctor named as the creditor read as illness); Q 0.880 / 0.871 (of 62) /
0.927 (precision 0.927). Both were then fitted by kind in local-rules-v12+learned-v9 (a medical provider as
the creditor; meter readings, services never delivered, fees billed apart from a quoted package; terms never
attended; goods sent back; a company phone or an old number; "whistle for it"; post-dated payments and
arrears moved to the back of a contract; a real person asked for).
"""

from pathlib import Path

import pytest

from rapport.analysis import LocalReplyAnalyser
from rapport.analysis.benchmark import evaluate, load_labelled, main

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent
LABELLED_FILES = [
    ROOT / "data" / "replies-dev.jsonl",
    HERE / "replies_heldout.jsonl",
    HERE / "replies_fresh_a.jsonl",
    HERE / "replies_fresh_b.jsonl",
    HERE / "replies_fresh_c.jsonl",
    HERE / "replies_fresh_d.jsonl",
    HERE / "replies_fresh_e.jsonl",
    HERE / "replies_fresh_f.jsonl",
    HERE / "replies_fresh_h.jsonl",
    HERE / "replies_fresh_i.jsonl",
    HERE / "replies_fresh_j.jsonl",
    HERE / "replies_fresh_k.jsonl",
    HERE / "replies_fresh_m.jsonl",
    HERE / "replies_fresh_o.jsonl",
    HERE / "replies_fresh_p.jsonl",
    HERE / "replies_fresh_q.jsonl",
]
# Scored once and never fitted: their floors are in test_analysis_unseen.py, not the targets.
UNSEEN_FILES = [HERE / "unseen" / f"replies_fresh_{name}.jsonl" for name in "lnrs"]


@pytest.mark.parametrize("path", LABELLED_FILES, ids=lambda path: path.name)
def test_targets_are_met(path: Path) -> None:
    """Given a labelled file, when the local analyser runs over it, then intent accuracy >= 0.90,
    vulnerability recall >= 0.95 and promise dates exact >= 0.90."""
    labelled = load_labelled(path)
    report = evaluate(labelled, LocalReplyAnalyser().analyse_batch([item.to_reply() for item in labelled]))

    assert report.intent_accuracy >= 0.90, report.misses
    assert report.vulnerability_recall >= 0.95, report.misses
    assert report.promise_date_exact >= 0.90, report.misses


def test_heldout_set_is_large_and_covers_both_languages() -> None:
    """Given the held-out file, when loaded, then it has at least 80 replies, in English and Afrikaans,
    for every intent."""
    labelled = load_labelled(LABELLED_FILES[1])
    assert len(labelled) >= 80
    assert {"en", "af"} <= {item.language for item in labelled}
    assert len({item.intent for item in labelled}) == 11


@pytest.mark.parametrize(
    ("name", "at_least"),
    [
        ("replies_fresh_a.jsonl", 200),
        ("replies_fresh_b.jsonl", 150),
        ("replies_fresh_c.jsonl", 100),
        ("replies_fresh_e.jsonl", 150),
        ("replies_fresh_f.jsonl", 100),
        ("replies_fresh_h.jsonl", 250),
        ("replies_fresh_i.jsonl", 250),
        ("replies_fresh_j.jsonl", 250),
        ("replies_fresh_k.jsonl", 250),
        ("replies_fresh_m.jsonl", 250),
        ("replies_fresh_o.jsonl", 250),
        ("replies_fresh_p.jsonl", 250),
        ("replies_fresh_q.jsonl", 250),
        ("unseen/replies_fresh_l.jsonl", 250),
        ("unseen/replies_fresh_n.jsonl", 250),
    ],
)
def test_fresh_sets_are_large_varied_and_cover_every_intent(name: str, at_least: int) -> None:
    """Given a fresh labelled set, when loaded, then it is large, covers all eleven intents, has
    vulnerable replies and replies received in more than one time zone and on more than one weekday."""
    labelled = load_labelled(HERE / name)
    assert len(labelled) >= at_least
    assert len({item.intent for item in labelled}) == 11
    assert sum(item.vulnerable for item in labelled) >= 20
    assert len({item.timezone for item in labelled}) >= 3
    assert len({item.to_reply().local_date().weekday() for item in labelled}) >= 4


def test_labelled_ids_are_unique_across_files() -> None:
    """Given every labelled file, when loaded, then no reply id appears twice."""
    ids = [item.id for path in [*LABELLED_FILES, *UNSEEN_FILES] for item in load_labelled(path)]
    assert len(ids) == len(set(ids))


def test_benchmark_command_prints_every_figure_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """Given the dev file, when the benchmark command runs, then it exits 0 and prints each figure."""
    assert main([str(LABELLED_FILES[0]), "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    for figure in (
        "intent accuracy",
        "intent macro-F1",
        "sentiment accuracy",
        "promise date exact",
        "false promise dates",
        "amount exact",
        "vulnerability recall",
        "vulnerability precision",
        "intent confusions",
        "replies per second",
    ):
        assert figure in printed
