"""The journey: a Standard state machine built from its ASL file and the catalogue's substitutions.

The definition (ours, or the client's own tree) is checked against the journey contract
(:mod:`rapport_infra.trees`) before it is used; a problem becomes an error annotation, which
``cdk synth`` and ``cdk deploy`` refuse, so a broken definition never reaches CloudFormation.
The role may invoke exactly the journey's functions and send to the send-failures queue.

Logging is at level ALL so every state transition is visible to operators, but without execution
data: inputs and outputs carry debtors' names, balances and replies, and logging them would copy
personal data into a second store with its own retention (POPIA's minimality). The execution
history in Step Functions keeps the data for the journey's life, behind IAM.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Annotations, Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from rapport_infra import catalogue
from rapport_infra.asl import load_definition, substitution_names
from rapport_infra.catalogue import StateMachineSpec
from rapport_infra.trees import check_journey_definition, schema_problems


def state_machine_name(client_id: str, spec: StateMachineSpec) -> str:
    return f"rapport-{client_id}-{spec.name}"


def state_machine_arn(client_id: str, spec: StateMachineSpec) -> str:
    """The ARN built from the deterministic name, so functions can name it without a cycle."""
    return (
        f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:stateMachine:"
        f"{state_machine_name(client_id, spec)}"
    )


class Journey(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *,
        client_id: str,
        spec: StateMachineSpec,
        definition_file: Path,
        functions: Mapping[str, lambda_.IFunction],
        send_failures: sqs.IQueue,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        definition = load_definition(definition_file)
        # Ours and a client's own tree keep the same contract; the JSON schema (cfn-lint, seconds)
        # is checked here for a client's tree only: ours is checked by the infra tests.
        problems = check_journey_definition(definition)
        if definition_file.resolve() != spec.definition_file.resolve():
            problems += schema_problems(definition)
        for problem in problems:
            Annotations.of(self).add_error(f"{definition_file.name}: {problem}")
        substitutions = catalogue.definition_substitutions(
            {name: functions[name].function_arn for name in spec.functions}, send_failures.queue_url
        )
        unknown = sorted(substitution_names(definition) - set(substitutions))
        if unknown:
            names = ", ".join("${" + name + "}" for name in unknown)
            Annotations.of(self).add_error(f"{definition_file.name}: nothing substitutes {names}")

        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"Runs the {spec.name} state machine of {client_id}",
        )
        self.role.add_to_policy(iam.PolicyStatement(
            sid="InvokeJourneyFunctions", actions=["lambda:InvokeFunction"],
            resources=[functions[name].function_arn for name in spec.functions],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ReportSendFailures", actions=["sqs:SendMessage"], resources=[send_failures.queue_arn],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ClientKeyViaSqs", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.amazonaws.com"}},
        ))
        name = state_machine_name(client_id, spec)
        self.log_group = logs.LogGroup(
            self, "Logs",
            log_group_name=f"/aws/vendedlogs/states/{name}",
            retention=log_retention,
            encryption_key=key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(json.dumps(definition, indent=1)),
            definition_substitutions=substitutions,
            role=self.role,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            tracing_enabled=True,
        )
