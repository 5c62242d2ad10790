"""The journey's answers to what the debtor and the providers report: opt-outs, undeliverable messages."""

from __future__ import annotations

import pytest

from rapport_infra import catalogue
from rapport_infra.asl import load_definition, route

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def journey():
    return load_definition(catalogue.JOURNEY.definition_file)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        # An opt-out keyword the inbound function recognised skips the analysis.
        ({"kind": "reply", "reply_id": "in.sms.1", "channel": "sms", "opt_out": True}, "RecordOptOut"),
        ({"kind": "reply", "reply_id": "in.sms.1", "channel": "sms", "opt_out": False}, "AnalyseReply"),
        # A reply from a resumer that does not say (an older execution's) is analysed as before.
        ({"kind": "reply", "reply_id": "in.sms.1", "channel": "sms"}, "AnalyseReply"),
        ({"kind": "delivery_failed", "status": "bounced", "channel": "email"}, "MessageUndelivered"),
    ],
)
def test_responses_route_to_their_handling(journey, response, expected):
    # Given what resumed the journey
    # Then the journey takes the matching branch
    assert route(journey, "RouteResponse", {"response": response}) == expected


def test_an_undeliverable_message_escalates_to_the_next_attempt_at_once(journey):
    state = journey["States"]["MessageUndelivered"]
    assert state["Type"] == "Pass" and state["Next"] == "NextAttempt"


def test_an_opt_out_is_recorded_then_confirmed_through_send_message_whatever_happens(journey):
    # Given the opt-out states
    states = journey["States"]
    confirm = states["ConfirmOptOut"]
    # Then the record is followed by a confirmation that only send_message sends, exempt from guardrails
    # (an opt-out of every channel: see the test below for one that asks for another channel)
    assert states["RecordOptOut"]["Next"] == "RouteOptOut"
    assert route(journey, "RouteOptOut", {"opt_out": {"every_channel": True}}) == "ConfirmOptOut"
    assert confirm["Resource"] == "${SendMessageFunctionArn}"
    assert confirm["Parameters"]["purpose"] == "opt_out_confirmation"
    assert confirm["Parameters"]["template_id"] == "opt_out_confirmation"
    # And the journey ends there, whether or not the confirmation went out: an opt-out covers every
    # channel, so there is no next channel to try
    assert confirm["Next"] == "OutcomeOptedOut"
    # (a confirmation that cannot be sent is first put on the account's record and in the dead-letter queue)
    [failed] = confirm["Catch"]
    record = states[failed["Next"]]
    report = states[record["Next"]]
    assert [catcher["Next"] for catcher in record["Catch"]] == [record["Next"]]
    assert (report["Resource"], report["Next"]) == ("arn:aws:states:::sqs:sendMessage", "OutcomeOptedOut")
    assert [catcher["Next"] for catcher in report["Catch"]] == ["OutcomeOptedOut"]




EMAIL_INSTEAD = {"channels": ["sms"], "every_channel": False, "stated_channel": "email"}


@pytest.mark.parametrize(
    "definition",
    [catalogue.JOURNEY.definition_file, catalogue.STATEMACHINES_DIR / "clients" / "meridian-us.asl.json"],
)
@pytest.mark.parametrize(
    ("opt_out", "action", "expected"),
    [
        # An opt-out of every channel (or one recorded by an older function, which does not say) is confirmed
        ({"channels": ["sms", "email"], "recorded": True, "every_channel": True}, "contact", "ConfirmOptOut"),
        ({"channels": ["sms", "email"], "recorded": True}, "contact", "ConfirmOptOut"),
        # "No more SMS, email me instead": the collecting journey goes on, on the channel asked for
        (EMAIL_INSTEAD, "contact", "NextAttempt"),
        # ... unless it came while a promise was pending: the journey goes back to the promise
        ({**EMAIL_INSTEAD, "waiting_for": "promise"}, "contact", "CheckPromiseEarly"),
        # A held or settled account read the reply for the record: it ends as its assessment said
        (EMAIL_INSTEAD, "hold", "OutcomeOnHold"),
        (EMAIL_INSTEAD, "close", "OutcomeNothingOwed"),
    ],
)
def test_an_opt_out_that_asks_for_another_channel_goes_on_there(definition, opt_out, action, expected):
    tree = load_definition(definition)
    recorded = {key: value for key, value in opt_out.items() if key != "waiting_for"}
    response = {"waiting_for": opt_out.get("waiting_for", "response")}
    data = {"opt_out": recorded, "assessment": {"action": action}, "response": response}
    assert route(tree, "RouteOptOut", data) == expected
