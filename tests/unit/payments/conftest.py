"""Fakes shared by the payment tests: a recording HTTP transport and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rapport.payments import HttpRequest, HttpResponse, LinkPurpose, PaymentLinkRequest

FIXED_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class RecordingTransport:
    """A fake of our HttpTransport port: records each request and answers from a script."""

    def __init__(self, *responses: HttpResponse) -> None:
        self._responses = list(responses)
        self.requests: list[HttpRequest] = []

    def send(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if not self._responses:
            raise AssertionError("the adapter sent more requests than the test scripted")
        return self._responses.pop(0)


@pytest.fixture
def webhook_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def payment_link_request() -> PaymentLinkRequest:
    return PaymentLinkRequest(
        link_id="lnk_0001abcd",
        account_id="acc_42",
        amount_cents=150_050,
        purpose=LinkPurpose.SETTLEMENT,
        expires_at=FIXED_NOW + timedelta(days=3),
        return_url="https://pay.example.test/thanks",
        description="Settlement of account 42",
    )


@pytest.fixture
def recording_transport() -> type[RecordingTransport]:
    return RecordingTransport
