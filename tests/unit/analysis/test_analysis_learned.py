"""The learned backstop: committed weights, deterministic training, the combination with the rules, and
vulnerability told in wording that no labelled file and no rule cue contains."""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from rapport.analysis import LocalReplyAnalyser, ReplyToAnalyse
from rapport.analysis.benchmark import LabelledReply, load_labelled
from rapport.analysis.learned import (
    WEIGHTS_PATH,
    CombinationPolicy,
    LearnedModel,
    LearnedPrediction,
    LearnedWeightsError,
    RuleReading,
    Verdict,
    combine,
    features,
    load_learned_model,
    read_learned_model,
)
from rapport.analysis.local import LOCAL_ANALYSER_NAME, RULES_ONLY_ANALYSER_NAME
from rapport.analysis.text import normalise
from rapport.analysis.train import (
    FIRST_SIGHT_FILE,
    Example,
    Reading,
    Scored,
    TrainingSettings,
    choose_policy,
    data_fingerprint,
    labelled_files,
    load_examples,
    simulate,
    train_model,
)
from rapport.models.enums import Intent, Sentiment

ROOT = Path(__file__).resolve().parents[3]
RECEIVED_AT = datetime.fromisoformat("2027-02-10T10:00:00+02:00")

# Written for this test, after the labelled files and without looking at the model's answers: people
# telling of illness, distress, lost income, abuse or disaster around the event, in words none of the
# rules' cues contained when it was written (the rules flagged two of them; since rules-v5, which added
# cues for psychiatric care, antidepressants and cut hours found by probing fresh replies, five).
UNLABELLED_VULNERABLE = [
    "I sit in the car park of the cancer centre every day waiting for my wife",
    "my son is in a psychiatric unit since Friday",
    "the factory has put us all on three day weeks",
    "I haven't eaten properly in days, everything goes to the children",
    "my husband drinks all the money, there is nothing left for the house",
    "I can't stop shaking when I see your messages",
    "the specialists say there is nothing more they can do for my father",
    "we are staying with my sister since the shack went up in flames",
    "I was told not to come back to work after the strike",
    "night after night I stare at the ceiling thinking about this debt",
    "my wife left with the kids and the car and I am sleeping at a friend",
    "Ek slaap nie meer nie, ek dink heeldag net aan die skuld",
    "my ma is bedlêend en ek moet heeldag na haar kyk",
    "I have been on antidepressants since January",
    "my hours were cut to two days a week",
    "my partner is in jail and he was the one earning",
    "everything is too much right now, I can't think straight",
    "the company is paying us half salaries until further notice",
    "my daughter has been missing for two weeks, I can't deal with this now",
    "I'm in a wheel chair since the taxi crash",
]
UNLABELLED_ORDINARY = [
    "I will pay R300 on Friday",
    "Please send me the banking details",
    "I already paid last week, check your records",
    "Who is this? I don't know any Thabo",
    "Call me after 5 please",
    "Can I pay R200 a month until it is settled?",
    "How much is left for me to pay off?",
    "This is not my account, I never opened it",
]


def _reply(text: str) -> ReplyToAnalyse:
    return ReplyToAnalyse(
        reply_id="probe", text=text, received_at=RECEIVED_AT, timezone="Africa/Johannesburg"
    )


def _prediction(intent: Intent, probability: float, vulnerability: float) -> LearnedPrediction:
    return LearnedPrediction(
        intent_probabilities={intent: probability},
        vulnerability_probability=vulnerability,
        intent=intent,
        intent_probability=probability,
    )


POLICY = CombinationPolicy(vulnerability_threshold=0.3, rule_confidence_floor=0.8, model_intent_minimum=0.5)


