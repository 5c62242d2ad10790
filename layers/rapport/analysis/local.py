"""Reply analysis with rules and lexicons only: no network, no model download, microseconds a reply."""

from __future__ import annotations

from collections.abc import Sequence

from rapport.analysis.amounts import find_offered_amount_cents
from rapport.analysis.dates import find_dates
from rapport.analysis.intents import classify_intent
from rapport.analysis.language import detect_language
from rapport.analysis.models import ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.redaction import redact
from rapport.analysis.sentiment import score_sentiment
from rapport.analysis.text import normalise
from rapport.analysis.vulnerability import GRANT_DEPENDENT, vulnerability_reasons
from rapport.models.enums import Intent

LOCAL_ANALYSER_NAME = "local-rules-v1"

_OFFER_INTENTS = (Intent.PROMISE_TO_PAY, Intent.PAYMENT_PLAN_REQUEST)


class LocalReplyAnalyser:
    """Rules written for short South African debtor replies in English and Afrikaans.

    Everything is computed from the redacted text, so an account or phone number in a reply can
    never be read as an amount or a date.
    """

    name = LOCAL_ANALYSER_NAME

    def analyse(self, reply: ReplyToAnalyse) -> ReplyAnalysis:
        redacted = redact(reply.text)
        normalised = normalise(redacted)
        language = detect_language(redacted, reply.language_hint)
        reasons = vulnerability_reasons(normalised)
        named_days = find_dates(normalised, reply.local_date(), language)
        # Living on a grant is a reason for care, not by itself a report of hardship.
        hardship_reasons = [reason for reason in reasons if reason != GRANT_DEPENDENT]
        decision = classify_intent(
            normalised, vulnerable=bool(hardship_reasons), names_a_day=bool(named_days), original=redacted
        )
        sentiment, scores = score_sentiment(normalised, decision.intent, reasons)
        amount_cents = None
        if decision.intent in _OFFER_INTENTS:
            amount_cents = find_offered_amount_cents(redacted)
        elif decision.intent is Intent.HARDSHIP:
            amount_cents = find_offered_amount_cents(redacted, require_offer_words=True)
        return ReplyAnalysis(
            reply_id=reply.reply_id,
            intent=decision.intent,
            intent_confidence=decision.confidence,
            sentiment=sentiment,
            sentiment_scores=scores,
            promise_date=min(named_days) if named_days and decision.intent is Intent.PROMISE_TO_PAY else None,
            amount_cents=amount_cents,
            vulnerable=bool(reasons),
            vulnerability_reasons=reasons,
            language=language,
            redacted_text=redacted,
            analyser=self.name,
        )

    def analyse_batch(self, replies: Sequence[ReplyToAnalyse]) -> list[ReplyAnalysis]:
        return [self.analyse(reply) for reply in replies]
