"""The client's customer-managed KMS key: tables, topics, queues, logs and the payment secret.

One key per client stack (and so per account, see the README): revoking it makes every piece of
the client's data at rest unreadable at once, which is also the crypto-shredding answer to a
POPIA or GDPR erasure of a whole client. The key policy lets AWS services that write into the
client's encrypted resources on its behalf use it, each only from this account.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# Services that publish into the client's encrypted topics or queues: CloudWatch alarms, SES
# events and inbound mail, End User Messaging SMS and WhatsApp, and SNS itself (the
# subscriptions' dead-letter queue).
PUBLISHING_SERVICES = (
    "cloudwatch.amazonaws.com",
    "ses.amazonaws.com",
    "sms-voice.amazonaws.com",
    "social-messaging.amazonaws.com",
    "sns.amazonaws.com",
)

ENVELOPE_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class ClientKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, client_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self, "Key",
            alias=f"alias/rapport/{client_id}",
            description=f"Rapport data at rest for client {client_id}",
            enable_key_rotation=True,
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts the client's log groups (functions, journey, API access logs).
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchLogsForThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                     "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=["*"],
            conditions={"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn":
                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
            }},
        ))
        # NOTE: no aws:SourceAccount condition here: not every one of these services is documented
        # to send it to KMS when it writes into an encrypted topic, and a missing key permission
        # silently drops alarms and delivery events. The gate against other accounts is the topic
        # and queue policies, which do carry aws:SourceAccount.
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="ServicesPublishingIntoEncryptedTopics",
            principals=[iam.ServicePrincipal(service) for service in PUBLISHING_SERVICES],
            actions=list(ENVELOPE_ACTIONS),
            resources=["*"],
        ))

    def via_service_statement(self, services: list[str], actions: tuple[str, ...]) -> iam.PolicyStatement:
        """Use of the key by a role, only through the named AWS services of this region."""
        return iam.PolicyStatement(
            actions=sorted(set(actions)),
            resources=[self.key.key_arn],
            conditions={"StringEquals": {
                "kms:ViaService": sorted(f"{service}.{Aws.REGION}.amazonaws.com" for service in set(services))
            }},
        )
