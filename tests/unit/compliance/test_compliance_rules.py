"""Each rule of the decision on a worked example: caps, Regulation F calls, holds and opt-outs."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from rapport.compliance import (
    HOLD_POLICIES,
    AttemptKind,
    ChannelLimit,
    ClientOverrides,
    ContactAttempt,
    ContactDecision,
    ContactPurpose,
    DecisionOutcome,
    Hold,
    HoldScope,
    NaiveDatetimeError,
    OptOut,
    evaluate_contact,
    explain_decision,
)
from rapport.models.enums import Channel, HoldKind, Jurisdiction

JHB = ZoneInfo("Africa/Johannesburg")
NYC = ZoneInfo("America/New_York")

# Tuesday 10 March 2026, 10:00 in Johannesburg: inside the window, no holiday.
TUESDAY_TEN = datetime(2026, 3, 10, 10, 0, tzinfo=JHB)


def sms(at: datetime, delivered: bool = True) -> ContactAttempt:
    return ContactAttempt(at=at, channel=Channel.SMS, kind=AttemptKind.MESSAGE, delivered=delivered)


def call(
    at: datetime, kind: AttemptKind = AttemptKind.CALL_ATTEMPT, delivered: bool = True
) -> ContactAttempt:
    return ContactAttempt(at=at, channel=Channel.CALL, kind=kind, delivered=delivered)


def hold(kind: HoldKind, placed_at: datetime, **fields) -> Hold:
    return Hold(kind=kind, placed_by="agent-17", placed_at=placed_at, reason="recorded on a call", **fields)


class TestCaps:
    def test_one_sms_today_defers_the_second_to_tomorrow_morning(self, decide_at):
        # Given an SMS already sent at 08:30 today (default cap: 1 a day)
        decision = decide_at(TUESDAY_TEN, history=(sms(TUESDAY_TEN - timedelta(minutes=90)),))
        # Then the next SMS waits for Wednesday 08:00
        assert decision.outcome is DecisionOutcome.DEFER
        assert decision.rule == "cap.sms.day"
        assert decision.inputs["sent_on_day"] == 1
        assert decision.not_before == datetime(2026, 3, 11, 8, 0, tzinfo=JHB)

    def test_a_message_on_another_channel_does_not_count(self, decide_at):
        email = ContactAttempt(at=TUESDAY_TEN - timedelta(hours=1), channel=Channel.EMAIL, kind="message")
        assert decide_at(TUESDAY_TEN, history=(email,)).outcome is DecisionOutcome.ALLOW

    def test_three_in_seven_days_waits_for_the_oldest_to_roll_off(self, decide_at):
        # Given three SMS in the last 7 days, the oldest at Wednesday 4 March 14:37:20
        oldest = datetime(2026, 3, 4, 14, 37, 20, tzinfo=JHB)
        history = (sms(oldest), sms(oldest + timedelta(days=2)), sms(oldest + timedelta(days=4)))
        decision = decide_at(TUESDAY_TEN, history=history)
        # Then the contact waits until the oldest is 7 days old, rounded up to the whole minute
        assert decision.rule == "cap.sms.7d"
        assert decision.inputs["sent_last_7_days"] == 3
        assert decision.not_before == datetime(2026, 3, 11, 14, 38, tzinfo=JHB)

    def test_an_undelivered_message_still_counts(self, decide_at):
        decision = decide_at(TUESDAY_TEN, history=(sms(TUESDAY_TEN - timedelta(hours=1), delivered=False),))
        assert decision.rule == "cap.sms.day"

    def test_a_roll_off_outside_the_window_waits_for_the_window(self, decide_at):
        # Given three SMS, the oldest on Wednesday 4 March at 19:59:30, so it rolls off 11 March 19:59:30
        oldest = datetime(2026, 3, 4, 19, 59, 30, tzinfo=JHB)
        history = (sms(oldest), sms(oldest + timedelta(days=1)), sms(oldest + timedelta(days=2)))
        decision = decide_at(datetime(2026, 3, 11, 12, 0, tzinfo=JHB), history=history)
        # Then 20:00 (the rounded minute) is outside the window: Thursday 08:00
        assert decision.not_before == datetime(2026, 3, 12, 8, 0, tzinfo=JHB)

    def test_client_override_tightens_the_cap(self, decide_at):
        # Given a client allowing 2 SMS a week, and 2 sent this week on earlier days
        overrides = ClientOverrides(caps={Channel.SMS: ChannelLimit(per_day=1, per_7_days=2)})
        history = (sms(TUESDAY_TEN - timedelta(days=3)), sms(TUESDAY_TEN - timedelta(days=1)))
        decision = decide_at(TUESDAY_TEN, history=history, overrides=overrides)
        assert decision.rule == "cap.sms.7d"
        assert decision.inputs["limit_per_7_days"] == 2

    def test_a_zero_cap_refuses(self, decide_at):
        overrides = ClientOverrides(caps={Channel.WHATSAPP: ChannelLimit(per_day=0, per_7_days=0)})
        decision = decide_at(TUESDAY_TEN, channel=Channel.WHATSAPP, overrides=overrides)
        assert decision.outcome is DecisionOutcome.REFUSE
        assert decision.rule == "cap.whatsapp.disabled"

    @pytest.mark.parametrize("purpose", [ContactPurpose.SERVICE, ContactPurpose.CONFIRMATION])
    def test_an_answer_to_the_debtor_is_not_capped_but_keeps_to_the_window(self, decide_at, purpose):
        # Given today's SMS already sent, so a collection message would wait for tomorrow
        history = (sms(TUESDAY_TEN - timedelta(hours=1)),)
        assert decide_at(TUESDAY_TEN, history=history).rule == "cap.sms.day"
        # When the debtor's question or plan is answered on the same channel
        answered = decide_at(TUESDAY_TEN, history=history, purpose=purpose)
        # Then the answer goes now, inside the window, and at night it still waits for the morning
        assert answered.outcome is DecisionOutcome.ALLOW
        night = decide_at(TUESDAY_TEN.replace(hour=22), history=history, purpose=purpose)
        assert night.outcome is DecisionOutcome.DEFER and night.rule == "za.cpa.window.hours"

    def test_daily_cap_counts_the_debtors_local_day(self, decide_at):
        # Given an SMS at 23:30 UTC on 9 March, which is 01:30 on 10 March in Johannesburg
        earlier = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
        decision = decide_at(TUESDAY_TEN, history=(sms(earlier),))
        # Then it counts towards 10 March, the debtor's day
        assert decision.rule == "cap.sms.day"


class TestRegulationFCalls:
    # The house rolling call cap is dropped (Regulation F's calendar count replaces it in the US) so
    # that the Regulation F rules show through on their own.
    LAW_ONLY = ClientOverrides(caps={Channel.CALL: ChannelLimit(per_day=3, per_7_days=None)})

    def _call_at(self, decide_at, at, history, overrides=LAW_ONLY):
        return decide_at(
            at,
            jurisdiction=Jurisdiction.US,
            debtor_timezone="America/New_York",
            channel=Channel.CALL,
            address="+1 212 555 0100",
            overrides=overrides,
            history=history,
        )

    def test_seven_calls_in_seven_days_stops_the_eighth(self, decide_at):
        # Given seven connected calls, one a day from Monday 1 to Sunday 7 June 2026 at 09:00
        history = tuple(call(datetime(2026, 6, day, 9, 0, tzinfo=NYC)) for day in range(1, 8))
        # When an eighth is proposed on Sunday 7 June at 17:00
        decision = self._call_at(decide_at, datetime(2026, 6, 7, 17, 0, tzinfo=NYC), history)
        # Then it waits until 1 June leaves the seven-day period: Monday 8 June when the window opens
        assert decision.outcome is DecisionOutcome.DEFER
        assert decision.rule == "us.regf.call.7in7"
        assert decision.inputs["calls_in_period"] == 7
        assert decision.inputs["period_start"] == "2026-06-01"
        assert decision.not_before == datetime(2026, 6, 8, 8, 0, tzinfo=NYC)

    def test_the_house_rolling_cap_is_stricter_when_kept(self, decide_at):
        # Given the same seven calls and the default house caps (6 calls in any rolling 7 days)
        history = tuple(call(datetime(2026, 6, day, 9, 0, tzinfo=NYC)) for day in range(1, 8))
        decision = self._call_at(decide_at, datetime(2026, 6, 7, 17, 0, tzinfo=NYC), history, overrides=None)
        # Then both rules block, and the rolling cap lets go only once 2 June 09:00 is 7 days old
        assert decision.inputs["blocking_rules"] == ["us.regf.call.7in7", "cap.call.7d"]
        assert decision.not_before == datetime(2026, 6, 9, 9, 0, tzinfo=NYC)

    def test_calls_that_did_not_connect_are_not_counted(self, decide_at):
        # Given seven calls that did not connect to the dialled number
        history = tuple(
            call(datetime(2026, 6, day, 9, 0, tzinfo=NYC), delivered=False) for day in range(1, 8)
        )
        decision = self._call_at(decide_at, datetime(2026, 6, 7, 17, 0, tzinfo=NYC), history)
        # Then Regulation F does not count them
        assert decision.outcome is DecisionOutcome.ALLOW

    def test_no_call_in_the_seven_days_after_a_conversation(self, decide_at):
        # Given a telephone conversation on Tuesday 2 June 2026 at 19:00
        history = (call(datetime(2026, 6, 2, 19, 0, tzinfo=NYC), AttemptKind.CONVERSATION),)
        # When a call is proposed on Monday 8 June (day 7 of the period that starts on 2 June)
        decision = self._call_at(decide_at, datetime(2026, 6, 8, 12, 0, tzinfo=NYC), history)
        # Then it waits for Tuesday 9 June at 08:00
        assert decision.rule == "us.regf.call.after_conversation"
        assert decision.inputs["conversation_date"] == "2026-06-02"
        assert decision.not_before == datetime(2026, 6, 9, 8, 0, tzinfo=NYC)

    def test_a_conversation_does_not_stop_an_email(self, decide_at):
        history = (call(datetime(2026, 6, 2, 19, 0, tzinfo=NYC), AttemptKind.CONVERSATION),)
        decision = decide_at(
            datetime(2026, 6, 3, 12, 0, tzinfo=NYC),
            jurisdiction=Jurisdiction.US,
            debtor_timezone="America/New_York",
            channel=Channel.EMAIL,
            address="Debtor@Example.com",
            history=history,
        )
        assert decision.outcome is DecisionOutcome.ALLOW
        assert decision.requires_opt_out_notice is True

    def test_regulation_f_does_not_apply_in_south_africa(self, decide_at):
        history = (call(TUESDAY_TEN - timedelta(days=1), AttemptKind.CONVERSATION),)
        decision = decide_at(TUESDAY_TEN, channel=Channel.CALL, history=history)
        assert decision.outcome is DecisionOutcome.ALLOW


class TestHolds:
    PLACED = TUESDAY_TEN - timedelta(days=3)

    @pytest.mark.parametrize("kind", list(HoldKind))
    def test_every_kind_stops_collection(self, decide_at, kind):
        # Given an active hold of each kind
        decision = decide_at(TUESDAY_TEN, holds=(hold(kind, self.PLACED),))
        # Then a collection message is stopped under that hold's rule (refused, or deferred if it lapses)
        assert decision.rule == f"hold.{kind.value}"
        assert decision.outcome is not DecisionOutcome.ALLOW

    @pytest.mark.parametrize("kind", list(HoldKind))
    def test_service_messages_pass_collection_only_holds(self, decide_at, kind):
        decision = decide_at(
            TUESDAY_TEN, holds=(hold(kind, self.PLACED),), purpose=ContactPurpose.CONFIRMATION
        )
        stops_all = HOLD_POLICIES[kind].scope is HoldScope.ALL_CONTACT
        assert (decision.outcome is DecisionOutcome.REFUSE) is stops_all

    def test_deceased_refuses_even_a_service_message(self, decide_at):
        decision = decide_at(
            TUESDAY_TEN, holds=(hold(HoldKind.DECEASED, self.PLACED),), purpose=ContactPurpose.SERVICE
        )
        assert decision.outcome is DecisionOutcome.REFUSE
        assert decision.rule == "hold.deceased"
        assert decision.inputs["cleared_only_by_person"] is True

    def test_a_person_cleared_kind_outlives_its_until(self, decide_at):
        # Given a dispute whose review date has passed but which nobody cleared
        dispute = hold(HoldKind.DISPUTE, self.PLACED, until=self.PLACED + timedelta(days=1))
        decision = decide_at(TUESDAY_TEN, holds=(dispute,))
        assert decision.outcome is DecisionOutcome.REFUSE

    def test_a_cleared_hold_stops_nothing(self, decide_at):
        cleared = hold(
            HoldKind.DISPUTE, self.PLACED, cleared_at=self.PLACED + timedelta(days=1), cleared_by="agent-3"
        )
        assert decide_at(TUESDAY_TEN, holds=(cleared,)).outcome is DecisionOutcome.ALLOW

    def test_breathing_space_lasts_sixty_days_then_the_window_applies(self, decide_at):
        # Given a Breathing Space that started 1 March 2026 at 15:00 UTC (no end given)
        placed = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
        space = hold(HoldKind.BREATHING_SPACE, placed)
        decision = decide_at(
            TUESDAY_TEN, holds=(space,), jurisdiction=Jurisdiction.UK, debtor_timezone="Europe/London"
        )
        # Then collection waits 60 days: 30 April 2026 15:00 UTC is 16:00 BST on a Thursday, in the window
        assert decision.outcome is DecisionOutcome.DEFER
        assert decision.rule == "hold.breathing_space"
        assert decision.not_before == placed + timedelta(days=60)

    def test_hardship_with_an_end_date_defers_to_the_next_window_after_it(self, decide_at):
        # Given a hardship hold until Saturday 14 March 2026 at 18:00 local (the Saturday window is closed)
        hardship = hold(HoldKind.HARDSHIP, self.PLACED, until=datetime(2026, 3, 14, 18, 0, tzinfo=JHB))
        decision = decide_at(TUESDAY_TEN, holds=(hardship,))
        # Then Monday 16 March at 08:00 is the first moment both the hold and the window allow
        assert decision.rule == "hold.hardship"
        assert decision.not_before == datetime(2026, 3, 16, 8, 0, tzinfo=JHB)

    def test_hardship_without_an_end_date_is_refused(self, decide_at):
        decision = decide_at(TUESDAY_TEN, holds=(hold(HoldKind.HARDSHIP, self.PLACED),))
        assert decision.outcome is DecisionOutcome.REFUSE

    def test_the_gravest_refusal_is_reported_first(self, decide_at):
        holds = (hold(HoldKind.DISPUTE, self.PLACED), hold(HoldKind.DECEASED, self.PLACED))
        decision = decide_at(TUESDAY_TEN, holds=holds)
        assert decision.rule == "hold.deceased"
        assert decision.inputs["blocking_rules"] == ["hold.deceased", "hold.dispute"]

    def test_hold_model_rejects_inconsistent_records(self):
        with pytest.raises(ValidationError):
            hold(HoldKind.FRAUD, self.PLACED, cleared_at=self.PLACED)  # no cleared_by
        with pytest.raises(ValidationError):
            hold(HoldKind.HARDSHIP, self.PLACED, until=self.PLACED - timedelta(days=1))
        with pytest.raises(ValidationError):
            Hold(kind=HoldKind.FRAUD, placed_by="a", placed_at=datetime(2026, 1, 1), reason="naive")

    def test_hold_activity_over_time(self):
        hardship = hold(HoldKind.HARDSHIP, self.PLACED, until=self.PLACED + timedelta(days=5))
        assert hardship.is_active(self.PLACED + timedelta(days=4, hours=23))
        assert not hardship.is_active(self.PLACED + timedelta(days=5))


class TestOptOuts:
    def test_the_same_number_written_differently_is_refused(self, decide_at):
        # Given an SMS opt-out recorded for +27 82 123 4567, and a contact to "082 123 4567"
        opt_out = OptOut(channel=Channel.SMS, address="+27 82 123 4567")
        decision = decide_at(TUESDAY_TEN, opt_outs=(opt_out,))
        # Then it is refused under the SMS opt-out rule
        assert decision.outcome is DecisionOutcome.REFUSE
        assert decision.rule == "optout.sms"

    def test_an_sms_opt_out_does_not_stop_whatsapp(self, decide_at):
        opt_out = OptOut(channel=Channel.SMS, address="0821234567")
        decision = decide_at(TUESDAY_TEN, opt_outs=(opt_out,), channel=Channel.WHATSAPP)
        assert decision.outcome is DecisionOutcome.ALLOW

    def test_another_number_is_not_stopped(self, decide_at):
        opt_out = OptOut(channel=Channel.SMS, address="0831234567")
        assert decide_at(TUESDAY_TEN, opt_outs=(opt_out,)).outcome is DecisionOutcome.ALLOW

    def test_email_opt_out_ignores_case_and_spaces(self, decide_at):
        opt_out = OptOut(channel=Channel.EMAIL, address="  Thandi.M@Example.COM ")
        decision = decide_at(
            TUESDAY_TEN, opt_outs=(opt_out,), channel=Channel.EMAIL, address="thandi.m@example.com"
        )
        assert decision.rule == "optout.email"

    def test_an_opt_out_of_everything(self, decide_at):
        decision = decide_at(TUESDAY_TEN, opt_outs=(OptOut(),), channel=Channel.CALL)
        assert decision.rule == "optout.all"

    def test_a_channel_opt_out_without_address_covers_every_number(self, decide_at):
        decision = decide_at(TUESDAY_TEN, opt_outs=(OptOut(channel=Channel.SMS),), address="0839999999")
        assert decision.rule == "optout.sms"
        assert decision.inputs["opt_out_covers_every_address"] is True

    def test_opt_out_outranks_a_window_deferral(self, decide_at):
        # Given a Sunday (window closed) and an opt-out
        decision = decide_at(
            datetime(2026, 3, 8, 12, 0, tzinfo=JHB), opt_outs=(OptOut(channel=Channel.SMS),)
        )
        # Then waiting would not help: refused, with the window also listed
        assert decision.outcome is DecisionOutcome.REFUSE
        assert decision.inputs["blocking_rules"] == ["optout.sms", "za.cpa.window.sunday"]


class TestDecisionRecord:
    def test_inputs_are_json_and_hold_no_address(self, decide_at):
        # Given a deferral with history, a hold and an opt-out on another number
        decision = decide_at(
            TUESDAY_TEN,
            address="+27 82 555 0199",
            history=(sms(TUESDAY_TEN - timedelta(hours=1)),),
            holds=(hold(HoldKind.HARDSHIP, TUESDAY_TEN, until=TUESDAY_TEN + timedelta(hours=2)),),
            opt_outs=(OptOut(channel=Channel.SMS, address="+27 82 555 0100"),),
        )
        # Then the inputs serialise and no digits of either number appear in the audit record
        text = json.dumps(decision.inputs)
        record = decision.model_dump_json()
        assert "5550199" not in record.replace(" ", "") and "5550100" not in text
        assert "recorded on a call" not in record  # the hold's free-text reason stays out
        assert decision.inputs["blocking_rules"] == ["hold.hardship", "cap.sms.day"]

    def test_decision_requires_not_before_exactly_for_defer(self):
        common = {
            "rule": "allow",
            "reason": "",
            "account_id": "A",
            "channel": Channel.SMS,
            "purpose": ContactPurpose.SERVICE,
            "evaluated_at": TUESDAY_TEN,
        }
        with pytest.raises(ValidationError):
            ContactDecision(outcome=DecisionOutcome.DEFER, **common)
        with pytest.raises(ValidationError):
            ContactDecision(outcome=DecisionOutcome.ALLOW, not_before=TUESDAY_TEN, **common)

    def test_naive_now_is_refused(self, make_request):
        with pytest.raises(NaiveDatetimeError):
            evaluate_contact(make_request(), datetime(2026, 3, 10, 10, 0))

    def test_an_unknown_time_zone_is_rejected(self, make_request):
        with pytest.raises(ValidationError):
            make_request(debtor_timezone="Africa/Atlantis")

    def test_call_kinds_must_match_the_channel(self):
        with pytest.raises(ValidationError):
            ContactAttempt(at=TUESDAY_TEN, channel=Channel.SMS, kind=AttemptKind.CONVERSATION)
        with pytest.raises(ValidationError):
            ContactAttempt(at=TUESDAY_TEN, channel=Channel.CALL, kind=AttemptKind.MESSAGE)

    def test_profile_and_jurisdiction_must_agree(self, make_request):
        from rapport.compliance import UNITED_STATES

        with pytest.raises(ValidationError):
            make_request(jurisdiction=Jurisdiction.ZA, profile=UNITED_STATES)


class TestExplanation:
    def test_allow_mentions_room_and_opt_out_line(self, decide_at):
        text = explain_decision(decide_at(TUESDAY_TEN))
        assert "may go now" in text
        assert "Tuesday 10 March 2026 at 10:00" in text
        assert "opt-out line" in text

    def test_defer_names_the_rule_and_the_local_moment(self, decide_at):
        text = explain_decision(decide_at(datetime(2026, 12, 16, 10, 0, tzinfo=JHB)))
        assert "za.cpa.window.public_holiday" in text
        assert "Day of Reconciliation" in text
        assert "Thursday 17 December 2026 at 08:00 SAST" in text
        assert "\n" not in text

    def test_refusal_says_waiting_will_not_help(self, decide_at):
        decision = decide_at(TUESDAY_TEN, holds=(hold(HoldKind.LEGAL_REPRESENTATION, TUESDAY_TEN),))
        text = explain_decision(decision)
        assert "refused" in text and "Waiting will not change this" in text
        assert "legal representative" in text
