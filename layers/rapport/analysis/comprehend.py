"""Reply analysis with Amazon Comprehend for language, sentiment and PII, on top of the local rules.

Comprehend knows nothing of collections, so intent, promise date, amount and vulnerability always
come from the fallback analyser (the local rules). Comprehend adds what it does better: the
dominant language, sentiment for its twelve sentiment languages, and PII detection for English and
Spanish. Calls per batch of replies:

1. `BatchDetectDominantLanguage` on chunks of at most 25 documents;
2. `BatchDetectSentiment` per language, in chunks of at most 25, only for the languages Comprehend
   scores (Afrikaans, isiZulu and the rest keep the fallback's sentiment);
3. `DetectPiiEntities` per English or Spanish reply (Comprehend has no batch PII call).

Each document is cut to 5,000 UTF-8 bytes, on a character boundary. A throttled or failed call
(after botocore's own retries) costs only the replies in that call: they keep the fallback's
answer, and a log line says which operation failed and why, without any reply text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from rapport.analysis.models import ReplyAnalysis, ReplyToAnalyse
from rapport.analysis.ports import ReplyAnalyser
from rapport.analysis.redaction import redact
from rapport.models.enums import Sentiment

logger = Logger(child=True)

BATCH_LIMIT = 25
DOCUMENT_BYTE_LIMIT = 5_000
PII_BYTE_LIMIT = 100_000
SENTIMENT_LANGUAGES = frozenset({"ar", "hi", "ko", "zh-TW", "ja", "zh", "de", "pt", "en", "it", "fr", "es"})
PII_LANGUAGES = frozenset({"en", "es"})
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "InternalServerException",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestLimitExceeded",
    }
)
COMPREHEND_ANALYSER_PREFIX = "comprehend+"

_PLACEHOLDERS = {
    "NAME": "[NAME]",
    "EMAIL": "[EMAIL]",
    "PHONE": "[PHONE]",
    "ADDRESS": "[ADDRESS]",
    "BANK_ACCOUNT_NUMBER": "[ACCOUNT_NUMBER]",
    "BANK_ROUTING": "[ACCOUNT_NUMBER]",
    "CREDIT_DEBIT_NUMBER": "[CARD_NUMBER]",
    "CREDIT_DEBIT_CVV": "[CARD_NUMBER]",
    "CREDIT_DEBIT_EXPIRY": "[CARD_EXPIRY]",
    "SSN": "[ID_NUMBER]",
    "PASSPORT_NUMBER": "[ID_NUMBER]",
    "DRIVER_ID": "[ID_NUMBER]",
    "PIN": "[PIN]",
    "PASSWORD": "[PASSWORD]",
}
_SENTIMENT_KEYS = {
    "Positive": Sentiment.POSITIVE,
    "Negative": Sentiment.NEGATIVE,
    "Neutral": Sentiment.NEUTRAL,
    "Mixed": Sentiment.MIXED,
}


def truncate_utf8(text: str, limit: int = DOCUMENT_BYTE_LIMIT) -> str:
    """The longest prefix of `text` whose UTF-8 encoding fits in `limit` bytes."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def _chunks(items: Sequence[int], size: int = BATCH_LIMIT) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__


