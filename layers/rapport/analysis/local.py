"""Reply analysis with rules and lexicons, backed by a small learned model: no network, no download.

The rules decide first. The linear model in `learned.py` (trained on our labelled replies, weights in
``learned_weights.json`` beside this module) backs them up in two ways. Both were chosen by
`python -m rapport.analysis.train`, by cross-validation by file against what the rules said the first
time they met each fresh file (today's rules were tuned on every labelled file, so they cannot show
how the rules fare on unseen wording; see that module):

- vulnerability is the rules' reasons OR the model's probability at or above 0.18, the highest
  threshold at which rules OR model reach 0.97 recall (the 0.95 target plus a margin, since recall on
  wording from elsewhere falls short of the cross-validated figure; see `train.RECALL_MARGIN`), i.e.
  the fewest false flags for that recall. Pooled over the nine fresh files (1,923 replies), out of
  fold: recall 0.851 -> 0.970, precision 0.963 -> 0.939; with the threshold chosen on the other eight
  files for each file in turn (nested), 0.962 and 0.937. The threshold before fresh J was 0.06 (0.979
  and 0.851 over eight files). A reply flagged by the model alone gets the reason
  `possible_vulnerability` and is decided again as vulnerable, as the rules decide a reply in which
  they found a reason (hardship outranks all but an explicit opt-out);
- intent is the rules' unless they found no cue: below confidence 0.45 (no cue at 0.3, a guess from
  topic words at 0.4) the model's intent is taken when it differs, whatever its probability (each
  minimum tried left the policy more than a point below the best; see `train.choose_policy`). Pooled
  intent accuracy: rules 0.852, this policy 0.917 (nested 0.913), the model alone 0.926. Letting the
  model also overrule weak cues and rival intents gains less than a point, not enough to overrule cues
  written on purpose, which today's rules apply more reliably than the older rules of the first-sight
  readings (see `train.WORTHWHILE_GAIN`).

The figures are those of the committed weights (2,099 labelled replies); retraining prints them anew
and may choose other thresholds, which are stored with the weights (`CombinationPolicy`).

The model itself reads the rules' decision, confidence, cue candidates and reasons among its
features, so where it does speak it is a learned vote of rules and wording. Promise dates and amounts
stay rule-based: they are read for whichever intent wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from rapport.analysis.amounts import find_offered_amount_cents
from rapport.analysis.dates import DayMention, choose_promise_day, find_day_mentions
from rapport.analysis.intents import IntentDecision, classify_intent
from rapport.analysis.language import detect_language
from rapport.analysis.learned import (
    LearnedModel,
    RuleReading,
    Verdict,
    combine,
    features,
    load_learned_model,
)
from rapport.analysis.models import ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.redaction import redact
from rapport.analysis.sentiment import score_sentiment
from rapport.analysis.text import normalise
from rapport.analysis.vulnerability import (
    ELDERLY,
    GRANT_DEPENDENT,
    POSSIBLE_VULNERABILITY,
    RELATIONSHIP_BREAKDOWN,
    vulnerability_reasons,
)
from rapport.models.enums import Intent

LOCAL_ANALYSER_NAME = "local-rules-v12+learned-v9"
RULES_ONLY_ANALYSER_NAME = "local-rules-v12"

_CARE_ONLY = (GRANT_DEPENDENT, ELDERLY)
_OFFER_INTENTS = (Intent.PROMISE_TO_PAY, Intent.PAYMENT_PLAN_REQUEST)
# Whose debt it is: "you want my ex-husband, we divorced", "my ex opened this in my name".
_WHOSE_DEBT_INTENTS = (Intent.WRONG_PERSON, Intent.DISPUTE)


@dataclass(frozen=True, slots=True)
class RulesReading:
    """Everything the rules read from one reply, before the model is consulted."""

    redacted: str
    normalised: str
    language: str
    reasons: tuple[str, ...]
    day_mentions: tuple[DayMention, ...]
    decision: IntentDecision

    @property
    def hardship_signs(self) -> bool:
        """A reason that reports hardship; living on a grant or old age alone calls only for care."""
        return any(reason not in _CARE_ONLY for reason in self.reasons)

    def as_rule_reading(self) -> RuleReading:
        return RuleReading(
            intent=self.decision.intent,
            confidence=self.decision.confidence,
            candidates=self.decision.candidates,
            reasons=self.reasons,
        )

    def decided_as_vulnerable(self) -> IntentDecision:
        """The decision the rules make when told the reply shows vulnerability."""
        return classify_intent(
            self.normalised,
            vulnerable=True,
            names_a_day=bool(self.day_mentions),
            original=self.redacted,
            day_mentions=self.day_mentions,
        )


def _writes_month_first(reply: ReplyToAnalyse) -> bool:
    """Debtors in the Americas write numeric dates month first ("12/18")."""
    # NOTE: the time zone stands in for the debtor's country; much of Latin America writes day first and
    # Canada both ways. A country on the debtor's record would decide this better, once replies carry one.
    return reply.timezone.startswith("America/")


def read_with_rules(reply: ReplyToAnalyse) -> RulesReading:
    """The rules' reading of a reply: redaction, normalisation, language, vulnerability and intent."""
    redacted = redact(reply.text)
    normalised = normalise(redacted)
    language = detect_language(redacted, reply.language_hint)
    reasons = vulnerability_reasons(normalised)
    day_mentions = tuple(
        find_day_mentions(normalised, reply.local_date(), language, month_first=_writes_month_first(reply))
    )
    decide = partial(
        classify_intent,
        normalised,
        names_a_day=bool(day_mentions),
        original=redacted,
        day_mentions=day_mentions,
    )
    # Living on a grant, or old age, is a reason for care, not by itself a report of hardship.
    decision = decide(vulnerable=any(reason not in _CARE_ONLY for reason in reasons))
    if reasons == [RELATIONSHIP_BREAKDOWN]:
        # A relationship that ended, named to say whose debt this is, explains; it is no hardship.
        without = decide(vulnerable=False)
        if without.intent in _WHOSE_DEBT_INTENTS:
            decision, reasons = without, []
    return RulesReading(
        redacted=redacted,
        normalised=normalised,
        language=language,
        reasons=tuple(reasons),
        day_mentions=day_mentions,
        decision=decision,
    )


