"""Signed, expiring plan acceptance tokens (rapport.payments.tokens)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.payments.tokens import PlanTokenError, PlanTokenExpiredError, PlanTokenSigner

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
SIGNER = PlanTokenSigner("plan-token-secret-0123456789")


def token(plan_id: str = "PL0123456789abcd", expires_at: datetime = NOW + timedelta(days=3)) -> str:
    return SIGNER.issue("ACC-000042", plan_id, expires_at)


def test_an_issued_token_verifies_to_its_account_and_plan():
    claims = SIGNER.verify(token(), "PL0123456789abcd", NOW)
    assert (claims.account_id, claims.plan_id) == ("ACC-000042", "PL0123456789abcd")
    assert claims.expires_at == NOW + timedelta(days=3)


def test_a_token_names_no_amount_and_no_personal_data():
    import base64
    import json

    payload = token().split(".")[0]
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(document) == {"v", "a", "p", "x"}


def test_another_secret_cannot_verify_it():
    with pytest.raises(PlanTokenError, match="bad_signature"):
        PlanTokenSigner("another-secret-0123456789").verify(token(), "PL0123456789abcd", NOW)


def test_a_token_for_one_plan_cannot_accept_another():
    with pytest.raises(PlanTokenError, match="token_for_another_plan"):
        SIGNER.verify(token(), "PLffffffffffffff", NOW)


def test_an_expired_token_is_a_410_and_an_expired_forgery_a_401():
    expired = token(expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(PlanTokenExpiredError) as raised:
        SIGNER.verify(expired, "PL0123456789abcd", NOW)
    assert raised.value.http_status == 410
    with pytest.raises(PlanTokenError) as forged:
        PlanTokenSigner("another-secret-0123456789").verify(expired, "PL0123456789abcd", NOW)
    assert forged.value.http_status == 401


@pytest.mark.parametrize("text", ["", "abc", "a.b.c", "x" * 600, "!!.??"])
def test_malformed_tokens_are_refused(text: str):
    with pytest.raises(PlanTokenError):
        SIGNER.verify(text, "PL0123456789abcd", NOW)


def test_a_secret_shorter_than_16_bytes_is_refused():
    with pytest.raises(ValueError, match="16 bytes"):
        PlanTokenSigner("short")


@given(
    position=st.integers(min_value=0),
    replacement=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789-_"),
)
def test_changing_any_character_of_a_token_never_yields_a_valid_token(position: int, replacement: str):
    # Given a valid token with one character replaced by another
    original = token()
    index = position % len(original)
    if original[index] == replacement or original[index] == ".":
        return
    tampered = original[:index] + replacement + original[index + 1 :]
    # Then it is refused: the signature covers the payload's text exactly as issued
    with pytest.raises(PlanTokenError):
        SIGNER.verify(tampered, "PL0123456789abcd", NOW)
