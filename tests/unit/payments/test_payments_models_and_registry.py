"""Edge models, shared helpers and the provider registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from rapport.payments import (
    HttpRequest,
    LinkPurpose,
    MalformedWebhookError,
    OzowProvider,
    PayFastProvider,
    PaymentEvent,
    PaymentLinkRequest,
    PaymentProvider,
    PaystackProvider,
    PeachProvider,
    ProviderRegistry,
    ProviderRequestError,
    SandboxProvider,
    StitchProvider,
    UnknownProviderError,
    UrllibTransport,
    WebhookSignatureError,
)
from rapport.payments.providers.base import cents_to_decimal, decimal_to_cents, header

EXPIRES = datetime(2026, 3, 5, tzinfo=UTC)


def request(**changes: object) -> dict:
    fields: dict[str, object] = {
        "link_id": "lnk_1",
        "account_id": "acc_1",
        "amount_cents": 100,
        "purpose": LinkPurpose.BALANCE,
        "expires_at": EXPIRES,
        "description": "Balance",
    }
    fields.update(changes)
    return fields


def test_a_link_request_defaults_to_rand() -> None:
    assert PaymentLinkRequest(**request()).currency == "ZAR"


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_cents": 0},
        {"amount_cents": 10.5},
        {"amount_cents": True},
        {"currency": "zar"},
        {"expires_at": datetime(2026, 3, 5)},
        {"link_id": "has space"},
        {"return_url": "javascript:alert(1)"},
        {"description": ""},
        {"unexpected": "field"},
    ],
)
def test_invalid_link_requests_are_refused(changes: dict) -> None:
    with pytest.raises(ValidationError):
        PaymentLinkRequest(**request(**changes))


def test_models_are_frozen_values() -> None:
    link_request = PaymentLinkRequest(**request())
    with pytest.raises(ValidationError):
        link_request.amount_cents = 5  # type: ignore[misc]


def test_a_payment_event_refuses_a_float_amount() -> None:
    with pytest.raises(ValidationError):
        PaymentEvent(
            provider="sandbox", event_id="e", transaction_id="t", kind="succeeded", amount_cents=1.5,
            currency="ZAR", occurred_at=EXPIRES, provider_status="ok",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "cents"), [("0", 0), ("1", 100), ("1.5", 150), ("1500.50", 150_050), ("0.07", 7)]
)
def test_decimal_amounts_become_exact_cents(text: str, cents: int) -> None:
    assert decimal_to_cents(text, "amount") == cents


@pytest.mark.parametrize("text", ["-1.00", "1.001", "1e3", "NaN", "", " ", "1,00", 1.5, None])
def test_malformed_decimal_amounts_are_refused(text: object) -> None:
    with pytest.raises(MalformedWebhookError, match="bad_amount"):
        decimal_to_cents(text, "amount")


@pytest.mark.parametrize(("cents", "text"), [(0, "0.00"), (7, "0.07"), (150_050, "1500.50"), (100, "1.00")])
def test_cents_print_as_major_units(cents: int, text: str) -> None:
    assert cents_to_decimal(cents) == text


def test_header_lookup_ignores_case() -> None:
    assert header({"X-Thing": "1"}, "x-thing") == "1"
    assert header({"X-Thing": "1"}, "x-other") is None


def test_registry_dispatches_by_name_and_refuses_unknown_names() -> None:
    # Given a registry with the sandbox
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    sandbox = SandboxProvider("secret", clock=lambda: now)
    registry = ProviderRegistry([sandbox])
    link = sandbox.create_link(PaymentLinkRequest(**request(expires_at=now + timedelta(days=1))))
    # When a sandbox delivery is parsed through it, Then it verifies
    assert registry.parse_webhook("sandbox", *sandbox.pay(link, 100), now).amount_cents == 100
    assert registry.names == ("sandbox",)
    # And an unknown provider is a 404
    with pytest.raises(UnknownProviderError) as caught:
        registry.get("stripe")
    assert caught.value.http_status == 404


def test_registry_lets_verification_errors_through() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    registry = ProviderRegistry([SandboxProvider("secret")])
    with pytest.raises(WebhookSignatureError):
        registry.parse_webhook("sandbox", {}, b"{}", now)


def test_registry_refuses_two_providers_with_one_name() -> None:
    with pytest.raises(ValueError, match="share one name"):
        ProviderRegistry([SandboxProvider("a"), SandboxProvider("b")])


def test_the_default_transport_refuses_plain_http() -> None:
    # Refused before any socket is opened (sockets are disabled in unit tests anyway).
    with pytest.raises(ProviderRequestError, match="insecure_url"):
        UrllibTransport().send(HttpRequest(method="GET", url="http://api.example.test/"))


class _RefusingValidator:
    def validate(self, param_string: str, source_ip: str | None) -> None:
        raise WebhookSignatureError("validation_failed")


def test_every_adapter_satisfies_the_provider_port() -> None:
    transport = UrllibTransport()
    adapters = [
        SandboxProvider("s"),
        PaystackProvider("sk", transport, customer_email=lambda _: "d@example.test"),
        StitchProvider("whsec_c2VjcmV0", transport, client_id="c", client_secret="s"),
        OzowProvider("site", "key", "api", transport, "https://n", "https://c", "https://e", "https://s"),
        PayFastProvider("1", "k", None, validator=_RefusingValidator(), notify_url="https://n"),
        PeachProvider("t", "e", transport, "c", "s", "m", "https://n"),
    ]
    assert all(isinstance(adapter, PaymentProvider) for adapter in adapters)
    assert [adapter.name for adapter in adapters] == [
        "sandbox",
        "paystack",
        "stitch",
        "ozow",
        "payfast",
        "peach",
    ]
