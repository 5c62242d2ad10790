"""The tone of a reply, from a small lexicon plus what the reply is about.

Thanks and apologies read as positive (a debtor who says "sorry for the delay" is cooperating); a
dispute, a refusal and hardship read as negative whatever their words; a bare "STOP" or "Noted" is
neutral. Scores are shaped like Amazon Comprehend's (one per `Sentiment`, summing to 1) so either
analyser's output can be stored and compared the same way.
"""

from __future__ import annotations

import re

from rapport.analysis.vulnerability import DEBT_REVIEW
from rapport.models.enums import Intent, Sentiment

_POSITIVE = re.compile(
    r"(?:\b(?:thanks|thank you|appreciate\w*|great|sorry|apolog\w*|patien\w*|grateful|helpful|kind|awesome|"
    r"excellent|wonderful|perfect|happy|glad|sharp|cool|lekker|dankie|mooi|no problem|god bless|blessed|"
    r"good news|love)\b|[\U0001F44D\U0001F64F\U0001F44C\U0001F642\U0001F60A\u263A\u2764\U0001F600\U0001F601])"
)
_NEGATIVE = re.compile(
    r"(?:\b(?:wrong|incorrect|harass\w*|vultures?|crooks?|thie(?:f|ves)|scam\w*|ridiculous|rubbish|nonsense|"
    r"useless|angry|annoyed|fed up|sick of|tired of|disgusting|pathetic|stupid|idiots?|rude|terrible|worst|"
    r"why am i|why are you|check (?:your|the) (?:system|records)|does not work|is not working|not working|"
    r"stop (?:sending|messaging|contacting|calling|texting|sms)|do not contact|remove my|leave me alone|"
    r"moenie|los my|hoekom|nonsens|twak|belaglik|irritat\w*|frustrat\w*|upset|disappointed)\b|"
    r"[\U0001F621\U0001F620\U0001F92C\U0001F624\U0001F622\U0001F62D\U0001F44E])"
)
_NEGATIVE_INTENTS = {Intent.DISPUTE: 2, Intent.REFUSAL: 2, Intent.HARDSHIP: 2}


def score_sentiment(
    normalised: str, intent: Intent, vulnerability_reasons: list[str]
) -> tuple[Sentiment, dict[str, float]]:
    """The sentiment label and a score per label."""
    positive = len(_POSITIVE.findall(normalised))
    negative = len(_NEGATIVE.findall(normalised))
    prior = _NEGATIVE_INTENTS.get(intent, 0)
    # A debtor who reports debt review and nothing else is stating a fact, not complaining.
    if intent is Intent.HARDSHIP and vulnerability_reasons == [DEBT_REVIEW]:
        prior = 0
    negative += prior
    if positive == negative == 0:
        return Sentiment.NEUTRAL, _scores(neutral=0.85, positive=0.05, negative=0.05, mixed=0.05)
    if positive == negative:
        return Sentiment.MIXED, _scores(neutral=0.1, positive=0.2, negative=0.2, mixed=0.5)
    total = positive + negative
    scores = _scores(
        neutral=0.15, positive=0.8 * positive / total, negative=0.8 * negative / total, mixed=0.05
    )
    return (Sentiment.POSITIVE if positive > negative else Sentiment.NEGATIVE), scores


def _scores(*, neutral: float, positive: float, negative: float, mixed: float) -> dict[str, float]:
    return {
        Sentiment.POSITIVE.value: round(positive, 4),
        Sentiment.NEGATIVE.value: round(negative, 4),
        Sentiment.NEUTRAL.value: round(neutral, 4),
        Sentiment.MIXED.value: round(mixed, 4),
    }
