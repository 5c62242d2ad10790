"""Signed, expiring tokens for self-service links: a debtor accepting the plan they were offered.

A token is ``<payload>.<signature>``, both unpadded base64url. The payload is compact JSON
``{"v": 1, "a": <account id>, "p": <plan id>, "x": <expiry, unix seconds>}``; the signature is the
HMAC-SHA256 of the payload's base64url text, keyed with the client's ``plan_token_secret``. A token
proves that Rapport offered this plan to this account and says until when. It carries no personal
data and no amount: what is accepted is the schedule stored with the plan, never anything the
caller sends.

Checks, in order: shape and size, signature (constant time), the plan it names (a token for one
plan cannot accept another), then expiry. Expiry is checked last so that an expired *forgery* is
reported as a forgery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

TOKEN_VERSION = 1
MAX_TOKEN_LENGTH = 512
MIN_SECRET_BYTES = 16


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

    def issue(self, account_id: str, plan_id: str, expires_at: datetime) -> str:
        claims = PlanTokenClaims(account_id=account_id, plan_id=plan_id, expires_at=expires_at)
        document = {
            "v": TOKEN_VERSION,
            "a": claims.account_id,
            "p": claims.plan_id,
            "x": int(claims.expires_at.timestamp()),
        }
        payload = _encode(json.dumps(document, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, plan_id: str, now: datetime) -> PlanTokenClaims:
        """The claims of an authentic, current token for ``plan_id``; raises ``PlanTokenError``."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise PlanTokenError("malformed_token")
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
        if version != TOKEN_VERSION:
            raise PlanTokenError("unknown_token_version")
        if claims.plan_id != plan_id:
            raise PlanTokenError("token_for_another_plan")
        if claims.expires_at <= now:
            raise PlanTokenExpiredError("token_expired")
        return claims
