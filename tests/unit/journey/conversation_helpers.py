"""Records and fakes for the conversation domain tests: the debtor of the shared event files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rapport.store.models import (
    AccountModel,
    ContactModel,
    Debtor,
    JourneyModel,
)

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
EVENTS = Path(__file__).parents[1] / "messaging" / "events"
# The debtor the shared event files in tests/unit/messaging/events speak of.
ACCOUNT_ID = "ACC-1001"
PHONE = "+27825550123"
EMAIL = "thandi.debtor@example.com"


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def real_seconds(self, span: timedelta) -> int:
        return max(0, int(span.total_seconds()))


class _TaskTimedOut(Exception):
    pass


class _InvalidToken(Exception):
    pass


class _TaskDoesNotExist(Exception):
    pass


class _ExecutionAlreadyExists(Exception):
    pass


class FakeStepFunctions:
    """Keeps each ``send_task_success`` and ``start_execution`` call; the exceptions are the ones
    resume_journey and start_reply_journey catch. A second start under one name is refused, as
    Step Functions refuses it."""

    class exceptions:
        TaskTimedOut = _TaskTimedOut
        InvalidToken = _InvalidToken
        TaskDoesNotExist = _TaskDoesNotExist
        ExecutionAlreadyExists = _ExecutionAlreadyExists

    def __init__(self) -> None:
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.started: dict[str, dict[str, Any]] = {}

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, str]:
        if name in self.started:
            raise _ExecutionAlreadyExists(name)
        self.started[name] = json.loads(input)
        return {"executionArn": f"{stateMachineArn}:{name}"}

    def send_task_success(self, taskToken: str, output: str) -> None:
        self.resumed.append((taskToken, json.loads(output)))


def save_account(account_id: str = ACCOUNT_ID, **changes: Any) -> AccountModel:
    values = {"phone": PHONE, "email": EMAIL, "balance_cents": 245_000, "days_past_due": 60}
    debtor = Debtor(first_name="Thandi", last_name="Debtor")
    account = AccountModel(account_id, debtor=debtor, **(values | changes))
    account.save()
    return account


def park_journey(account_id: str = ACCOUNT_ID, journey_id: str = "J1", waiting_for: str = "response") -> str:
    """A journey waiting on its task token, as await_response leaves it; returns the token."""
    token = f"token-{journey_id}"
    JourneyModel(
        account_id,
        journey_id,
        started_at=NOW - timedelta(hours=1),
        status="waiting",
        task_token=token,
        waiting_for=waiting_for,
        waiting_since=NOW - timedelta(minutes=30),
    ).save()
    return token


def save_sent(
    contact_id: str,
    provider_message_id: str,
    channel: str = "sms",
    *,
    account_id: str = ACCOUNT_ID,
    journey_id: str | None = "J1",
    minutes_ago: int = 30,
) -> ContactModel:
    contact = ContactModel(
        account_id,
        contact_id,
        at=NOW - timedelta(minutes=minutes_ago),
        direction="out",
        channel=channel,
        status="sent",
        journey_id=journey_id,
        template_id="first_notice",
        provider_message_id=provider_message_id,
    )
    contact.save()
    return contact


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


class LambdaContext:
    """What Powertools reads of a Lambda context, for one catalogue function."""

    def __init__(self, function: str) -> None:
        self.function_name = f"rapport-acme-za-{function.replace('_', '-')}"
        self.invoked_function_arn = f"arn:aws:lambda:af-south-1:123456789012:function:{self.function_name}"
        self.aws_request_id = "req-1"
        self.memory_limit_in_mb = 512
        self.function_version = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def load_function_handler(function: str) -> Any:
    """The ``handler`` of ``functions/<function>/handler.py``, loaded as Lambda loads it (a file, not a package)."""
    import importlib.util

    from rapport_infra.catalogue import function_spec

    path = function_spec(function).folder / "handler.py"
    module_spec = importlib.util.spec_from_file_location(f"rapport_function_{function}_under_test", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.handler
