"""What a client stack is made of, declared once.

The CDK stack (``rapport_infra.stack``) and the local cloud (``rapport_local.cloud``) both build
from this catalogue, so the resources that run locally are the resources that are deployed:
the same functions with the same handlers and environment, the same tables (taken from the
pynamodb models themselves), the same topics and the same state machine files with the same
substitutions. Nothing here imports CDK or boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
STATEMACHINES_DIR = PROJECT_ROOT / "statemachines"
LAYER_DIR = PROJECT_ROOT / "layers"
CLIENTS_DIR = PROJECT_ROOT / "clients"

# Table short names (each is prefixed by the client's table prefix). Kept in step with
# rapport.store.models.ALL_MODELS by a unit test.
TABLES = (
    "accounts",
    "contacts",
    "links",
    "payments",
    "promises",
    "plans",
    "journeys",
    "audit",
    "deliveries",
    "worklist",
    "idempotency",
)

# SNS topics: inbound replies per channel and delivery events from SES and End User Messaging.
TOPICS = ("sms-inbound", "whatsapp-inbound", "email-inbound", "delivery-events")

# The SQS queue that receives sends that failed for good (after retries), so none is lost.
SEND_FAILURES_QUEUE = "send-failures"

# EventBridge Scheduler sources: one schedule per enabled campaign, the daily overdue sweep of
# payment plans (its time is the client file's payments.plan_review.schedule), and the daily
# DebiCheck collection file (payments.debicheck_collections.schedule; only when configured).
SCHEDULE_CAMPAIGNS = "schedule:campaigns"
SCHEDULE_PLAN_REVIEW = "schedule:plan-review"
SCHEDULE_COLLECTIONS = "schedule:debicheck-collections"
SCHEDULES = (SCHEDULE_CAMPAIGNS, SCHEDULE_PLAN_REVIEW, SCHEDULE_COLLECTIONS)


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda: its folder under ``functions/``, what triggers it and what it may touch."""

    name: str
    description: str
    # "journey" (a Task of the journey), "api", "topic:<name>", or "schedule:<name>" (a schedule of
    # SCHEDULES: the campaigns, the daily plan review, the daily collection file).
    trigger: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    sends: tuple[str, ...] = ()  # "email", "sms", "whatsapp", "push"
    starts_journeys: bool = False
    resumes_journeys: bool = False
    # Hands the rest of a long run to a fresh invocation of itself (an asynchronous Invoke).
    continues_itself: bool = False
    reads_payment_secret: bool = False
    creates_links: bool = False
    uses_comprehend: bool = False
    # Writes DebiCheck collection files to the client's bucket and hands them to the SFTP connector.
    sends_collection_files: bool = False
    timeout_seconds: int = 15
    memory_mb: int = 512

    @property
    def folder(self) -> Path:
        return FUNCTIONS_DIR / self.name

    @property
    def handler(self) -> str:
        return "handler.handler"

    @property
    def substitution_key(self) -> str:
        """The ``${...}`` name the ASL uses for this function's ARN."""
        return "".join(part.capitalize() for part in self.name.split("_")) + "FunctionArn"


