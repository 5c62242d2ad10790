"""Signed, expiring plan tokens (rapport.payments.tokens): short enough for an SMS, bound to a plan and a
purpose, and the version 1 tokens already sent still honoured until they expire."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.payments.tokens import ACCEPT, PAY, PlanTokenError, PlanTokenExpiredError, PlanTokenSigner

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
SECRET = "plan-token-secret-0123456789"
SIGNER = PlanTokenSigner(SECRET)
PLAN = "PL0123456789abcd"


def token(plan_id: str = PLAN, expires_at: datetime = NOW + timedelta(days=3), purpose: str = ACCEPT) -> str:
    return SIGNER.issue("ACC-000042", plan_id, expires_at, purpose=purpose)


def legacy_token(plan_id: str = PLAN, expires_at: datetime = NOW + timedelta(days=3), version: int = 1) -> str:
    """A token as version 1 issued them: base64url JSON and its full HMAC."""
    document = {"v": version, "a": "ACC-000042", "p": plan_id, "x": int(expires_at.timestamp())}
    payload = base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), payload, hashlib.sha256).digest()).rstrip(b"=")
    return f"{payload.decode()}.{signature.decode()}"


def test_an_issued_token_verifies_to_its_account_and_plan():
    claims = SIGNER.verify(token(), PLAN, NOW, purpose=ACCEPT)
    assert (claims.account_id, claims.plan_id) == ("ACC-000042", PLAN)
    assert claims.expires_at == NOW + timedelta(days=3)


def test_a_token_is_short_enough_for_an_sms_link_and_names_only_the_account():
    # Given an issued token
    issued = token()
    # Then it is about 45 URL-safe characters (version 1 took about 130), and its only readable part is the
    # account id: no plan, no amount, no personal data
    assert len(issued) <= 48
    assert set(issued) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    account, expiry, _ = issued.split(".")
    assert base64.urlsafe_b64decode(account + "=" * (-len(account) % 4)) == b"ACC-000042"
    assert int(expiry, 36) == int((NOW + timedelta(days=3)).timestamp())


def test_another_secret_cannot_verify_it():
    with pytest.raises(PlanTokenError, match="bad_signature"):
        PlanTokenSigner("another-secret-0123456789").verify(token(), PLAN, NOW, purpose=ACCEPT)


def test_a_token_for_one_plan_cannot_be_used_with_another():
    with pytest.raises(PlanTokenError, match="bad_signature"):
        SIGNER.verify(token(), "PLffffffffffffff", NOW, purpose=ACCEPT)


def test_an_acceptance_token_cannot_pay_and_a_pay_token_cannot_accept():
    with pytest.raises(PlanTokenError, match="bad_signature"):
        SIGNER.verify(token(purpose=ACCEPT), PLAN, NOW, purpose=PAY)
    with pytest.raises(PlanTokenError, match="bad_signature"):
        SIGNER.verify(token(purpose=PAY), PLAN, NOW, purpose=ACCEPT)
    assert SIGNER.verify(token(purpose=PAY), PLAN, NOW, purpose=PAY).plan_id == PLAN


def test_an_unknown_purpose_is_refused_when_issuing():
    with pytest.raises(ValueError, match="purpose"):
        SIGNER.issue("ACC-000042", PLAN, NOW + timedelta(days=1), purpose="refund")


def test_an_expired_token_is_a_410_and_an_expired_forgery_a_401():
    expired = token(expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(PlanTokenExpiredError) as raised:
        SIGNER.verify(expired, PLAN, NOW, purpose=ACCEPT)
    assert raised.value.http_status == 410
    with pytest.raises(PlanTokenError) as forged:
        PlanTokenSigner("another-secret-0123456789").verify(expired, PLAN, NOW, purpose=ACCEPT)
    assert forged.value.http_status == 401


def test_a_version_1_token_already_sent_still_verifies_for_its_plan_until_it_expires():
    # Given a version 1 token, issued before tokens were shortened
    old = legacy_token()
    # Then it verifies for its plan, for either link, and not for another plan or once expired
    assert SIGNER.verify(old, PLAN, NOW, purpose=ACCEPT).account_id == "ACC-000042"
    assert SIGNER.verify(old, PLAN, NOW, purpose=PAY).plan_id == PLAN
    with pytest.raises(PlanTokenError, match="token_for_another_plan"):
        SIGNER.verify(old, "PLffffffffffffff", NOW, purpose=ACCEPT)
    with pytest.raises(PlanTokenExpiredError):
        SIGNER.verify(legacy_token(expires_at=NOW - timedelta(seconds=1)), PLAN, NOW, purpose=ACCEPT)
    with pytest.raises(PlanTokenError, match="unknown_token_version"):
        SIGNER.verify(legacy_token(version=7), PLAN, NOW, purpose=ACCEPT)


def test_another_spelling_of_the_same_token_is_refused():
    # Given a token, and the same token with its expiry in capitals (base 36 reads them alike)
    issued = token()
    account, expiry, signature = issued.split(".")
    # Then only the spelling that was issued is accepted
    with pytest.raises(PlanTokenError, match="malformed_token"):
        SIGNER.verify(f"{account}.{expiry.upper()}.{signature}", PLAN, NOW, purpose=ACCEPT)


@pytest.mark.parametrize(
    "text", ["", "abc", "a.b.c.d", "x" * 600, "!!.??", "!!.??.##", "QUND.zz!.abc", "QUND.-tqvuo0.abc", "QUND.t_q.abc"]
)
def test_malformed_tokens_are_refused(text: str):
    with pytest.raises(PlanTokenError):
        SIGNER.verify(text, PLAN, NOW, purpose=ACCEPT)


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
    # Then it is refused: the signature covers the account, the plan, the purpose and the expiry
    with pytest.raises(PlanTokenError):
        SIGNER.verify(tampered, PLAN, NOW, purpose=ACCEPT)
