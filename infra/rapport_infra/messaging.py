"""Topics, queues, the SES configuration set and the payment secret of one client.

* The catalogue's SNS topics (inbound replies per channel, delivery events), encrypted with the
  client key, TLS-only, and publishable only by the AWS service that feeds each one, from this
  account.
* ``send-failures``: sends that failed for good, written by the journey; with its own DLQ for a
  future consumer's poison messages.
* ``async-failures``: the dead-letter queue of every asynchronously invoked function, of the
  SNS subscriptions and of the campaign schedules; one queue to watch and one alarm.
* An SES configuration set whose events (send, delivery, bounce, complaint, open, click...) go to
  ``delivery-events``.
* An End User Messaging SMS configuration set whose events (delivered, invalid, blocked,
  unreachable...) go to ``delivery-events``; the SMS sender names it on every message, without
  which End User Messaging publishes no event for it.
* An SES receipt rule set whose rule publishes every email to the client's sending address, whole
  and scanned for spam and viruses, to ``email-inbound``.
* The payment provider's secret, created with a generated placeholder value.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from rapport.strategy.config import ClientConfig
from rapport_infra import catalogue
from rapport_infra.catalogue import payment_secret_name

# Which AWS service publishes into each catalogue topic.
TOPIC_PUBLISHERS: dict[str, tuple[str, ...]] = {
    "sms-inbound": ("sms-voice.amazonaws.com",),
    "whatsapp-inbound": ("social-messaging.amazonaws.com",),
    "email-inbound": ("ses.amazonaws.com",),
    "delivery-events": ("ses.amazonaws.com", "sms-voice.amazonaws.com", "social-messaging.amazonaws.com"),
}

# NOTE: OPEN and CLICK switch on SES's open and click tracking: a pixel in each HTML email, and every link
# rewritten through SES's redirect (the Click event then carries the original link, a signed pay link
# included; the parser drops it). Opens are not used to rank channels (only clicks are), and tracking
# pixels may need the debtor's consent in some jurisdictions (UK PECR reg. 6); dropping OPEN loses only
# the "read" mark on the message.
SES_EVENTS = (
    ses.EmailSendingEvent.SEND, ses.EmailSendingEvent.DELIVERY, ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.REJECT, ses.EmailSendingEvent.DELIVERY_DELAY,
    ses.EmailSendingEvent.RENDERING_FAILURE, ses.EmailSendingEvent.OPEN, ses.EmailSendingEvent.CLICK,
)
# The End User Messaging SMS events that say what became of a text (AWS::SMSVOICE::ConfigurationSet
# MatchingEventTypes; TEXT_SENT is not published). TEXT_QUEUED and TEXT_PENDING say nothing new, and
# opt-outs are refused at the API (ConflictException) before any event.
SMS_EVENTS = (
    "TEXT_DELIVERED", "TEXT_SUCCESSFUL", "TEXT_INVALID", "TEXT_INVALID_MESSAGE", "TEXT_UNREACHABLE",
    "TEXT_CARRIER_UNREACHABLE", "TEXT_BLOCKED", "TEXT_CARRIER_BLOCKED", "TEXT_SPAM", "TEXT_UNKNOWN",
    "TEXT_TTL_EXPIRED", "TEXT_PROTECT_BLOCKED",
)


def _queue(scope: Construct, construct_id: str, name: str, key: kms.IKey, **options: object) -> sqs.Queue:
    return sqs.Queue(
        scope, construct_id,
        queue_name=name,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        data_key_reuse=Duration.hours(1),
        enforce_ssl=True,
        retention_period=Duration.days(14),
        **options,
    )


class Messaging(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, client: ClientConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        prefix = f"rapport-{client.client_id}"
        self.topics: dict[str, sns.Topic] = {}
        for name in catalogue.TOPICS:
            topic = sns.Topic(
                self, f"Topic-{name}", topic_name=f"{prefix}-{name}", master_key=key, enforce_ssl=True,
            )
            publishers = TOPIC_PUBLISHERS.get(name, ())
            if publishers:
                topic.add_to_resource_policy(iam.PolicyStatement(
                    sid="PublishFromItsServiceInThisAccount",
                    principals=[iam.ServicePrincipal(service) for service in publishers],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                ))
            self.topics[name] = topic

        send_failures = f"{prefix}-{catalogue.SEND_FAILURES_QUEUE}"
        self.send_failures_dlq = _queue(self, "SendFailuresDlq", f"{send_failures}-dlq", key)
        self.send_failures = _queue(
            self, "SendFailures", send_failures, key,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=self.send_failures_dlq),
        )
        self.async_failures = _queue(self, "AsyncFailures", f"{prefix}-async-failures", key)

        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet",
            configuration_set_name=client.contact.ses_configuration_set or prefix,
            reputation_metrics=True,
            sending_enabled=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        ses.ConfigurationSetEventDestination(
            self, "DeliveryEvents",
            configuration_set=self.configuration_set,
            destination=ses.EventDestination.sns_topic(self.topics["delivery-events"]),
            events=list(SES_EVENTS),
        )

        self.sms_configuration_set_name = f"{prefix}-sms"
        self.sms_configuration_set = smsvoice.CfnConfigurationSet(
            self, "SmsConfigurationSet",
            configuration_set_name=self.sms_configuration_set_name,
            event_destinations=[smsvoice.CfnConfigurationSet.EventDestinationProperty(
                event_destination_name="delivery-events",
                enabled=True,
                matching_event_types=list(SMS_EVENTS),
                sns_destination=smsvoice.CfnConfigurationSet.SnsDestinationProperty(
                    topic_arn=self.topics["delivery-events"].topic_arn,
                ),
            )],
        )

        # NOTE: SES has one active receipt rule set per account and region, and CloudFormation cannot
        # activate one: an operator runs set-active-receipt-rule-set once and points the domain's MX
        # record at SES receiving. SES receives mail only in some regions; where the stack's
        # region has no receiving endpoint, the rule set is created but never used.
        self.inbound_mail = ses.ReceiptRuleSet(
            self, "InboundMail",
            receipt_rule_set_name=f"{prefix}-inbound",
            rules=[ses.ReceiptRuleOptions(
                receipt_rule_name=f"{prefix}-replies",
                recipients=[client.contact.email_from],
                # The whole email, base64 so that no character set is lost on the way; the spam and
                # virus verdicts the scan adds are what the inbound function refuses mail on.
                actions=[ses_actions.Sns(
                    topic=self.topics["email-inbound"], encoding=ses_actions.EmailEncoding.BASE64,
                )],
                scan_enabled=True,
                tls_policy=ses.TlsPolicy.REQUIRE,
            )],
        )

        provider = client.payments.provider
        # NOTE: the generated value is a placeholder so a fresh stack works against the sandbox
        # provider; a real provider's keys are issued by the provider and put here by an operator
        # (README: "Rotate a provider secret"). No rotation Lambda: the provider, not AWS, mints them.
        self.payment_secret = secretsmanager.Secret(
            self, "PaymentSecret",
            secret_name=payment_secret_name(client.client_id),
            description=f"Webhook and API keys of the {provider} payment provider for {client.client_id}",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=f'{{"provider": "{provider}"}}',
                generate_string_key=f"{provider}_webhook_secret",
                exclude_punctuation=True,
                password_length=48,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
