"""Explaining a message from the audit trail, and the evidence the steps write for it.

The repositories are fakes of the three reads explaining needs; the evidence comes from the real
compliance decision, so what the steps write and what the explanation reads are tested together.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rapport.compliance import ContactRequest, DecisionOutcome, evaluate_contact
from rapport.journey.evidence import compliance_evidence, matched_segment_rule, unchecked_evidence
from rapport.journey.explain import NotAnOutboundMessageError, explain_account, explain_contact
from rapport.models.enums import Channel, Jurisdiction, Segment
from rapport.strategy.config import load_client_config
from rapport.strategy.scoring import MonthBehaviour, score_account

CLIENTS = Path(__file__).resolve().parents[3] / "clients"
JOURNEY = "ACC-000001-weekday-arrears-2026-12-07"
ACCOUNT = "ACC-000001"
JOHANNESBURG = ZoneInfo("Africa/Johannesburg")
# Audit entry ids sort by the decision's time, then by the order of writing (as Audit.append makes them).
_WRITTEN = itertools.count()


@dataclass
class Entry:
    at: datetime
    action: str
    rule: str | None
    reason: str | None = None
    journey_id: str | None = JOURNEY
    inputs: dict[str, Any] = field(default_factory=dict)
    entry_id: str = ""

    def __post_init__(self) -> None:
        self.entry_id = self.entry_id or f"{self.at.isoformat()}#{next(_WRITTEN):016x}"


@dataclass
class Contact:
    contact_id: str
    at: datetime
    direction: str
    channel: str
    status: str = "sent"
    journey_id: str | None = JOURNEY
    template_id: str | None = None
    tone: str | None = "supportive"
    language: str | None = "en"


@dataclass
class Journey:
    journey_id: str
    started_at: datetime
    campaign: str | None = "weekday-arrears"
    status: str = "finished"
    outcome: str | None = "no_response"
    finished_at: datetime | None = None


class _Table:
    def __init__(self, rows: list[Any], key: str = "contact_id") -> None:
        self.rows, self.key = rows, key

    def for_account(self, account_id: str) -> list[Any]:
        return list(self.rows)

    def get(self, account_id: str, row_id: str) -> Any:
        return next(row for row in self.rows if getattr(row, self.key) == row_id)


class FakeRepos:
    """The three reads of an account's timeline that explaining needs, over in-memory rows."""

    def __init__(self, contacts: list[Contact], entries: list[Entry], journeys: list[Journey]) -> None:
        self.contacts = _Table(contacts)
        self.audit = _Table(entries, key="entry_id")
        self.journeys = _Table(journeys, key="journey_id")


def _at(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=JOHANNESBURG).astimezone(UTC)


def _allowed(at: datetime, channel: Channel = Channel.SMS, **request: Any) -> dict[str, Any]:
    """The evidence send_message records for a contact the guardrails allow at ``at``."""
    built = ContactRequest.model_validate({
        "account_id": ACCOUNT, "debtor_timezone": "Africa/Johannesburg", "channel": channel,
        "address": "+27821234567", "jurisdiction": Jurisdiction.ZA, **request,
    })
    decision = evaluate_contact(built, at)
    assert decision.outcome is DecisionOutcome.ALLOW
    return compliance_evidence(built, decision)


ASSESSMENT_INPUTS = {
    "score": 375,
    "reason_codes": ["R01_DAYS_PAST_DUE", "R03_LOW_PAYMENTS_AGAINST_BILLS"],
    "variant": "champion",
    "days_past_due": 60,
    "channels": ["sms", "whatsapp", "email"],
    "tone": "supportive",
    "balance_cents": 250_000,
    "months_late": 1,
    "segment_rule": None,
    "variant_weights": {"champion": 80, "whatsapp-first": 20},
    "treatment_channels": ["sms", "whatsapp", "email"],
    "treatment_tone": "supportive",
    "tone_softened": False,
    "stated_channel": None,
    "suppressed_channels": [],
    "unconfigured_channels": [],
    "channel_stats": {},
    "reply_timeout_seconds": 3,
}


