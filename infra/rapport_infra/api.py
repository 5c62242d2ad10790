"""The webhook API: ``POST /webhooks/{provider}`` to the payment webhook function, behind WAF, the
debtor's plan links: ``POST /plans/{plan_id}/accept`` and ``GET /plans/{plan_id}/pay``, and the client's
own systems' routes, IAM-authorised (SigV4): ``POST /accounts/{account_id}/promises`` (a promise an agent
took) and ``POST /accounts/{account_id}/devices`` (the client's app registers the debtor's device for push).

Payment providers cannot sign in to API Gateway; each proves itself with a signature over the raw
body, which the function verifies (constant time, stale timestamps refused, duplicates ignored).
API Gateway adds what it can in front of that: a required ``provider`` path parameter, stage
throttling, access logs (no bodies), and a WAF web ACL with AWS's managed rule groups and a
per-IP rate limit, whose request log leaves out credentials and signatures (``waf_logs``).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from rapport_infra.waf_logs import WafLogging

STAGE_NAME = "v1"

# (vendor, rule group, rules that only count instead of blocking)
MANAGED_RULE_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # NOTE: providers' webhook senders are not browsers and some send no User-Agent; and a
    # provider's batch notification can exceed 8 KB. Those two rules count rather than block, since
    # a blocked webhook is a payment we never credit; the signature check is the real gate.
    ("AWS", "AWSManagedRulesCommonRuleSet", ("NoUserAgent_HEADER", "SizeRestrictions_BODY")),
    ("AWS", "AWSManagedRulesKnownBadInputsRuleSet", ()),
    ("AWS", "AWSManagedRulesAmazonIpReputationList", ()),
)


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True,
    )


def _managed_rule(
    priority: int, vendor: str, group: str, counted: tuple[str, ...]
) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=group,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name=vendor,
                name=group,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in counted
                ] or None,
            )
        ),
        visibility_config=_visibility(group),
    )


class WebhookApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *,
        client_id: str,
        handler: lambda_.IFunction,
        key: kms.IKey,
        plan_acceptance: lambda_.IFunction | None = None,
        plan_payment: lambda_.IFunction | None = None,
        agent_promises: lambda_.IFunction | None = None,
        device_registration: lambda_.IFunction | None = None,
        log_retention: logs.RetentionDays,
        rate_limit_per_second: int,
        burst_limit: int,
        waf_requests_per_five_minutes: int,
    ) -> None:
        super().__init__(scope, construct_id)
        name = f"rapport-{client_id}-webhooks"
        self.access_logs = logs.LogGroup(
            self, "AccessLogs",
            log_group_name=f"/aws/apigateway/{name}",
            retention=log_retention,
            encryption_key=key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self, "Api",
            rest_api_name=name,
            description=f"Payment provider webhooks of {client_id}",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # API Gateway writes execution logs through one role per account and region.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=rate_limit_per_second,
                throttling_burst_limit=burst_limit,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request bodies: personal data
                metrics_enabled=True,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False,
                ),
            ),
        )
        # Basic validation only: the provider segment must be present and, on the plan acceptance, a
        # JSON body must be an object. A provider's webhook body is not validated here: every body,
        # malformed ones included, reaches the function, which answers it and records the rejection
        # (API Gateway's own 400 would reach only the access log, never the deliveries table).
        validator = self.api.add_request_validator(
            "ProviderAndBody", validate_request_parameters=True, validate_request_body=True,
        )
        parameters_only = self.api.add_request_validator(
            "ParametersOnly", validate_request_parameters=True, validate_request_body=False,
        )
        json_body = self.api.add_model(
            "ProviderWebhookJson",
            content_type="application/json",
            model_name="ProviderWebhookJson",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4, title="ProviderWebhookJson",
                type=apigw.JsonSchemaType.OBJECT,
            ),
        )
        provider = self.api.root.add_resource("webhooks").add_resource("{provider}")
        self.method = provider.add_method(
            "POST",
            apigw.LambdaIntegration(handler, proxy=True),
            request_validator=parameters_only,
            request_parameters={"method.request.path.provider": True},
        )
        # A debtor's self-service page posts the acceptance of a plan offer here; the HMAC-signed,
        # expiring token in the body is checked by the function.
        # NOTE: no CORS preflight: the page is expected on the API's own domain (a custom domain
        # with a base path). Serving it from another origin needs an OPTIONS method here.
        self.plan_method = None
        self.pay_method = None
        plan = (
            self.api.root.add_resource("plans").add_resource("{plan_id}")
            if plan_acceptance is not None or plan_payment is not None else None
        )
        if plan is not None and plan_acceptance is not None:
            self.plan_method = plan.add_resource("accept").add_method(
                "POST",
                apigw.LambdaIntegration(plan_acceptance, proxy=True),
                request_validator=validator,
                request_parameters={"method.request.path.plan_id": True},
                request_models={"application/json": json_body},
            )
        # The plan's pay link, opened from a message: a GET that redirects to the instalment due. The
        # token must be in the query string (a link without one never reaches the function); the
        # function verifies it. WAF's log leaves the query string out (waf_logs).
        if plan is not None and plan_payment is not None:
            self.pay_method = plan.add_resource("pay").add_method(
                "GET",
                apigw.LambdaIntegration(plan_payment, proxy=True),
                request_validator=validator,
                request_parameters={
                    "method.request.path.plan_id": True,
                    "method.request.querystring.token": True,
                },
            )

        # The client's own systems: the agents' desk records a promise a debtor made to a person, and the
        # client's app registers the debtor's device for push. Both sign their requests (SigV4) with an
        # IAM identity the client grants execute-api:Invoke on these routes; nobody else can call them.
        self.agent_promise_method = None
        self.device_method = None
        account = (
            self.api.root.add_resource("accounts").add_resource("{account_id}")
            if agent_promises is not None or device_registration is not None else None
        )
        for function, part, attribute in (
            (agent_promises, "promises", "agent_promise_method"),
            (device_registration, "devices", "device_method"),
        ):
            if account is None or function is None:
                continue
            setattr(self, attribute, account.add_resource(part).add_method(
                "POST",
                apigw.LambdaIntegration(function, proxy=True),
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=validator,
                request_parameters={"method.request.path.account_id": True},
                request_models={"application/json": json_body},
            ))

        rules = [
            _managed_rule(priority, vendor, group, counted)
            for priority, (vendor, group, counted) in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        rules.append(wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=len(rules) + 1,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=waf_requests_per_five_minutes, aggregate_key_type="IP",
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        ))
        self.web_acl = wafv2.CfnWebACL(
            self, "WebAcl",
            name=name,
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            rules=rules,
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        self.waf_logs = WafLogging(
            self, "WafLogs", client_id=client_id, web_acl=self.web_acl, key=key, log_retention=log_retention,
        )
