"""The run report says why each reply carries no analysis, from what the records say happened to it."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.store.models import AuditModel, ContactModel
from rapport_local.report import _not_analysed

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _reply(reply_id: str, *, intent: str | None = None, text: str = "words", attachment: str | None = None):
    return ContactModel(
        "ACC-1", reply_id, at=AT, direction="in", channel="whatsapp", status="received", text=text,
        attachment=attachment, intent=intent,
    )


def _received(reply_id: str, **inputs: object) -> AuditModel:
    return AuditModel("ACC-1", f"{AT.isoformat()}#{reply_id}", at=AT, action="reply_received",
                      inputs={"reply_id": reply_id, **inputs})


def test_each_reply_without_analysis_is_given_the_reason_the_records_show():
    # Given replies that were read, and replies that were not, each with what happened on receipt
    inbound = [
        _reply("read", intent="promise_to_pay"),
        _reply("stop"),
        _reply("voice", text="", attachment="audio"),
        _reply("caption-only-spaces", text="\u200b ", attachment="image"),
        _reply("busy"),
        _reply("lost"),
    ]
    audit = [
        _received("read", resumed=True, started=False),
        _received("stop", resumed=False, started=False, opt_out=True),
        _received("voice", resumed=False, started=False, without_words=True),
        _received("caption-only-spaces", resumed=False, started=False, without_words=True),
        _received("busy", resumed=False, started=False),
        _received("lost", resumed=True, started=False),
    ]

    # When the report sorts them
    reasons = _not_analysed(inbound, audit)

    # Then an invisible-character caption counts as without words, as the inbound handler judged it
    assert reasons == {
        "without_words": 2,
        "opt_out_honoured_on_receipt": 1,
        "journey_busy_so_queued_for_a_person": 1,
        "not_read_by_a_journey": 1,
    }
