"""Simulated debtors deliver a payment webhook again after a 5xx, as payment rails do.

A payment the webhook answered with 503 (a plan's acceptance still being written, a conflicting
update) used to be counted as refused and never sent again, so the run lost real payments.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from rapport.payments import PaymentLinkRequest, SandboxProvider, StaleWebhookError
from rapport_local.debtors import SimulatedDebtors

SECRET = "sandbox-secret-for-tests"


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class _Cloud:
    """Just what the debtors use to pay: a sandbox rail and a webhook answering from a script."""

    def __init__(self, answers: list[int], clock: _Clock) -> None:
        self.sandbox = SandboxProvider(SECRET, clock=clock)
        self.services = SimpleNamespace(payments={"sandbox": self.sandbox})
        self.answers = answers
        self.posted: list[tuple[dict[str, str], bytes]] = []

    def latest_link_payment(self, account_id: str, amount_cents: int) -> tuple[str, dict[str, str], bytes]:
        link = self.sandbox.create_link(
            PaymentLinkRequest(
                link_id="lnk_0001abcd",
                account_id=account_id,
                amount_cents=amount_cents,
                currency="ZAR",
                expires_at=datetime(2026, 12, 14, tzinfo=UTC),
                purpose="balance",
                description="Balance",
            )
        )
        return "sandbox", *self.sandbox.pay(link, amount_cents)

    def on_invoke(self, observer: object) -> None:
        """The debtors watch every invocation; nothing is invoked here."""

    def post_webhook(self, provider: str, headers: dict[str, str], body: bytes) -> dict[str, int]:
        self.posted.append((headers, body))
        return {"statusCode": self.answers.pop(0) if self.answers else 200}


@pytest.fixture
def replies_file(tmp_path: Path) -> Path:
    path = tmp_path / "replies.jsonl"
    path.write_text(json.dumps({"text": "I will pay on Friday", "intent": "promise_to_pay"}) + "\n")
    return path


def _pay_and_wait(cloud: _Cloud, replies_file: Path, expected_posts: int) -> SimulatedDebtors:
    account = SimpleNamespace(account_id="ACC-000001")
    with SimulatedDebtors(cloud, replies_file, react_after_seconds=0.01) as debtors:  # type: ignore[arg-type]
        debtors._pay(account, 50_000, "paid_full")  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while len(cloud.posted) < expected_posts and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    return debtors


def test_a_payment_answered_with_503_is_delivered_again_the_same_event_signed_afresh(replies_file):
    # Given a webhook that is busy once, then takes the payment
    clock = _Clock()
    cloud = _Cloud([503, 200], clock)

    # When the debtor pays
    debtors = _pay_and_wait(cloud, replies_file, expected_posts=2)

    # Then the same event went out twice and the second was taken; nothing counts as refused
    first_body, second_body = (body for _, body in cloud.posted)
    assert second_body == first_body
    assert debtors.actions["payment_webhook_redelivered"] == 1
    assert not [action for action in debtors.actions if action.startswith("webhook_refused")]
    assert debtors.errors == []


def test_a_payment_still_refused_after_every_attempt_is_counted_as_refused(replies_file):
    cloud = _Cloud([503] * 10, _Clock())

    debtors = _pay_and_wait(cloud, replies_file, expected_posts=6)

    assert len(cloud.posted) == 6
    assert debtors.actions["payment_webhook_redelivered"] == 5
    assert debtors.actions["webhook_refused_503"] == 1


def test_a_redelivery_is_signed_at_its_own_time_so_a_late_retry_is_not_stale():
    # Given an event signed when the debtor paid
    clock = _Clock()
    sandbox = SandboxProvider(SECRET, clock=clock)
    link = sandbox.create_link(
        PaymentLinkRequest(
            link_id="lnk_0001abcd",
            account_id="ACC-000001",
            amount_cents=50_000,
            currency="ZAR",
            expires_at=datetime(2026, 12, 14, tzinfo=UTC),
            purpose="balance",
            description="Balance",
        )
    )
    headers, body = sandbox.pay(link, 50_000)

    # When it is delivered again an hour later
    clock.now += timedelta(hours=1)

    # Then the first signature is stale by then, and the redelivery's is accepted for the same event
    with pytest.raises(StaleWebhookError):
        sandbox.parse_webhook(headers, body, clock.now)
    again = sandbox.parse_webhook(sandbox.redelivery_headers(body), body, clock.now)
    assert again.event_id == sandbox.parse_webhook(headers, body, clock.now - timedelta(hours=1)).event_id