def test_committed_weights_load_small_and_trained_on_todays_labelled_files() -> None:
    """Given the committed weights file, when loaded, then it has the eleven intents, a policy chosen by
    cross-validation, fewer than 3 MB, and the fingerprint of the labelled files it was trained on."""
    model = load_learned_model()

    assert model.intents == tuple(Intent)
    # NOTE: the file grows by about 100 KB with each labelled set of 300 (2.0 MB at fifteen sets); it ships
    # in the layer and loads once per cold start. Raising `prune_below` in rapport.analysis.train would
    # shrink it if it ever mattered.
    assert WEIGHTS_PATH.stat().st_size < 3_000_000
    assert len(model.weights) > 1000
    assert 0.0 < model.policy.vulnerability_threshold < 1.0
    assert model.metadata["data"] == data_fingerprint(ROOT), "retrain: python -m rapport.analysis.train"
    assert load_learned_model() is model


def test_prediction_gives_a_distribution_over_intents() -> None:
    """Given the committed model, when it reads a reply, then the intent probabilities sum to one and the
    most likely intent is the one it names."""
    model = load_learned_model()
    reading = RuleReading(intent=Intent.PROMISE_TO_PAY, confidence=0.95, candidates=(Intent.PROMISE_TO_PAY,))

    prediction = model.predict(features(normalise("I will pay R500 on Friday"), reading))

    assert sum(prediction.intent_probabilities.values()) == pytest.approx(1.0)
    assert prediction.intent is Intent.PROMISE_TO_PAY
    assert prediction.intent_probability == max(prediction.intent_probabilities.values())
    assert 0.0 <= prediction.vulnerability_probability < 0.5


def test_features_fold_numbers_and_scale_each_family_to_unit_length() -> None:
    """Given a reply with a sum, when its features are made, then the sum is one token and each family of
    features has unit length."""
    found = features(
        normalise("Ek sal R500 betaal"), RuleReading(intent=Intent.PROMISE_TO_PAY, confidence=0.9)
    )

    assert "w:<money>" in found
    assert "c: betaal " not in found and "c:taal " in found
    for prefix in ("w:", "b:", "c:", "r:"):
        family = [value for name, value in found.items() if name.startswith(prefix)]
        assert sum(value * value for value in family) == pytest.approx(1.0)


def _train_dev_json(seed: int) -> str:
    examples = load_examples(ROOT, [ROOT / "data" / "replies-dev.jsonl"])
    model = train_model(examples, TrainingSettings(epochs=3, seed=seed))
    return json.dumps(model.to_json(), sort_keys=True)


def test_training_is_deterministic_across_processes_and_depends_on_the_seed() -> None:
    """Given the dev file, when a model is trained here and in another process with another hash seed,
    then the weights are identical; with another training seed they differ."""
    here = _train_dev_json(seed=7)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from test_analysis_learned import _train_dev_json; print(_train_dev_json(seed=7))"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(  # noqa: S603 - our own interpreter running our own module
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=120,
    )

    assert other.stdout.strip() == here
    assert _train_dev_json(seed=8) != here


def test_every_labelled_file_is_used_for_training() -> None:
    """Given the repository, when the training files are listed, then the dev file and every labelled
    file beside these tests are among them."""
    names = {path.name for path in labelled_files(ROOT)}

    assert "replies-dev.jsonl" in names
    assert {path.name for path in Path(__file__).parent.glob("replies_*.jsonl")} <= names


@pytest.mark.parametrize(
    ("hardship_signs", "rule_confidence", "prediction", "verdict"),
    [
        (False, 0.95, _prediction(Intent.HARDSHIP, 0.4, vulnerability=0.35), Verdict.FLAG_VULNERABLE),
        (True, 0.95, _prediction(Intent.HARDSHIP, 0.9, vulnerability=0.99), Verdict.KEEP_RULES),
        (False, 0.95, _prediction(Intent.REFUSAL, 0.9, vulnerability=0.1), Verdict.KEEP_RULES),
        (False, 0.7, _prediction(Intent.REFUSAL, 0.9, vulnerability=0.1), Verdict.TAKE_MODEL_INTENT),
        (False, 0.7, _prediction(Intent.REFUSAL, 0.45, vulnerability=0.1), Verdict.KEEP_RULES),
        (False, 0.7, _prediction(Intent.ACKNOWLEDGE, 0.9, vulnerability=0.1), Verdict.KEEP_RULES),
    ],
)
def test_combination_policy(
    hardship_signs: bool, rule_confidence: float, prediction: LearnedPrediction, verdict: Verdict
) -> None:
    """Given the rules' decision and the model's probabilities, when combined, then the model flags what
    the rules missed above the threshold and replaces only an unsure intent it disagrees with."""
    assert (
        combine(
            POLICY,
            prediction,
            rule_intent=Intent.ACKNOWLEDGE,
            rule_confidence=rule_confidence,
            hardship_signs=hardship_signs,
        )
        is verdict
    )


