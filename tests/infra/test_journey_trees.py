"""A client's own decision tree keeps the journey contract, or synth and the local cloud refuse it.

The checks run on ours and on every example client's tree; then each rule is shown to catch the
mistake it names, with the state and the rule in the message.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.cx_api import SynthesisMessageLevel

from rapport.journey.contract import STEPS
from rapport.strategy.config import ClientConfig, load_client_config
from rapport_infra import catalogue
from rapport_infra.application import client_files
from rapport_infra.asl import load_definition, route
from rapport_infra.journey import Journey
from rapport_infra.trees import (
    RULES,
    JourneyDefinitionError,
    check_journey_definition,
    journey_definition_file,
    load_journey_definition,
    schema_problems,
)

pytestmark = pytest.mark.infra

ACCOUNT_ARN = "arn:aws:{service}:af-south-1:123456789012:{resource}"
CLIENT_FILES = client_files()


def _ours() -> dict[str, Any]:
    return load_definition(catalogue.JOURNEY.definition_file)


@pytest.mark.parametrize("path", CLIENT_FILES, ids=lambda path: path.stem)
def test_every_example_client_tree_keeps_the_contract(path: Path):
    # Given an example client and the tree it deploys (its own, or ours)
    client = load_client_config(path)
    # When the tree is loaded as the stack and the local cloud load it
    definition = load_journey_definition(client, path)
    # Then it is accepted (load raises on any problem), and every journey function is used
    assert definition["StartAt"] == "AssessAccount"


def test_meridian_brings_its_own_tree_and_it_routes_differently():
    # Given the US example client, which names its own tree
    path = catalogue.CLIENTS_DIR / "meridian-us.toml"
    client = load_client_config(path)
    own = load_journey_definition(client, path)
    # Then its file is not ours
    assert journey_definition_file(client, path) != catalogue.JOURNEY.definition_file
    refusal = {"analysis": {"intent": "refusal", "vulnerable": False}}
    # And a refusal to pay ends automated contact there, where ours tries the next channel
    assert route(own, "RouteReply", refusal) == "OutcomeCeaseRequested"
    assert route(_ours(), "RouteReply", refusal) == "NextAttempt"
    # And a broken promise is answered with a plan offer, where ours escalates
    broken = {"promise_check": {"status": "broken"}}
    assert route(own, "RoutePromiseCheck", broken) == "OfferPlan"
    assert route(_ours(), "RoutePromiseCheck", broken) == "NextAttempt"


def test_the_stack_of_each_client_deploys_the_tree_it_names(synthesized):
    # Given every client's synthesized stack
    for client_id, stack in synthesized.items():
        machines = stack.of_type("AWS::StepFunctions::StateMachine")
        definition = json.dumps(next(iter(machines.values()))["Properties"]["DefinitionString"])
        # Then only the client that brings its own tree has its own outcome in the deployed definition
        assert ("OutcomeCeaseRequested" in definition) is (client_id == "meridian-us"), client_id


def test_every_journey_handler_takes_the_input_model_the_contract_declares():
    # Given each journey function's handler file
    for name, contract in STEPS.items():
        source = (catalogue.FUNCTIONS_DIR / name / "handler.py").read_text(encoding="utf-8")
        # Then it is built from the step input model the trees are checked against
        assert re.search(rf"journey_task\(\w+, {contract.input.__name__}\)", source), name
    assert set(STEPS) == set(catalogue.JOURNEY.functions)


# -- each rule catches what it names ----------------------------------------------------------------

def _change(states: dict[str, Any], name: str, **fields: Any) -> None:
    states[name].update(fields)


BROKEN: dict[str, tuple[Any, str, str]] = {
    "a typo in a Choice value": (
        lambda s: s["RouteContact"]["Choices"][1].update(StringEquals="sned"),
        "RouteContact", "contract.value"),
    "an intent the analyser never gives": (
        lambda s: s["RouteReply"]["Choices"][3].update(StringEquals="promise"),
        "RouteReply", "contract.value"),
    "a field no step returns": (
        lambda s: s["RouteContact"]["Choices"][1].update(Variable="$.contact.verdict"),
        "RouteContact", "contract.read"),
    "a Lambda task without retries": (lambda s: s["PlanContact"].pop("Retry"), "PlanContact", "retry.lambda"),
    "a retry of every failure": (
        lambda s: s["PlanContact"]["Retry"][0]["ErrorEquals"].append("States.TaskFailed"),
        "PlanContact", "retry.permanent"),
    "a task without a catch-all": (lambda s: s["AnalyseReply"].pop("Catch"), "AnalyseReply", "catch.all"),
    "silence that fails the journey": (
        lambda s: s["AwaitResponse"]["Catch"].pop(0), "AwaitResponse", "catch.timeout"),
    "a refused channel that ends the journey": (
        lambda s: s["SendMessage"]["Catch"].pop(0), "SendMessage", "catch.channel"),
    "a missing input": (
        lambda s: s["PlanContact"]["Parameters"].pop("attempt.$"), "PlanContact", "contract.input"),
    "a purpose the guardrails do not know": (
        lambda s: s["SendMessage"]["Parameters"].update(purpose="marketing"),
        "SendMessage", "contract.input"),
    "a template that does not exist": (
        lambda s: s["ThankDebtor"]["Parameters"].update(template_id="thanks_a_lot"),
        "ThankDebtor", "contract.input"),
    "a function outside the journey": (
        lambda s: _change(s, "PlanContact", Resource="${CampaignFunctionArn}"),
        "PlanContact", "catalogue.resource"),
    "a hard-coded function of another account": (
        lambda s: _change(s, "PlanContact", Resource="arn:aws:lambda:us-east-1:999999999999:function:x"),
        "PlanContact", "catalogue.resource"),
    "a callback function invoked directly": (
        lambda s: _change(s, "AwaitResponse", Resource="${AwaitResponseFunctionArn}"),
        "AwaitResponse", "catalogue.resource"),
    "an OutputPath that drops the journey's ids": (
        lambda s: _change(s, "PlanContact", OutputPath="$.contact"), "PlanContact", "contract.paths"),
    "a result written over the account id": (
        lambda s: _change(s, "PlanContact", ResultPath="$.account_id"), "PlanContact", "contract.paths"),
    "a failure that is never recorded": (
        lambda s: _change(s, "HandToAgent", Next="JourneyFailed"), "HandToAgent", "contract.finish"),
    "a transition to nowhere": (
        lambda s: _change(s, "AssessAccount", Next="NoSuchState"), "AssessAccount", "asl.structure"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_rule_catches_what_it_names(case: str):
    # Given our tree broken in one specific way
    change, state, rule = BROKEN[case]
    definition = copy.deepcopy(_ours())
    change(definition["States"])
    # When it is checked
    problems = check_journey_definition(definition)
    # Then the problem names the state and the rule, and the rule is documented
    found = {(problem.state, problem.rule) for problem in problems}
    assert (state, rule) in found, [str(problem) for problem in problems]
    assert rule in RULES


def test_a_tree_must_start_by_assessing_and_end_by_recording():
    # Given a tree that starts by planning a contact and ends at a Succeed state
    definition = copy.deepcopy(_ours())
    definition["StartAt"] = "PlanContact"
    definition["States"]["AssessAccount"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    # Then both ends are reported
    rules = {(problem.state, problem.rule) for problem in check_journey_definition(definition)}
    assert ("PlanContact", "contract.start") in rules and ("Done", "contract.finish") in rules


def _client_with_tree(tmp_path: Path, definition: dict[str, Any] | str) -> tuple[ClientConfig, Path]:
    tree = tmp_path / "trees" / "own.asl.json"
    tree.parent.mkdir()
    tree.write_text(definition if isinstance(definition, str) else json.dumps(definition), encoding="utf-8")
    source = (catalogue.CLIENTS_DIR / "harbour-uk.toml").read_text(encoding="utf-8")
    client_file = tmp_path / "own-uk.toml"
    # A top-level key: before the first table of the file.
    client_file.write_text('state_machine = "trees/own.asl.json"\n' + source, encoding="utf-8")
    return load_client_config(client_file), client_file


def test_loading_a_broken_tree_names_the_file_the_state_and_the_rule(tmp_path: Path):
    # Given a client whose own tree drops the retries of PlanContact
    definition = copy.deepcopy(_ours())
    definition["States"]["PlanContact"].pop("Retry")
    client, client_file = _client_with_tree(tmp_path, definition)
    # When the local cloud (or anyone) loads it
    with pytest.raises(JourneyDefinitionError) as error:
        load_journey_definition(client, client_file)
    # Then the message says which file, which state and which rule
    message = str(error.value)
    assert "own.asl.json" in message and "state 'PlanContact' breaks retry.lambda" in message


def test_a_tree_that_is_not_json_or_not_there_is_refused_clearly(tmp_path: Path):
    client, client_file = _client_with_tree(tmp_path, '{"StartAt": "AssessAccount",')
    with pytest.raises(JourneyDefinitionError, match=r"not valid JSON \(line 1"):
        load_journey_definition(client, client_file)
    (tmp_path / "trees" / "own.asl.json").unlink()
    with pytest.raises(JourneyDefinitionError, match=r"cannot read the journey definition that own-uk\.toml"):
        load_journey_definition(client, client_file)


def test_the_schema_check_finds_a_misspelt_field():
    # Given a tree whose task says TimeoutSecnds
    definition = copy.deepcopy(_ours())
    definition["States"]["AssessAccount"]["TimeoutSecnds"] = 60
    # When the ASL JSON schema is checked (as synth does for a client's own tree)
    problems = schema_problems(definition)
    # Then the state is named, under the schema rule
    assert [(p.state, p.rule) for p in problems] == [("AssessAccount", "asl.schema")]
    assert "TimeoutSecnds" in problems[0].message
    assert schema_problems(_ours()) == []


def test_synth_refuses_a_client_tree_that_breaks_the_contract(tmp_path: Path):
    # Given a client tree that sends with a purpose the guardrails do not know
    definition = copy.deepcopy(_ours())
    definition["States"]["SendMessage"]["Parameters"]["purpose"] = "marketing"
    tree = tmp_path / "own.asl.json"
    tree.write_text(json.dumps(definition), encoding="utf-8")
    app = App(outdir=str(tmp_path / "out"))
    stack = Stack(app, "Guard")
    functions = {
        name: lambda_.Function.from_function_arn(
            stack, name, ACCOUNT_ARN.format(service="lambda", resource=f"function:{name}"))
        for name in catalogue.JOURNEY.functions
    }
    # When the journey is built from it
    Journey(
        stack, "Journey", client_id="guard", spec=catalogue.JOURNEY, definition_file=tree,
        functions=functions,
        send_failures=sqs.Queue.from_queue_arn(
            stack, "Queue", ACCOUNT_ARN.format(service="sqs", resource="q")),
        key=kms.Key.from_key_arn(stack, "Key", ACCOUNT_ARN.format(service="kms", resource="key/k")),
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    errors = [
        str(message.entry.data) for synthesized in app.synth().stacks for message in synthesized.messages
        if message.level == SynthesisMessageLevel.ERROR
    ]
    # Then synth reports the state and the rule
    assert any("state 'SendMessage' breaks contract.input" in error for error in errors), errors
