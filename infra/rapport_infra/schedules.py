"""EventBridge Scheduler: one schedule per enabled campaign, in the client's own time zone.

Each schedule fires its cron expression in ``ScheduleExpressionTimezone`` (so 08:30 stays 08:30
local across daylight saving), invokes the campaign function with ``{"campaign": "<name>"}``,
retries for an hour and then parks the event in the dead-letter queue.
"""

from __future__ import annotations

import json

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from rapport.strategy.config import ClientConfig


class CampaignSchedules(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *,
        client: ClientConfig,
        target: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=f"rapport-{client.client_id}")
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"Lets the campaign schedules of {client.client_id} start campaigns",
        )
        self.role.add_to_policy(iam.PolicyStatement(
            sid="InvokeCampaign", actions=["lambda:InvokeFunction"], resources=[target.function_arn],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DeadLetters", actions=["sqs:SendMessage"], resources=[dead_letter_queue.queue_arn],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ClientKeyViaSqs", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.amazonaws.com"}},
        ))
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for campaign in client.campaigns:
            if not campaign.enabled:
                continue
            self.schedules[campaign.name] = scheduler.CfnSchedule(
                self, f"Campaign-{campaign.name}",
                name=campaign.name,
                group_name=self.group.ref,
                description=f"Campaign {campaign.name} of {client.client_id}",
                schedule_expression=campaign.schedule,
                schedule_expression_timezone=client.timezone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=target.function_arn,
                    role_arn=self.role.role_arn,
                    input=json.dumps({"campaign": campaign.name}),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=3600, maximum_retry_attempts=3,
                    ),
                    dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                        arn=dead_letter_queue.queue_arn
                    ),
                ),
            )
