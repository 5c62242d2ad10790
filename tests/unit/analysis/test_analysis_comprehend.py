"""The Comprehend adapter: request shapes, batching, routing by language, fallbacks and redaction.

botocore's Stubber stands in for Comprehend on a real client, so every request is checked against
the exact parameters we expect and against the service model. moto is used only where it answers
(DetectPiiEntities); see the moto test's docstring for what it does not do.
"""

import logging
from collections.abc import Iterator
from datetime import datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from rapport.analysis import LOCAL_ANALYSER_NAME, ComprehendReplyAnalyser, LocalReplyAnalyser, ReplyToAnalyse
from rapport.analysis.comprehend import truncate_utf8
from rapport.models.enums import Sentiment

RECEIVED_AT = datetime.fromisoformat("2026-12-04T10:00:00+02:00")
SCORES = {"Positive": 0.02, "Negative": 0.9, "Neutral": 0.07, "Mixed": 0.01}


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ):
        monkeypatch.setenv(name, value)


@pytest.fixture
def client() -> object:
    return boto3.client("comprehend", region_name="eu-west-1")


@pytest.fixture
def stubber(client: object) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def replies(*texts: str) -> list[ReplyToAnalyse]:
    return [
        ReplyToAnalyse(
            reply_id=f"r-{index}", text=text, received_at=RECEIVED_AT, timezone="Africa/Johannesburg"
        )
        for index, text in enumerate(texts)
    ]


def languages_response(*codes: str) -> dict:
    return {
        "ResultList": [
            {
                "Index": index,
                "Languages": [{"LanguageCode": code, "Score": 0.97}, {"LanguageCode": "nl", "Score": 0.02}],
            }
            for index, code in enumerate(codes)
        ],
        "ErrorList": [],
    }


def sentiments_response(count: int, sentiment: str = "NEGATIVE") -> dict:
    return {
        "ResultList": [
            {"Index": index, "Sentiment": sentiment, "SentimentScore": SCORES} for index in range(count)
        ],
        "ErrorList": [],
    }


def no_pii(stub: Stubber, *texts: str) -> None:
    for text in texts:
        stub.add_response("detect_pii_entities", {"Entities": []}, {"Text": text, "LanguageCode": "en"})


def test_thirty_replies_go_to_comprehend_as_25_then_5(client: object, stubber: Stubber) -> None:
    """Given 30 English replies, when analysed, then language and sentiment calls carry 25 then 5 documents,
    Comprehend's sentiment is used, and intent and promise still come from the local rules."""
    texts = [f"I will pay R{100 + index} on Friday" for index in range(30)]
    stubber.add_response(
        "batch_detect_dominant_language", languages_response(*["en"] * 25), {"TextList": texts[:25]}
    )
    stubber.add_response(
        "batch_detect_dominant_language", languages_response(*["en"] * 5), {"TextList": texts[25:]}
    )
    stubber.add_response(
        "batch_detect_sentiment", sentiments_response(25), {"TextList": texts[:25], "LanguageCode": "en"}
    )
    stubber.add_response(
        "batch_detect_sentiment", sentiments_response(5), {"TextList": texts[25:], "LanguageCode": "en"}
    )
    no_pii(stubber, *texts)

    analyses = ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(replies(*texts))

    assert len(analyses) == 30
    assert {analysis.sentiment for analysis in analyses} == {Sentiment.NEGATIVE}
    assert analyses[29].sentiment_scores == {
        "POSITIVE": 0.02,
        "NEGATIVE": 0.9,
        "NEUTRAL": 0.07,
        "MIXED": 0.01,
    }
    assert {analysis.analyser for analysis in analyses} == {f"comprehend+{LOCAL_ANALYSER_NAME}"}
    assert [analysis.amount_cents for analysis in analyses[:2]] == [10_000, 10_100]
    assert {str(analysis.promise_date) for analysis in analyses} == {"2026-12-04"}


