"""PayFast ITN: MD5 over the url-encoded fields in received order plus the passphrase; then the
source and server-side checks through the injected PayFastValidator (a fake here)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import parse_qsl, quote_plus, urlsplit

import pytest

from rapport.payments import (
    HttpResponse,
    IgnoredWebhookError,
    LinkLedger,
    LinkSnapshot,
    MalformedWebhookError,
    PayFastProvider,
    PayFastServerValidator,
    PaymentEventKind,
    PaymentLinkRequest,
    ProviderRequestError,
    WebhookSignatureError,
)

PASSPHRASE = "jt7NOE43FZPn"


def php_encode(value: str) -> str:
    """PHP urlencode, written here from its definition: only A-Za-z0-9-_. stay literal."""
    return "".join(
        ch
        if ch.isascii() and (ch.isalnum() or ch in "-_.")
        else ("+" if ch == " " else quote_plus(ch, safe=""))
        for ch in value
    ).replace("~", "%7E")


def itn_pairs(status: str = "COMPLETE", amount: str = "1500.50", **changes: str) -> list[tuple[str, str]]:
    fields = {
        "m_payment_id": "lnk_0001abcd",
        "pf_payment_id": "1089250",
        "payment_status": status,
        "item_name": "Settlement of account 42 ~ 50% off & more",
        "item_description": "",
        "amount_gross": amount,
        "amount_fee": "-34.51",
        "amount_net": "1465.99",
        "custom_str1": "settlement",
        "merchant_id": "10000100",
    }
    fields.update(changes)
    return list(fields.items())


def signed_body(pairs: list[tuple[str, str]], passphrase: str | None = PASSPHRASE) -> bytes:
    text = "&".join(f"{name}={php_encode(value)}" for name, value in pairs)
    to_sign = text + (f"&passphrase={php_encode(passphrase)}" if passphrase else "")
    signature = hashlib.md5(to_sign.encode()).hexdigest()  # noqa: S324 - PayFast's scheme is MD5
    return f"{text}&signature={signature}".encode()


class FakeValidator:
    """A fake of our PayFastValidator port: records what it was asked and answers as scripted."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self._error = error

    def validate(self, param_string: str, source_ip: str | None) -> None:
        self.calls.append((param_string, source_ip))
        if self._error is not None:
            raise self._error


def provider_with(validator: FakeValidator, passphrase: str | None = PASSPHRASE) -> PayFastProvider:
    return PayFastProvider(
        merchant_id="10000100",
        merchant_key="46f0cd694581a",
        passphrase=passphrase,
        validator=validator,
        notify_url="https://api.example.test/webhooks/payfast",
    )


HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "X-Rapport-Source-Ip": "197.97.145.144"}


def test_an_itn_signed_per_the_spec_is_a_success_and_is_validated(webhook_now: datetime) -> None:
    # Given a correctly signed ITN
    validator = FakeValidator()
    raw = signed_body(itn_pairs())
    # When parsed
    event = provider_with(validator).parse_webhook(HEADERS, raw, webhook_now)
    # Then it becomes a success for our link
    assert (event.kind, event.amount_cents, event.currency) == (PaymentEventKind.SUCCEEDED, 150_050, "ZAR")
    assert (event.transaction_id, event.link_id, event.event_id) == (
        "1089250",
        "lnk_0001abcd",
        "1089250:COMPLETE",
    )
    # And PayFast was asked about the exact parameter string (without passphrase) and source
    ((param_string, source_ip),) = validator.calls
    assert param_string == raw.decode().split("&signature=")[0]
    assert source_ip == "197.97.145.144"


def test_without_a_passphrase_the_signature_covers_the_fields_only(webhook_now: datetime) -> None:
    raw = signed_body(itn_pairs(), passphrase=None)
    assert (
        provider_with(FakeValidator(), passphrase=None).parse_webhook(HEADERS, raw, webhook_now).amount_cents
    )


@pytest.mark.parametrize(
    ("status", "kind"), [("CANCELLED", PaymentEventKind.FAILED), ("PENDING", PaymentEventKind.PENDING)]
)
def test_statuses_map_to_kinds(webhook_now: datetime, status: str, kind: PaymentEventKind) -> None:
    raw = signed_body(itn_pairs(status))
    assert provider_with(FakeValidator()).parse_webhook(HEADERS, raw, webhook_now).kind is kind


def test_one_changed_byte_is_a_forgery_and_payfast_is_not_asked(webhook_now: datetime) -> None:
    validator = FakeValidator()
    raw = signed_body(itn_pairs()).replace(b"amount_gross=1500.50", b"amount_gross=1500.59")
    with pytest.raises(WebhookSignatureError) as caught:
        provider_with(validator).parse_webhook(HEADERS, raw, webhook_now)
    assert (caught.value.reason, caught.value.http_status) == ("bad_signature", 401)
    assert validator.calls == []


def test_another_passphrase_is_refused(webhook_now: datetime) -> None:
    raw = signed_body(itn_pairs(), passphrase="not-ours")
    with pytest.raises(WebhookSignatureError, match="bad_signature"):
        provider_with(FakeValidator()).parse_webhook(HEADERS, raw, webhook_now)


def test_a_missing_signature_is_refused(webhook_now: datetime) -> None:
    raw = signed_body(itn_pairs()).split(b"&signature=")[0]
    with pytest.raises(WebhookSignatureError, match="missing_signature"):
        provider_with(FakeValidator()).parse_webhook(HEADERS, raw, webhook_now)


def test_fields_after_the_signature_are_not_trusted(webhook_now: datetime) -> None:
    # Given a valid ITN with a second amount smuggled in after the signature
    raw = signed_body(itn_pairs()) + b"&amount_gross=1.00"
    # Then the signed amount is the one used
    assert provider_with(FakeValidator()).parse_webhook(HEADERS, raw, webhook_now).amount_cents == 150_050


