"""A promise an agent takes, ``POST /accounts/{account_id}/promises``: validated, recorded with source
"agent" and the agent as the audit's actor, and handed to the account's waiting journey, which then
waits on it (the tree's TakeAgentPromise)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conversation_helpers import ACCOUNT_ID, NOW, LambdaContext, load_function_handler, park_journey, save_account

from rapport.journey.agent_promises import handle_agent_promise
from rapport.runtime import use_services
from rapport.store.models import AuditModel, JourneyModel, PromiseModel

CALLER = "arn:aws:sts::123456789012:assumed-role/agent-desk/session-1"


def _body(**changes: Any) -> bytes:
    values = {"agent_id": "agent-42", "amount_cents": 50_000, "due_date": "2026-12-11"} | changes
    return json.dumps({k: v for k, v in values.items() if v is not None}).encode()


def _record(services, body: bytes, account_id: str = ACCOUNT_ID) -> tuple[int, dict[str, Any]]:
    return handle_agent_promise(services, account_id, body, CALLER)


def test_a_promise_taken_by_an_agent_resumes_the_waiting_journey_which_then_waits_on_it(services):
    # Given an account whose journey waits for a response
    save_account()
    token = park_journey()

    # When an agent records that the debtor promised R500 by Friday 11 December
    status, answer = _record(services, _body())

    # Then it is recorded as the agent's, checked after the treatment's grace days, for this journey
    assert status == 201 and answer["outcome"] == "recorded" and answer["journey"] == "resumed"
    stored = PromiseModel.get(ACCOUNT_ID, answer["promise_id"])
    assert (stored.source, stored.amount_cents, stored.due_date) == ("agent", 50_000, "2026-12-11")
    assert stored.status == "pending" and stored.journey_id == "J1"
    assert stored.check_date == answer["check_date"] == "2026-12-14"  # Fri + 2 grace days, then Monday
    # And the audit names the agent as the actor, and the signed caller
    (entry,) = [e for e in AuditModel.query(ACCOUNT_ID) if e.action == "promise_recorded"]
    assert entry.actor == "agent:agent-42" and entry.inputs["source"] == "agent"
    assert entry.inputs["caller"] == CALLER
    # And the journey is resumed once, with the promise it must now wait on
    (resumed_token, output) = services.stepfunctions.resumed[0]
    assert resumed_token == token and len(services.stepfunctions.resumed) == 1
    assert output == {
        "kind": "promise",
        "promise_id": answer["promise_id"],
        "due_date": "2026-12-11",
        "amount_cents": 50_000,
        "waiting_for": "response",
    }
    assert JourneyModel.get(ACCOUNT_ID, "J1").task_token is None


def test_an_agent_promise_while_a_promise_is_pending_replaces_it(services):
    # Given a journey waiting on a promise from a reply
    save_account()
    park_journey(waiting_for="promise")
    PromiseModel(
        ACCOUNT_ID,
        "P-reply",
        amount_cents=245_000,
        due_date="2026-12-09",
        check_date="2026-12-14",
        made_at=NOW - timedelta(days=1),
        source="reply",
        journey_id="J1",
    ).save()

    # When an agent records a new one
    status, answer = _record(services, _body(due_date="2026-12-18"))

    # Then the reply's promise is set aside for it and the journey goes back to its promise wait
    assert status == 201
    assert PromiseModel.get(ACCOUNT_ID, "P-reply").status == "replaced"
    assert PromiseModel.get(ACCOUNT_ID, answer["promise_id"]).status == "pending"
    assert services.stepfunctions.resumed[0][1]["waiting_for"] == "promise"


def test_a_retried_call_records_the_promise_once(services):
    save_account()
    park_journey()
    first = _record(services, _body())
    second = _record(services, _body())
    assert (first[0], second[0]) == (201, 200)
    assert second[1] == {
        "outcome": "already_recorded",
        "promise_id": first[1]["promise_id"],
        "check_date": first[1]["check_date"],
    }
    assert len(list(PromiseModel.query(ACCOUNT_ID))) == 1
    assert len(services.stepfunctions.resumed) == 1


def test_with_no_journey_waiting_the_promise_is_recorded_and_says_so(services):
    save_account()
    status, answer = _record(services, _body())
    assert (status, answer["journey"]) == (201, "none_waiting")
    assert PromiseModel.get(ACCOUNT_ID, answer["promise_id"]).journey_id is None
    assert services.stepfunctions.resumed == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (_body(amount_cents=0), ["amount_cents"]),
        (_body(amount_cents="500"), ["amount_cents"]),
        (_body(amount_cents=10.5), ["amount_cents"]),
        (_body(due_date="next friday"), ["due_date"]),
        (_body(agent_id=""), ["agent_id"]),
        (_body(agent_id=None), ["agent_id"]),
        (_body(surprise=True), ["surprise"]),
        (_body(due_date="2026-12-01"), ["due_date"]),  # in the past (today is 7 December)
        (_body(due_date="2027-06-01"), ["due_date"]),  # months ahead: a plan, not a promise
        (_body(amount_cents=245_001), ["amount_cents"]),  # more than the balance
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_recorded(services, body, fields):
    save_account()
    park_journey()
    status, answer = _record(services, body)
    assert (status, answer["reason"], answer["fields"]) == (400, "invalid_request", fields)
    assert set(answer["problems"]) == set(fields)
    assert list(PromiseModel.query(ACCOUNT_ID)) == []
    assert services.stepfunctions.resumed == []


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff"])
def test_a_body_that_is_not_a_json_object_is_refused(services, raw):
    save_account()
    assert _record(services, raw) == (
        400,
        {"outcome": "rejected", "reason": "unparseable_body", "message": "the body must be a JSON object"},
    )


def test_an_unknown_account_is_not_found(services):
    assert _record(services, _body(), account_id="ACC-404") == (
        404,
        {"outcome": "rejected", "reason": "unknown_account"},
    )
    assert list(PromiseModel.scan()) == []


def test_a_debtor_with_two_recent_broken_promises_is_refused_a_plain_promise(services):
    # Given two promises broken in the last 90 days
    save_account()
    for number, days_ago in enumerate((30, 10)):
        checked = (NOW - timedelta(days=days_ago)).date()
        PromiseModel(
            ACCOUNT_ID,
            f"P-old-{number}",
            amount_cents=50_000,
            due_date=(checked - timedelta(days=3)).isoformat(),
            check_date=checked.isoformat(),
            made_at=NOW - timedelta(days=days_ago + 5),
            source="reply",
            status="broken",
        ).save()

    # When an agent records a third, then it is refused with the reason, and the refusal audited
    status, answer = _record(services, _body())
    assert (status, answer["reason"], answer["broken_in_window"]) == (409, "too_many_broken_promises", 2)
    refused = [e for e in AuditModel.query(ACCOUNT_ID) if e.action == "promise_refused"]
    assert [e.actor for e in refused] == ["agent:agent-42"]


# -- the function behind the route ------------------------------------------------------------------


@pytest.fixture
def handler(services) -> Iterator[Any]:
    loaded = load_function_handler("record_agent_promise")
    use_services(services)
    yield loaded
    use_services(None)


def test_the_function_takes_api_gateways_event_and_answers_in_json(services, handler):
    # Given an account with a waiting journey
    save_account()
    park_journey()
    event = {
        "resource": "/accounts/{account_id}/promises",
        "httpMethod": "POST",
        "pathParameters": {"account_id": ACCOUNT_ID},
        "requestContext": {"identity": {"userArn": CALLER}},
        "body": _body().decode(),
        "isBase64Encoded": False,
    }

    # When API Gateway hands the function the agent's signed request
    response = handler(event, LambdaContext("record_agent_promise"))

    # Then it answers 201 in JSON with the promise, recorded and handed to the journey
    assert response["statusCode"] == 201
    assert response["headers"] == {"Content-Type": "application/json"}
    answer = json.loads(response["body"])
    assert answer["journey"] == "resumed"
    assert PromiseModel.get(ACCOUNT_ID, answer["promise_id"]).source == "agent"
