"""A learned backstop for the reply rules: linear models over words, character n-grams and rule cues.

Hand-written cue lists miss indirect wording ("oncology ward", "lying awake at night", "staff
cuts"); a linear model trained on every labelled reply we have generalises a little past the exact
words. Two heads share one sparse feature space:

- intent: multinomial logistic regression over the eleven intents;
- vulnerability: binary logistic regression (vulnerable or not).

Features are computed from the analyser's own normalised text (redacted, lower case, contractions
spelt out), so every spelling the rules understand the model sees once:

- ``w:`` word unigrams and ``b:`` bigrams (``^`` and ``$`` mark the ends), with sums of money,
  numbers and redacted placeholders each folded into one token;
- ``c:`` character 3- to 5-grams inside each word with its boundaries (" siek", "ward "), which
  carry typos and Afrikaans inflections over to known words;
- ``r:`` what the rules read: the intent they chose and how sure they were, every intent whose cues
  appeared, and each vulnerability reason they found.

Each family is scaled to unit length, so long replies do not outvote short ones and the handful of
rule features is not drowned by a hundred character n-grams. The weights are trained by
`rapport.analysis.train` (pure Python, fixed seed) and stored in ``learned_weights.json`` beside this
file: loaded once, on first use, never at import.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from rapport.models.enums import Intent

WEIGHTS_PATH = Path(__file__).with_name("learned_weights.json")
FEATURE_VERSION = 1

_TOKENS = re.compile(
    r"\[[a-z_]+\]|r ?\d[\d ,.]*\d(?:k\b)?|r ?\d\b|\d+(?:st|nd|rd|th)?\b|\d+|[a-z]+(?:'[a-z]+)*|[?!]"
)
_MONEY = re.compile(r"r ?\d")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_CHAR_SIZES = (3, 4, 5)


class LearnedWeightsError(Exception):
    """The weights file is missing, malformed or of another feature version."""


@dataclass(frozen=True, slots=True)
class RuleReading:
    """What the rules made of a reply, as the model sees it.

    `candidates` are the intents whose cues appeared (hardship among them when the rules found a
    hardship reason); `reasons` the vulnerability reasons found.
    """

    intent: Intent
    confidence: float
    candidates: tuple[Intent, ...] = ()
    reasons: tuple[str, ...] = ()


def tokens(normalised: str) -> list[str]:
    """Words of a normalised reply, with sums, numbers and placeholders each folded to one token."""
    folded = []
    for token in _TOKENS.findall(normalised):
        if _MONEY.match(token):
            folded.append("<money>")
        elif _ORDINAL.fullmatch(token):
            folded.append("<nth>")
        elif token.isdigit():
            folded.append("<number>")
        else:
            folded.append(token)
    return folded


def _confidence_band(confidence: float) -> str:
    if confidence >= 0.9:
        return "high"
    if confidence >= 0.7:
        return "mid"
    return "low"


def _unit(names: Iterable[str], into: dict[str, float]) -> None:
    """Add one family of binary features to `into`, scaled so the family has unit length."""
    unique = dict.fromkeys(names)  # first-seen order, so training does not depend on hash seeds
    if not unique:
        return
    value = 1.0 / math.sqrt(len(unique))
    for name in unique:
        into[name] = value


def features(normalised: str, reading: RuleReading) -> dict[str, float]:
    """The sparse feature vector of a normalised reply and the rules' reading of it."""
    words = tokens(normalised)
    found: dict[str, float] = {"bias": 1.0}
    _unit((f"w:{word}" for word in words), found)
    padded = ["^", *words, "$"]
    _unit((f"b:{first} {second}" for first, second in pairwise(padded)), found)
    grams = []
    for word in words:
        if not word[0].isalpha():
            continue
        bounded = f" {word} "
        for size in _CHAR_SIZES:
            grams.extend(f"c:{bounded[at : at + size]}" for at in range(len(bounded) - size + 1))
    _unit(grams, found)
    rule_names = [
        f"r:intent:{reading.intent.value}",
        f"r:intent:{reading.intent.value}:{_confidence_band(reading.confidence)}",
        f"r:confidence:{_confidence_band(reading.confidence)}",
        *(f"r:cue:{candidate.value}" for candidate in reading.candidates),
        *(f"r:reason:{reason}" for reason in reading.reasons),
        "r:reason:any" if reading.reasons else "r:reason:none",
    ]
    _unit(rule_names, found)
    return found


@dataclass(frozen=True, slots=True)
class LearnedPrediction:
    """The model's probabilities for one reply, and the intent it prefers."""

    intent_probabilities: Mapping[Intent, float]
    vulnerability_probability: float
    intent: Intent
    intent_probability: float


def _softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def _sigmoid(score: float) -> float:
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    exp = math.exp(score)
    return exp / (1.0 + exp)


