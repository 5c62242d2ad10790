"""A client stack on moto, in-process, built from the same catalogue as the CDK stack.

``LocalCloud`` creates the tables (from the pynamodb models), topics, queue, email identity,
payment secret, the collection files' bucket, one Lambda function per catalogue entry and the
journey state machine from the same ASL file with the same substitutions. Step Functions runs on
moto's interpreter; every Lambda invoke it makes is routed to the real handler module in this process.

One hook routes moto's Lambda tasks to the handlers (see NOTE below); the patches that let moto
carry a whole portfolio's load are in :mod:`rapport_local.moto_speedups`.
"""

from __future__ import annotations

import collections
import importlib.util
import io
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

from rapport.clock import Clock, SimulatedClock
from rapport.models.enums import Channel
from rapport.runtime import Services, build_services, use_services
from rapport.settings import Settings
from rapport.store.models import ALL_MODELS, IDEMPOTENCY_TABLE, bind_tables, open_connections
from rapport.strategy.config import ClientConfig, load_client_config
from rapport_infra.catalogue import (
    FUNCTIONS,
    SEND_FAILURES_QUEUE,
    TOPICS,
    FunctionSpec,
    definition_substitutions,
    payment_secret_name,
)
from rapport_infra.trees import load_journey_definition
from rapport_local import moto_fidelity, moto_speedups
from rapport_local.fakes import RecordingSender

REGION = "af-south-1"
InvokeObserver = Callable[[str, dict[str, Any], Any], None]