def _timeline() -> tuple[list[Contact], list[Entry]]:
    """A Sunday-evening start deferred to Monday 08:00, SMS unanswered, WhatsApp answered, balance sent."""
    first = f"{JOURNEY}.0.first_notice"
    second = f"{JOURNEY}.1.reminder"
    answer = f"{JOURNEY}.1.balance_statement"
    contacts = [
        Contact(first, _at(8), "out", "sms", template_id="first_notice"),
        Contact(second, _at(11), "out", "whatsapp", template_id="reminder"),
        Contact("R-1", _at(11, 30), "in", "whatsapp", status="received"),
        Contact(answer, _at(11, 31), "out", "whatsapp", template_id="balance_statement"),
    ]
    entries = [
        Entry(_at(19, day=6), "assessed", "segment.needs_help", "scored", inputs=ASSESSMENT_INPUTS),
        Entry(_at(19, day=6), "deferred", "za.cpa.window.sunday", "No contact on a Sunday.", inputs={
            "attempt": 0, "channel": "sms", "not_before": _at(8).isoformat(),
            "not_before_local": "2026-12-07T08:00+02:00",
        }),
        Entry(_at(8), "sent", "allow", "message sent", inputs={
            "channel": "sms", "template": "first_notice", "message_id": first, "purpose": "collection",
            "compliance": _allowed(_at(8)),
        }),
        Entry(_at(11), "sent", "allow", "message sent", inputs={
            "channel": "whatsapp", "template": "reminder", "message_id": second, "purpose": "collection",
            "compliance": _allowed(_at(11), Channel.WHATSAPP),
        }),
        Entry(_at(11, 30), "reply_received", "reply.whatsapp", "reply recorded", inputs={"reply_id": "R-1"}),
        Entry(_at(11, 30), "reply_analysed", "intent.balance_query", "reply understood", inputs={}),
        Entry(_at(11, 31), "sent", "allow", "message sent", inputs={
            "channel": "whatsapp", "template": "balance_statement", "message_id": answer,
            "purpose": "service",
            "compliance": _allowed(_at(11, 31), Channel.WHATSAPP, purpose="service"),
        }),
        Entry(_at(15), "journey_finished", "outcome.no_response", "journey finished"),
    ]
    return contacts, entries


def _repos(contacts: list[Contact] | None = None, entries: list[Entry] | None = None) -> FakeRepos:
    default_contacts, default_entries = _timeline()
    journey = Journey(JOURNEY, _at(19, day=6), finished_at=_at(15))
    return FakeRepos(contacts or default_contacts, entries or default_entries, [journey])


def test_a_first_notice_is_explained_by_segment_variant_channel_guardrails_and_deferral():
    # Given a journey whose first SMS waited for Monday 08:00 and then went
    repos = _repos()
    # When the first notice is explained
    explained = explain_contact(repos, ACCOUNT, f"{JOURNEY}.0.first_notice")
    # Then nothing is missing, and each part names its inputs
    assert explained.complete, explained.missing
    assert explained.segment.segment is Segment.NEEDS_HELP and explained.segment.score == 375
    assert explained.segment.reason_codes == ["R01_DAYS_PAST_DUE", "R03_LOW_PAYMENTS_AGAINST_BILLS"]
    assert explained.variant.name == "champion" and explained.variant.weights["whatsapp-first"] == 20
    assert explained.channel_choice.order == [Channel.SMS, Channel.WHATSAPP, Channel.EMAIL]
    assert explained.attempt == 0 and "first collection attempt" in explained.trigger
    # And the guardrails it passed are those of South Africa, in the debtor's time zone
    compliance = explained.compliance
    assert compliance.jurisdiction is Jurisdiction.ZA and compliance.timezone == "Africa/Johannesburg"
    assert compliance.local_time == "2026-12-07T08:00+02:00" and compliance.weekday == "Monday"
    assert {"za.cpa.window.monday", "za.cpa.window.hours", "za.cpa.window.public_holiday",
            "cap.sms.day", "cap.sms.7d", "hold.*", "optout.*"} == set(compliance.passed_rules)
    # And the Sunday deferral before it is part of the story
    assert [(d.rule, d.not_before_local) for d in explained.deferrals] == [
        ("za.cpa.window.sunday", "2026-12-07T08:00+02:00")
    ]
    assert "za.cpa.window.sunday" in explained.summary()