def test_an_afrikaans_reply_keeps_the_fallback_sentiment(client: object, stubber: Stubber) -> None:
    """Given an English and an Afrikaans reply, when analysed, then only the English one is sent for
    sentiment and PII, and the Afrikaans one keeps the local sentiment with Comprehend's language."""
    english, afrikaans = "I will pay on Friday", "Dankie, ek sal Vrydag betaal"
    stubber.add_response(
        "batch_detect_dominant_language", languages_response("en", "af"), {"TextList": [english, afrikaans]}
    )
    stubber.add_response(
        "batch_detect_sentiment", sentiments_response(1), {"TextList": [english], "LanguageCode": "en"}
    )
    no_pii(stubber, english)

    first, second = ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(
        replies(english, afrikaans)
    )

    assert (first.sentiment, first.analyser) == (Sentiment.NEGATIVE, f"comprehend+{LOCAL_ANALYSER_NAME}")
    assert (second.sentiment, second.analyser, second.language) == (
        Sentiment.POSITIVE,
        LOCAL_ANALYSER_NAME,
        "af",
    )
    assert str(second.promise_date) == "2026-12-04"


def test_throttled_sentiment_falls_back_to_local_and_logs_no_text(
    client: object, stubber: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    """Given Comprehend throttles the sentiment call, when analysed, then the batch keeps the local sentiment
    and one log line names the operation and error code, without any reply text."""
    texts = ["Thanks, I will pay on Friday", "my ID is 8001015009087, call me"]
    stubber.add_response(
        "batch_detect_dominant_language", languages_response("en", "en"), {"TextList": texts}
    )
    stubber.add_client_error(
        "batch_detect_sentiment",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
        expected_params={"TextList": texts, "LanguageCode": "en"},
    )
    no_pii(stubber, *texts)
    local = LocalReplyAnalyser().analyse_batch(replies(*texts))

    with caplog.at_level(logging.WARNING):
        analyses = ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(replies(*texts))

    assert [analysis.sentiment for analysis in analyses] == [analysis.sentiment for analysis in local]
    assert {analysis.analyser for analysis in analyses} == {LOCAL_ANALYSER_NAME}
    failures = [
        record
        for record in caplog.records
        if record.getMessage() == "comprehend call failed, local analysis kept"
    ]
    assert [(record.operation, record.error_code, record.documents) for record in failures] == [
        ("BatchDetectSentiment", "ThrottlingException", 2)
    ]
    logged = caplog.text + " ".join(str(vars(record)) for record in caplog.records)
    assert not any(fragment in logged for fragment in ("Friday", "8001015009087", "call me"))


def test_failed_language_detection_keeps_the_whole_batch_local(client: object, stubber: Stubber) -> None:
    """Given the language call fails with a service error, when analysed, then no sentiment call is made
    and every reply keeps the local language and sentiment (PII still uses the local language)."""
    texts = ["I will pay on Friday", "Noted"]
    stubber.add_client_error(
        "batch_detect_dominant_language",
        service_error_code="InternalServerException",
        http_status_code=500,
        expected_params={"TextList": texts},
    )
    no_pii(stubber, *texts)

    analyses = ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(replies(*texts))

    assert [(analysis.language, analysis.analyser) for analysis in analyses] == [
        ("en", LOCAL_ANALYSER_NAME)
    ] * 2


def test_a_document_comprehend_rejects_keeps_the_local_answer(client: object, stubber: Stubber) -> None:
    """Given Comprehend rejects one document of a sentiment batch, when analysed,
    then only that one is local."""
    texts = ["I will pay on Friday", "Thank you"]
    stubber.add_response(
        "batch_detect_dominant_language", languages_response("en", "en"), {"TextList": texts}
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [{"Index": 0, "Sentiment": "MIXED", "SentimentScore": SCORES}],
            "ErrorList": [{"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try again"}],
        },
        {"TextList": texts, "LanguageCode": "en"},
    )
    no_pii(stubber, *texts)

    first, second = ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(replies(*texts))

    assert (first.sentiment, second.sentiment, second.analyser) == (
        Sentiment.MIXED,
        Sentiment.POSITIVE,
        LOCAL_ANALYSER_NAME,
    )


