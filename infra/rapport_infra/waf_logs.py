"""WAF logging for the webhook API: every request the web ACL judged, without its credentials.

WAF writes one record per request (headers, URI, client IP, the rule that matched and the action
taken; never the body) into a CloudWatch Logs group whose name must start with ``aws-waf-logs-``.
The group is encrypted with the client key and kept for the stack's log retention. Before a record
is written, WAF replaces the value of each header in :data:`REDACTED_HEADERS` with ``REDACTED``:
the ``Authorization`` header and every header a payment provider signs its webhook with, since a
signature together with the logged request is enough to study, and sometimes replay, a delivery.
The query string is redacted too: a debtor's plan link carries its signed token there.

AWS WAF adds the log group resource policy that lets its log delivery write to the group when the
logging configuration is created (CloudFormation's role needs ``logs:PutResourcePolicy``, which
the CDK bootstrap's execution role has).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# WAF only delivers to log groups (and buckets and streams) whose name carries this prefix.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"

# Lower case: WAF matches a redacted header's name case-insensitively.
REDACTED_HEADERS: tuple[str, ...] = (
    "authorization",
    "rapport-signature",  # the sandbox provider (rapport.payments.providers.sandbox)
    "svix-signature",  # Stitch, through Svix
    "webhook-signature",  # the Standard Webhooks name of that header, which Svix-based senders may use
    "x-paystack-signature",  # Paystack
    "x-mandate-signature",  # DebiCheck mandate callbacks (rapport.payments.debicheck)
)
# NOTE: Peach's opt-in header-based webhook signing is not implemented (see the Peach adapter), so
# its header name is unknown here; add it to REDACTED_HEADERS when that verification path is added.
# Ozow's Hash, PayFast's and Peach's form-field signatures travel in the body, which WAF never logs.


def waf_log_group_name(client_id: str) -> str:
    return f"{WAF_LOG_GROUP_PREFIX}rapport-{client_id}-webhooks"


class WafLogging(Construct):
    """The ``aws-waf-logs-*`` log group of a web ACL and the logging configuration that feeds it."""

    def __init__(
        self, scope: Construct, construct_id: str, *,
        client_id: str,
        web_acl: wafv2.CfnWebACL,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        redacted_headers: tuple[str, ...] = REDACTED_HEADERS,
    ) -> None:
        super().__init__(scope, construct_id)
        name = waf_log_group_name(client_id)
        self.log_group = logs.LogGroup(
            self, "Logs",
            log_group_name=name,
            retention=log_retention,
            encryption_key=key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # WAF refuses the log group's CloudFormation Arn attribute, which ends in ":*"; it wants the
        # bare log group ARN.
        destination_arn = Stack.of(self).format_arn(
            service="logs", resource="log-group", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.configuration = wafv2.CfnLoggingConfiguration(
            self, "Configuration",
            resource_arn=web_acl.attr_arn,
            log_destination_configs=[destination_arn],
            redacted_fields=[
                *(
                    wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                    for header in redacted_headers
                ),
                # A plan link's token travels in the query string (GET /plans/{plan_id}/pay?token=).
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(query_string={}),
            ],
        )
        # The ARN is built from the name, so CloudFormation would not otherwise wait for the group.
        self.configuration.node.add_dependency(self.log_group)