@dataclass(frozen=True, slots=True)
class CombinationPolicy:
    """How `LocalReplyAnalyser` combines the rules with the model; chosen by cross-validation.

    - `vulnerability_threshold`: the model flags a reply the rules did not when its probability is at
      least this;
    - `rule_confidence_floor`: a rule decision at or above this confidence stands; below it the model's
      intent is taken when the model gives it at least `model_intent_minimum`.
    """

    vulnerability_threshold: float
    rule_confidence_floor: float
    model_intent_minimum: float


class Verdict(Enum):
    """What to do with the rules' decision once the model has spoken."""

    KEEP_RULES = "keep_rules"
    FLAG_VULNERABLE = "flag_vulnerable"
    TAKE_MODEL_INTENT = "take_model_intent"


def combine(
    policy: CombinationPolicy,
    prediction: LearnedPrediction,
    *,
    rule_intent: Intent,
    rule_confidence: float,
    hardship_signs: bool,
) -> Verdict:
    """Rules first; the model adds a vulnerability flag the rules missed, or replaces an unsure intent.

    `hardship_signs` says the rules already found a hardship reason (living on a grant or old age
    alone is no hardship report). A flag from the model is acted on as the rules act on their own:
    the reply is decided again as vulnerable, so hardship outranks everything but an explicit opt-out.
    """
    if not hardship_signs and prediction.vulnerability_probability >= policy.vulnerability_threshold:
        return Verdict.FLAG_VULNERABLE
    if (
        rule_confidence < policy.rule_confidence_floor
        and prediction.intent is not rule_intent
        and prediction.intent_probability >= policy.model_intent_minimum
    ):
        return Verdict.TAKE_MODEL_INTENT
    return Verdict.KEEP_RULES


class LearnedModel:
    """The two trained heads over one feature space: eleven intent columns and one vulnerability column.

    `weights` maps a feature name to its column weights, in the order of `intents` followed by the
    vulnerability weight.
    """

    def __init__(
        self,
        intents: Sequence[Intent],
        weights: Mapping[str, Sequence[float]],
        policy: CombinationPolicy,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.intents = tuple(intents)
        self.weights = {name: tuple(column) for name, column in weights.items()}
        self.policy = policy
        self.metadata = dict(metadata or {})
        width = len(self.intents) + 1
        if any(len(column) != width for column in self.weights.values()):
            raise LearnedWeightsError("every feature needs one weight per intent and one for vulnerability")

    def predict(self, found: Mapping[str, float]) -> LearnedPrediction:
        """Probabilities for a feature vector made by `features`."""
        # Features of one family share a value, so their weight columns are summed first, in C.
        families: dict[float, list[tuple[float, ...]]] = {}
        for name, value in found.items():
            column = self.weights.get(name)
            if column is not None:
                families.setdefault(value, []).append(column)
        scores = [0.0] * (len(self.intents) + 1)
        for value, columns in families.items():
            for index, total in enumerate(map(sum, zip(*columns, strict=True))):
                scores[index] += total * value
        probabilities = _softmax(scores[:-1])
        best = max(range(len(self.intents)), key=probabilities.__getitem__)
        return LearnedPrediction(
            intent_probabilities=dict(zip(self.intents, probabilities, strict=True)),
            vulnerability_probability=_sigmoid(scores[-1]),
            intent=self.intents[best],
            intent_probability=probabilities[best],
        )

    def to_json(self) -> dict[str, Any]:
        """The document `from_json` reads back; weights rounded to four decimals, keys sorted."""
        return {
            "feature_version": FEATURE_VERSION,
            "intents": [intent.value for intent in self.intents],
            "policy": {
                "vulnerability_threshold": self.policy.vulnerability_threshold,
                "rule_confidence_floor": self.policy.rule_confidence_floor,
                "model_intent_minimum": self.policy.model_intent_minimum,
            },
            "metadata": self.metadata,
            "weights": {
                name: [_compact(weight) for weight in self.weights[name]] for name in sorted(self.weights)
            },
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> LearnedModel:
        try:
            if document["feature_version"] != FEATURE_VERSION:
                raise LearnedWeightsError("weights were trained for another feature version")
            policy = CombinationPolicy(**document["policy"])
            return cls(
                intents=[Intent(value) for value in document["intents"]],
                weights=document["weights"],
                policy=policy,
                metadata=document.get("metadata"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise LearnedWeightsError("malformed weights document") from error


def _compact(weight: float) -> float | int:
    rounded = round(weight, 4)
    return int(rounded) if rounded == int(rounded) else rounded


@lru_cache(maxsize=1)
def load_learned_model() -> LearnedModel:
    """The committed model, read once per process."""
    return read_learned_model(WEIGHTS_PATH)


def read_learned_model(path: Path) -> LearnedModel:
    """A model from a weights file written by `rapport.analysis.train`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise LearnedWeightsError("cannot read the learned weights") from error
    return LearnedModel.from_json(document)
