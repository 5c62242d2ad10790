"""cdk-nag suppressions: each one narrow, on one resource, with the reason it is acceptable.

Reading them: every suppression names the rule, the single resource it applies to and, for IAM
wildcard findings, the exact finding (``applies_to``). ``Resource::*`` is only suppressed on a
policy whose ``"*"`` statements consist solely of actions AWS offers no resource-level
permission for (:data:`rapport_infra.permissions.UNSCOPED_ACTIONS`); any other action on ``"*"``
leaves the finding standing, and the synth fails.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct

from rapport.payments.collection_delivery import OUTGOING, SENT
from rapport_infra.permissions import UNSCOPED_ACTIONS

_WHY_UNSCOPED = {
    "xray": "X-Ray trace segments and sampling calls have no resource-level permissions",
    "logs": "Step Functions' vended-log delivery APIs (CreateLogDelivery and friends) accept only '*'",
    "comprehend": "Comprehend's synchronous detection APIs have no resource-level permissions",
    "sns": "SNS Publish to a phone number (plain SMS) has no topic ARN to scope to",
}


def _suppress(
    construct: IConstruct, rule: str, reason: str, applies_to: list[str | RegexAppliesTo] | None = None
) -> None:
    NagSuppressions.add_resource_suppressions(
        construct, [NagPackSuppression(id=rule, reason=reason, applies_to=applies_to)]
    )


def _unscoped_actions(policy: iam.Policy | iam.CfnPolicy, stack: Stack) -> set[str]:
    document: dict[str, Any] = stack.resolve(policy.document.to_json())  # type: ignore[union-attr]
    actions: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") == "Allow" and statement.get("Resource") == "*":
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def _suppress_unscoped_wildcards(stack: Stack) -> None:
    for construct in stack.node.find_all():
        if not isinstance(construct, iam.Policy):
            continue
        actions = _unscoped_actions(construct, stack)
        if not actions or not actions <= UNSCOPED_ACTIONS:
            continue  # nothing to explain, or something that must stay a finding
        services = sorted({action.split(":")[0] for action in actions})
        reason = (
            f"'*' only for {', '.join(sorted(actions))}: "
            + "; ".join(_WHY_UNSCOPED[service] for service in services)
        )
        _suppress(construct.node.default_child, "AwsSolutions-IAM5", reason, ["Resource::*"])


def _collection_prefix(prefix: str) -> RegexAppliesTo:
    """The IAM5 finding of one prefix of objects of the collections bucket, and nothing wider."""
    path = prefix.replace("/", "\\/")
    return RegexAppliesTo(regex=f"/^Resource::<CollectionsBucket[A-Za-z0-9]+\\.Arn>\\/{path}\\*$/g")


def _suppress_collection_files(stack: Stack) -> None:
    collections = stack.node.try_find_child("Collections")
    if collections is None:
        return
    _suppress(
        collections.node.find_child("Bucket"), "AwsSolutions-S1",
        "holds only the DebiCheck collection files the submission function writes (each logged with its name "
        "and counts) and the SFTP connector reads (each transfer logged by Transfer Family); server access "
        "logs would need a second, SSE-S3 bucket for no record these logs do not already keep",
    )
    _suppress(
        collections.node.find_child("SftpSecret"), "AwsSolutions-SMG4",
        "the SFTP key pair is issued with Stitch at onboarding, not by AWS; an operator rotates it with Stitch "
        "and in this secret together (infra/README.md: DebiCheck collections)",
    )
    reason = (
        "object keys under one prefix of the client's own collections bucket: file names are minted per run, "
        "so they cannot be listed in advance"
    )
    _suppress(
        collections.node.find_child("ConnectorRole").node.find_child("DefaultPolicy").node.default_child,
        "AwsSolutions-IAM5", reason, [_collection_prefix(OUTGOING)],
    )
    functions = stack.node.try_find_child("Functions")
    role = functions.node.try_find_child("SubmitCollectionsRole") if functions is not None else None
    if role is not None:
        _suppress(
            role.node.find_child("DefaultPolicy").node.default_child,
            "AwsSolutions-IAM5", reason, [_collection_prefix(OUTGOING), _collection_prefix(SENT)],
        )


def suppress_findings(stack: Stack) -> None:
    """Attach every suppression of a Rapport client stack."""
    _suppress_unscoped_wildcards(stack)
    _suppress_collection_files(stack)
    for construct in stack.node.find_all():
        if isinstance(construct, apigw.RestApi) and construct.node.try_find_child("CloudWatchRole"):
            _suppress(
                construct.node.find_child("CloudWatchRole"), "AwsSolutions-IAM4",
                "API Gateway's account-level logging role; AWS documents this managed policy for exactly "
                "that role, and it only lets API Gateway write its own execution logs",
                ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"],
            )
        if isinstance(construct, apigw.Method) and construct.resource.path.startswith("/accounts"):
            _suppress(
                construct, "AwsSolutions-COG4",
                "called only by the client's own systems (the agents' desk, the app's backend), which "
                "sign each request with an IAM identity (SigV4, authorization type AWS_IAM); there are "
                "no end users to sign in to a Cognito user pool",
            )
            continue
        if isinstance(construct, apigw.Method) and construct.http_method in ("POST", "GET"):
            reason = (
                "payment providers cannot sign in to API Gateway; each webhook is authenticated by the "
                "provider's signature over the raw body, verified in the function (constant time, stale "
                "timestamps refused), behind WAF and stage throttling"
            )
            if construct.resource.path.startswith("/plans"):
                reason = (
                    "a debtor accepts a plan offer or pays an instalment from a link and has no account to "
                    "sign in with; the request is authenticated by the HMAC-signed, expiring token it "
                    "carries, verified in the function, behind WAF and stage throttling"
                )
            _suppress(construct, "AwsSolutions-APIG4", reason)
            _suppress(construct, "AwsSolutions-COG4", reason)
    secret = stack.node.try_find_child("Messaging")
    if secret is not None and secret.node.try_find_child("PaymentSecret"):
        _suppress(
            secret.node.find_child("PaymentSecret"), "AwsSolutions-SMG4",
            "payment provider keys are minted by the provider, not by AWS; an operator rotates them in the "
            "provider's dashboard and in this secret together (README: rotate a provider secret)",
        )