class ComprehendReplyAnalyser:
    """`ReplyAnalyser` backed by Amazon Comprehend, with the local rules for everything else.

    `comprehend_client` is a boto3 Comprehend client (built by the caller, so tests can stub it);
    `fallback` supplies intent, promise, amount and vulnerability, and stands in for Comprehend
    wherever Comprehend cannot answer. `pii_min_score` is the confidence below which a PII entity
    Comprehend found is left in the text (the local patterns still run over every reply).
    """

    def __init__(
        self, comprehend_client: Any, fallback: ReplyAnalyser, *, pii_min_score: float = 0.5
    ) -> None:
        self._client = comprehend_client
        self._fallback = fallback
        self._pii_min_score = pii_min_score

    def analyse(self, reply: ReplyToAnalyse) -> ReplyAnalysis:
        return self.analyse_batch([reply])[0]

    def analyse_batch(self, replies: Sequence[ReplyToAnalyse]) -> list[ReplyAnalysis]:
        local = self._fallback.analyse_batch(replies)
        documents = [truncate_utf8(reply.text) for reply in replies]
        languages = self._dominant_languages(documents)
        sentiments = self._sentiments(documents, languages)
        results = []
        for index, (reply, baseline) in enumerate(zip(replies, local, strict=True)):
            language = languages.get(index)
            update: dict[str, Any] = {"redacted_text": self.redact(reply.text, language or baseline.language)}
            if language:
                update["language"] = language
            if index in sentiments:
                sentiment, scores = sentiments[index]
                update.update(
                    sentiment=sentiment,
                    sentiment_scores=scores,
                    analyser=COMPREHEND_ANALYSER_PREFIX + baseline.analyser,
                )
            results.append(baseline.model_copy(update=update))
        logger.info(
            "replies analysed with comprehend",
            extra={
                "replies": len(replies),
                "languages_detected": len(languages),
                "sentiments_from_comprehend": len(sentiments),
            },
        )
        return results

    def _dominant_languages(self, documents: Sequence[str]) -> dict[int, str]:
        """Index of reply -> Comprehend's dominant language code, where Comprehend gave one."""
        languages: dict[int, str] = {}
        sendable = [index for index, document in enumerate(documents) if document.strip()]
        for chunk in _chunks(sendable):
            try:
                response = self._client.batch_detect_dominant_language(
                    TextList=[documents[index] for index in chunk]
                )
            except (ClientError, BotoCoreError) as error:
                self._log_failure("BatchDetectDominantLanguage", error, len(chunk))
                continue
            for result in response.get("ResultList", []):
                detected = result.get("Languages") or []
                if detected:
                    best = max(detected, key=lambda language: language.get("Score", 0.0))
                    languages[chunk[result["Index"]]] = best["LanguageCode"]
            self._log_item_errors("BatchDetectDominantLanguage", response)
        return languages

    def _sentiments(
        self, documents: Sequence[str], languages: dict[int, str]
    ) -> dict[int, tuple[Sentiment, dict[str, float]]]:
        by_language: dict[str, list[int]] = defaultdict(list)
        for index, language in sorted(languages.items()):
            if language in SENTIMENT_LANGUAGES:
                by_language[language].append(index)
        sentiments: dict[int, tuple[Sentiment, dict[str, float]]] = {}
        for language, indexes in by_language.items():
            for chunk in _chunks(indexes):
                try:
                    response = self._client.batch_detect_sentiment(
                        TextList=[documents[index] for index in chunk], LanguageCode=language
                    )
                except (ClientError, BotoCoreError) as error:
                    self._log_failure("BatchDetectSentiment", error, len(chunk))
                    continue
                for result in response.get("ResultList", []):
                    sentiments[chunk[result["Index"]]] = _sentiment_of(result)
                self._log_item_errors("BatchDetectSentiment", response)
        return sentiments

    def redact(self, text: str, language: str) -> str:
        """The reply with PII replaced: Comprehend's entities for English and Spanish, then local patterns."""
        if language not in PII_LANGUAGES or not text.strip():
            return redact(text)
        if len(text.encode("utf-8")) > PII_BYTE_LIMIT:
            # NOTE: replies this long are not SMS or WhatsApp; they keep the local patterns only. Splitting
            # the text into chunks for Comprehend would be the change if long emails become common.
            logger.warning("reply too long for comprehend pii detection", extra={"bytes": len(text.encode())})
            return redact(text)
        try:
            response = self._client.detect_pii_entities(Text=text, LanguageCode=language)
        except (ClientError, BotoCoreError) as error:
            self._log_failure("DetectPiiEntities", error, 1)
            return redact(text)
        return redact(self._apply_entities(text, response.get("Entities", [])))

    def _apply_entities(self, text: str, entities: list[dict[str, Any]]) -> str:
        """Replace entity spans (offsets in characters), last first; spans outside the text are ignored."""
        spans = sorted(
            (
                (int(entity["BeginOffset"]), int(entity["EndOffset"]), str(entity.get("Type", "PII")))
                for entity in entities
                if entity.get("Score", 1.0) >= self._pii_min_score
                and 0 <= int(entity["BeginOffset"]) < int(entity["EndOffset"]) <= len(text)
            ),
            reverse=True,
        )
        redacted = text
        last_start = len(text) + 1
        for begin, end, kind in spans:
            if end > last_start:
                continue
            placeholder = _PLACEHOLDERS.get(kind, f"[{kind}]")
            redacted = redacted[:begin] + placeholder + redacted[end:]
            last_start = begin
        return redacted

    @staticmethod
    def _log_failure(operation: str, error: Exception, documents: int) -> None:
        code = _error_code(error)
        level = logger.warning if code in TRANSIENT_ERROR_CODES else logger.error
        level(
            "comprehend call failed, local analysis kept",
            extra={"operation": operation, "error_code": code, "documents": documents},
        )

    @staticmethod
    def _log_item_errors(operation: str, response: dict[str, Any]) -> None:
        errors = response.get("ErrorList") or []
        if errors:
            logger.warning(
                "comprehend rejected documents, local analysis kept",
                extra={
                    "operation": operation,
                    "documents": len(errors),
                    "error_codes": sorted({str(error.get("ErrorCode")) for error in errors}),
                },
            )


def _sentiment_of(result: dict[str, Any]) -> tuple[Sentiment, dict[str, float]]:
    raw = result.get("SentimentScore", {})
    scores = {
        _SENTIMENT_KEYS[key].value: float(value) for key, value in raw.items() if key in _SENTIMENT_KEYS
    }
    return Sentiment(result["Sentiment"]), scores
