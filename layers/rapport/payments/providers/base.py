"""Ports shared by the payment provider adapters, and the small helpers they all need.

``PaymentProvider`` is the port the rest of Rapport calls. ``HttpTransport`` is the port the
adapters use to reach a provider's API; tests inject a fake that asserts the request and answers
with a recorded-shape response, so no test ever opens a socket.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field

from rapport.payments.errors import (
    MalformedWebhookError,
    ProviderRequestError,
    StaleWebhookError,
    WebhookSignatureError,
)
from rapport.payments.models import PaymentEvent, PaymentLinkRequest, ProviderLink

DEFAULT_TOLERANCE = timedelta(minutes=5)


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment provider, seen from Rapport: it makes links and reports payments by webhook."""

    @property
    def name(self) -> str: ...

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        """Ask the provider for a link the debtor can pay. Raises ``ProviderRequestError``."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> PaymentEvent:
        """Verify a delivery over its raw body and turn it into a ``PaymentEvent``.

        Raises ``WebhookSignatureError``, ``StaleWebhookError``, ``MalformedWebhookError`` or
        ``IgnoredWebhookError``. Header names are matched case-insensitively.
        """
        ...


class HttpRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes | None = None

    def json_body(self) -> Any:
        return None if self.body is None else json.loads(self.body)


class HttpResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: int
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class HttpTransport(Protocol):
    """Sends one HTTP request and returns the response; raises ``ProviderRequestError`` only when
    no response arrived at all (a 4xx or 5xx is a response)."""

    def send(self, request: HttpRequest) -> HttpResponse: ...


class UrllibTransport:
    """The default transport: the standard library, HTTPS only, with a timeout.

    Never used by the unit tests (sockets are disabled there).
    """

    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self._timeout_seconds = timeout_seconds

    def send(self, request: HttpRequest) -> HttpResponse:
        if not request.url.startswith("https://"):
            raise ProviderRequestError("insecure_url", "provider APIs are called over https only")
        outgoing = urllib.request.Request(  # noqa: S310 - scheme checked above: https only
            request.url, data=request.body, headers=request.headers, method=request.method
        )
        try:
            with urllib.request.urlopen(outgoing, timeout=self._timeout_seconds) as answer:  # noqa: S310
                return HttpResponse(status=answer.status, headers=dict(answer.headers), body=answer.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(status=error.code, headers=dict(error.headers or {}), body=error.read())
        except (urllib.error.URLError, TimeoutError) as error:
            raise ProviderRequestError("transport_failed", type(error).__name__) from error


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, matching the name case-insensitively; ``None`` when absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def require_signature_header(headers: Mapping[str, str], name: str) -> str:
    value = header(headers, name)
    if value is None or not value.strip():
        raise WebhookSignatureError("missing_signature", name)
    return value.strip()


def check_timestamp(signed_at: int, now: datetime, tolerance: timedelta = DEFAULT_TOLERANCE) -> datetime:
    """Reject a signed unix timestamp further than ``tolerance`` from ``now`` either way."""
    moment = datetime.fromtimestamp(signed_at, tz=UTC)
    if moment < now - tolerance:
        raise StaleWebhookError("stale_timestamp")
    if moment > now + tolerance:
        raise StaleWebhookError("future_timestamp")
    return moment


def parse_unix_seconds(text: str) -> int:
    if not re.fullmatch(r"\d{1,12}", text.strip()):
        raise WebhookSignatureError("malformed_signature_header", "timestamp")
    return int(text.strip())


_DECIMAL_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,2})?")


# No real payment comes near 10^13 minor units (R100 billion); a larger figure is a provider's bug or a
# forged body signed with a leaked key, and would otherwise reach the ledger as a credit.
MAX_MINOR_UNITS = 10**13


def decimal_to_cents(text: object, field_name: str) -> int:
    """Parse a provider's major-unit amount (``"150.00"``) into exact cents; never via float."""
    if not isinstance(text, str) or not _DECIMAL_AMOUNT.fullmatch(text.strip()):
        raise MalformedWebhookError("bad_amount", field_name)
    # The pattern admits only digits with at most two decimals, so Decimal cannot fail here.
    cents = int(Decimal(text.strip()) * 100)
    if cents >= MAX_MINOR_UNITS:
        raise MalformedWebhookError("bad_amount", field_name)
    return cents


def cents_to_decimal(amount_cents: int) -> str:
    """``15050`` -> ``"150.50"``: the major-unit text most providers' APIs expect."""
    whole, cents = divmod(amount_cents, 100)
    return f"{whole}.{cents:02d}"


def parse_json_object(raw_body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedWebhookError("unparseable_body", "json") from error
    if not isinstance(document, dict):
        raise MalformedWebhookError("unparseable_body", "not a json object")
    return document


def parse_form(raw_body: bytes) -> list[tuple[str, str]]:
    """Decode an ``application/x-www-form-urlencoded`` body, keeping field order and blanks."""
    try:
        text = raw_body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedWebhookError("unparseable_body", "form") from error


def looks_like_json(headers: Mapping[str, str], raw_body: bytes) -> bool:
    content_type = (header(headers, "content-type") or "").lower()
    if "json" in content_type:
        return True
    if "form" in content_type:
        return False
    return raw_body.lstrip().startswith(b"{")


def require_str(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if isinstance(value, bool) or value is None:
        raise MalformedWebhookError("missing_field", key)
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise MalformedWebhookError("missing_field", key)
    return value.strip()


def require_mapping(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    if not isinstance(value, Mapping):
        raise MalformedWebhookError("missing_field", key)
    return value


def require_minor_units(document: Mapping[str, Any], key: str) -> int:
    """An amount already in minor units (an integer, or an integer in a string), below
    :data:`MAX_MINOR_UNITS`."""
    value = document.get(key)
    if isinstance(value, bool):
        raise MalformedWebhookError("bad_amount", key)
    if isinstance(value, int) and 0 <= value < MAX_MINOR_UNITS:
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,13}", value.strip()) and int(value) < MAX_MINOR_UNITS:
        return int(value.strip())
    raise MalformedWebhookError("bad_amount", key)


def require_currency(value: object, key: str = "currency") -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise MalformedWebhookError("missing_field", key)
    return value.strip().upper()


def parse_timestamp(value: object, fallback: datetime) -> datetime:
    """An ISO 8601 time from a payload as an aware datetime (naive means UTC); ``fallback`` when
    absent or unreadable. It only dates the event; it never decides whether money counts."""
    if not isinstance(value, str) or not value.strip():
        return fallback
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def response_json(response: HttpResponse, provider: str) -> Mapping[str, Any]:
    """The JSON object of a successful API response, or ``ProviderRequestError``."""
    if not response.ok:
        raise ProviderRequestError("provider_refused", f"{provider} answered {response.status}")
    try:
        document = json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProviderRequestError("provider_unparseable", provider) from error
    if not isinstance(document, Mapping):
        raise ProviderRequestError("provider_unparseable", provider)
    return document


def response_str(document: Mapping[str, Any], key: str, provider: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise ProviderRequestError("provider_unexpected_shape", f"{provider}: {key}")
    return value


def json_request(url: str, payload: Mapping[str, Any], headers: Mapping[str, str]) -> HttpRequest:
    return HttpRequest(
        method="POST",
        url=url,
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        body=json.dumps(payload, separators=(",", ":")).encode(),
    )