def test_a_second_attempt_says_the_first_went_unanswered():
    # Given the same journey
    repos = _repos()
    # When the WhatsApp reminder is explained
    explained = explain_contact(repos, ACCOUNT, f"{JOURNEY}.1.reminder")
    # Then the branch is the reply timeout after the SMS, and the SMS attempt is listed before it
    assert explained.complete, explained.missing
    assert "no response to attempt 1 within the reply timeout (3 s)" in explained.trigger
    assert [(e.attempt, e.channel, e.action) for e in explained.channel_choice.earlier] == [
        (0, Channel.SMS, "sent")
    ]
    assert explained.deferrals == []


def test_a_channel_the_debtor_asked_for_after_the_assessment_explains_the_next_attempt():
    # Given the same journey, where the debtor answered the SMS "no more SMS, email me instead" and the
    # second attempt went by email, not by the assessed order's WhatsApp
    contacts, entries = _timeline()
    second = f"{JOURNEY}.1.reminder"
    contacts[1] = Contact(second, _at(11), "out", "email", template_id="reminder")
    entries[3] = Entry(_at(11), "sent", "allow", "message sent", inputs={
        "channel": "email", "template": "reminder", "message_id": second, "purpose": "collection",
        "compliance": _allowed(_at(11), Channel.EMAIL),
    })
    stated = Entry(_at(10), "channel_stated", "reply.channel_asked_for", "asked", inputs={
        "reply_id": "in.sms.1", "channel": "email", "before": None,
    })
    entries.insert(3, stated)
    # When the email is explained
    explained = explain_contact(_repos(contacts, entries), ACCOUNT, second)
    # Then the request explains the channel: nothing is missing, and the reason names it
    assert explained.complete, explained.missing
    assert "asked for email after the journey chose its order" in explained.channel_choice.why
    # And without the request on the trail, the email would be unexplained
    entries.remove(stated)
    unexplained = explain_contact(_repos(contacts, entries), ACCOUNT, second)
    assert "email is not attempt 1's channel in the assessed order" in unexplained.missing


def test_a_service_answer_is_explained_by_the_reply_it_answers():
    repos = _repos()
    explained = explain_contact(repos, ACCOUNT, f"{JOURNEY}.1.balance_statement")
    assert explained.complete, explained.missing
    assert explained.purpose == "service" and "reply_analysed (intent.balance_query" in explained.trigger
    assert "last reply" in explained.channel_choice.why


def test_what_the_trail_lacks_is_listed_not_invented():
    # Given a sent entry written before the steps recorded their evidence (no purpose, no guardrails)
    contacts, entries = _timeline()
    entries[2] = Entry(_at(8), "sent", "allow", "message sent", inputs={
        "channel": "sms", "template": "first_notice", "message_id": f"{JOURNEY}.0.first_notice",
    })
    entries[0] = Entry(_at(19, day=6), "assessed", "segment.needs_help", inputs={"score": 375})
    # When the first notice is explained
    explained = explain_contact(_repos(contacts, entries), ACCOUNT, f"{JOURNEY}.0.first_notice")
    # Then it is incomplete, and says exactly what is missing
    assert not explained.complete
    assert any("purpose" in gap for gap in explained.missing)
    assert any("guardrail evidence" in gap for gap in explained.missing)
    assert any("the assessment lacks" in gap and "balance_cents" in gap for gap in explained.missing)


def test_a_reply_is_not_a_message_to_explain():
    with pytest.raises(NotAnOutboundMessageError):
        explain_contact(_repos(), ACCOUNT, "R-1")


