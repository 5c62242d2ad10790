"""The run report says why each reply carries no analysis, and which messages could not be sent, from
what the records say happened to them."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.store.models import AuditModel, ContactModel
from rapport_local.report import _failed_to_send, _not_analysed

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


def _message(contact_id: str, channel: str, status: str, *, provider_id: str | None = None, reason: str = ""):
    return ContactModel(
        "ACC-1",
        contact_id,
        at=AT,
        direction="out",
        channel=channel,
        status=status,
        provider_message_id=provider_id,
        failure_reason=reason or None,
    )


def test_the_report_counts_every_message_that_could_not_be_sent_per_channel_and_reason():
    # Given messages refused by the channel, throttled to the end of their retries, never reaching a
    # provider for another error, one still claimed by a send that never finished, and ones that went
    outbound = [
        _message("refused", "sms", "failed", reason="opted_out"),
        _message("throttled-1", "sms", "failed", reason="throttled"),
        _message("throttled-2", "sms", "failed", reason="throttled"),
        _message("no-address", "email", "failed", reason="NoAddressError"),
        _message("stuck", "whatsapp", "sending"),
        _message("sent", "sms", "sent", provider_id="p-1"),
        _message("bounced-later", "email", "failed", provider_id="p-2", reason="bounced by the provider"),
    ]

    # When the report sorts them
    failed = _failed_to_send(outbound)

    # Then each channel shows what never left, by reason; what a provider accepted is a delivery matter
    assert failed == {
        "email": {"NoAddressError": 1},
        "sms": {"throttled": 2, "opted_out": 1},
        "whatsapp": {"still_sending": 1},
    }