def _biased_model(intent_bias: dict[Intent, float], vulnerability_bias: float) -> LearnedModel:
    """A model that ignores the text: only its bias weights are set."""
    column = [intent_bias.get(intent, 0.0) for intent in Intent] + [vulnerability_bias]
    return LearnedModel(intents=tuple(Intent), weights={"bias": column}, policy=POLICY)


def test_a_flag_from_the_model_is_decided_as_vulnerable_with_its_own_reason() -> None:
    """Given a model sure of vulnerability, when a reply with no rule sign is analysed, then it is flagged
    with the reason possible_vulnerability and decided as hardship, and its promise date is dropped."""
    analyser = LocalReplyAnalyser(learned=_biased_model({}, vulnerability_bias=5.0))

    analysis = analyser.analyse(_reply("I will pay R300 on Friday"))

    assert analysis.vulnerable
    assert analysis.vulnerability_reasons == ["possible_vulnerability"]
    assert analysis.intent is Intent.HARDSHIP
    assert analysis.promise_date is None
    assert analysis.analyser == LOCAL_ANALYSER_NAME


def test_an_explicit_opt_out_stands_when_the_model_flags_vulnerability() -> None:
    """Given a model sure of vulnerability, when a reply says STOP, then it is flagged, yet an opt-out."""
    analysis = LocalReplyAnalyser(learned=_biased_model({}, vulnerability_bias=5.0)).analyse(_reply("STOP"))

    assert (analysis.intent, analysis.vulnerable) == (Intent.OPT_OUT, True)


def test_the_model_replaces_only_an_unsure_rule_intent() -> None:
    """Given a model sure of a callback request, when one reply has no rule cue and another a clear
    promise, then the first becomes a callback request and the promise stands."""
    analyser = LocalReplyAnalyser(
        learned=_biased_model({Intent.CALLBACK_REQUEST: 6.0}, vulnerability_bias=-5.0)
    )

    unsure = analyser.analyse(_reply("the thing we spoke about last time"))
    sure = analyser.analyse(_reply("I will pay R300 on Friday"))

    assert unsure.intent is Intent.CALLBACK_REQUEST
    assert unsure.intent_confidence > 0.9
    assert sure.intent is Intent.PROMISE_TO_PAY
    assert sure.promise_date is not None


def test_rules_only_analyser_names_itself_and_ignores_the_model() -> None:
    """Given the rules alone, when a reply the model would flag is analysed, then it is not flagged and the
    analysis names the rules-only analyser."""
    analysis = LocalReplyAnalyser(use_learned=False).analyse(_reply(UNLABELLED_VULNERABLE[3]))

    assert (analysis.vulnerable, analysis.analyser) == (False, RULES_ONLY_ANALYSER_NAME)


def test_malformed_weights_are_refused(tmp_path: Path) -> None:
    """Given a weights file of another feature version, when loaded, then LearnedWeightsError is raised."""
    document = {"feature_version": 0, "intents": [], "policy": {}, "weights": {}}
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(LearnedWeightsError):
        read_learned_model(path)


def test_probe_phrasings_are_in_no_labelled_file() -> None:
    """Given the probe phrasings, when the labelled files are searched, then none of them is there."""
    labelled = {item.text.lower() for path in labelled_files(ROOT) for item in load_labelled(path)}

    assert not {text.lower() for text in UNLABELLED_VULNERABLE + UNLABELLED_ORDINARY} & labelled


