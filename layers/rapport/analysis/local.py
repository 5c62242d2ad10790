"""Reply analysis with rules and lexicons only: no network, no model download, microseconds a reply."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rapport.analysis.amounts import find_offered_amount_cents
from rapport.analysis.dates import choose_promise_day, find_day_mentions
from rapport.analysis.intents import classify_intent
from rapport.analysis.language import detect_language
from rapport.analysis.models import ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.redaction import redact
from rapport.analysis.sentiment import score_sentiment
from rapport.analysis.text import normalise
from rapport.analysis.vulnerability import GRANT_DEPENDENT, RELATIONSHIP_BREAKDOWN, vulnerability_reasons
from rapport.models.enums import Intent

LOCAL_ANALYSER_NAME = "local-rules-v2"

_OFFER_INTENTS = (Intent.PROMISE_TO_PAY, Intent.PAYMENT_PLAN_REQUEST)
# Whose debt it is: "you want my ex-husband, we divorced", "my ex opened this in my name".
_WHOSE_DEBT_INTENTS = (Intent.WRONG_PERSON, Intent.DISPUTE)


class LocalReplyAnalyser:
    """Rules written for short South African debtor replies in English and Afrikaans, with the common
    isiZulu and Sesotho words debtors mix in; clause by clause where a reply says several things.

    Everything is computed from the redacted text, so an account or phone number in a reply can
    never be read as an amount or a date.
    """

    name = LOCAL_ANALYSER_NAME

    def analyse(self, reply: ReplyToAnalyse) -> ReplyAnalysis:
        redacted = redact(reply.text)
        normalised = normalise(redacted)
        language = detect_language(redacted, reply.language_hint)
        reasons = vulnerability_reasons(normalised)
        day_mentions = find_day_mentions(normalised, reply.local_date(), language)
        # Living on a grant is a reason for care, not by itself a report of hardship.
        hardship_reasons = [reason for reason in reasons if reason != GRANT_DEPENDENT]
        decide = partial(
            classify_intent,
            normalised,
            names_a_day=bool(day_mentions),
            original=redacted,
            day_mentions=day_mentions,
        )
        decision = decide(vulnerable=bool(hardship_reasons))
        if reasons == [RELATIONSHIP_BREAKDOWN]:
            # A relationship that ended, named to say whose debt this is, explains; it is no hardship.
            without = decide(vulnerable=False)
            if without.intent in _WHOSE_DEBT_INTENTS:
                decision, reasons = without, []
        promise_date = None
        if decision.intent is Intent.PROMISE_TO_PAY:
            promise_date = choose_promise_day(normalised, day_mentions)
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
            promise_date=promise_date,
            amount_cents=amount_cents,
            vulnerable=bool(reasons),
            vulnerability_reasons=reasons,
            language=language,
            redacted_text=redacted,
            analyser=self.name,
        )

    def analyse_batch(self, replies: Sequence[ReplyToAnalyse]) -> list[ReplyAnalysis]:
        return [self.analyse(reply) for reply in replies]