def test_long_documents_are_cut_at_5000_bytes_on_a_character_boundary(
    client: object, stubber: Stubber
) -> None:
    """Given a 6,001-byte reply of two-byte characters, when analysed, then Comprehend gets the longest
    prefix that fits in 5,000 bytes (4,999 here) and PII detection still sees the whole reply."""
    text = "a" + "é" * 3000
    cut = "a" + "é" * 2499
    stubber.add_response("batch_detect_dominant_language", languages_response("en"), {"TextList": [cut]})
    stubber.add_response(
        "batch_detect_sentiment", sentiments_response(1), {"TextList": [cut], "LanguageCode": "en"}
    )
    no_pii(stubber, text)

    ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(replies(text))

    assert len(cut.encode("utf-8")) == 4999


def test_truncation_never_splits_a_character() -> None:
    """Given texts of one-, two- and four-byte characters, when cut, then each result is valid and fits."""
    assert truncate_utf8("abc", 2) == "ab"
    assert truncate_utf8("éé", 3) == "é"
    assert truncate_utf8("👍👍", 7) == "👍"
    assert truncate_utf8("short") == "short"


def test_pii_entities_from_comprehend_and_local_patterns_are_both_redacted(
    client: object, stubber: Stubber
) -> None:
    """Given Comprehend finds a name (and a low-score guess and a span past the end), when redacted,
    then the name is replaced, the guess and the bad span are ignored, and the local ID pattern still runs."""
    text = "Hi, this is Thabo Mokoena, ID 8001015009087, I will pay Friday"
    stubber.add_response("batch_detect_dominant_language", languages_response("en"), {"TextList": [text]})
    stubber.add_response(
        "batch_detect_sentiment",
        sentiments_response(1, "NEUTRAL"),
        {"TextList": [text], "LanguageCode": "en"},
    )
    stubber.add_response(
        "detect_pii_entities",
        {
            "Entities": [
                {"Score": 0.99, "Type": "NAME", "BeginOffset": 12, "EndOffset": 25},
                {"Score": 0.2, "Type": "ADDRESS", "BeginOffset": 51, "EndOffset": 54},
                {"Score": 0.99, "Type": "PHONE", "BeginOffset": 60, "EndOffset": 400},
            ]
        },
        {"Text": text, "LanguageCode": "en"},
    )

    (analysis,) = ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(replies(text))

    assert analysis.redacted_text == "Hi, this is [NAME], ID [ID_NUMBER], I will pay Friday"


def test_an_empty_reply_is_not_sent_to_comprehend(client: object, stubber: Stubber) -> None:
    """Given an empty reply, when analysed, then no call is made (Comprehend rejects empty text)."""
    (analysis,) = ComprehendReplyAnalyser(client, LocalReplyAnalyser()).analyse_batch(replies(""))

    assert (analysis.analyser, analysis.redacted_text) == (LOCAL_ANALYSER_NAME, "")


def test_pii_redaction_against_moto() -> None:
    """Given moto's Comprehend, when a long English reply is redacted, then the entity spans moto reports
    are replaced.

    moto 5.2 answers DetectPiiEntities with a canned list whatever the text (NAME at 50-58, EMAIL at
    230-259, BANK_ACCOUNT_NUMBER at 334-349) and DetectSentiment with a canned NEUTRAL; it does not
    implement BatchDetectDominantLanguage or BatchDetectSentiment, which is why the batch path above is
    tested with Stubber. So this checks that our adapter applies Comprehend's character offsets, not that
    Comprehend finds PII.
    """
    text = "".join(
        ("N" if 50 <= index < 58 else "E" if 230 <= index < 259 else "B" if 334 <= index < 349 else ".")
        for index in range(360)
    )
    with mock_aws():
        analyser = ComprehendReplyAnalyser(
            boto3.client("comprehend", region_name="eu-west-1"), LocalReplyAnalyser()
        )
        redacted = analyser.redact(text, "en")

    assert redacted == "." * 50 + "[NAME]" + "." * 172 + "[EMAIL]" + "." * 75 + "[ACCOUNT_NUMBER]" + "." * 11
