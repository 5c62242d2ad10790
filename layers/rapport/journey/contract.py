"""The journey's contract: what each Task function takes and gives back, as a state machine sees it.

A client may bring its own decision tree (ASL) instead of ``statemachines/journey.asl.json``. Any
tree runs the same handlers, so it must keep this contract: pass each function the fields its
input model requires, and read back only fields the function (or, for the callback task, the
event that resumes the journey) really returns, compared with values those fields can take.
``rapport_infra.trees`` checks a definition against it; the integration tests check that the
handlers keep their side (every result they return validates against its output model here).

A tree that needs a field not declared here needs it declared first, with the step returning it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from rapport.journey.steps import (
    AnalyseInput,
    AssessInput,
    AwaitInput,
    CheckPromiseInput,
    FinishInput,
    HandToAgentInput,
    OfferPlanInput,
    OptOutInput,
    PlaceHoldInput,
    PlanContactInput,
    PromiseInput,
    SendInput,
)
from rapport.models.enums import Channel, HoldKind, Intent, Segment, Sentiment, Tone
from rapport.payments.promises import PromiseStatus


class _Output(BaseModel):
    # Extra keys are allowed (a step may return more than a tree may rely on); declared ones are typed.
    model_config = ConfigDict(extra="allow", frozen=True)


class AssessOutput(_Output):
    action: Literal["contact", "hold", "close"]
    segment: Segment | None = None
    variant: str | None = None
    score: int | None = None
    reason_codes: list[str] = []
    tone: Tone | None = None
    # The treatment's own tone, before any softening: later steps soften from it, never twice.
    treatment_tone: Tone | None = None
    channels: list[Channel] = []
    # The debtor's stated channel when the order was chosen (plan_contact compares it with the account's).
    stated_channel: Channel | None = None
    templates: list[str] = []
    reply_timeout_seconds: int | None = None
    promise_grace_days: int | None = None
    promise_wait_seconds: int | None = None
    max_wait_seconds: int | None = None
    offer_plan: bool | None = None
    max_plan_months: int | None = None


class PlanContactOutput(_Output):
    decision: Literal["send", "defer", "refuse", "hold", "settled", "exhausted"]
    channel: Channel | None = None
    template_id: str | None = None
    rule: str | None = None
    wait_seconds: int | None = None
    not_before: str | None = None
    tone: Tone | None = None  # the assessment's, softened after two negative replies in a row


class SendOutput(_Output):
    status: Literal["sent", "duplicate", "deferred", "refused", "failed"]
    message_id: str
    channel: Channel
    link_id: str | None = None
    rule: str | None = None
    opt_out_line_added: bool | None = None


class AwaitOutput(_Output):
    parked: bool


class JourneyResponse(_Output):
    """What resumes a waiting journey (``SendTaskSuccess``): the result of the callback task."""

    kind: Literal["payment", "reply", "delivery_failed", "plan_accepted", "promise"]
    channel: Channel | None = None
    settled: bool | None = None
    amount_cents: int | None = None
    reply_id: str | None = None
    opt_out: bool | None = None
    status: str | None = None
    permanent: bool | None = None
    message_id: str | None = None
    plan_id: str | None = None
    # A promise an agent recorded (rapport.journey.agent_promises): the journey waits on it next.
    promise_id: str | None = None
    due_date: str | None = None
    # What the journey was parked for when this came (``JourneyModel.waiting_for``): a reply answered
    # during a promise's wait goes back to the promise.
    waiting_for: Literal["response", "promise"] | None = None


class AnalyseOutput(_Output):
    reply_id: str
    intent: Intent
    sentiment: Sentiment
    vulnerable: bool
    vulnerability_reasons: list[str] = []
    promise_date: str | None = None
    amount_cents: int | None = None
    language: str | None = None
    # The tone to answer this reply in: the journey's, one step softer when this reply and the one
    # before it were both negative.
    answer_tone: Tone | None = None


class PromiseOutput(_Output):
    accepted: bool
    reason: str | None = None
    promise_id: str | None = None
    due_date: str | None = None
    amount_cents: int | None = None
    wait_seconds: int | None = None


class CheckPromiseOutput(_Output):
    status: PromiseStatus
    paid_cents: int
    shortfall_cents: int
    # Seconds left until the promise's check: a wait resumed early (a part payment, a question answered)
    # goes on for what is left, not for the whole wait again.
    wait_seconds: int | None = None


class OfferPlanOutput(_Output):
    offered: bool
    reason: str | None = None
    plan_id: str | None = None
    instalment_cents: int | None = None
    instalments: int | None = None
    frequency: str | None = None
    first_due: str | None = None
    total_cents: int | None = None
    offer_expires_at: str | None = None
    self_service: bool | None = None


class PlaceHoldOutput(_Output):
    hold: HoldKind | None
    reason: str | None = None


class OptOutOutput(_Output):
    channels: list[Channel] = []
    recorded: bool | None = None
    # False when the reply refused some channels and asked for another ("email me instead").
    every_channel: bool | None = None
    stated_channel: Channel | None = None


class HandToAgentOutput(_Output):
    queue: str
    reason: str


class FinishOutput(_Output):
    outcome: str


class _Attempt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int


class _JourneyClock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    not_before: str | None = None


class JourneyStart(BaseModel):
    """The execution input of a journey: the campaign's (``rapport.journey.campaign``), or the inbound
    functions' for a reply that no journey was waiting for (``rapport.journey.resume``), which carries
    that reply as ``response``, in the shape a waiting journey would have been resumed with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str
    journey_id: str
    campaign: str | None = None
    timings: dict[str, Any] = {}
    attempt: _Attempt
    clock: _JourneyClock
    response: JourneyResponse | None = None


