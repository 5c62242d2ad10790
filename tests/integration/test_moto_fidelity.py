"""The local cloud answers a journey's callbacks as AWS does, where plain moto does not.

A journey parks a task token and waits; inbound replies and webhooks hand it what arrived. In AWS a token
is good once, and only while its task waits: after a timeout SendTaskSuccess fails with TaskTimedOut, after
a first use with TaskDoesNotExist or InvalidToken. The callers rely on that to fall back (a reply goes to
a person, or starts its own journey) rather than being handed to nobody.
"""

from __future__ import annotations

import json

import pytest
from journey_helpers import account, finished, load, start

from rapport.store.models import JourneyModel

pytestmark = pytest.mark.integration


def _token(account_id: str, journey_id: str) -> str:
    token = JourneyModel.get(account_id, journey_id, consistent_read=True).task_token
    assert token
    return token


def test_a_token_whose_wait_timed_out_is_refused_with_task_timed_out(make_cloud):
    # Given a journey that parked its token and then gave up waiting (the next attempt has parked since)
    cloud, waits = make_cloud()
    debtor = account(31)
    load(cloud, debtor, stated_channel=None)
    journey_id = start(cloud, debtor.account_id, reply_timeout=1)
    waits.wait(debtor.account_id)
    first_token = _token(debtor.account_id, journey_id)
    waits.wait(debtor.account_id)
    assert _token(debtor.account_id, journey_id) != first_token
    sfn = cloud.services.stepfunctions

    # When something arrives for the first wait, late
    # Then Step Functions refuses it, so the caller knows the journey never got it
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=first_token, output=json.dumps({"kind": "reply", "reply_id": "late"}))
    assert finished(cloud, journey_id, timeout=90)["status"] == "SUCCEEDED"


def test_a_token_is_good_once(make_cloud):
    # Given a journey waiting on its token
    cloud, waits = make_cloud()
    debtor = account(32)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=30)
    waits.wait(debtor.account_id)
    token = _token(debtor.account_id, journey_id)
    sfn = cloud.services.stepfunctions

    # When the token is used, and then used again
    part_payment = json.dumps({"kind": "payment", "settled": False, "amount_cents": 100})
    sfn.send_task_success(taskToken=token, output=part_payment)
    waits.wait(debtor.account_id)

    # Then the second use is refused: the task it belonged to is over
    with pytest.raises((sfn.exceptions.TaskDoesNotExist, sfn.exceptions.InvalidToken)):
        sfn.send_task_success(taskToken=token, output=part_payment)


def test_a_reply_after_the_wait_timed_out_is_read_by_the_journey_not_lost(make_cloud):
    import threading
    import time

    from rapport.store.models import AccountModel, ContactModel

    # Given a journey whose await_response returns slowly, so moto's callback wait starts after the task's
    # own one-second clock, and whose next attempt is slow to plan
    cloud, _ = make_cloud()
    debtor = account(33)
    load(cloud, debtor, stated_channel=None)
    between = threading.Event()
    parks = []

    def slow(function, event, result):
        if function == "await_response":
            parks.append(event["task_token"])
            if len(parks) == 1:
                time.sleep(2.5)
        if function == "plan_contact" and event["attempt"] == 1:
            between.set()  # the first wait has timed out; the journey is between two steps
            time.sleep(2)

    cloud.on_invoke(slow)
    journey_id = start(cloud, debtor.account_id, reply_timeout=1)
    assert between.wait(30)

    # When a reply comes after the wait timed out, before the journey parks again
    counts = cloud.reply_by_sms(AccountModel.get(debtor.account_id).phone, "How much do I owe exactly?")
    assert finished(cloud, journey_id, timeout=90)["status"] == "SUCCEEDED"

    # Then it was not handed to the wait that had ended: it was queued, and the journey read it when it parked
    (reply,) = [c for c in ContactModel.query(debtor.account_id) if c.direction == "in"]
    assert counts["queued"] == 1 and reply.intent == "balance_query", counts


def test_a_callback_after_the_timeout_but_before_the_state_has_moved_on_is_refused(make_cloud):
    from unittest import mock

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_lambda

    # Given a journey parked on its token, whose wait times out after one second
    cloud, waits = make_cloud()
    debtor = account(34)
    load(cloud, debtor, stated_channel=None)
    sfn = cloud.services.stepfunctions
    task_state = state_task_service_lambda.StateTaskServiceLambda
    original_from_error = task_state._from_error
    answers: list[str] = []

    def from_error(self, env, ex):
        # moto calls this once the timeout has fired, before the Catch and before the state is over
        if type(ex).__name__ == "EvalTimeoutError" and not answers:
            try:
                token = _token(debtor.account_id, journey_id)
                sfn.send_task_success(taskToken=token, output=json.dumps({"kind": "reply"}))
                answers.append("accepted")
            except sfn.exceptions.TaskTimedOut:
                answers.append("TaskTimedOut")
        return original_from_error(self, env, ex)

    with mock.patch.object(task_state, "_from_error", from_error):
        journey_id = start(cloud, debtor.account_id, reply_timeout=1)
        waits.wait(debtor.account_id)
        waits.wait(debtor.account_id)  # the next attempt has parked: the first wait timed out

    # Then the late callback was refused, as AWS refuses it, not accepted and dropped
    assert answers == ["TaskTimedOut"]
    assert finished(cloud, journey_id, timeout=90)["status"] == "SUCCEEDED"
