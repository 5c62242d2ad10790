"""One factory for every Lambda of the catalogue: a function added there is deployed here.

Each function gets its own role (only what :mod:`rapport_infra.permissions` derives from its
spec), its own KMS-encrypted log group with a retention, arm64 and the newest Python runtime,
active X-Ray tracing, the shared layers, the same Rapport environment as every other function
(``rapport.settings``) plus its Powertools settings, and, when something invokes it
asynchronously, a dead-letter queue. Nothing is reserved or provisioned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from rapport_infra import catalogue
from rapport_infra.catalogue import FunctionSpec, function_name
from rapport_infra.layer import ARCHITECTURE, RUNTIME
from rapport_infra.permissions import GrantTargets, is_asynchronous, statements_for

_EXCLUDED_FROM_CODE = ["__pycache__", "*.pyc", "tests", "*.md"]


class MissingFunctionError(Exception):
    """A catalogue function has no ``functions/<name>/handler.py`` to deploy."""


def powertools_environment(spec: FunctionSpec) -> dict[str, str]:
    # Payloads and responses hold personal data: keep them out of logs and traces.
    return {
        "POWERTOOLS_SERVICE_NAME": spec.name,
        "POWERTOOLS_METRICS_NAMESPACE": "Rapport",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
    }


class RapportFunctions(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *,
        client_id: str,
        targets: GrantTargets,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        dead_letter_queue: sqs.IQueue,
        specs: Sequence[FunctionSpec] = catalogue.FUNCTIONS,
        functions_dir: Path = catalogue.FUNCTIONS_DIR,
    ) -> None:
        super().__init__(scope, construct_id)
        missing = [spec.name for spec in specs if not (functions_dir / spec.name / "handler.py").is_file()]
        if missing:
            raise MissingFunctionError(f"no handler.py under {functions_dir} for: {', '.join(missing)}")
        self.specs = {spec.name: spec for spec in specs}
        self.by_name: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for spec in specs:
            self._add(spec, client_id, targets, layers, environment, key, log_retention, dead_letter_queue,
                      functions_dir)

    def _add(
        self, spec: FunctionSpec, client_id: str, targets: GrantTargets,
        layers: Sequence[lambda_.ILayerVersion], environment: Mapping[str, str], key: kms.IKey,
        log_retention: logs.RetentionDays, dead_letter_queue: sqs.IQueue, functions_dir: Path,
    ) -> None:
        construct_id = "".join(part.capitalize() for part in spec.name.split("_"))
        name = function_name(client_id, spec)
        log_group = logs.LogGroup(
            self, f"{construct_id}Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=log_retention,
            encryption_key=key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self, f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {name}: {spec.description}"[:1000],
        )
        role.add_to_policy(iam.PolicyStatement(
            sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        ))
        for statement in statements_for(spec, targets):
            role.add_to_policy(statement)
        asynchronous = is_asynchronous(spec)
        function = lambda_.Function(
            self, construct_id,
            function_name=name,
            description=spec.description,
            code=lambda_.Code.from_asset(str(functions_dir / spec.name), exclude=_EXCLUDED_FROM_CODE),
            handler=spec.handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            layers=list(layers),
            environment={**environment, **powertools_environment(spec)},
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=dead_letter_queue if asynchronous else None,
            retry_attempts=2 if asynchronous else None,
            max_event_age=Duration.hours(6) if asynchronous else None,
        )
        self.by_name[spec.name] = function
        self.roles[spec.name] = role
        self.log_groups[spec.name] = log_group

    def triggered_by(self, trigger: str) -> dict[str, lambda_.Function]:
        return {name: fn for name, fn in self.by_name.items() if self.specs[name].trigger == trigger}
