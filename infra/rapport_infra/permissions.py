"""Least-privilege IAM for one function, derived from its :class:`FunctionSpec` and nothing else.

Every statement names the client's own resources (its tables and their indexes, its key, its
secret, its journey, its SES identity). ``Resource: "*"`` appears only where the AWS action
has no resource-level permission at all; :data:`UNSCOPED_ACTIONS` lists them and the infra tests
hold the synthesized policies to that list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from rapport.payments.collection_delivery import OUTGOING, SENT
from rapport_infra.catalogue import FunctionSpec, function_name

TABLE_READ_ACTIONS = (
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
KEY_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
KEY_WRITE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")

# Powertools' idempotency utility reads its own records back (GetItem) when a key is in flight, so
# writing to the idempotency table implies reading it.
READ_WHEN_WRITTEN = frozenset({"idempotency"})

# Actions that have no resource-level permissions (the Service Authorization Reference lists no
# resource type for them), so IAM only accepts them on "*".
UNSCOPED_ACTIONS = frozenset({
    # Added by CDK for active tracing (functions and the state machine).
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    # Added by CDK for the state machine's CloudWatch Logs delivery.
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "comprehend:BatchDetectSentiment", "comprehend:BatchDetectDominantLanguage",
    "comprehend:DetectPiiEntities",
    "sns:Publish",  # SMS straight to a phone number has no topic ARN to scope to
})


@dataclass(frozen=True)
class TableTarget:
    arn: str
    index_names: tuple[str, ...]

    @property
    def arns(self) -> list[str]:
        return [self.arn, *(f"{self.arn}/index/{name}" for name in self.index_names)]


@dataclass(frozen=True)
class GrantTargets:
    """The ARNs a function's permissions may point at (tokens are fine)."""

    tables: Mapping[str, TableTarget]
    key_arn: str
    journey_arn: str
    payment_secret_arn: str
    ses_identity_arns: tuple[str, ...]
    ses_configuration_set_arn: str
    email_from: str
    sms_origination_arns: tuple[str, ...]
    sms_configuration_set_arn: str
    whatsapp_phone_number_arns: tuple[str, ...]
    push_application_arns: tuple[str, ...]
    # The DebiCheck collection files' bucket, and the SFTP connector once the client file names one.
    collections_bucket_arn: str = ""
    collections_connector_arn: str | None = None
    # The client, and the ARN prefix of its functions: a function that invokes itself (see
    # ``FunctionSpec.continues_itself``) is named by prefix and name, since its own ARN token would
    # make its role depend on the function.
    client_id: str = ""
    functions_arn_prefix: str = ""


def _via(services: set[str], actions: set[str], key_arn: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="ClientKeyViaServices",
        actions=sorted(actions),
        resources=[key_arn],
        conditions={"StringEquals": {
            "kms:ViaService": [f"{service}.{Aws.REGION}.amazonaws.com" for service in sorted(services)]
        }},
    )


def _tables(spec: FunctionSpec, targets: GrantTargets) -> tuple[list[iam.PolicyStatement], set[str]]:
    read = sorted(set(spec.reads) | (set(spec.writes) & READ_WHEN_WRITTEN))
    statements: list[iam.PolicyStatement] = []
    key_actions: set[str] = set()
    if read:
        statements.append(iam.PolicyStatement(
            sid="ReadTables", actions=list(TABLE_READ_ACTIONS),
            resources=[arn for name in read for arn in targets.tables[name].arns],
        ))
        key_actions.update(KEY_READ_ACTIONS)
    if spec.writes:
        statements.append(iam.PolicyStatement(
            sid="WriteTables", actions=list(TABLE_WRITE_ACTIONS),
            resources=[targets.tables[name].arn for name in sorted(spec.writes)],
        ))
        key_actions.update(KEY_WRITE_ACTIONS)
    return statements, key_actions


