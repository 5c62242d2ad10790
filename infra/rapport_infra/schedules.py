"""EventBridge Scheduler: one schedule per enabled campaign, the daily review of payment plans and,
for a client that configures them, the daily DebiCheck collection file, each in the client's own
time zone.

Each schedule fires its cron expression in ``ScheduleExpressionTimezone`` (so 08:30 stays 08:30
local across daylight saving), retries for an hour and then parks the event in the dead-letter
queue. Campaign schedules invoke the campaign function with ``{"campaign": "<name>"}``; the plan
review (group ``rapport-<client>-plans``, so no campaign name can clash with it) invokes
``review_plans`` with ``{}`` at ``payments.plan_review.schedule``. Each group has a role that may
invoke its one function and nothing else.
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


def _scheduler_role(
    scope: Construct, construct_id: str, *,
    description: str,
    sid: str,
    target: lambda_.IFunction,
    dead_letter_queue: sqs.IQueue,
    key: kms.IKey,
) -> iam.Role:
    """A role EventBridge Scheduler assumes to invoke ``target`` and dead-letter what it cannot."""
    role = iam.Role(
        scope, construct_id,
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
        ),
        description=description,
    )
    role.add_to_policy(iam.PolicyStatement(
        sid=sid, actions=["lambda:InvokeFunction"], resources=[target.function_arn],
    ))
    role.add_to_policy(iam.PolicyStatement(
        sid="DeadLetters", actions=["sqs:SendMessage"], resources=[dead_letter_queue.queue_arn],
    ))
    role.add_to_policy(iam.PolicyStatement(
        sid="ClientKeyViaSqs", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.amazonaws.com"}},
    ))
    return role


def _target(
    target: lambda_.IFunction, role: iam.Role, dead_letter_queue: sqs.IQueue, payload: dict[str, str]
) -> scheduler.CfnSchedule.TargetProperty:
    return scheduler.CfnSchedule.TargetProperty(
        arn=target.function_arn,
        role_arn=role.role_arn,
        input=json.dumps(payload),
        retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
            maximum_event_age_in_seconds=3600, maximum_retry_attempts=3,
        ),
        dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=dead_letter_queue.queue_arn),
    )


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
        self.role = _scheduler_role(
            self, "Role",
            description=f"Lets the campaign schedules of {client.client_id} start campaigns",
            sid="InvokeCampaign", target=target, dead_letter_queue=dead_letter_queue, key=key,
        )
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
                target=_target(target, self.role, dead_letter_queue, {"campaign": campaign.name}),
            )


class PlanReviewSchedule(Construct):
    """Once a day, at the client file's ``payments.plan_review.schedule``, the overdue sweep."""

    NAME = "plan-review"

    def __init__(
        self, scope: Construct, construct_id: str, *,
        client: ClientConfig,
        target: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=f"rapport-{client.client_id}-plans")
        self.role = _scheduler_role(
            self, "Role",
            description=f"Lets the daily plan review of {client.client_id} run",
            sid="InvokePlanReview", target=target, dead_letter_queue=dead_letter_queue, key=key,
        )
        self.schedule = scheduler.CfnSchedule(
            self, "Daily",
            name=self.NAME,
            group_name=self.group.ref,
            description=f"Daily overdue sweep of the payment plans of {client.client_id}",
            schedule_expression=client.payments.plan_review.schedule,
            schedule_expression_timezone=client.timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=_target(target, self.role, dead_letter_queue, {}),
        )


class CollectionSchedule(Construct):
    """Once a day, at the client file's ``payments.debicheck_collections.schedule``, the DebiCheck
    collection file (group ``rapport-<client>-collections``). Built only for a client whose file
    configures collections: without a connector there is nowhere to send a file."""

    NAME = "debicheck-collections"

    def __init__(
        self, scope: Construct, construct_id: str, *,
        client: ClientConfig,
        target: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        config = client.payments.debicheck_collections
        if config is None:
            raise ValueError(f"{client.client_id} configures no payments.debicheck_collections")
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=f"rapport-{client.client_id}-collections")
        self.role = _scheduler_role(
            self, "Role",
            description=f"Lets the daily DebiCheck collection file of {client.client_id} be sent",
            sid="InvokeCollectionSubmission", target=target, dead_letter_queue=dead_letter_queue, key=key,
        )
        self.schedule = scheduler.CfnSchedule(
            self, "Daily",
            name=self.NAME,
            group_name=self.group.ref,
            description=f"Daily DebiCheck collection file of {client.client_id}, sent to Stitch",
            schedule_expression=config.schedule,
            schedule_expression_timezone=client.timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=_target(target, self.role, dead_letter_queue, {}),
        )
