"""The payment secret and the client file decide which rails a stack runs (rapport.payments.wiring)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from rapport.payments import (
    HttpResponse,
    LinkPurpose,
    PaymentConfigurationError,
    PaymentLinkRequest,
    UnknownProviderError,
)
from rapport.payments.debicheck import MandateStatus, SandboxDebiCheckGateway
from rapport.payments.providers.stitch_debicheck import StitchDebiCheckGateway
from rapport.payments.tokens import PlanTokenSigner
from rapport.payments.wiring import PaymentEnvironment, PaymentKeys, PaymentWiring, build_registry

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
ALL_KEYS = {
    "sandbox_webhook_secret": "sandbox-secret-0123456789",
    "webhook_base_url": "https://hooks.example.test/v1/",
    "plan_token_secret": "plan-token-secret-0123456789",
    "debicheck": {"provider": "sandbox", "callback_secret": "mandate-secret-0123"},
    "paystack": {"secret_key": "sk_test_abc"},
    "stitch": {
        "webhook_secret": "whsec_c3RpdGNoLXRlc3Qta2V5LTAxMjM0NTY3",
        "client_id": "c",
        "client_secret": "s",
    },
    "ozow": {"site_code": "RAP-001", "private_key": "ozow-key", "api_key": "ozow-api"},
    "payfast": {"merchant_id": "10000100", "merchant_key": "46f0cd694581a", "passphrase": "pass"},
    "peach": {
        "secret_token": "peach-token",
        "entity_id": "entity",
        "client_id": "c",
        "client_secret": "s",
        "merchant_id": "m",
        "notify_url": "https://own.example.test/peach",
    },
}


class NoTransport:
    """Building adapters must not reach a provider; a request here fails the test."""

    def send(self, request):
        raise AssertionError("no provider API is called while wiring")


def env(**changes) -> PaymentEnvironment:
    values = {
        "clock": lambda: NOW,
        "pay_page_base_url": "https://pay.example.test/pay",
        "transport": NoTransport(),
    }
    values.update(changes)
    return PaymentEnvironment(**values)


def keys(**changes) -> PaymentKeys:
    document = {**ALL_KEYS, **changes}
    return PaymentKeys.from_secret_string(json.dumps({k: v for k, v in document.items() if v is not None}))


def link_request() -> PaymentLinkRequest:
    return PaymentLinkRequest(
        link_id="lnk_1",
        account_id="ACC-1",
        amount_cents=10_000,
        purpose=LinkPurpose.BALANCE,
        expires_at=NOW + timedelta(days=7),
        description="Balance",
    )


def test_every_provider_with_keys_is_wired_and_the_configured_one_makes_links():
    # Given a secret with keys for every rail and a client that makes links with Paystack
    registry = build_registry(keys(), "paystack", env())
    # Then every rail answers by name
    assert registry.names == ("ozow", "payfast", "paystack", "peach", "sandbox", "stitch")
    assert registry.get("paystack").name == "paystack"


def test_only_the_rails_with_keys_are_wired():
    registry = build_registry(
        keys(paystack=None, stitch=None, ozow=None, payfast=None, peach=None), "sandbox", env()
    )
    assert registry.names == ("sandbox",)
    with pytest.raises(UnknownProviderError):
        registry.get("ozow")


def test_the_configured_provider_without_keys_is_a_clear_typed_error():
    # Given a client configured for Ozow whose secret has no Ozow keys
    with pytest.raises(PaymentConfigurationError) as raised:
        build_registry(keys(ozow=None), "ozow", env())
    # Then the error says which provider and which field, and carries the 500 a handler answers
    assert raised.value.reason == "provider_without_keys"
    assert "ozow" in str(raised.value) and raised.value.http_status == 500


def test_the_sandbox_stays_the_local_default_and_needs_its_own_key():
    with pytest.raises(PaymentConfigurationError, match="sandbox_webhook_secret"):
        build_registry(keys(sandbox_webhook_secret=None), "sandbox", env())


def test_a_secret_that_is_not_json_or_has_a_bad_field_names_the_field_never_the_value():
    with pytest.raises(PaymentConfigurationError, match="not JSON"):
        PaymentKeys.from_secret_string("sk_live_oops")
    with pytest.raises(PaymentConfigurationError) as raised:
        PaymentKeys.from_secret_string(
            json.dumps({"ozow": {"site_code": "S", "private_key": "top-secret-key"}})
        )
    assert "ozow.api_key" in str(raised.value)
    assert "top-secret-key" not in str(raised.value)


def test_unknown_top_level_keys_are_ignored_so_a_new_rail_in_the_secret_breaks_nothing():
    parsed = PaymentKeys.from_secret_string(
        json.dumps({"sandbox_webhook_secret": "s" * 16, "mpesa": {"k": 1}})
    )
    assert parsed.provider_names == ("sandbox",)


def test_notification_urls_come_from_the_base_url_or_the_providers_own():
    # Given Ozow, PayFast and Peach, which are told per request where to post notifications
    registry = build_registry(keys(), "sandbox", env())
    # When PayFast makes a checkout link (it needs no API call)
    link = registry.get("payfast").create_link(link_request())
    # Then its notify URL is the stack's webhook path for PayFast
    assert parse_qs(urlsplit(link.url).query)["notify_url"] == [
        "https://hooks.example.test/v1/webhooks/payfast"
    ]


def test_ozow_posts_its_notify_url_and_the_pay_pages_return_urls():
    class Ozow:
        def __init__(self):
            self.sent = []

        def send(self, request):
            self.sent.append(request)
            body = json.dumps({"url": "https://pay.ozow.example/x", "paymentRequestId": "p-1"}).encode()
            return HttpResponse(status=200, body=body)

    transport = Ozow()
    build_registry(keys(), "ozow", env(transport=transport)).get("ozow").create_link(link_request())
    payload = transport.sent[0].json_body()
    assert payload["notifyUrl"] == "https://hooks.example.test/v1/webhooks/ozow"
    assert payload["successUrl"] == "https://pay.example.test/pay/done"


def test_a_rail_that_needs_a_notify_url_and_has_none_is_a_configuration_error():
    with pytest.raises(PaymentConfigurationError, match="notify_url"):
        build_registry(keys(webhook_base_url=None), "sandbox", env())


def test_wiring_reads_the_secret_once_and_only_when_payments_are_first_used():
    # Given wiring whose secret loader counts its calls
    calls = []

    def load() -> PaymentKeys:
        calls.append(1)
        return keys()

    wiring = PaymentWiring(load, "sandbox", env())
    # Then nothing is read until a payment is handled, and then only once, whatever is asked
    assert calls == []
    assert wiring.get("sandbox").name == "sandbox"
    assert isinstance(wiring.debicheck, SandboxDebiCheckGateway)
    assert isinstance(wiring.plan_tokens, PlanTokenSigner)
    assert wiring.mandate_callback_secret == b"mandate-secret-0123"
    assert "stitch" in wiring.names
    assert calls == [1]


def test_without_debicheck_or_plan_token_keys_those_services_are_absent_not_broken():
    wiring = PaymentWiring.from_keys(keys(debicheck=None, plan_token_secret=None), "sandbox", env())
    assert wiring.debicheck is None and wiring.plan_tokens is None and wiring.mandate_callback_secret is None


STITCH_DEBICHECK = {
    "provider": "stitch",
    "webhook_secret": "whsec_ZGViaWNoZWNrLXRlc3Qta2V5LTAxMjM0NTY3",
    "client_id": "stitch-client",
    "client_secret": "stitch-client-secret",
}


def test_a_stitch_debicheck_gateway_is_wired_and_restates_with_a_key_of_its_own(recording_transport):
    # Given a secret naming Stitch as the DebiCheck gateway, with no callback_secret
    answers = recording_transport(
        HttpResponse(status=200, body=b'{"access_token": "t"}'),
        HttpResponse(
            status=200,
            body=json.dumps(
                {"data": {"node": {"id": "pcr-9", "status": {"__typename": "PaymentConsentGranted"}}}}
            ).encode(),
        ),
    )
    references: list[str] = []

    def reference(mandate_id: str) -> str:
        references.append(mandate_id)
        return "pcr-9"

    wiring = PaymentWiring.from_keys(
        keys(debicheck=STITCH_DEBICHECK), "sandbox", env(transport=answers, mandate_reference=reference)
    )
    # Then the gateway is Stitch's, reaching Stitch through the stack's transport and finding a
    # mandate's consent through the runtime's lookup
    assert isinstance(wiring.debicheck, StitchDebiCheckGateway)
    assert wiring.debicheck.mandate_status("acc-1:plan-1") is MandateStatus.APPROVED
    assert references == ["acc-1:plan-1"]
    # And callbacks are restated with a random key of this process, not a configured one
    secret = wiring.mandate_callback_secret
    assert secret is not None and len(secret) == 32
    again = PaymentWiring.from_keys(keys(debicheck=STITCH_DEBICHECK), "sandbox", env())
    assert again.mandate_callback_secret != secret


def test_a_stitch_gateway_uses_the_callback_secret_when_one_is_given():
    wiring = PaymentWiring.from_keys(
        keys(debicheck={**STITCH_DEBICHECK, "callback_secret": "restate-key-0123"}), "sandbox", env()
    )
    assert wiring.mandate_callback_secret == b"restate-key-0123"


@pytest.mark.parametrize(
    "debicheck",
    [
        {"provider": "sandbox"},
        {"provider": "stitch", "webhook_secret": "whsec_eA==", "client_id": "c"},
        {"provider": "bank-of-nowhere", "callback_secret": "x" * 16},
    ],
)
def test_a_debicheck_gateway_without_its_keys_is_refused_naming_the_field_never_a_value(debicheck):
    with pytest.raises(PaymentConfigurationError) as raised:
        keys(debicheck=debicheck)
    assert raised.value.reason == "invalid_secret" and "debicheck" in str(raised.value)
    assert "whsec_eA==" not in str(raised.value)


def test_an_unusable_stitch_webhook_secret_is_a_configuration_error_naming_debicheck():
    wiring = PaymentWiring.from_keys(
        keys(debicheck={**STITCH_DEBICHECK, "webhook_secret": "whsec_%%%"}), "sandbox", env()
    )
    with pytest.raises(PaymentConfigurationError) as raised:
        _ = wiring.debicheck
    assert (raised.value.reason, raised.value.detail) == ("invalid_provider_keys", "debicheck")


def test_a_short_plan_token_secret_is_refused():
    wiring = PaymentWiring.from_keys(keys(plan_token_secret="short"), "sandbox", env())
    with pytest.raises(PaymentConfigurationError, match="16 bytes"):
        wiring.get("sandbox")


def test_runtime_builds_the_wiring_from_the_client_file_not_only_the_settings(tmp_path: Path):
    from rapport.clock import SystemClock
    from rapport.runtime import build_payments
    from rapport.settings import Settings
    from rapport.strategy.config import load_client_config
    from rapport_infra.catalogue import CLIENTS_DIR

    # Given a client file that names Peach while the settings still say sandbox
    client = load_client_config(CLIENTS_DIR / "acme-za.toml")
    client = client.model_copy(update={"payments": client.payments.model_copy(update={"provider": "peach"})})
    settings = Settings(
        client_id="acme-za", client_config_path=tmp_path / "c.json", table_prefix="rapport-acme-za"
    )
    # When payments are built from the secret's keys
    wiring = build_payments(settings, SystemClock(), client, keys=keys(), transport=NoTransport())
    # Then Peach makes the links
    assert wiring.provider == "peach" and wiring.get(wiring.provider).name == "peach"