def function_name(client_id: str, spec: FunctionSpec) -> str:
    """The deployed name of ``spec``'s function in ``client_id``'s stack."""
    return f"rapport-{client_id}-{spec.name.replace('_', '-')}"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "campaign",
        "Selects due accounts and starts one journey each (idempotent names).",
        trigger=SCHEDULE_CAMPAIGNS,
        reads=("accounts",),
        writes=("accounts", "journeys", "audit"),
        starts_journeys=True,
        continues_itself=True,
        timeout_seconds=900,
        memory_mb=1024,
    ),
    FunctionSpec(
        "assess_account",
        "Scores and segments the account and chooses its treatment.",
        trigger="journey",
        reads=("accounts", "promises", "plans"),
        writes=("accounts", "journeys", "audit"),
    ),
    FunctionSpec(
        "plan_contact",
        "Chooses the channel for this attempt and checks the contact is allowed now.",
        trigger="journey",
        reads=("accounts", "contacts"),
        writes=("audit",),
    ),
    FunctionSpec(
        "send_message",
        "Raises a payment link, renders the template and sends it, once.",
        trigger="journey",
        reads=("accounts", "links"),
        writes=("contacts", "links", "accounts", "audit"),
        sends=("email", "sms", "whatsapp", "push"),
        reads_payment_secret=True,
        creates_links=True,
        timeout_seconds=30,
    ),
    FunctionSpec(
        "await_response",
        "Parks the journey's task token until a reply or a payment arrives.",
        trigger="journey",
        writes=("journeys",),
    ),
    FunctionSpec(
        "analyse_reply",
        "Understands the reply: intent, sentiment, promise, vulnerability.",
        trigger="journey",
        reads=("contacts",),
        writes=("contacts", "audit"),
        uses_comprehend=True,
    ),
    FunctionSpec(
        "record_promise",
        "Records a promise to pay and works out when to check it.",
        trigger="journey",
        reads=("accounts", "promises"),
        writes=("promises", "audit"),
    ),
    FunctionSpec(
        "check_promise",
        "Checks a promise on its date: kept, partly kept or broken.",
        trigger="journey",
        reads=("promises", "payments"),
        writes=("promises", "audit"),
    ),
    FunctionSpec(
        "offer_plan",
        "Proposes an affordable payment plan aligned to pay day.",
        trigger="journey",
        reads=("accounts",),
        writes=("plans", "audit"),
        reads_payment_secret=True,  # signs the self-service acceptance link
    ),
    FunctionSpec(
        "place_hold",
        "Places a hold (hardship, dispute, vulnerability...) with who, when and why.",
        trigger="journey",
        reads=("accounts",),
        writes=("accounts", "audit"),
    ),
    FunctionSpec(
        "record_opt_out",
        "Honours an opt-out for the channel or for all channels.",
        trigger="journey",
        reads=("accounts", "contacts"),
        writes=("accounts", "audit"),
    ),
    FunctionSpec(
        "hand_to_agent",
        "Puts the account on the agents' worklist with the reason.",
        trigger="journey",
        writes=("worklist", "audit"),
    ),
    FunctionSpec(
        "finish_journey",
        "Records how the journey ended.",
        trigger="journey",
        writes=("journeys", "audit"),
    ),
    FunctionSpec(
        "payment_webhook",
        "Verifies a provider's webhook, credits the account once, resumes the journey.",
        trigger="api",
        reads=("links", "journeys", "accounts", "contacts", "plans", "payments"),
        writes=(
            "payments", "links", "accounts", "deliveries", "audit", "idempotency", "journeys", "plans", "worklist",
        ),
        resumes_journeys=True,
        reads_payment_secret=True,
    ),
    FunctionSpec(
        "accept_plan",
        "Takes a debtor's acceptance of a plan offer (signed link); raises its link and DebiCheck mandate.",
        trigger="api",
        reads=("plans", "accounts", "links", "journeys"),
        writes=("plans", "accounts", "links", "audit", "journeys"),
        resumes_journeys=True,
        reads_payment_secret=True,
        creates_links=True,
    ),
    # Its own function rather than a second route of accept_plan: a link opened by anyone who holds it
    # (or by a mail scanner) needs neither the accounts, nor the journeys, nor a journey's task token.
    FunctionSpec(
        "pay_plan",
        "A plan's signed pay link: redirects the debtor to the checkout of the instalment due.",
        trigger="api",
        reads=("plans", "links"),
        writes=("plans", "audit"),
        reads_payment_secret=True,  # verifies the link's token; the provider's keys open checkouts
        creates_links=True,
    ),
    # The agents' desk (IAM-signed) records a promise a debtor made to a person; the journey that waits
    # for the account is resumed to wait on it.
    FunctionSpec(
        "record_agent_promise",
        "Records a promise to pay an agent took (IAM-authorised route) and hands it to the waiting journey.",
        trigger="api",
        reads=("accounts", "promises", "journeys"),
        writes=("promises", "audit", "journeys"),
        resumes_journeys=True,
    ),
    # The client's app (IAM-signed) registers the debtor's device; the token is kept on the account only.
    FunctionSpec(
        "register_device",
        "Registers the debtor's device for push (IAM-authorised route from the client's app).",
        trigger="api",
        reads=("accounts",),
        writes=("accounts", "audit"),
    ),
    FunctionSpec(
        "review_plans",
        "Daily overdue sweep: misses, retries or cancels instalments of the plans due (plans due-index).",
        trigger=SCHEDULE_PLAN_REVIEW,
        reads=("plans", "accounts"),
        writes=("plans", "accounts", "audit", "worklist"),
        reads_payment_secret=True,  # a cancelled plan withdraws its DebiCheck mandate
        timeout_seconds=900,
    ),
    FunctionSpec(
        "submit_collections",
        "Daily DebiCheck collection file: instalments due soon on approved mandates, sent to Stitch by SFTP.",
        trigger=SCHEDULE_COLLECTIONS,
        reads=("plans",),
        writes=("plans",),
        reads_payment_secret=True,  # files are sent only while the secret names Stitch as the gateway
        sends_collection_files=True,
        timeout_seconds=900,
    ),
    FunctionSpec(
        "inbound_sms",
        "Takes two-way SMS replies, matches the debtor, resumes the journey or starts one for the reply.",
        trigger="topic:sms-inbound",
        reads=("accounts", "journeys"),
        writes=("contacts", "journeys", "accounts", "audit", "worklist"),
        starts_journeys=True,
        resumes_journeys=True,
    ),
    FunctionSpec(
        "inbound_whatsapp",
        "Takes WhatsApp messages and statuses, matches the debtor, resumes the journey or starts one.",
        trigger="topic:whatsapp-inbound",
        reads=("accounts", "contacts", "journeys"),
        writes=("contacts", "journeys", "accounts", "audit", "worklist"),
        starts_journeys=True,
        resumes_journeys=True,
    ),
    FunctionSpec(
        "inbound_email",
        "Takes email replies from the SES receipt rule, matches the debtor, resumes or starts a journey.",
        trigger="topic:email-inbound",
        reads=("accounts", "journeys"),
        writes=("contacts", "journeys", "accounts", "audit", "worklist"),
        starts_journeys=True,
        resumes_journeys=True,
    ),
    FunctionSpec(
        "delivery_events",
        "Records deliveries, bounces and complaints; suppresses dead addresses; escalates journeys.",
        trigger="topic:delivery-events",
        reads=("accounts", "contacts", "journeys"),
        writes=("contacts", "journeys", "accounts", "audit", "worklist"),
        resumes_journeys=True,
    ),
)


@dataclass(frozen=True)
class StateMachineSpec:
    name: str
    definition_file: Path
    functions: tuple[str, ...] = field(default_factory=tuple)


JOURNEY = StateMachineSpec(
    name="journey",
    definition_file=STATEMACHINES_DIR / "journey.asl.json",
    functions=tuple(spec.name for spec in FUNCTIONS if spec.trigger == "journey"),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (JOURNEY,)


def payment_secret_name(client_id: str) -> str:
    """The Secrets Manager name of a client's payment-provider keys (deployed and local alike)."""
    return f"rapport/{client_id}/payments"


def function_spec(name: str) -> FunctionSpec:
    return next(spec for spec in FUNCTIONS if spec.name == name)


def definition_substitutions(function_arns: dict[str, str], send_failures_queue_url: str) -> dict[str, str]:
    """The values for every ``${...}`` in the ASL files, from function name -> ARN."""
    values = {function_spec(name).substitution_key: arn for name, arn in function_arns.items()}
    values["SendFailuresQueueUrl"] = send_failures_queue_url
    return values
