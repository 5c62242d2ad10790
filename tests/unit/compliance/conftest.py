"""Shared builders for the compliance tests."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from rapport.compliance import ContactDecision, ContactRequest, evaluate_contact
from rapport.models.enums import Channel

ZA_NUMBER = "082 123 4567"


def build_request(**fields: Any) -> ContactRequest:
    values: dict[str, Any] = {
        "account_id": "ACC-1001",
        "debtor_timezone": "Africa/Johannesburg",
        "channel": Channel.SMS,
        "address": ZA_NUMBER,
    }
    values.update(fields)
    return ContactRequest.model_validate(values)


def decide(at: datetime, **fields: Any) -> ContactDecision:
    return evaluate_contact(build_request(**fields), at)


@pytest.fixture
def make_request() -> Callable[..., ContactRequest]:
    return build_request


@pytest.fixture
def decide_at() -> Callable[..., ContactDecision]:
    return decide
