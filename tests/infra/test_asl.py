"""Every state machine in statemachines/: sound structure, cfn-lint's ASL schema, catalogue functions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint

from rapport.models.enums import Intent
from rapport.strategy.config import load_client_config
from rapport_infra import catalogue
from rapport_infra.application import client_files
from rapport_infra.asl import (
    choice_states,
    load_definition,
    matching_rule,
    route,
    substitution_names,
    task_resources,
    validate_definition,
)

pytestmark = pytest.mark.infra


def _client_definitions() -> set[Path]:
    """The state machine files clients ship with their configuration (``state_machine = ...``)."""
    found = set()
    for path in client_files():
        client = load_client_config(path)
        if client.state_machine:
            found.add((path.parent / client.state_machine).resolve())
    return found


# Every definition a stack may deploy: ours, and any a client ships.
ASL_FILES = sorted(set(catalogue.STATEMACHINES_DIR.glob("*.asl.json")) | _client_definitions())
JOURNEY_KEYS = {spec.substitution_key: spec for spec in catalogue.FUNCTIONS if spec.trigger == "journey"}
ALL_FUNCTION_KEYS = {spec.substitution_key: spec for spec in catalogue.FUNCTIONS}
FAKE_ARN = "arn:aws:lambda:af-south-1:123456789012:function:rapport-test"


def test_there_are_state_machines_to_check():
    assert catalogue.JOURNEY.definition_file in ASL_FILES


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_definition_is_structurally_sound(path: Path):
    # Given a state machine file
    definition = load_definition(path)
    # When its structure is checked (targets, reachability, exits, Choice rules, error handlers)
    problems = [str(problem) for problem in validate_definition(definition)]
    # Then nothing is wrong
    assert problems == []


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_definition_passes_cfn_lint_state_machine_schema(path: Path):
    # Given a template holding the definition as an object, with a value for every substitution
    definition = load_definition(path)
    substitutions = {name: FAKE_ARN for name in substitution_names(definition)}
    substitutions["SendFailuresQueueUrl"] = "https://sqs.af-south-1.amazonaws.com/123456789012/rapport-test"
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Journey": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/rapport-test",
            "Definition": definition,
            "DefinitionSubstitutions": substitutions,
        }}},
    }
    # When cfn-lint validates it (rule E3601 checks the ASL JSON schema)
    matches = [str(match) for match in lint(json.dumps(template), regions=["af-south-1"])]
    # Then it finds nothing
    assert matches == []


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_every_function_placeholder_is_a_journey_function(path: Path):
    # Given the ${...FunctionArn} placeholders of a definition
    names = {name for name in substitution_names(load_definition(path)) if name.endswith("FunctionArn")}
    # Then each names a catalogue function, and one the journey may invoke
    assert names <= set(ALL_FUNCTION_KEYS), names - set(ALL_FUNCTION_KEYS)
    assert {ALL_FUNCTION_KEYS[name].trigger for name in names} == {"journey"}
    # And nothing else is substituted but the send-failures queue
    assert substitution_names(load_definition(path)) - names <= {"SendFailuresQueueUrl"}


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda path: path.name)
def test_every_task_calls_a_catalogue_function_or_an_aws_integration(path: Path):
    # Given every Task of a definition
    for name, state in task_resources(load_definition(path)):
        resource = state["Resource"]
        # Then it invokes a journey function by its placeholder, directly or through lambda:invoke,
        # or calls an AWS service integration; never a hard-coded function ARN of some account
        if resource.startswith("${"):
            assert resource.removeprefix("${").removesuffix("}") in JOURNEY_KEYS, name
            continue
        assert resource.startswith("arn:aws:states:::"), (name, resource)
        if resource.startswith("arn:aws:states:::lambda:invoke"):
            function = state["Parameters"]["FunctionName"]
            assert function.removeprefix("${").removesuffix("}") in JOURNEY_KEYS, name


def test_journey_uses_every_journey_function():
    # Given the journey definition and the catalogue's journey functions
    used = substitution_names(load_definition(catalogue.JOURNEY.definition_file))
    # Then no journey function is deployed without a state that invokes it
    assert set(JOURNEY_KEYS) <= used, set(JOURNEY_KEYS) - used
    assert set(catalogue.JOURNEY.functions) == {spec.name for spec in JOURNEY_KEYS.values()}


def test_callback_tasks_invoke_a_function_by_name():
    # Given the journey's .waitForTaskToken tasks
    definition = load_definition(catalogue.JOURNEY.definition_file)
    callbacks = [(name, state) for name, state in task_resources(definition)
                 if state["Resource"].endswith(".waitForTaskToken")]
    # Then each passes a placeholder function name and its token
    assert callbacks
    for name, state in callbacks:
        assert state["Parameters"]["FunctionName"].removeprefix("${").removesuffix("}") in JOURNEY_KEYS, name
        assert "$$.Task.Token" in json.dumps(state["Parameters"]), name


COLLECTING, SETTLED, HELD = {"action": "contact"}, {"action": "close"}, {"action": "hold"}
# (Choice state, what the state sees, where the journey must go): every rule and every Default of the
# journey's Choice states, in the words of the domain.
JOURNEY_ROUTES: list[tuple[str, dict[str, Any], str]] = [
    ("RouteAssessment", {"assessment": {"action": "close"}}, "OutcomeNothingOwed"),
    ("RouteAssessment", {"assessment": {"action": "hold"}}, "OutcomeOnHold"),
    ("RouteAssessment", {"assessment": {"action": "contact"}}, "PlanContact"),
    # A journey started by a reply no journey waited for: an opt-out first, whatever the assessment says
    ("RouteAssessment", {"assessment": {"action": "hold"}, "response": {"kind": "reply", "opt_out": True}},
     "RecordOptOut"),
    # ... and on a held or settled account, reads the reply for the person who has the account
    ("RouteAssessment", {"assessment": {"action": "hold"}, "response": {"kind": "reply", "opt_out": False}},
     "ReadReplyForTheRecord"),
    ("RouteAssessment", {"assessment": {"action": "close"}, "response": {"kind": "reply", "opt_out": False}},
     "ReadReplyForTheRecord"),
    ("RouteReadReply", {"assessment": {"action": "hold"}, "analysis": {"vulnerable": True}}, "PlaceHold"),
    ("RouteReadReply", {"assessment": {"action": "close"}, "analysis": {"vulnerable": False, "intent": "opt_out"}},
     "RecordOptOut"),
    ("RouteReadReply", {"assessment": {"action": "hold"}, "analysis": {"vulnerable": False, "intent": "wrong_person"}},
     "PlaceHold"),
    ("RouteReadReply", {"assessment": {"action": "close"}, "analysis": {"vulnerable": False, "intent": "refusal"}},
     "OutcomeNothingOwed"),
    ("RouteReadReply", {"assessment": {"action": "hold"}, "analysis": {"vulnerable": False, "intent": "refusal"}},
     "OutcomeOnHold"),
    ("RouteAssessment", {"assessment": {"action": "contact"}, "response": {"kind": "reply", "opt_out": False}},
     "RouteResponse"),
    ("RouteContact", {"contact": {"decision": "send"}}, "SendMessage"),
    # The attempt after a promise paid in part sends the message that thanks for it and asks for the rest
    ("RouteContact", {"contact": {"decision": "send"}, "attempt": {"n": 1, "after_part_payment": True}},
     "AskForTheRest"),
    ("RouteContact", {"contact": {"decision": "defer"}, "attempt": {"n": 1, "after_part_payment": True}},
     "WaitUntilAllowed"),
    ("RouteContact", {"contact": {"decision": "defer"}}, "WaitUntilAllowed"),
    ("RouteContact", {"contact": {"decision": "refuse"}}, "NextAttempt"),
    ("RouteContact", {"contact": {"decision": "hold"}}, "OutcomeOnHold"),
    ("RouteContact", {"contact": {"decision": "settled"}}, "OutcomePaid"),
    ("RouteContact", {"contact": {"decision": "exhausted"}}, "OutcomeNoResponse"),
    ("RouteResponse", {"response": {"kind": "payment", "settled": True}}, "ThankDebtor"),
    ("RouteResponse", {"response": {"kind": "payment", "settled": False}}, "AwaitResponse"),
    ("RouteResponse", {"response": {"kind": "plan_accepted"}}, "ConfirmPlan"),
    ("RouteResponse", {"response": {"kind": "reply", "opt_out": True}}, "RecordOptOut"),
    ("RouteResponse", {"response": {"kind": "reply", "opt_out": False}}, "AnalyseReply"),
    ("RouteResponse", {"response": {"kind": "delivery_failed"}}, "MessageUndelivered"),
    ("RouteResponse", {"response": {"kind": "promise", "promise_id": "A1"}}, "TakeAgentPromise"),
    ("RouteResponse", {"response": {"kind": "timeout"}}, "NextAttempt"),
    # People in difficulty first: vulnerability outranks even a promise to pay.
    ("RouteReply", {"analysis": {"intent": Intent.PROMISE_TO_PAY, "vulnerable": True}}, "PlaceHold"),
    ("RouteReply", {"analysis": {"intent": Intent.HARDSHIP, "vulnerable": False}}, "PlaceHold"),
    ("RouteReply", {"analysis": {"intent": Intent.DISPUTE, "vulnerable": False}}, "PlaceHold"),
    ("RouteReply", {"analysis": {"intent": Intent.WRONG_PERSON, "vulnerable": False}}, "PlaceHold"),
    ("RouteReply", {"analysis": {"intent": Intent.OPT_OUT, "vulnerable": False}}, "RecordOptOut"),
    ("RouteReply", {"analysis": {"intent": Intent.PROMISE_TO_PAY, "vulnerable": False}}, "RecordPromise"),
    ("RouteReply", {"analysis": {"intent": Intent.PAYMENT_PLAN_REQUEST, "vulnerable": False}}, "OfferPlan"),
    ("RouteReply", {"analysis": {"intent": Intent.PAID_ALREADY, "vulnerable": False}}, "OutcomeAgentRequested"),
    ("RouteReply", {"analysis": {"intent": Intent.CALLBACK_REQUEST, "vulnerable": False}},
     "OutcomeAgentRequested"),
    ("RouteReply", {"analysis": {"intent": Intent.REFUSAL, "vulnerable": False}}, "NextAttempt"),
    ("RouteReply", {"analysis": {"intent": Intent.BALANCE_QUERY, "vulnerable": False}}, "AnswerReply"),
    ("RouteReply", {"analysis": {"intent": Intent.ACKNOWLEDGE, "vulnerable": False}}, "AnswerReply"),
    # An opt-out of every channel is confirmed; "no more SMS, email me instead" goes back to a pending
    # promise, on by email when collecting, and a held or settled account ends as its assessment said
    ("RouteOptOut", {"opt_out": {"every_channel": False}, "response": {"waiting_for": "promise"}},
     "CheckPromiseEarly"),
    ("RouteOptOut", {"opt_out": {"every_channel": True}, "assessment": COLLECTING}, "ConfirmOptOut"),
    ("RouteOptOut", {"opt_out": {"every_channel": False}, "assessment": COLLECTING}, "NextAttempt"),
    ("RouteOptOut", {"opt_out": {"every_channel": False}, "assessment": SETTLED}, "OutcomeNothingOwed"),
    ("RouteOptOut", {"opt_out": {"every_channel": False}, "assessment": HELD}, "OutcomeOnHold"),
    ("RoutePromise", {"promise": {"accepted": True}}, "ConfirmPromise"),
    ("RoutePromise", {"promise": {"accepted": False}}, "OfferPlan"),
    ("RoutePromiseCheck", {"promise_check": {"status": "kept"}}, "OutcomePromiseKept"),
    ("RoutePromiseCheck", {"promise_check": {"status": "pending"}}, "RemainingPromiseWait"),
    ("RoutePromiseCheck", {"promise_check": {"status": "broken"}}, "NextAttempt"),
    ("RoutePromiseCheck", {"promise_check": {"status": "partly_kept"}}, "NextAttemptAfterPartPayment"),
    # While a promise is pending: a reply is read, a plan accepted is confirmed, a payment is checked against
    # the promise
    ("RoutePromiseWait", {"response": {"kind": "reply", "opt_out": False}}, "RouteResponse"),
    ("RoutePromiseWait", {"response": {"kind": "plan_accepted"}}, "ConfirmPlan"),
    ("RoutePromiseWait", {"response": {"kind": "promise", "promise_id": "A1"}}, "TakeAgentPromise"),
    ("RoutePromiseWait", {"response": {"kind": "payment", "settled": False}}, "CheckPromiseEarly"),
    # A reply answered goes back to the promise it interrupted, or else waits for the next response
    ("AfterAnswer", {"response": {"kind": "reply", "waiting_for": "promise"}}, "CheckPromiseEarly"),
    ("AfterAnswer", {"response": {"kind": "reply", "waiting_for": "response"}}, "AwaitResponse"),
    ("AfterAnswer", {"response": {"kind": "reply"}}, "AwaitResponse"),
    ("RoutePlan", {"plan": {"offered": True}}, "SendPlanOffer"),
    ("RoutePlan", {"plan": {"offered": False}}, "OutcomeAgentRequested"),
]


def _as_json(data: dict[str, Any]) -> Any:
    """What Step Functions would hold: enums become their plain string values."""
    return json.loads(json.dumps(data))


@pytest.mark.parametrize(
    ("state", "data", "expected"), JOURNEY_ROUTES,
    ids=[f"{state}-{index}" for index, (state, _, _) in enumerate(JOURNEY_ROUTES)],
)
def test_journey_routes(state: str, data: dict[str, Any], expected: str):
    # Given the journey definition and what a Choice state sees
    definition = load_definition(catalogue.JOURNEY.definition_file)
    # When its rules are evaluated
    # Then the journey goes where the domain says it must
    assert route(definition, state, _as_json(data)) == expected


def test_every_journey_choice_rule_and_default_is_routed_by_a_test():
    # Given each Choice state of the journey: its rules, and its Default
    definition = load_definition(catalogue.JOURNEY.definition_file)
    branches = {
        (name, index) for name, state in choice_states(definition).items()
        for index in [*range(len(state["Choices"])), None]
    }
    # When the routing cases above are evaluated
    covered = {(state, matching_rule(definition, state, _as_json(data))) for state, data, _ in JOURNEY_ROUTES}
    # Then each branch is taken by at least one case, so a new or changed branch needs a new case
    assert branches - covered == set()


# --- the checks themselves catch what they claim to ------------------------------------------------

def _minimal() -> dict[str, Any]:
    return {
        "StartAt": "Assess",
        "States": {
            "Assess": {"Type": "Task", "Resource": "${AssessAccountFunctionArn}", "Next": "Route"},
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.action", "StringEquals": "close", "Next": "Done"}],
                "Default": "Done",
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }


def _broken(change) -> dict[str, Any]:
    definition = copy.deepcopy(_minimal())
    change(definition)
    return definition


BROKEN_DEFINITIONS = {
    "missing target": (lambda d: d["States"]["Assess"].update(Next="Nowhere"), "not a state"),
    "unreachable state": (lambda d: d["States"].update(Orphan={"Type": "Pass", "End": True}), "unreachable"),
    "loop with no exit": (
        lambda d: d["States"].update(
            Route={"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Assess"}],
                   "Default": "Assess"},
        ),
        "no path from here reaches an end",
    ),
    "choice without default": (lambda d: d["States"]["Route"].pop("Default"), "explicit Default"),
    "rule with two operators": (
        lambda d: d["States"]["Route"]["Choices"][0].update(StringMatches="c*"), "exactly one operator"),
    "numeric operator given a string": (
        lambda d: d["States"]["Route"]["Choices"].__setitem__(
            0, {"Variable": "$.days", "NumericEquals": "3", "Next": "Done"}),
        "not a valid operand",
    ),
    "nested rule with Next": (
        lambda d: d["States"]["Route"]["Choices"].__setitem__(0, {
            "Not": {"Variable": "$.x", "IsNull": True, "Next": "Done"}, "Next": "Done"}),
        "nested rule may not have a Next",
    ),
    "States.ALL not last": (
        lambda d: d["States"]["Assess"].update(Catch=[
            {"ErrorEquals": ["States.ALL"], "Next": "Done"}, {"ErrorEquals": ["MyError"], "Next": "Done"}]),
        "must be in the last catcher",
    ),
    "States.ALL with others": (
        lambda d: d["States"]["Assess"].update(Retry=[{"ErrorEquals": ["States.ALL", "MyError"]}]),
        "must appear alone",
    ),
    "callback without token": (
        lambda d: d["States"]["Assess"].update(
            Resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
            Parameters={"FunctionName": "${AwaitResponseFunctionArn}"}, TimeoutSeconds=60),
        "$$.Task.Token",
    ),
    "callback without timeout": (
        lambda d: d["States"]["Assess"].update(
            Resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
            Parameters={"FunctionName": "${AwaitResponseFunctionArn}",
                        "Payload": {"token.$": "$$.Task.Token"}}),
        "without a timeout",
    ),
    "path parameter that is no path": (
        lambda d: d["States"]["Assess"].update(Parameters={"account_id.$": "account_id"}), "must be a path"),
    "task with both Next and End": (lambda d: d["States"]["Assess"].update(End=True), "exactly one of Next"),
    "two successful ends": (
        lambda d: d["States"]["Route"].update(Default="Also") or d["States"].update(
            Also={"Type": "Succeed"}),
        "exactly one successful end",
    ),
    "wait without a duration": (
        lambda d: d["States"].update(Done={"Type": "Wait", "End": True}), "a Wait needs exactly one"),
}


def test_minimal_definition_is_sound():
    assert validate_definition(_minimal()) == []


@pytest.mark.parametrize("case", sorted(BROKEN_DEFINITIONS))
def test_validator_catches(case: str):
    # Given a sound definition broken in one specific way
    change, expected = BROKEN_DEFINITIONS[case]
    # When it is validated
    problems = [str(problem) for problem in validate_definition(_broken(change))]
    # Then the problem is reported
    assert any(expected in problem for problem in problems), problems


def test_nested_map_states_are_checked_too():
    # Given a Map whose iterator transitions to a state outside itself
    definition = _minimal()
    definition["States"]["Assess"] = {
        "Type": "Map", "Next": "Route",
        "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "Next": "Done"}}},
    }
    # Then the validator reports the escape (each iterator is its own machine)
    assert any("'Done', which is not a state" in str(problem) for problem in validate_definition(definition))


def test_route_evaluates_combinators_and_paths():
    # Given a Choice with And, Not and a Path comparison
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Default": "Other", "Choices": [
            {"And": [{"Variable": "$.a", "NumericGreaterThanEquals": 3},
                     {"Not": {"Variable": "$.b", "StringEqualsPath": "$.c"}}], "Next": "Match"},
        ]},
        "Match": {"Type": "Succeed"}, "Other": {"Type": "Succeed"},
    }}
    # Then the evaluation follows the rules, and a missing variable never matches
    assert route(definition, "C", {"a": 3, "b": "x", "c": "y"}) == "Match"
    assert route(definition, "C", {"a": 3, "b": "x", "c": "x"}) == "Other"
    assert route(definition, "C", {"a": True, "b": "x", "c": "y"}) == "Other"
    assert route(definition, "C", {"b": "x", "c": "y"}) == "Other"


@pytest.mark.parametrize(("rule", "data", "matches"), [
    ({"Variable": "$.ref", "StringMatches": "INV-*"}, {"ref": "INV-42"}, True),
    ({"Variable": "$.ref", "StringMatches": "INV-\\*"}, {"ref": "INV-42"}, False),
    ({"Variable": "$.ref", "StringMatches": "INV-\\*"}, {"ref": "INV-*"}, True),
    ({"Variable": "$.n", "IsNumeric": True}, {"n": 3}, True),
    ({"Variable": "$.n", "IsNumeric": True}, {"n": True}, False),
    ({"Variable": "$.at", "IsTimestamp": True}, {"at": "2026-11-30T08:30:00Z"}, True),
    ({"Variable": "$.at", "IsNull": True}, {"at": None}, True),
    ({"Variable": "$.a", "NumericLessThanPath": "$.missing"}, {"a": 1}, False),
])
def test_route_evaluates_type_tests_and_wildcards(rule, data, matches):
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Default": "Other", "Choices": [{**rule, "Next": "Match"}]},
        "Match": {"Type": "Succeed"}, "Other": {"Type": "Succeed"},
    }}
    assert (route(definition, "C", data) == "Match") is matches
