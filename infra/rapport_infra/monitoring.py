"""Alarms into one encrypted SNS topic, and one dashboard per client.

Every alarm fires on the first occurrence over five minutes: errors and throttles per function,
a message waiting in a failure queue, a failed or timed-out journey, a 5xx from the webhook API.
Collections is a regulated business; a silent failure is a debtor contacted wrongly or a payment
not credited, so the thresholds favour noise over silence.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *,
        client_id: str,
        key: kms.IKey,
        functions: Mapping[str, lambda_.Function],
        state_machine: sfn.StateMachine,
        api: apigw.RestApi,
        queues: Mapping[str, sqs.Queue],
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix = f"rapport-{client_id}"
        self.topic = sns.Topic(
            self, "AlarmTopic", topic_name=f"{self.prefix}-alarms", master_key=key, enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ))
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for name, function in functions.items():
            self._alarm(f"{name}-errors", function.metric_errors(period=PERIOD, statistic="Sum"),
                        f"{name} raised an error")
            self._alarm(f"{name}-throttles", function.metric_throttles(period=PERIOD, statistic="Sum"),
                        f"{name} was throttled")
        for name, queue in queues.items():
            self._alarm(f"{name}-waiting", queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"), f"a message is waiting in {name}")
        self._alarm("journey-failed", state_machine.metric_failed(period=PERIOD, statistic="Sum"),
                    "a journey execution failed")
        self._alarm("journey-timed-out", state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
                    "a journey execution timed out")
        self._alarm("webhooks-5xx", api.metric_server_error(period=PERIOD, statistic="Sum"),
                    "the webhook API answered 5xx")

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=self.prefix)
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Journeys", width=12,
                left=[
                    state_machine.metric_started(period=PERIOD),
                    state_machine.metric_succeeded(period=PERIOD),
                    state_machine.metric_failed(period=PERIOD),
                    state_machine.metric_timed_out(period=PERIOD),
                ],
            ),
            cloudwatch.GraphWidget(
                title="Webhook API", width=12,
                left=[api.metric_count(period=PERIOD), api.metric_client_error(period=PERIOD),
                      api.metric_server_error(period=PERIOD)],
                right=[api.metric_latency(period=PERIOD, statistic="p99")],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors", width=12,
                left=[fn.metric_errors(period=PERIOD, label=name) for name, fn in functions.items()],
            ),
            cloudwatch.GraphWidget(
                title="Function duration p99", width=12,
                left=[fn.metric_duration(period=PERIOD, statistic="p99", label=name)
                      for name, fn in functions.items()],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Failure queues", width=24,
                left=[queue.metric_approximate_number_of_messages_visible(period=PERIOD, label=name)
                      for name, queue in queues.items()],
            ),
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self, f"Alarm-{name}",
            alarm_name=f"{self.prefix}-{name}",
            alarm_description=description,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