class LocalReplyAnalyser:
    """Rules written for short South African debtor replies in English and Afrikaans, with the common
    isiZulu and Sesotho words debtors mix in; clause by clause where a reply says several things; backed
    by the learned model where the rules are unsure or see no vulnerability.

    Everything is computed from the redacted text, so an account or phone number in a reply can
    never be read as an amount or a date.

    `learned` injects a model (tests, cross-validation); by default the committed weights are loaded
    on the first reply. `use_learned=False` gives the rules alone.
    """

    def __init__(self, *, learned: LearnedModel | None = None, use_learned: bool = True) -> None:
        self._learned = learned
        self._use_learned = use_learned or learned is not None
        self.name = LOCAL_ANALYSER_NAME if self._use_learned else RULES_ONLY_ANALYSER_NAME

    def _model(self) -> LearnedModel | None:
        if self._use_learned and self._learned is None:
            self._learned = load_learned_model()
        return self._learned

    def analyse(self, reply: ReplyToAnalyse) -> ReplyAnalysis:
        reading = read_with_rules(reply)
        decision, reasons = reading.decision, list(reading.reasons)
        model = self._model()
        if model is not None:
            prediction = model.predict(features(reading.normalised, reading.as_rule_reading()))
            verdict = combine(
                model.policy,
                prediction,
                rule_intent=decision.intent,
                rule_confidence=decision.confidence,
                hardship_signs=reading.hardship_signs,
            )
            if verdict is Verdict.FLAG_VULNERABLE:
                decision = reading.decided_as_vulnerable()
                reasons.append(POSSIBLE_VULNERABILITY)
            elif verdict is Verdict.TAKE_MODEL_INTENT:
                decision = IntentDecision(
                    intent=prediction.intent,
                    confidence=round(prediction.intent_probability, 3),
                    candidates=decision.candidates,
                    explicit_opt_out=decision.explicit_opt_out,
                )
        normalised, redacted = reading.normalised, reading.redacted
        promise_date = None
        if decision.intent is Intent.PROMISE_TO_PAY:
            promise_date = choose_promise_day(normalised, list(reading.day_mentions))
        sentiment, scores = score_sentiment(normalised, decision.intent, reasons)
        amount_cents = None
        if decision.intent in _OFFER_INTENTS:
            amount_cents = find_offered_amount_cents(redacted)
        elif decision.intent in (Intent.HARDSHIP, Intent.OPT_OUT):
            # A sum offered beside hardship or a stop request ("R500 on the 25th. Now stop SMSing me") is
            # still an offer, read only where offer words surround it.
            amount_cents = find_offered_amount_cents(redacted, require_offer_words=True)
        return ReplyAnalysis(
            reply_id=reply.reply_id,
            intent=decision.intent,
            intent_confidence=decision.confidence,
            sentiment=sentiment,
            sentiment_scores=scores,
            promise_date=promise_date,
            amount_cents=amount_cents,
            vulnerable=bool(reasons),
            vulnerability_reasons=reasons,
            language=reading.language,
            redacted_text=redacted,
            analyser=self.name,
        )

    def analyse_batch(self, replies: Sequence[ReplyToAnalyse]) -> list[ReplyAnalysis]:
        return [self.analyse(reply) for reply in replies]
