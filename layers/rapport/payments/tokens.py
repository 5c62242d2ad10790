"""Signed, expiring tokens for self-service links: a debtor accepting the plan they were offered, or paying
its instalments.

A token is ``<account>.<expiry>.<signature>``: the account id in unpadded base64url, the expiry in unix
seconds written in base 36, and the first 16 bytes of an HMAC-SHA256 (unpadded base64url) keyed with the
client's ``plan_token_secret`` over the token's version, its purpose (``accept`` or ``pay``), the account,
the plan and the expiry. The plan id is not in the token: it is the link's path, and the signature binds
the two, so a token for one plan cannot be used with another, and an acceptance token cannot open the pay
link. About 45 characters, so a plan offer with its link fits two SMS segments. A token proves that
Rapport offered this plan to this account and says until when. It carries no personal data and no amount:
what is accepted is the schedule stored with the plan, never anything the caller sends.

Version 1 tokens (``<payload>.<signature>``: base64url JSON ``{"v", "a", "p", "x"}`` and its full HMAC,
bound to no purpose) are still verified until they expire. NOTE: they can be dropped once no version 1
link is unexpired (the longest offer and pay-link window after the release that stopped issuing them).

Checks, in order: shape and size, signature (constant time), the plan it names (version 1), then expiry.
Expiry is checked last so that an expired *forgery* is reported as a forgery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

TOKEN_VERSION = 2
LEGACY_TOKEN_VERSION = 1
MAX_TOKEN_LENGTH = 512
MIN_SECRET_BYTES = 16
SIGNATURE_BYTES = 16
# What a token may be used for: accepting the plan offered, or paying its instalments.
ACCEPT = "accept"
PAY = "pay"
PURPOSES = (ACCEPT, PAY)


class PlanTokenError(Exception):
    """The token is missing, malformed, forged or for another plan. ``reason`` is safe to log."""

    http_status = 401

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PlanTokenExpiredError(PlanTokenError):
    """An authentic token whose time is up: the offer behind it can no longer be accepted."""

    http_status = 410


class PlanTokenClaims(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str = Field(min_length=1, max_length=64)
    plan_id: str = Field(min_length=1, max_length=64)
    expires_at: AwareDatetime


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise PlanTokenError("malformed_token") from error


class PlanTokenSigner:
    """Issues and verifies plan tokens with one secret (kept in the client's payment secret)."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < MIN_SECRET_BYTES:
            raise ValueError("a plan token secret needs at least 16 bytes")
        self._key = key

    def _sign(self, payload: str) -> str:
        return _encode(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def _short_signature(self, purpose: str, account_id: str, plan_id: str, expiry: int) -> str:
        signed = f"{TOKEN_VERSION}|{purpose}|{account_id}|{plan_id}|{expiry}".encode()
        return _encode(hmac.new(self._key, signed, hashlib.sha256).digest()[:SIGNATURE_BYTES])

    def issue(self, account_id: str, plan_id: str, expires_at: datetime, *, purpose: str) -> str:
        """A token for ``purpose`` (``ACCEPT`` or ``PAY``) on this account's plan, valid until ``expires_at``."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose: {purpose}")
        claims = PlanTokenClaims(account_id=account_id, plan_id=plan_id, expires_at=expires_at)
        expiry = int(claims.expires_at.timestamp())
        signature = self._short_signature(purpose, claims.account_id, claims.plan_id, expiry)
        return f"{_encode(claims.account_id.encode())}.{_base36(expiry)}.{signature}"

    def verify(self, token: str, plan_id: str, now: datetime, *, purpose: str) -> PlanTokenClaims:
        """The claims of an authentic, current token for ``plan_id`` and ``purpose``; raises
        ``PlanTokenError``."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") not in (1, 2):
            raise PlanTokenError("malformed_token")
        if token.count(".") == 1:
            return self._verify_legacy(token, plan_id, now)
        account_text, expiry_text, signature = token.split(".")
        # Lower-case base 36 digits only: int() would also take a sign, capitals and underscores.
        if not _EXPIRY_DIGITS.fullmatch(expiry_text):
            raise PlanTokenError("malformed_token")
        try:
            account_id = _decode(account_text).decode("utf-8")
            expiry = int(expiry_text, 36)
        except (UnicodeDecodeError, ValueError) as error:
            raise PlanTokenError("malformed_token") from error
        # One spelling per token: base 36 reads "P" as "p", and base64url's last character has spare bits, so
        # another spelling of the same account or expiry is refused rather than accepted as the same token.
        if _encode(account_id.encode()) != account_text or _base36(expiry) != expiry_text:
            raise PlanTokenError("malformed_token")
        expected = self._short_signature(purpose, account_id, plan_id, expiry)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise PlanTokenError("bad_signature")
        try:
            claims = PlanTokenClaims(
                account_id=account_id, plan_id=plan_id, expires_at=datetime.fromtimestamp(expiry, tz=UTC)
            )
        except (ValidationError, OverflowError, ValueError) as error:
            raise PlanTokenError("malformed_token") from error
        if claims.expires_at <= now:
            raise PlanTokenExpiredError("token_expired")
        return claims

    def _verify_legacy(self, token: str, plan_id: str, now: datetime) -> PlanTokenClaims:
        """A version 1 token, issued before tokens carried a purpose; valid for either link until it expires."""
        payload, signature = token.split(".")
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode()):
            raise PlanTokenError("bad_signature")
        try:
            document = json.loads(_decode(payload))
            claims = PlanTokenClaims(
                account_id=document["a"],
                plan_id=document["p"],
                expires_at=datetime.fromtimestamp(int(document["x"]), tz=UTC),
            )
            version = document["v"]
        except (ValueError, KeyError, TypeError, ValidationError, OverflowError) as error:
            raise PlanTokenError("malformed_token") from error
        if version != LEGACY_TOKEN_VERSION:
            raise PlanTokenError("unknown_token_version")
        if claims.plan_id != plan_id:
            raise PlanTokenError("token_for_another_plan")
        if claims.expires_at <= now:
            raise PlanTokenExpiredError("token_expired")
        return claims


_EXPIRY_DIGITS = re.compile(r"[0-9a-z]{1,13}")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if number == 0:
            return text
