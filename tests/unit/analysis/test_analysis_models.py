"""The edges of reply analysis: what a reply must carry and what an analysis looks like."""

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from rapport.analysis import LOCAL_ANALYSER_NAME, LocalReplyAnalyser, ReplyAnalyser, ReplyToAnalyse


def test_a_naive_received_at_is_rejected() -> None:
    """Given a received_at without an offset, when the reply is built, then validation fails."""
    with pytest.raises(ValidationError, match="time zone offset"):
        ReplyToAnalyse(
            reply_id="r-1", text="ok", received_at=datetime(2026, 12, 4, 10), timezone="Africa/Johannesburg"
        )


def test_an_unknown_time_zone_is_rejected() -> None:
    """Given a time zone that is not an IANA name, when the reply is built, then validation fails."""
    with pytest.raises(ValidationError, match="IANA"):
        ReplyToAnalyse(
            reply_id="r-1",
            text="ok",
            received_at=datetime.fromisoformat("2026-12-04T10:00:00+02:00"),
            timezone="Mars/Olympus",
        )


def test_the_local_date_is_the_debtors() -> None:
    """Given 23:30 UTC, when asked for the local date in Johannesburg, then it is the next day."""
    reply = ReplyToAnalyse(
        reply_id="r-1",
        text="ok",
        received_at=datetime.fromisoformat("2026-12-04T23:30:00+00:00"),
        timezone="Africa/Johannesburg",
    )
    assert reply.local_date() == date(2026, 12, 5)


def test_the_local_analyser_implements_the_port_and_keeps_order() -> None:
    """Given three replies, when analysed as a batch,
    then the results match them in order and are labelled."""
    analyser = LocalReplyAnalyser()
    replies = [
        ReplyToAnalyse(
            reply_id=f"r-{index}",
            text=text,
            received_at=datetime.fromisoformat("2026-12-04T10:00:00+02:00"),
            timezone="Africa/Johannesburg",
        )
        for index, text in enumerate(["STOP", "I will pay R500 on Friday, my ID is 8001015009087", "Noted"])
    ]
    analyses = analyser.analyse_batch(replies)
    assert isinstance(analyser, ReplyAnalyser)
    assert [analysis.reply_id for analysis in analyses] == ["r-0", "r-1", "r-2"]
    assert analyses[1].redacted_text == "I will pay R500 on Friday, my ID is [ID_NUMBER]"
    assert (analyses[1].amount_cents, analyses[1].promise_date) == (50_000, date(2026, 12, 4))
    assert {analysis.analyser for analysis in analyses} == {LOCAL_ANALYSER_NAME}