def test_when_payfast_does_not_vouch_for_it_the_itn_is_refused(webhook_now: datetime) -> None:
    validator = FakeValidator(WebhookSignatureError("validation_failed"))
    with pytest.raises(WebhookSignatureError, match="validation_failed"):
        provider_with(validator).parse_webhook(HEADERS, signed_body(itn_pairs()), webhook_now)


def test_another_merchant_is_refused(webhook_now: datetime) -> None:
    raw = signed_body(itn_pairs(merchant_id="99999"))
    with pytest.raises(MalformedWebhookError, match="merchant_mismatch"):
        provider_with(FakeValidator()).parse_webhook(HEADERS, raw, webhook_now)


@pytest.mark.parametrize(
    ("pairs", "error", "reason"),
    [
        (itn_pairs(amount="1,500.50"), MalformedWebhookError, "bad_amount"),
        (itn_pairs(pf_payment_id=""), MalformedWebhookError, "missing_field"),
        (itn_pairs(status="REFUNDED_SOMEHOW"), IgnoredWebhookError, "unsupported_event"),
    ],
)
def test_unusable_itns(webhook_now: datetime, pairs, error, reason) -> None:
    with pytest.raises(error) as caught:
        provider_with(FakeValidator()).parse_webhook(HEADERS, signed_body(pairs), webhook_now)
    assert caught.value.reason == reason


def test_an_unparseable_body_is_400(webhook_now: datetime) -> None:
    with pytest.raises(MalformedWebhookError) as caught:
        provider_with(FakeValidator()).parse_webhook(HEADERS, b"\xff\xfe&&", webhook_now)
    assert caught.value.http_status == 400


def test_create_link_builds_a_signed_checkout_url(payment_link_request: PaymentLinkRequest) -> None:
    # When a link is created
    link = provider_with(FakeValidator()).create_link(payment_link_request)
    # Then it is PayFast's process URL with our fields and a signature we can recompute
    parts = urlsplit(link.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.payfast.co.za", "/eng/process")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    signature = dict(pairs)["signature"]
    unsigned = [(k, v) for k, v in pairs if k != "signature"]
    assert [k for k, _ in unsigned] == [
        "merchant_id", "merchant_key", "return_url", "notify_url", "m_payment_id", "amount", "item_name",
        "custom_str1",
    ]  # fmt: skip
    assert dict(unsigned)["amount"] == "1500.50" and dict(unsigned)["m_payment_id"] == "lnk_0001abcd"
    text = "&".join(f"{k}={php_encode(v)}" for k, v in unsigned) + f"&passphrase={php_encode(PASSPHRASE)}"
    assert signature == hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - PayFast's scheme


class FakeResolver:
    def __init__(self, addresses: dict[str, list[str]] | None = None, error: OSError | None = None) -> None:
        self._addresses = addresses or {}
        self._error = error

    def __call__(self, host: str) -> list[str]:
        if self._error is not None:
            raise self._error
        return self._addresses.get(host, [])


def test_server_validator_accepts_a_valid_itn_from_a_payfast_address(recording_transport) -> None:
    # Given PayFast's hosts resolve to known addresses and PayFast answers VALID
    transport = recording_transport(HttpResponse(status=200, body=b"VALID"))
    validator = PayFastServerValidator(
        transport, resolve=FakeResolver({"w1w.payfast.co.za": ["197.97.145.144"]})
    )
    # When an ITN from one of those addresses is validated
    validator.validate("m_payment_id=lnk_1&amount_gross=1.00", "197.97.145.144")
    # Then the parameter string was posted to the validate endpoint
    (request,) = transport.requests
    assert request.url == "https://www.payfast.co.za/eng/query/validate"
    assert request.body == b"m_payment_id=lnk_1&amount_gross=1.00"


@pytest.mark.parametrize(
    ("source_ip", "answer", "reason"),
    [
        ("10.0.0.1", b"VALID", "untrusted_source"),
        (None, b"VALID", "untrusted_source"),
        ("197.97.145.144", b"INVALID", "validation_failed"),
    ],
)
def test_server_validator_refuses(recording_transport, source_ip, answer: bytes, reason: str) -> None:
    transport = recording_transport(HttpResponse(status=200, body=answer))
    validator = PayFastServerValidator(
        transport, sandbox=True, resolve=FakeResolver({"sandbox.payfast.co.za": ["197.97.145.144"]})
    )
    with pytest.raises(WebhookSignatureError, match=reason):
        validator.validate("a=1", source_ip)


def test_server_validator_reports_an_unreachable_payfast_as_retryable(recording_transport) -> None:
    validator = PayFastServerValidator(recording_transport(), resolve=FakeResolver(error=OSError("no dns")))
    with pytest.raises(ProviderRequestError) as caught:
        validator.validate("a=1", "197.97.145.144")
    assert caught.value.http_status == 502


def test_a_retried_itn_counts_once(webhook_now: datetime) -> None:
    # Given PayFast retries the same ITN (it does so until it gets a 200)
    provider = provider_with(FakeValidator())
    raw = signed_body(itn_pairs())
    first = provider.parse_webhook(HEADERS, raw, webhook_now)
    retry = provider.parse_webhook(HEADERS, raw, webhook_now)
    # When both are reconciled, Then the second is a duplicate
    ledger, _ = LinkLedger(link=LinkSnapshot(link_id="lnk_0001abcd", amount_cents=150_050)).apply(first)
    _, decision = ledger.apply(retry)
    assert decision.outcome.value == "duplicate" and decision.credit_delta_cents == 0
