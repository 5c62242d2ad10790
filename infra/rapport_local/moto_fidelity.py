"""Patches that make moto answer as AWS does where it does not, for behaviour Rapport relies on.

Unlike :mod:`rapport_local.moto_speedups`, these change moto's answers, to the ones AWS documents. Each
says what AWS does, what moto does instead, and when it can go. :func:`install` enters them on an
``ExitStack``; leaving the stack restores moto.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any
from unittest import mock


def install(stack: ExitStack) -> None:
    """Enter every fidelity patch on ``stack`` (inside ``mock_aws``)."""
    refuse_callbacks_to_finished_tasks(stack)
    answer_callbacks_with_the_errors_aws_gives(stack)


def refuse_callbacks_to_finished_tasks(stack: ExitStack) -> None:
    # NOTE: in AWS, SendTaskSuccess with the token of a .waitForTaskToken task that has timed out fails
    # with TaskTimedOut, so the caller knows the journey never got what it sent. moto's interpreter never
    # marks the task's callback as finished: the call succeeds and the outcome is dropped. A reply that
    # came between a wait's timeout and the journey's next park was therefore "delivered" to nobody.
    # Here a task's token is marked finished, under the same lock as the callback's notification, as soon
    # as its state gives up (its own timeout, which fires before the waiting thread notices) and again when
    # the state is over for any reason; moto's send_task_success then refuses it. What is left: a callback
    # in the instant between moto deciding the timeout and this wrapper taking the lock (a few statements),
    # or one accepted just before the deadline that moto's waiting thread had not yet passed on, is still
    # dropped; closing that would mean replacing moto's timeout logic. Drop all this when moto's callback
    # endpoint reports its consumer's end itself.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
    from moto.stepfunctions.parser.asl.eval.callback import callback

    lock = threading.Lock()
    task_state = state_task_service_callback.StateTaskServiceCallback
    original_eval_body = task_state._eval_body
    original_notify = callback.CallbackEndpoint.notify

    original_evaluate = task_state._evaluate_with_timeout

    def finish(endpoint: Any) -> None:
        # Under the lock: a notification either landed before this (and counts) or is refused after it.
        if endpoint is not None and endpoint.consumer_error is None:
            taken = endpoint.get_outcome() is not None
            endpoint.report((callback.CallbackConsumerLeft if taken else callback.CallbackConsumerTimeout)())

    def evaluate_with_timeout(self: Any, env: Any) -> None:
        # The state's own clock ran out: refuse its token at once, before moto records the failure and
        # runs the Catch, which is when the next state (and a reply's resume) may already be under way.
        try:
            original_evaluate(self, env)
        except Exception:
            token = (env.states.context_object.context_object_data.get("Task") or {}).get("Token")
            with lock:
                finish(env.callback_pool_manager._pool.get(token) if token else None)
            raise

    def eval_body(self: Any, env: Any) -> None:
        pool = env.callback_pool_manager._pool
        issued_before = set(pool)
        try:
            original_eval_body(self, env)
        finally:
            with lock:
                for token in set(pool) - issued_before:
                    finish(pool[token])

    def notify(self: Any, outcome: Any) -> None:
        with lock:
            if self.consumer_error is not None:
                raise callback.CallbackNotifyConsumerError(callback_consumer_error=self.consumer_error)
            original_notify(self, outcome)

    stack.enter_context(mock.patch.object(task_state, "_eval_body", eval_body))
    stack.enter_context(mock.patch.object(task_state, "_evaluate_with_timeout", evaluate_with_timeout, create=True))
    stack.enter_context(mock.patch.object(callback.CallbackEndpoint, "notify", notify))


def answer_callbacks_with_the_errors_aws_gives(stack: ExitStack) -> None:
    # NOTE: moto's SendTaskSuccess and SendTaskFailure build TaskTimedOut, TaskDoesNotExist and
    # InvalidToken without the message their base class requires (a TypeError instead of the error), and
    # test the wrapper exception rather than its cause, so a timed-out task would read as one that no
    # longer exists. These answer as AWS does: TaskTimedOut after a timeout, TaskDoesNotExist after the
    # task ended otherwise, InvalidToken for a token no running execution holds. Drop when moto does.
    from moto.stepfunctions.parser import models
    from moto.stepfunctions.parser.api import ExecutionStatus, InvalidToken, TaskDoesNotExist, TaskTimedOut
    from moto.stepfunctions.parser.asl.eval.callback import callback

    def notify_running(backend: Any, task_token: str, outcome: Any) -> None:
        for execution in backend._get_executions(ExecutionStatus.RUNNING):
            try:
                if execution.exec_worker.env.callback_pool_manager.notify(callback_id=task_token, outcome=outcome):
                    return
            except callback.CallbackNotifyConsumerError as error:
                if isinstance(error.callback_consumer_error, callback.CallbackConsumerTimeout):
                    raise TaskTimedOut("Task Timed Out", "TaskTimedOut") from None
                raise TaskDoesNotExist("Task does not exist anymore", "TaskDoesNotExist") from None
        raise InvalidToken("Invalid Token", "InvalidToken")

    def send_task_success(backend: Any, task_token: str, outcome: str) -> Any:
        notify_running(backend, task_token, callback.CallbackOutcomeSuccess(callback_id=task_token, output=outcome))
        return models.SendTaskSuccessOutput()

    def send_task_failure(backend: Any, task_token: str, error: Any = None, cause: Any = None) -> Any:
        failure = callback.CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
        notify_running(backend, task_token, failure)
        return models.SendTaskFailureOutput()

    backend = models.StepFunctionsParserBackend
    stack.enter_context(mock.patch.object(backend, "send_task_success", send_task_success))
    stack.enter_context(mock.patch.object(backend, "send_task_failure", send_task_failure))