@dataclass(frozen=True)
class _FakeContext:
    """The parts of a Lambda context our handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def _load_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
    path = spec.folder / "handler.py"
    module_spec = importlib.util.spec_from_file_location(f"rapport_function_{spec.name}", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.handler


class LocalCloud:
    """Use as a context manager; ``services`` are the handlers' dependencies inside it."""

    def __init__(self, client_config_path: Path, clock: Clock | None = None) -> None:
        self.client_config_path = client_config_path.resolve()
        self.client: ClientConfig = load_client_config(self.client_config_path)
        self.clock = clock or SimulatedClock(_default_origin(), scale=60)
        self._stack = ExitStack()
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._arn_to_name: dict[str, str] = {}
        self._observers: list[InvokeObserver] = []
        # (function, seconds spent in the handler) per invocation; deque.append needs no lock.
        self._calls: collections.deque[tuple[str, float]] = collections.deque()
        self.fake_senders: dict[Channel, RecordingSender] = {}
        self.settings: Settings | None = None
        self.services: Services | None = None
        self.state_machine_arn = ""
        self.topic_arns: dict[str, str] = {}
        self.queue_url = ""

    # -- set-up ---------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        _quiet_expected_path_misses()
        self._stack.enter_context(
            mock_aws(
                config={
                    "stepfunctions": {"execute_state_machine": True},
                    "lambda": {"use_docker": False},
                }
            )
        )
        self._route_lambda_invokes()
        self._create_resources()
        return self

    def __exit__(self, *exc_info: object) -> None:
        use_services(None)
        self._stack.close()

    def _route_lambda_invokes(self) -> None:
        # NOTE: moto has no hook for running Lambda code in-process without Docker, so we patch the
        # place its Step Functions interpreter reaches out: the boto3 client it builds for each
        # Lambda task is replaced by an in-process invoker. If moto gains such a hook, use it.
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        invoker = _InProcessLambdaClient(self)
        original_client_for = lambda_eval_utils.boto_client_for

        def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            if service == "lambda":
                return invoker
            return original_client_for(region=region, service=service, state_credentials=state_credentials)

        self._stack.enter_context(mock.patch.object(lambda_eval_utils, "boto_client_for", client_for))
        moto_speedups.install(self._stack)
        moto_fidelity.install(self._stack)

    def _create_resources(self) -> None:
        client = self.client
        prefix = f"rapport-{client.client_id}"
        sns = boto3.client("sns", region_name=REGION)
        self.topic_arns = {name: sns.create_topic(Name=f"{prefix}-{name}")["TopicArn"] for name in TOPICS}
        self.queue_url = boto3.client("sqs", region_name=REGION).create_queue(
            QueueName=f"{prefix}-{SEND_FAILURES_QUEUE}"
        )["QueueUrl"]
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=client.contact.email_from)
        # The DebiCheck collection files' bucket (the stack's is named by CloudFormation).
        collections_bucket = f"{prefix}-collections"
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=collections_bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        secret_id = payment_secret_name(client.client_id)
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=secret_id, SecretString=json.dumps({"sandbox_webhook_secret": secrets.token_hex(32)})
        )

        bind_tables(prefix, REGION)
        for model in ALL_MODELS:
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=False)
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=f"{prefix}-{IDEMPOTENCY_TABLE}",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )

        iam = boto3.client("iam", region_name=REGION)
        role_arn = iam.create_role(RoleName=f"{prefix}-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lambda_client = boto3.client("lambda", region_name=REGION)
        function_arns: dict[str, str] = {}
        for spec in FUNCTIONS:
            name = f"{prefix}-{spec.name}"
            arn = lambda_client.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role_arn,
                Handler=spec.handler,
                Code={"ZipFile": b"in-process"},
                Architectures=["arm64"],
                Timeout=spec.timeout_seconds,
            )["FunctionArn"]
            function_arns[spec.name] = arn
            self._arn_to_name[arn] = spec.name
            self._arn_to_name[name] = spec.name
            self._handlers[spec.name] = _load_handler(spec)

        # The client's own tree when its configuration names one, else ours; checked either way.
        definition = json.dumps(load_journey_definition(client, self.client_config_path))
        for key, value in definition_substitutions(function_arns, self.queue_url).items():
            definition = definition.replace("${" + key + "}", value)
        self.state_machine_arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name=f"{prefix}-journey",
            definition=definition,
            roleArn=role_arn,
            type="STANDARD",
        )["stateMachineArn"]

        self.settings = Settings(
            client_id=client.client_id,
            client_config_path=self.client_config_path,
            table_prefix=prefix,
            region=REGION,
            journey_state_machine_arn=self.state_machine_arn,
            send_failures_queue_url=self.queue_url,
            email_from=client.contact.email_from,
            payment_secret_id=secret_id,
            collections_bucket=collections_bucket,
        )
        services = build_services(self.settings, clock=self.clock)
        # moto has no End User Messaging Social or push backend: fakes of our port stand in.
        self.fake_senders = {channel: RecordingSender(channel) for channel in (Channel.WHATSAPP, Channel.PUSH)}
        services.senders = {**services.senders, **self.fake_senders}
        self.services = services
        use_services(services)
        _warm_holiday_calendars(client)
        open_connections()

    # -- running --------------------------------------------------------------------------
    @property
    def invocations(self) -> dict[str, tuple[int, float]]:
        """function -> (invocations, seconds spent in its handler)."""
        totals: dict[str, tuple[int, float]] = {}
        for name, seconds in list(self._calls):
            count, spent = totals.get(name, (0, 0.0))
            totals[name] = (count + 1, spent + seconds)
        return totals

    def on_invoke(self, observer: InvokeObserver) -> None:
        self._observers.append(observer)

    def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        """Run a function's real handler in-process, as Lambda would."""
        name = self._arn_to_name.get(function_name, function_name)
        handler = self._handlers[name]
        context = _FakeContext(name, f"arn:aws:lambda:{REGION}:123456789012:function:{name}", secrets.token_hex(8))
        began = time.perf_counter()
        try:
            result = handler(event, context)
        finally:
            self._calls.append((name, time.perf_counter() - began))
        for observer in self._observers:
            observer(name, event, result)
        return result

    def post_webhook(self, provider: str, headers: dict[str, str], raw_body: bytes) -> dict[str, Any]:
        """What API Gateway hands the webhook function for ``POST /webhooks/{provider}``."""
        event = {
            "resource": "/webhooks/{provider}",
            "path": f"/webhooks/{provider}",
            "httpMethod": "POST",
            "headers": headers,
            "pathParameters": {"provider": provider},
            "body": raw_body.decode("utf-8"),
            "isBase64Encoded": False,
            "requestContext": {"requestId": secrets.token_hex(8), "stage": "local"},
        }
        return self.invoke("payment_webhook", event)

    def pay_latest_link(self, account_id: str, amount_cents: int) -> dict[str, Any] | None:
        """The debtor pays ``amount_cents`` on the newest link they were sent, through the sandbox
        pay page: a signed webhook to the webhook function. None when no link was sent."""
        payment = self.latest_link_payment(account_id, amount_cents)
        return None if payment is None else self.post_webhook(*payment)

    def latest_link_payment(
        self, account_id: str, amount_cents: int
    ) -> tuple[str, dict[str, str], bytes] | None:
        """(provider, headers, body) of the webhook that paying the newest link would post, not yet sent."""
        from rapport.payments import ProviderLink

        repos = self.services.repos
        sent_links = [c.link_id for c in repos.contacts.for_account(account_id) if c.direction == "out" and c.link_id]
        if not sent_links:
            return None
        link = repos.links.get(sent_links[-1])
        provider_link = ProviderLink(
            provider=link.provider,
            link_id=link.link_id,
            url=link.url,
            provider_reference=f"sbx_{link.link_id}",
            expires_at=link.expires_at,
        )
        headers, body = self.services.payment_provider.pay(provider_link, amount_cents)
        return link.provider, headers, body

    def reply_by_sms(self, phone: str, text: str) -> dict[str, Any]:
        """A two-way SMS reply as End User Messaging delivers it: an SNS notification to inbound_sms."""
        from rapport_local.conversations import sns_lambda_event  # it builds on this module

        message = {
            "originationNumber": phone,
            "destinationNumber": "+27875550100",
            "messageKeyword": "KEYWORD_LOCAL",
            "messageBody": text,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": str(uuid.uuid4()),
        }
        return self.invoke("inbound_sms", sns_lambda_event(self, "sms-inbound", message))

    def start_campaign(self, campaign: str, **run: Any) -> dict[str, Any]:
        """What EventBridge Scheduler sends the campaign function, for one page (``page_size``
        journeys, from ``cursor``): the local run paces itself page by page."""
        return self.invoke("campaign", {"campaign": campaign, "run_to_end": False, **run})

    def execution_status(self, journey_id: str) -> dict[str, Any]:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{journey_id}"
        return boto3.client("stepfunctions", region_name=REGION).describe_execution(executionArn=arn)

    def wait_until_no_journey_runs(self, timeout_seconds: float) -> bool:
        """Wait until no execution of the journey state machine is running; False on timeout."""
        stepfunctions = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + timeout_seconds
        while True:
            running = stepfunctions.list_executions(
                stateMachineArn=self.state_machine_arn, statusFilter="RUNNING", maxResults=1
            )["executions"]
            if not running:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(1.0)

    def wait_for_executions(self, journey_ids: list[str], timeout_seconds: float) -> dict[str, str]:
        """Poll (gently) until every journey has stopped running; returns journey -> status."""
        deadline = time.monotonic() + timeout_seconds
        statuses: dict[str, str] = {}
        pending = list(journey_ids)
        while pending and time.monotonic() < deadline:
            still = []
            for journey_id in pending:
                status = self.execution_status(journey_id)["status"]
                if status == "RUNNING":
                    still.append(journey_id)
                else:
                    statuses[journey_id] = status
            pending = still
            if pending:
                time.sleep(0.25)
        for journey_id in pending:
            statuses[journey_id] = "RUNNING"
        return statuses