def _sending(spec: FunctionSpec, targets: GrantTargets) -> list[iam.PolicyStatement]:
    statements: list[iam.PolicyStatement] = []
    if "email" in spec.sends:
        statements.append(iam.PolicyStatement(
            sid="SendEmailFromClientIdentity", actions=["ses:SendEmail"],
            resources=[*targets.ses_identity_arns, targets.ses_configuration_set_arn],
            conditions={"StringEquals": {"ses:FromAddress": targets.email_from}},
        ))
    if "sms" in spec.sends:
        # Without an origination identity the runtime sends plain SMS through SNS only.
        if targets.sms_origination_arns:
            # SendTextMessage is authorised on the origination identity and on the configuration set.
            statements.append(iam.PolicyStatement(
                sid="SendSmsFromClientOrigination", actions=["sms-voice:SendTextMessage"],
                resources=[*targets.sms_origination_arns, targets.sms_configuration_set_arn],
            ))
        statements.append(iam.PolicyStatement(
            sid="SendPlainSmsThroughSns", actions=["sns:Publish"], resources=["*"],
        ))
    # WhatsApp and push senders exist only when the client names its number or application.
    if "whatsapp" in spec.sends and targets.whatsapp_phone_number_arns:
        statements.append(iam.PolicyStatement(
            sid="SendWhatsAppFromClientNumber", actions=["social-messaging:SendWhatsAppMessage"],
            resources=list(targets.whatsapp_phone_number_arns),
        ))
    if "push" in spec.sends and targets.push_application_arns:
        statements.append(iam.PolicyStatement(
            sid="SendPushThroughClientApplication", actions=["mobiletargeting:SendMessages"],
            resources=list(targets.push_application_arns),
        ))
    return statements


def _collection_files(targets: GrantTargets) -> list[iam.PolicyStatement]:
    """Write collection files and their sent markers, look for a marker (a listing of the markers'
    prefix only; no object is read), and start transfers on the client's one connector."""
    bucket = targets.collections_bucket_arn
    statements = [
        iam.PolicyStatement(
            sid="WriteCollectionFiles", actions=["s3:PutObject"],
            resources=[f"{bucket}/{OUTGOING}*", f"{bucket}/{SENT}*"],
        ),
        iam.PolicyStatement(
            sid="ListSentMarkers", actions=["s3:ListBucket"], resources=[bucket],
            conditions={"StringLike": {"s3:prefix": [f"{SENT}*"]}},
        ),
    ]
    if targets.collections_connector_arn:
        statements.append(iam.PolicyStatement(
            sid="SendCollectionFiles", actions=["transfer:StartFileTransfer"],
            resources=[targets.collections_connector_arn],
        ))
    return statements


def is_asynchronous(spec: FunctionSpec) -> bool:
    """Invoked asynchronously (by a topic or a schedule), so it needs a dead-letter queue."""
    return spec.trigger.startswith(("schedule:", "topic:"))


def statements_for(spec: FunctionSpec, targets: GrantTargets) -> list[iam.PolicyStatement]:
    """Every statement the function needs beyond its logs, X-Ray and dead-letter queue (CDK's)."""
    asynchronous = is_asynchronous(spec)
    statements, key_actions = _tables(spec, targets)
    key_services = {"dynamodb"} if key_actions else set()
    statements.extend(_sending(spec, targets))
    if spec.starts_journeys:
        statements.append(iam.PolicyStatement(
            sid="StartJourneys", actions=["states:StartExecution"], resources=[targets.journey_arn],
        ))
    if spec.continues_itself:
        statements.append(iam.PolicyStatement(
            sid="ContinueItself", actions=["lambda:InvokeFunction"],
            resources=[f"{targets.functions_arn_prefix}{function_name(targets.client_id, spec)}"],
        ))
    if spec.resumes_journeys:
        # NOTE: the Service Authorization Reference lists no resource type for SendTask*, yet AWS
        # evaluates callback tokens against the state machine (denials name it). If a future
        # change makes this deny, widen to "*" with a cdk-nag suppression rather than drop it.
        statements.append(iam.PolicyStatement(
            sid="ResumeJourneys", actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
            resources=[targets.journey_arn],
        ))
    if spec.reads_payment_secret:
        statements.append(iam.PolicyStatement(
            sid="ReadPaymentSecret", actions=["secretsmanager:GetSecretValue"],
            resources=[targets.payment_secret_arn],
        ))
        key_actions.add("kms:Decrypt")
        key_services.add("secretsmanager")
    if spec.sends_collection_files:
        statements.extend(_collection_files(targets))
        key_actions.update(("kms:GenerateDataKey", "kms:Decrypt"))
        key_services.add("s3")
    if spec.uses_comprehend:
        statements.append(iam.PolicyStatement(
            sid="AnalyseReplies",
            actions=["comprehend:BatchDetectSentiment", "comprehend:BatchDetectDominantLanguage",
                     "comprehend:DetectPiiEntities"],
            resources=["*"],
        ))
    if asynchronous:
        # Lambda sends failed asynchronous events to the dead-letter queue with the function's role;
        # CDK grants sqs:SendMessage on that queue, and the queue is encrypted with the client key.
        key_actions.update(("kms:GenerateDataKey", "kms:Decrypt"))
        key_services.add("sqs")
    if key_actions:
        statements.append(_via(key_services, key_actions, targets.key_arn))
    return statements
