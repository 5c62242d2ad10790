"""One factory for Lambda entry points, so every handler gets the same logging and tracing.

Decorator order is fixed: structured logging with the Lambda context and a correlation id first,
then tracing without capturing responses (they hold personal data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Tracer
from pydantic import BaseModel, ValidationError

from rapport.clock import journey_time
from rapport.runtime import Services, services

StepInput = TypeVar("StepInput", bound=BaseModel)

logger = Logger()
tracer = Tracer()


class InvalidStepInputError(Exception):
    """The event does not match the step's input model; the message names the fields."""


def journey_task(
    step: Callable[[Services, Any], dict[str, Any]], input_model: type[BaseModel]
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Handler for a Task of the journey state machine: validate, run the step, return its result."""

    @logger.inject_lambda_context(correlation_id_path="journey_id", clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            step_input = input_model.model_validate(event)
        except ValidationError as error:
            fields = sorted({".".join(str(p) for p in problem["loc"]) for problem in error.errors()})
            raise InvalidStepInputError(f"invalid input: {', '.join(fields)}") from None
        logger.append_keys(account_id=event.get("account_id"))
        with journey_time((event.get("clock") or {}).get("not_before")):
            return step(services(), step_input)

    return handler


def event_handler(
    work: Callable[[Services, dict[str, Any]], dict[str, Any]],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Handler for an event source (a schedule, a topic, an API): logging and tracing, then ``work``."""

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return work(services(), event)

    return handler


def scheduled_handler(
    work: Callable[[Services, dict[str, Any], Any], dict[str, Any]],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Handler for a scheduled sweep that paces itself: like :func:`event_handler`, and ``work`` is
    also given the Lambda context (its remaining time)."""

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return work(services(), event, context)

    return handler