class _InProcessLambdaClient:
    """Answers moto's ``lambda.invoke`` calls by running the real handler in this process."""

    def __init__(self, cloud: LocalCloud) -> None:
        self._cloud = cloud

    def invoke(self, FunctionName: str, Payload: Any = None, **_: Any) -> dict[str, Any]:
        event = json.loads(Payload) if Payload else {}
        try:
            result = self._cloud.invoke(FunctionName, event)
        except Exception as error:
            body = {"errorType": type(error).__name__, "errorMessage": str(error)}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result, default=str).encode())}


def _default_origin() -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Africa/Johannesburg"))


def _warm_holiday_calendars(client: ClientConfig) -> None:
    """The holidays library fills years lazily; fill them once before journeys run in threads."""
    from datetime import date

    from rapport.compliance import profile_for, public_holiday
    from rapport.payments.plans import business_calendar

    profile = profile_for(client.jurisdiction)
    calendar = business_calendar()
    for year in (2026, 2027, 2028):
        public_holiday(profile, date(year, 1, 1))
        calendar.is_holiday(date(year, 1, 1))


class _ExpectedPathMiss(logging.Filter):
    """Drops moto's ERROR line for a JSONPath that names nothing.

    A Choice rule ``{"Variable": "$.response", "IsPresent": true}`` asks exactly that, and moto's
    interpreter logs the miss at ERROR before the rule catches it and answers False; every journey
    that starts without a reply would print one. A path that is really missing elsewhere still fails
    its execution, which the run counts and the execution history names.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        first = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        return not str(first).startswith("Exception=NoSuchJsonPathError")


def _quiet_expected_path_misses() -> None:
    logger = logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component")
    if not any(isinstance(f, _ExpectedPathMiss) for f in logger.filters):
        logger.addFilter(_ExpectedPathMiss())