def test_model_catches_vulnerability_in_wording_no_rule_or_labelled_file_has() -> None:
    """Given vulnerability told in new wording, when analysed with and without the model, then the rules
    alone flag at most a quarter, the combination flags at least half of those the rules miss, each for
    a possible vulnerability, and ordinary replies stay unflagged."""
    rules_only = LocalReplyAnalyser(use_learned=False)
    combined = LocalReplyAnalyser()

    by_rules = [rules_only.analyse(_reply(text)) for text in UNLABELLED_VULNERABLE]
    by_both = [combined.analyse(_reply(text)) for text in UNLABELLED_VULNERABLE]
    ordinary = [combined.analyse(_reply(text)) for text in UNLABELLED_ORDINARY]

    missed_by_rules = [both for rules, both in zip(by_rules, by_both, strict=True) if not rules.vulnerable]
    assert len(missed_by_rules) >= len(UNLABELLED_VULNERABLE) * 3 // 4
    assert sum(analysis.vulnerable for analysis in missed_by_rules) >= len(missed_by_rules) / 2
    for rules, both in zip(by_rules, by_both, strict=True):
        if both.vulnerable and not rules.vulnerable:
            assert both.vulnerability_reasons == ["possible_vulnerability"]
    assert not any(analysis.vulnerable for analysis in ordinary)


def _scored(index: int, *, vulnerable: bool, rules_flag: bool, probability: float) -> Scored:
    labelled = LabelledReply(
        id=f"s-{index}",
        text="some reply",
        received_at=RECEIVED_AT,
        timezone="Africa/Johannesburg",
        intent=Intent.HARDSHIP if vulnerable else Intent.ACKNOWLEDGE,
        sentiment=Sentiment.NEUTRAL,
        vulnerable=vulnerable,
        language="en",
    )
    rule_intent = Intent.HARDSHIP if rules_flag else Intent.ACKNOWLEDGE
    reading = Reading(
        rule=RuleReading(intent=rule_intent, confidence=0.9, reasons=("illness",) if rules_flag else ()),
        hardship_signs=rules_flag,
        intent_if_vulnerable=Intent.HARDSHIP,
    )
    example = Example(
        source="synthetic", labelled=labelled, normalised="some reply", current=reading, first_sight=reading
    )
    prediction = _prediction(rule_intent, 0.9, vulnerability=probability)
    return Scored(example=example, reading=reading, prediction=prediction)


def test_policy_takes_the_highest_threshold_that_reaches_the_recall_target_with_its_margin() -> None:
    """Given 40 vulnerable replies of which the rules catch 37, the model giving the three missed 0.81,
    0.61 and 0.2, and ordinary replies at 0.5, when the policy is chosen, then the threshold is not 0.8
    (38 of 40 reach the 0.95 target but not the margin above it) but the highest that catches 39 of 40
    (0.6: the ordinary replies stay unflagged), and rule intents stand."""
    scored = [_scored(index, vulnerable=True, rules_flag=True, probability=0.9) for index in range(37)]
    scored += [
        _scored(37, vulnerable=True, rules_flag=False, probability=0.81),
        _scored(38, vulnerable=True, rules_flag=False, probability=0.61),
        _scored(39, vulnerable=True, rules_flag=False, probability=0.2),
    ]
    scored += [
        _scored(40 + index, vulnerable=False, rules_flag=False, probability=0.5) for index in range(10)
    ]

    policy = choose_policy(scored)
    answers = [simulate(policy, item) for item in scored]

    assert policy.vulnerability_threshold == 0.6
    assert sum(flagged for _, flagged in answers) == 39
    assert policy.rule_confidence_floor == 0.0


def test_first_sight_readings_cover_exactly_the_fresh_files() -> None:
    """Given the first-sight readings, when compared with the fresh labelled files, then every fresh reply
    has one reading and no other reply has any."""
    readings = [
        json.loads(line) for line in (ROOT / FIRST_SIGHT_FILE).read_text(encoding="utf-8").splitlines()
    ]
    fresh_ids = {
        item.id
        for path in Path(__file__).parent.glob("replies_fresh_*.jsonl")
        for item in load_labelled(path)
    }

    assert sorted(row["id"] for row in readings) == sorted(fresh_ids)
