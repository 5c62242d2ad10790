"""The synth-time guards bite: a broken journey and an unexplained IAM wildcard both fail synth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Aspects, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.cx_api import SynthesisMessageLevel
from cdk_nag import AwsSolutionsChecks

from rapport_infra import catalogue
from rapport_infra.application import client_files
from rapport_infra.journey import Journey
from rapport_infra.nag import suppress_findings

pytestmark = pytest.mark.infra

ACCOUNT_ARN = "arn:aws:{service}:af-south-1:123456789012:{resource}"


def _errors(app: App) -> list[str]:
    return [
        str(message.entry.data)
        for stack in app.synth().stacks
        for message in stack.messages
        if message.level == SynthesisMessageLevel.ERROR
    ]


def test_synth_of_the_example_clients_has_no_error_at_all(synthesized):
    # Given both example clients synthesized with cdk-nag
    # Then no construct reported an error (neither cdk-nag nor the journey check)
    assert {client_id: stack.errors for client_id, stack in synthesized.items()} == {
        client_id: [] for client_id in synthesized
    }


def test_one_stack_per_client_file(synthesized):
    # Given every client file and the stacks the app synthesized
    # Then each file became exactly one stack, named after the client
    assert sorted(synthesized) == sorted(path.stem for path in client_files())
    assert all(stack.client.client_id == client_id for client_id, stack in synthesized.items())


def test_synth_and_publishing_need_no_lookup_and_no_docker(stack):
    # Given what synthesizing a client recorded about the cloud assembly
    # Then no construct looked anything up in an account (synth would have used dummy values)
    assert stack.missing_context == []
    # And every asset is a folder or file zipped as it is: no Docker image, no build command to run
    assert stack.assets["dockerImages"] == {}
    assert stack.assets["files"]
    for asset in stack.assets["files"].values():
        assert set(asset["source"]) <= {"path", "packaging"}, asset["source"]


def test_a_broken_journey_definition_fails_synth(tmp_path: Path):
    # Given the journey definition with a transition to a state that does not exist
    definition = json.loads(catalogue.JOURNEY.definition_file.read_text(encoding="utf-8"))
    definition["States"]["AssessAccount"]["Next"] = "NoSuchState"
    broken = tmp_path / "journey.asl.json"
    broken.write_text(json.dumps(definition), encoding="utf-8")
    app = App(outdir=str(tmp_path / "out"))
    stack = Stack(app, "Guard")
    functions = {
        name: lambda_.Function.from_function_arn(
            stack, name, ACCOUNT_ARN.format(service="lambda", resource=f"function:{name}"))
        for name in catalogue.JOURNEY.functions
    }
    queue = sqs.Queue.from_queue_arn(stack, "Queue", ACCOUNT_ARN.format(service="sqs", resource="q"))
    # When the journey is built from it
    Journey(
        stack, "Journey", client_id="guard", spec=catalogue.JOURNEY, definition_file=broken,
        functions=functions,
        send_failures=queue,
        key=kms.Key.from_key_arn(stack, "Key", ACCOUNT_ARN.format(service="kms", resource="key/k")),
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    # Then synth reports the broken transition as an error
    assert any("transition to 'NoSuchState'" in error for error in _errors(app))


def test_only_unscoped_actions_get_their_wildcard_excused(tmp_path: Path):
    # Given two roles: one writing X-Ray traces, one reading any S3 object
    app = App(outdir=str(tmp_path / "out"))
    stack = Stack(app, "Guard")
    for name, action in (("Tracer", "xray:PutTraceSegments"), ("Reader", "s3:GetObject")):
        role = iam.Role(stack, name, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=[action], resources=["*"]))
    # When the stack's suppressions are attached and cdk-nag runs
    suppress_findings(stack)
    Aspects.of(app).add(AwsSolutionsChecks())
    wildcard_findings = [
        message.id
        for artifact in app.synth().stacks
        for message in artifact.messages
        if message.level == SynthesisMessageLevel.ERROR and "AwsSolutions-IAM5" in str(message.entry.data)
    ]
    # Then X-Ray's wildcard is excused and the S3 one still fails synth
    assert wildcard_findings == ["/Guard/Reader/DefaultPolicy/Resource"]