class CaughtError(BaseModel):
    """What a Catch with a ResultPath puts in the state: the error's name and its cause."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Error: str
    Cause: str | None = None


@dataclass(frozen=True)
class StepContract:
    function: str
    input: type[BaseModel]
    output: type[BaseModel]
    callback: bool = False  # invoked with .waitForTaskToken; its result is a JourneyResponse


STEPS: dict[str, StepContract] = {
    contract.function: contract
    for contract in (
        StepContract("assess_account", AssessInput, AssessOutput),
        StepContract("plan_contact", PlanContactInput, PlanContactOutput),
        StepContract("send_message", SendInput, SendOutput),
        StepContract("await_response", AwaitInput, JourneyResponse, callback=True),
        StepContract("analyse_reply", AnalyseInput, AnalyseOutput),
        StepContract("record_promise", PromiseInput, PromiseOutput),
        StepContract("check_promise", CheckPromiseInput, CheckPromiseOutput),
        StepContract("offer_plan", OfferPlanInput, OfferPlanOutput),
        StepContract("place_hold", PlaceHoldInput, PlaceHoldOutput),
        StepContract("record_opt_out", OptOutInput, OptOutOutput),
        StepContract("hand_to_agent", HandToAgentInput, HandToAgentOutput),
        StepContract("finish_journey", FinishInput, FinishOutput),
    )
}

# Narrower than the input models say: the values a tree may give as constants.
SendPurpose = Literal["collection", "service", "confirmation", "opt_out_confirmation"]
INPUT_CONSTANTS: dict[str, dict[str, Any]] = {"send_message": {"purpose": SendPurpose}}

# What a callback task's function returns to the state machine when invoked (not its task result).
CALLBACK_INVOKE_OUTPUT = AwaitOutput

# Errors no retry can fix: retrying them only repeats the work (or the send) and delays the journey.
PERMANENT_ERRORS = frozenset({
    "ChannelRejectedError",
    "ChannelUnavailableError",
    "InvalidStepInputError",
    "NoAddressError",
    "RecordNotFoundError",
})

# Lambda's own transient failures, which every direct invocation must retry.
LAMBDA_TRANSIENT_ERRORS = frozenset({
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
})

# A collection send that the channel refuses must move the journey to its next channel.
CHANNEL_FALLBACK_ERRORS = frozenset({"ChannelRejectedError", "ChannelUnavailableError"})
