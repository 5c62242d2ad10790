"""One client's whole platform: ``Rapport-<client_id>``, built from the catalogue and the client file.

The stack composes one construct per capability (key, tables, messaging, layers, functions,
journey, webhook API, schedules, monitoring) and wires each function to what triggers it, as its
:class:`FunctionSpec` says. It makes no AWS call: everything account- or region-specific is a
CloudFormation token resolved at deploy time.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, CfnOutput, Environment, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from rapport.models.enums import Jurisdiction
from rapport.settings import Settings, to_environment
from rapport.strategy.config import ClientConfig
from rapport_infra import catalogue
from rapport_infra.api import WebhookApi
from rapport_infra.catalogue import payment_secret_name
from rapport_infra.collections import CollectionFiles
from rapport_infra.encryption import ClientKey
from rapport_infra.functions import RapportFunctions
from rapport_infra.journey import Journey, state_machine_arn
from rapport_infra.layer import SharedLayers
from rapport_infra.messaging import Messaging
from rapport_infra.monitoring import Monitoring
from rapport_infra.nag import suppress_findings
from rapport_infra.options import StackOptions
from rapport_infra.permissions import GrantTargets, TableTarget
from rapport_infra.schedules import CampaignSchedules, CollectionSchedule, PlanReviewSchedule
from rapport_infra.tables import Tables

# Lambda sets AWS_REGION itself and refuses it as a function variable.
_RESERVED_VARIABLES = frozenset({"AWS_REGION"})
# ISO 3166 country of a jurisdiction: SMS sender IDs are registered per country.
_SENDER_ID_COUNTRY = {Jurisdiction.ZA: "ZA", Jurisdiction.UK: "GB", Jurisdiction.US: "US"}


class WiringError(Exception):
    """A catalogue function has a trigger this stack cannot connect."""


def stack_name(client_id: str) -> str:
    return f"Rapport-{client_id}"


def _arn(service: str, resource: str) -> str:
    return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"


def sms_origination_arns(client: ClientConfig) -> tuple[str, ...]:
    """The End User Messaging resources the client's origination identity names (ARN, id or sender ID)."""
    identity = client.contact.sms_origination_identity
    if not identity:
        return ()
    if identity.startswith("arn:"):
        return (identity,)
    if identity.startswith("phone-"):
        return (_arn("sms-voice", f"phone-number/{identity}"),)
    if identity.startswith("pool-"):
        return (_arn("sms-voice", f"pool/{identity}"),)
    if identity.startswith("+"):
        raise WiringError(
            f"{client.client_id}: give contact.sms_origination_identity as the number's id (phone-...) or "
            "ARN, not as an E.164 number, so IAM can name the one number the client may send from"
        )
    return (_arn("sms-voice", f"sender-id/{identity}/{_SENDER_ID_COUNTRY[client.jurisdiction]}"),)


class RapportStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *,
        client: ClientConfig,
        client_file: Path,
        options: StackOptions,
        build_dir: Path,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, stack_name=stack_name(client.client_id),
            description=f"Rapport collections platform for {client.display_name} ({client.client_id})",
        )
        self.client = client
        client_id = client.client_id
        prefix = f"rapport-{client_id}"
        Tags.of(self).add("rapport:client", client_id)

        self.key = ClientKey(self, "Encryption", client_id=client_id).key
        self.tables = Tables(self, "Tables", table_prefix=prefix, key=self.key)
        self.collections = CollectionFiles(self, "Collections", client_id=client_id, key=self.key)
        self.messaging = Messaging(self, "Messaging", client=client, key=self.key)
        self.layers = SharedLayers(
            self, "Layers", client=client, build_dir=build_dir,
            powertools_version=options.powertools_version, powertools_layer_arn=options.powertools_layer_arn,
        )

        journey_arn = state_machine_arn(client_id, catalogue.JOURNEY)
        self.functions = RapportFunctions(
            self, "Functions",
            client_id=client_id,
            targets=self._grant_targets(journey_arn),
            layers=self.layers.layers,
            environment=self._function_environment(options, journey_arn),
            key=self.key,
            log_retention=options.log_retention,
            dead_letter_queue=self.messaging.async_failures,
        )
        self._check_triggers()

        definition_file = (
            (client_file.parent / client.state_machine).resolve() if client.state_machine
            else catalogue.JOURNEY.definition_file
        )
        self.journey = Journey(
            self, "Journey",
            client_id=client_id,
            spec=catalogue.JOURNEY,
            definition_file=definition_file,
            functions=self.functions.by_name,
            send_failures=self.messaging.send_failures,
            key=self.key,
            log_retention=options.log_retention,
        )
        for name, function in self.functions.by_name.items():
            trigger = self.functions.specs[name].trigger
            if trigger.startswith("topic:"):
                subscription = subscriptions.LambdaSubscription(
                    function, dead_letter_queue=self.messaging.async_failures
                )
                self.messaging.topics[trigger.removeprefix("topic:")].add_subscription(subscription)

        self.api = WebhookApi(
            self, "Webhooks",
            client_id=client_id,
            handler=self.functions.by_name["payment_webhook"],
            plan_acceptance=self.functions.by_name.get("accept_plan"),
            plan_payment=self.functions.by_name.get("pay_plan"),
            agent_promises=self.functions.by_name.get("record_agent_promise"),
            device_registration=self.functions.by_name.get("register_device"),
            key=self.key,
            log_retention=options.log_retention,
            rate_limit_per_second=options.api_rate_limit,
            burst_limit=options.api_burst_limit,
            waf_requests_per_five_minutes=options.waf_rate_limit,
        )
        routed = {"payment_webhook", "accept_plan", "pay_plan", "record_agent_promise", "register_device"}
        unrouted = sorted(set(self.functions.triggered_by("api")) - routed)
        if unrouted:
            raise WiringError(f"API functions without a route: {', '.join(unrouted)}")
        self.schedules = CampaignSchedules(
            self, "Schedules",
            client=client,
            target=self._only(catalogue.SCHEDULE_CAMPAIGNS),
            dead_letter_queue=self.messaging.async_failures,
            key=self.key,
        )
        self.plan_review = PlanReviewSchedule(
            self, "PlanReview",
            client=client,
            target=self._only(catalogue.SCHEDULE_PLAN_REVIEW),
            dead_letter_queue=self.messaging.async_failures,
            key=self.key,
        )
        # The collection file is scheduled only once the client file names the SFTP connector; the
        # function, its bucket and the connector's role exist before that, so the operator can
        # create the connector with them (infra/README.md: DebiCheck collections).
        self.collection_schedule = (
            CollectionSchedule(
                self, "CollectionSchedule",
                client=client,
                target=self._only(catalogue.SCHEDULE_COLLECTIONS),
                dead_letter_queue=self.messaging.async_failures,
                key=self.key,
            )
            if client.payments.debicheck_collections is not None else None
        )
        self.monitoring = Monitoring(
            self, "Monitoring",
            client_id=client_id,
            key=self.key,
            functions=self.functions.by_name,
            state_machine=self.journey.state_machine,
            api=self.api.api,
            queues={
                "send-failures": self.messaging.send_failures,
                "send-failures-dlq": self.messaging.send_failures_dlq,
                "async-failures": self.messaging.async_failures,
            },
            alarm_email=options.alarm_email,
        )
        suppress_findings(self)

        CfnOutput(self, "WebhookUrl", value=f"{self.api.api.url_for_path('/webhooks')}/{{provider}}")
        CfnOutput(self, "JourneyStateMachineArn", value=self.journey.state_machine.state_machine_arn)
        CfnOutput(self, "PaymentSecretName", value=payment_secret_name(client_id))
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(self, "CollectionsBucketName", value=self.collections.bucket.bucket_name)
        CfnOutput(self, "SftpConnectorRoleArn", value=self.collections.connector_role.role_arn)
        CfnOutput(self, "SftpSecretName", value=self.collections.sftp_secret.secret_name)

    def _function_environment(self, options: StackOptions, journey_arn: str) -> dict[str, str]:
        """The Rapport settings every function reads (``rapport.settings``), as variables."""
        client = self.client
        settings = Settings(
            client_id=client.client_id,
            client_config_path=Path(self.layers.contents.client_config_path),
            table_prefix=f"rapport-{client.client_id}",
            journey_state_machine_arn=journey_arn,
            send_failures_queue_url=self.messaging.send_failures.queue_url,
            email_from=client.contact.email_from,
            ses_configuration_set=self.messaging.configuration_set.configuration_set_name,
            sms_origination_identity=client.contact.sms_origination_identity,
            sms_configuration_set=self.messaging.sms_configuration_set_name,
            whatsapp_phone_number_id=client.contact.whatsapp_phone_number_id,
            push_application_id=client.contact.push_application_id,
            payment_provider=client.payments.provider,
            payment_secret_id=payment_secret_name(client.client_id),
            reply_analyser=options.reply_analyser,
            collections_bucket=self.collections.bucket.bucket_name,
            **({"pay_page_base_url": options.pay_page_base_url} if options.pay_page_base_url else {}),
        )
        variables = to_environment(settings)
        return {name: value for name, value in variables.items() if name not in _RESERVED_VARIABLES}

    def _grant_targets(self, journey_arn: str) -> GrantTargets:
        """The client's own resources, as the ARNs function permissions may name."""
        contact = self.client.contact
        configuration_set = self.messaging.configuration_set.configuration_set_name
        collections = self.client.payments.debicheck_collections
        return GrantTargets(
            tables={
                name: TableTarget(table.table_arn, self.tables.index_names(name))
                for name, table in self.tables.by_name.items()
            },
            key_arn=self.key.key_arn,
            journey_arn=journey_arn,
            payment_secret_arn=self.messaging.payment_secret.secret_arn,
            ses_identity_arns=(
                _arn("ses", f"identity/{contact.email_from.rpartition('@')[2]}"),
                _arn("ses", f"identity/{contact.email_from}"),
            ),
            ses_configuration_set_arn=_arn("ses", f"configuration-set/{configuration_set}"),
            email_from=contact.email_from,
            sms_origination_arns=sms_origination_arns(self.client),
            sms_configuration_set_arn=_arn(
                "sms-voice", f"configuration-set/{self.messaging.sms_configuration_set_name}"
            ),
            whatsapp_phone_number_arns=(
                (_arn("social-messaging", f"phone-number-id/{contact.whatsapp_phone_number_id}"),)
                if contact.whatsapp_phone_number_id else ()
            ),
            push_application_arns=(
                (_arn("mobiletargeting", f"apps/{contact.push_application_id}/messages"),)
                if contact.push_application_id else ()
            ),
            collections_bucket_arn=self.collections.bucket.bucket_arn,
            collections_connector_arn=(
                _arn("transfer", f"connector/{collections.connector_id}") if collections is not None else None
            ),
            client_id=self.client.client_id,
            functions_arn_prefix=_arn("lambda", "function:"),
        )

    def _check_triggers(self) -> None:
        for spec in self.functions.specs.values():
            trigger = spec.trigger
            if trigger in ("journey", "api") or trigger in catalogue.SCHEDULES:
                continue
            if trigger.startswith("topic:") and trigger.removeprefix("topic:") in catalogue.TOPICS:
                continue
            raise WiringError(f"{spec.name}: unknown trigger {trigger!r}")

    def _only(self, trigger: str) -> lambda_.Function:
        matches = self.functions.triggered_by(trigger)
        if len(matches) != 1:
            raise WiringError(f"expected one function triggered by {trigger!r}, found {sorted(matches)}")
        return next(iter(matches.values()))