def test_an_account_explanation_covers_every_message_in_time_order():
    explained = explain_account(_repos(), ACCOUNT)
    assert [c.template_id for c in explained.contacts] == ["first_notice", "reminder", "balance_statement"]
    assert explained.incomplete == []
    assert explained.timeline[0].action == "assessed" and explained.timeline[-1].action == "journey_finished"
    assert [j.outcome for j in explained.journeys] == ["no_response"]


def test_entries_at_the_same_instant_after_a_send_are_not_its_causes():
    # Given a send and, at the very same instant, the journey's end (a clock that waited for a window)
    contacts, entries = _timeline()
    late = Entry(_at(8), "journey_finished", "outcome.no_response", entry_id=f"{_at(8).isoformat()}#~")
    entries.insert(3, late)
    # When the send is explained
    explained = explain_contact(_repos(contacts, entries), ACCOUNT, f"{JOURNEY}.0.first_notice")
    # Then the path stops at the send
    assert explained.path[-1].action == "sent"


# -- the evidence the steps write ------------------------------------------------------------------

def test_evidence_names_each_check_with_the_uk_figures():
    # Given a UK debtor e-mailed at 20:30 London time on a Monday (after 20:00, before 21:00)
    request = ContactRequest.model_validate({
        "account_id": ACCOUNT, "debtor_timezone": "Europe/London", "channel": Channel.EMAIL,
        "address": "debtor@example.com", "jurisdiction": Jurisdiction.UK,
    })
    moment = datetime(2026, 12, 7, 20, 30, tzinfo=ZoneInfo("Europe/London"))
    # When the guardrails decide and the evidence is recorded
    evidence = compliance_evidence(request, evaluate_contact(request, moment))
    # Then it passed CONC 7's window (08:00 to 21:00), not South Africa's, and each check says so
    assert evidence["outcome"] == "allow" and evidence["jurisdiction"] == "UK"
    details = {check["rule"]: check["detail"] for check in evidence["checks"]}
    assert "08:00 to 21:00" in details["uk.conc.window.hours"]
    assert all(check["passed"] for check in evidence["checks"])
    assert evidence["requires_opt_out_notice"] is False


def test_evidence_of_a_blocked_contact_marks_the_rule_that_blocked_it():
    request = ContactRequest.model_validate({
        "account_id": ACCOUNT, "debtor_timezone": "Africa/Johannesburg", "channel": Channel.SMS,
        "address": "+27821234567", "jurisdiction": Jurisdiction.ZA,
    })
    sunday = datetime(2026, 12, 6, 10, tzinfo=JOHANNESBURG)
    evidence = compliance_evidence(request, evaluate_contact(request, sunday))
    failed = [check["rule"] for check in evidence["checks"] if not check["passed"]]
    assert evidence["outcome"] == "defer" and failed == ["za.cpa.window.sunday"]


def test_an_opt_out_confirmation_is_recorded_as_unchecked():
    assert unchecked_evidence("opt_out_confirmation")["checked"] is False


def test_the_matched_segment_rule_is_the_one_the_scorer_used():
    # Given acme's rules: self_cure first, then wont_pay, then cant_pay
    strategy = load_client_config(CLIENTS / "acme-za.toml").strategy
    hopeless = score_account([MonthBehaviour(4, 90_000, 0)] * 6, 90_000, 50_000, 120)
    ordinary = score_account([MonthBehaviour(1, 10_000, 0)] * 6, 10_000, 100_000, 45)
    # Then the index points at the rule that chose the segment, and None means the default
    index = matched_segment_rule(strategy, 120, 90_000, hopeless)
    assert index is not None and strategy.segment_rules[index].segment is Segment.WONT_PAY
    assert matched_segment_rule(strategy, 45, 10_000, ordinary) is None


def test_a_deferral_moment_is_exposed_in_utc_and_local_time():
    explained = explain_contact(_repos(), ACCOUNT, f"{JOURNEY}.0.first_notice")
    assert explained.deferrals[0].not_before == _at(8)
    assert explained.deferrals[0].not_before - explained.deferrals[0].at == timedelta(hours=13)
