"""Every payment rail through the real webhook handler on the local cloud (moto, in-process).

Each delivery is signed here from the provider's documented scheme (see docs/domain.md and each
adapter's docstring), posted as API Gateway would post it to ``POST /webhooks/{provider}``, and
judged by what the records say afterwards: the HTTP answer, the delivery log, the account's
balance and what it has collected. The stack's secret holds keys for every provider, as a client
running several rails would have it; the sandbox stays the provider that makes links.

One cloud serves the whole module (starting one takes tens of seconds here); every test opens its
own accounts and links, so tests never see each other's money.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus, urlencode

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from journey_helpers import account, load

from rapport.clock import SimulatedClock
from rapport.journey import webhooks
from rapport.journey.webhooks import (
    IDEMPOTENCY_KEY_PREFIX,
    handle_payment_webhook,
)
from rapport.payments import ProviderLink
from rapport.store.models import (
    AccountModel,
    AuditModel,
    PaymentLinkModel,
    WebhookDeliveryModel,
    WorklistModel,
)
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_local.cloud import REGION, LocalCloud
from rapport_local.payments_page import enable_payments

pytestmark = pytest.mark.integration

PAYSTACK_KEY = "sk_test_" + "4f" * 20
STITCH_KEY = b"stitch-integration-key-0123456789"
OZOW_KEY = "ozow-private-key-0123456789"
PAYFAST_PASSPHRASE = "jt7NOE43FZPn"
PEACH_TOKEN = "3fcd7cf22f55119eadbe02d14de18c0c"
PROVIDER_KEYS = {
    "webhook_base_url": "https://hooks.rapport.example/v1",
    "paystack": {"secret_key": PAYSTACK_KEY},
    "stitch": {
        "webhook_secret": "whsec_" + base64.b64encode(STITCH_KEY).decode(),
        "client_id": "stitch-client",
        "client_secret": "stitch-client-secret",
    },
    "ozow": {"site_code": "RAP-001", "private_key": OZOW_KEY, "api_key": "ozow-api-key"},
    "payfast": {"merchant_id": "10000100", "merchant_key": "46f0cd694581a", "passphrase": PAYFAST_PASSPHRASE},
    "peach": {
        "secret_token": PEACH_TOKEN,
        "entity_id": "8ac7a4ca68c22c4d0168c2caab2e0025",
        "client_id": "peach-client",
        "client_secret": "peach-client-secret",
        "merchant_id": "peach-merchant",
    },
}


class RecordingPayFastValidator:
    """A fake of our PayFastValidator port (the real one needs DNS and PayFast): it records the
    source address it was given, and vouches for every ITN whose signature already held."""

    def __init__(self) -> None:
        self.source_ips: list[str | None] = []

    def validate(self, param_string: str, source_ip: str | None) -> None:
        self.source_ips.append(source_ip)


@dataclass
class Stack:
    cloud: LocalCloud
    payfast: RecordingPayFastValidator


@pytest.fixture(scope="module")
def stack():
    # The clock runs at real speed from the real time: Stitch's svix library checks timestamps
    # against the machine's clock as well as ours.
    cloud = LocalCloud(CLIENTS_DIR / "acme-za.toml", SimulatedClock(datetime.now(UTC), scale=1))
    cloud.__enter__()
    validator = RecordingPayFastValidator()
    enable_payments(cloud, extra_keys=PROVIDER_KEYS, payfast_validator=validator)
    yield Stack(cloud, validator)
    cloud.__exit__(None, None, None)


_numbers = itertools.count(500)


def open_link(
    stack: Stack, provider: str, amount_cents: int = 100_000, currency: str = "ZAR"
) -> tuple[str, str]:
    """A fresh account owing ``amount_cents`` and a link for it on ``provider``: (account id, link id)."""
    debtor = account(next(_numbers), balance_cents=amount_cents)
    load(stack.cloud, debtor)
    now = stack.cloud.clock.now()
    link_id = "L" + uuid.uuid4().hex[:20]
    PaymentLinkModel(
        link_id,
        account_id=debtor.account_id,
        provider=provider,
        purpose="balance",
        amount_cents=amount_cents,
        currency=currency,
        url=f"https://pay.example/{link_id}",
        created_at=now,
        expires_at=now + timedelta(days=7),
    ).save()
    return debtor.account_id, link_id


def post(stack: Stack, provider: str, delivery: tuple[dict[str, str], bytes]) -> dict:
    headers, body = delivery
    response = stack.cloud.post_webhook(provider, headers, body)
    return {"status": response["statusCode"], **json.loads(response["body"])}


def collected(account_id: str) -> int:
    return AccountModel.get(account_id).collected_cents


def deliveries(provider: str, link_id: str | None = None) -> list[WebhookDeliveryModel]:
    found = sorted(WebhookDeliveryModel.query(provider), key=lambda d: d.received_at)
    return [d for d in found if link_id is None or d.link_id == link_id]


def _rands(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# --- each provider's documented signature scheme ------------------------------------------------


class Rail:
    name = ""
    has_currency = True
    refunds = True

    def success(self, link_id: str, txn: str, cents: int, currency: str = "ZAR") -> tuple[dict, bytes]:
        raise NotImplementedError

    def failure(self, link_id: str, txn: str, cents: int) -> tuple[dict, bytes]:
        raise NotImplementedError

    def refund(self, link_id: str, txn: str, refund_id: str, cents: int) -> tuple[dict, bytes]:
        raise NotImplementedError

    def forged(self, link_id: str, txn: str, cents: int) -> tuple[dict, bytes]:
        raise NotImplementedError

    def malformed(self) -> tuple[dict, bytes]:
        raise NotImplementedError


class SandboxRail(Rail):
    name = "sandbox"

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def _link(self, link_id: str) -> ProviderLink:
        # The pay page needs only the link's id (a link we never made has no record to read).
        expires = self.stack.cloud.clock.now() + timedelta(days=1)
        return ProviderLink(
            provider="sandbox",
            link_id=link_id,
            url="https://pay.example/x",
            provider_reference=f"sbx_{link_id}",
            expires_at=expires,
        )

    def _pay(self, link_id: str, cents: int, kind: str, **details) -> tuple[dict, bytes]:
        sandbox = self.stack.cloud.services.payments.get("sandbox")
        return sandbox.pay(self._link(link_id), cents, kind, **details)

    def success(self, link_id, txn, cents, currency="ZAR"):
        return self._pay(link_id, cents, "succeeded", transaction_id=txn, currency=currency)

    def failure(self, link_id, txn, cents):
        return self._pay(link_id, cents, "failed", transaction_id=txn)

    def refund(self, link_id, txn, refund_id, cents):
        return self._pay(link_id, cents, "refunded", transaction_id=txn, refund_id=refund_id)

    def forged(self, link_id, txn, cents):
        headers, body = self.success(link_id, txn, cents)
        return headers, body.replace(str(cents).encode(), str(cents * 10).encode(), 1)

    def malformed(self):
        body = b'{"id": "evt_x", "type": "payment.succeeded"}'
        created = int(self.stack.cloud.clock.now().timestamp())
        secret = self.stack.cloud.services.payments.keys.sandbox_webhook_secret.get_secret_value()
        digest = hmac.new(secret.encode(), f"{created}.".encode() + body, hashlib.sha256).hexdigest()
        return {"Rapport-Signature": f"t={created},v1={digest}"}, body

    def stale(self, link_id, txn, cents):
        created = int((self.stack.cloud.clock.now() - timedelta(minutes=6)).timestamp())
        body = json.dumps(
            {
                "id": "evt_" + txn,
                "type": "payment.succeeded",
                "created": created,
                "data": {
                    "transaction_id": txn,
                    "link_id": link_id,
                    "amount_cents": cents,
                    "currency": "ZAR",
                    "status": "succeeded",
                    "refund_id": None,
                },
            }
        ).encode()
        secret = self.stack.cloud.services.payments.keys.sandbox_webhook_secret.get_secret_value()
        digest = hmac.new(secret.encode(), f"{created}.".encode() + body, hashlib.sha256).hexdigest()
        return {"Rapport-Signature": f"t={created},v1={digest}"}, body


class PaystackRail(Rail):
    """x-paystack-signature: hex HMAC-SHA512 of the raw body with the secret key. One transaction
    per link (the link id is the transaction reference)."""

    name = "paystack"

    def _signed(self, document: dict, key: str = PAYSTACK_KEY) -> tuple[dict, bytes]:
        body = json.dumps(document).encode()
        return {"x-paystack-signature": hmac.new(key.encode(), body, hashlib.sha512).hexdigest()}, body

    def success(self, link_id, txn, cents, currency="ZAR"):
        return self._signed(
            {
                "event": "charge.success",
                "data": {
                    "id": int(hashlib.sha256(txn.encode()).hexdigest()[:8], 16),
                    "reference": link_id,
                    "amount": cents,
                    "currency": currency,
                    "status": "success",
                    "paid_at": "2026-12-04T10:00:00Z",
                    "metadata": {"link_id": link_id},
                },
            }
        )

    def failure(self, link_id, txn, cents):
        return self._signed({"event": "charge.failed", "data": {"reference": link_id, "amount": cents}})

    def refund(self, link_id, txn, refund_id, cents):
        return self._signed(
            {
                "event": "refund.processed",
                "data": {
                    "transaction_reference": link_id,
                    "refund_reference": refund_id,
                    "amount": cents,
                    "currency": "ZAR",
                },
            }
        )

    def forged(self, link_id, txn, cents):
        return self._signed(json.loads(self.success(link_id, txn, cents)[1]), key="sk_test_someone_else")

    def malformed(self):
        return self._signed({"event": "charge.success", "data": {"reference": "x"}})


class StitchRail(Rail):
    """Svix: base64 HMAC-SHA256 of "<svix-id>.<svix-timestamp>.<body>" keyed with the decoded secret."""

    name = "stitch"

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def _signed(
        self, document: dict, key: bytes = STITCH_KEY, at: datetime | None = None
    ) -> tuple[dict, bytes]:
        body = json.dumps(document).encode()
        message_id = "msg_" + uuid.uuid4().hex[:16]
        stamp = str(int((at or self.stack.cloud.clock.now()).timestamp()))
        digest = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        headers = {
            "svix-id": message_id,
            "svix-timestamp": stamp,
            "svix-signature": "v1," + base64.b64encode(digest).decode(),
        }
        return headers, body

    def _payment(self, link_id, txn, cents, status, currency="ZAR"):
        return {
            "id": txn,
            "externalReference": link_id,
            "status": {"__typename": status},
            "amount": {"quantity": _rands(cents), "currency": currency},
        }

    def success(self, link_id, txn, cents, currency="ZAR"):
        return self._signed(self._payment(link_id, txn, cents, "PaymentInitiationRequestCompleted", currency))

    def failure(self, link_id, txn, cents):
        return self._signed(self._payment(link_id, txn, cents, "PaymentInitiationRequestCancelled"))

    def refund(self, link_id, txn, refund_id, cents):
        return self._signed(
            {
                "id": refund_id,
                "paymentRequestId": txn,
                "externalReference": link_id,
                "status": {"__typename": "RefundCompleted"},
                "amount": {"quantity": _rands(cents), "currency": "ZAR"},
            }
        )

    def forged(self, link_id, txn, cents):
        return self._signed(
            self._payment(link_id, txn, cents, "PaymentInitiationRequestCompleted"),
            key=b"another-key-entirely-0123456789",
        )

    def malformed(self):
        return self._signed({"id": "x", "status": {"__typename": "PaymentInitiationRequestCompleted"}})

    def stale(self, link_id, txn, cents):
        return self._signed(
            self._payment(link_id, txn, cents, "PaymentInitiationRequestCompleted"),
            at=self.stack.cloud.clock.now() - timedelta(minutes=6),
        )


OZOW_FIELDS = (
    "SiteCode",
    "TransactionId",
    "TransactionReference",
    "Amount",
    "Status",
    "Optional1",
    "Optional2",
    "Optional3",
    "Optional4",
    "Optional5",
    "CurrencyCode",
    "IsTest",
    "StatusMessage",
)


class OzowRail(Rail):
    """Hash: SHA-512 of the documented fields in order plus the private key, lower-cased."""

    name = "ozow"
    refunds = False

    def _signed(self, link_id, txn, cents, status, currency="ZAR", key=OZOW_KEY):
        fields = {name: "" for name in OZOW_FIELDS}
        fields.update(
            SiteCode="RAP-001",
            TransactionId=txn,
            TransactionReference=link_id,
            Amount=_rands(cents),
            Status=status,
            CurrencyCode=currency,
            IsTest="false",
        )
        text = "".join(fields[name] for name in OZOW_FIELDS) + key
        fields["Hash"] = hashlib.sha512(text.lower().encode()).hexdigest()
        return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(fields).encode()

    def success(self, link_id, txn, cents, currency="ZAR"):
        return self._signed(link_id, txn, cents, "Complete", currency)

    def failure(self, link_id, txn, cents):
        return self._signed(link_id, txn, cents, "Cancelled")

    def forged(self, link_id, txn, cents):
        return self._signed(link_id, txn, cents, "Complete", key="not-the-key")

    def malformed(self):
        return {"Content-Type": "application/x-www-form-urlencoded"}, b"%%%&&&=="


def _php(value: str) -> str:
    return quote_plus(value, safe="").replace("~", "%7E")


class PayFastRail(Rail):
    """ITN: MD5 of the posted fields, in order, as name=urlencode(value) joined by & plus the
    passphrase. PayFast settles in rand only and sends no refunds by ITN."""

    name = "payfast"
    has_currency = False
    refunds = False

    def _signed(self, link_id, txn, cents, status, passphrase=PAYFAST_PASSPHRASE):
        pairs = [
            ("m_payment_id", link_id),
            ("pf_payment_id", txn),
            ("payment_status", status),
            ("item_name", "Balance ~ account"),
            ("amount_gross", _rands(cents)),
            ("amount_fee", "-2.30"),
            ("merchant_id", "10000100"),
        ]
        text = "&".join(f"{name}={_php(value)}" for name, value in pairs)
        signature = hashlib.md5((text + f"&passphrase={_php(passphrase)}").encode()).hexdigest()  # noqa: S324
        return {"Content-Type": "application/x-www-form-urlencoded"}, f"{text}&signature={signature}".encode()

    def success(self, link_id, txn, cents, currency="ZAR"):
        return self._signed(link_id, txn, cents, "COMPLETE")

    def failure(self, link_id, txn, cents):
        return self._signed(link_id, txn, cents, "CANCELLED")

    def forged(self, link_id, txn, cents):
        return self._signed(link_id, txn, cents, "COMPLETE", passphrase="guessed")

    def malformed(self):
        pairs = [("m_payment_id", "x"), ("payment_status", "COMPLETE"), ("merchant_id", "10000100")]
        text = "&".join(f"{name}={_php(value)}" for name, value in pairs)
        signature = hashlib.md5((text + f"&passphrase={PAYFAST_PASSPHRASE}").encode()).hexdigest()  # noqa: S324
        return {"Content-Type": "application/x-www-form-urlencoded"}, f"{text}&signature={signature}".encode()


class PeachRail(Rail):
    """Hex HMAC-SHA256 of the parameters sorted by name, concatenated as name + value."""

    name = "peach"

    def _signed(self, params: dict, token: str = PEACH_TOKEN) -> tuple[dict, bytes]:
        message = "".join(name + params[name] for name in sorted(params))
        params = {
            **params,
            "signature": hmac.new(token.encode(), message.encode(), hashlib.sha256).hexdigest(),
        }
        return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(params).encode()

    def _params(self, link_id, txn, cents, code, currency="ZAR", kind="DB", **more):
        return {
            "id": txn,
            "merchantTransactionId": link_id,
            "paymentType": kind,
            "amount": _rands(cents),
            "currency": currency,
            "result.code": code,
            "timestamp": "2026-12-04T10:00:00Z",
            **more,
        }

    def success(self, link_id, txn, cents, currency="ZAR"):
        return self._signed(self._params(link_id, txn, cents, "000.100.110", currency))

    def failure(self, link_id, txn, cents):
        return self._signed(self._params(link_id, txn, cents, "800.100.151"))

    def refund(self, link_id, txn, refund_id, cents):
        return self._signed(
            self._params(link_id, refund_id, cents, "000.100.110", kind="RF", referencedId=txn)
        )

    def forged(self, link_id, txn, cents):
        return self._signed(self._params(link_id, txn, cents, "000.100.110"), token="0" * 32)

    def malformed(self):
        return self._signed({"paymentType": "DB", "result.code": "000.100.110", "amount": "1.00"})


def rails(stack: Stack) -> dict[str, Rail]:
    return {
        rail.name: rail
        for rail in (
            SandboxRail(stack),
            PaystackRail(),
            StitchRail(stack),
            OzowRail(),
            PayFastRail(),
            PeachRail(),
        )
    }


PROVIDERS = ["sandbox", "paystack", "stitch", "ozow", "payfast", "peach"]


def txn() -> str:
    return "T" + uuid.uuid4().hex[:12]


# --- the wiring ------------------------------------------------------------------------------------


def test_every_provider_with_keys_in_the_secret_is_wired(stack):
    # Given a payment secret holding keys for every rail (and the client file naming the sandbox)
    # Then every rail answers on its own path, and the sandbox still makes the links
    assert set(stack.cloud.services.payments.names) == set(PROVIDERS)
    assert stack.cloud.services.payment_provider.name == "sandbox"


# --- credit once, whoever delivers it and however often --------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_payment_is_credited_once_however_often_it_is_delivered(stack, provider):
    # Given a debtor owing R1,000 on a link of this provider
    account_id, link_id = open_link(stack, provider)
    delivery = rails(stack)[provider].success(link_id, txn(), 100_000)
    # When the provider delivers the success, then delivers the very same bytes twice more
    answers = [post(stack, provider, delivery) for _ in range(3)]
    # Then the first credits R1,000, the repeats are answered 200 as duplicates and credit nothing
    assert [a["status"] for a in answers] == [200, 200, 200]
    assert [a["outcome"] for a in answers] == ["applied", "duplicate", "duplicate"]
    assert collected(account_id) == 100_000
    assert AccountModel.get(account_id).balance_cents == 0
    recorded = deliveries(provider, link_id)
    assert [d.outcome for d in recorded] == ["applied", "duplicate", "duplicate"]
    # And the repeats were stopped by the idempotency record (the first line), before the ledger
    assert [d.reason for d in recorded[1:]] == ["already_processed", "already_processed"]


def test_a_replay_after_the_idempotency_record_expired_is_still_refused_by_the_transaction(stack):
    # Given a payment credited once
    account_id, link_id = open_link(stack, "sandbox")
    delivery = SandboxRail(stack).success(link_id, txn(), 40_000)
    assert post(stack, "sandbox", delivery)["outcome"] == "applied"
    # When the idempotency table forgets it (its records expire) and the provider delivers it again
    table = f"rapport-{stack.cloud.client.client_id}-idempotency"
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for item in dynamodb.scan(TableName=table)["Items"]:
        if item["id"]["S"].startswith(IDEMPOTENCY_KEY_PREFIX):
            dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
    again = post(stack, "sandbox", delivery)
    # Then the payment transaction's second line recognises it: 200, duplicate, nothing credited
    assert (again["status"], again["outcome"], again["reason"]) == (200, "duplicate", "already_recorded")
    assert collected(account_id) == 40_000


def test_the_same_payment_under_a_new_event_id_is_a_duplicate_fact(stack):
    # Given a sandbox payment credited once
    account_id, link_id = open_link(stack, "sandbox")
    payment = txn()
    post(stack, "sandbox", SandboxRail(stack).success(link_id, payment, 30_000))
    # When the provider re-sends the same transaction's success with a fresh event id
    again = post(stack, "sandbox", SandboxRail(stack).success(link_id, payment, 30_000))
    # Then it is recognised as the same fact and credits nothing
    assert (again["status"], again["outcome"]) == (200, "duplicate")
    assert collected(account_id) == 30_000


# --- bad input: the right status, recorded, nothing credited -----------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_delivery_is_refused_with_401_and_recorded(stack, provider):
    account_id, link_id = open_link(stack, provider)
    answer = post(stack, provider, rails(stack)[provider].forged(link_id, txn(), 100_000))
    assert (answer["status"], answer["outcome"]) == (401, "rejected")
    assert collected(account_id) == 0
    assert deliveries(provider)[-1].reason in ("bad_signature", "missing_signature")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_malformed_delivery_is_refused_with_400_and_recorded(stack, provider):
    answer = post(stack, provider, rails(stack)[provider].malformed())
    assert (answer["status"], answer["outcome"]) == (400, "rejected")
    assert deliveries(provider)[-1].http_status == 400


@pytest.mark.parametrize("provider", ["sandbox", "stitch"])
def test_a_stale_delivery_is_refused_with_401(stack, provider):
    # Given a delivery signed six minutes ago (the tolerance is five)
    account_id, link_id = open_link(stack, provider)
    answer = post(stack, provider, rails(stack)[provider].stale(link_id, txn(), 10_000))
    # Then it is refused as stale and credits nothing
    assert (answer["status"], answer["reason"]) == (401, "stale_timestamp")
    assert collected(account_id) == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_payment_for_a_link_we_never_made_is_refused_with_404(stack, provider):
    answer = post(stack, provider, rails(stack)[provider].success("L" + uuid.uuid4().hex[:20], txn(), 5_000))
    assert (answer["status"], answer["reason"]) == (404, "unknown_link")
    assert deliveries(provider)[-1].reason == "unknown_link"


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "payfast"])
def test_a_payment_in_another_currency_is_refused_with_422(stack, provider):
    account_id, link_id = open_link(stack, provider)
    answer = post(stack, provider, rails(stack)[provider].success(link_id, txn(), 100_000, currency="USD"))
    assert (answer["status"], answer["reason"]) == (422, "currency_mismatch")
    assert collected(account_id) == 0
    assert deliveries(provider, link_id)[-1].outcome == "rejected"


@pytest.mark.parametrize("provider", ["sandbox", "paystack"])
def test_a_payment_of_nothing_is_refused_with_422(stack, provider):
    account_id, link_id = open_link(stack, provider)
    answer = post(stack, provider, rails(stack)[provider].success(link_id, txn(), 0))
    assert (answer["status"], answer["reason"]) == (422, "non_positive_amount")
    assert collected(account_id) == 0


def test_an_unknown_provider_is_a_recorded_404_under_one_partition(stack):
    # When something posts to a provider path no rail answers on
    response = stack.cloud.post_webhook("../../Evil Corp", {}, b"{}")
    # Then it is a 404, recorded under "unknown" with a sanitised name, never as a new partition
    assert response["statusCode"] == 404
    recorded = deliveries("unknown")[-1]
    assert (recorded.outcome, recorded.reason) == ("rejected", "unknown_provider:evilcorp")
    assert deliveries("../../Evil Corp") == []


def test_payfast_source_address_comes_from_api_gateway_never_from_the_caller(stack):
    # Given an ITN that also carries a forged source-address header
    account_id, link_id = open_link(stack, "payfast")
    headers, body = PayFastRail().success(link_id, txn(), 20_000)
    event = {
        "resource": "/webhooks/{provider}",
        "path": "/webhooks/payfast",
        "httpMethod": "POST",
        "headers": {**headers, "X-Rapport-Source-Ip": "203.0.113.9"},
        "pathParameters": {"provider": "payfast"},
        "body": body.decode(),
        "isBase64Encoded": False,
        "requestContext": {"requestId": secrets.token_hex(8), "identity": {"sourceIp": "197.97.145.144"}},
    }
    # When API Gateway hands it to the webhook function
    response = stack.cloud.invoke("payment_webhook", event)
    # Then PayFast's validator is asked about the address API Gateway saw
    assert response["statusCode"] == 200
    assert stack.payfast.source_ips[-1] == "197.97.145.144"
    assert collected(account_id) == 20_000


# --- out of order, partial and over-payments ------------------------------------------------------


@pytest.mark.parametrize("provider", ["sandbox", "stitch", "ozow", "payfast", "peach"])
def test_a_failure_reported_after_the_success_does_not_undo_the_credit(stack, provider):
    account_id, link_id = open_link(stack, provider)
    rail, payment = rails(stack)[provider], txn()
    post(stack, provider, rail.success(link_id, payment, 60_000))
    late = post(stack, provider, rail.failure(link_id, payment, 60_000))
    assert late["status"] == 200
    assert collected(account_id) == 60_000


@pytest.mark.parametrize("provider", ["sandbox", "paystack", "stitch", "peach"])
def test_a_refund_after_the_success_takes_the_money_back_once(stack, provider):
    # Given a credited payment of R600
    account_id, link_id = open_link(stack, provider)
    rail, payment, refund_id = rails(stack)[provider], txn(), "R" + uuid.uuid4().hex[:10]
    post(stack, provider, rail.success(link_id, payment, 60_000))
    # When R200 of it is refunded, and the refund is delivered twice
    refund = rail.refund(link_id, payment, refund_id, 20_000)
    answers = [post(stack, provider, refund) for _ in range(2)]
    # Then R200 is taken back once: the account has collected R400 and owes R600 again
    assert [a["outcome"] for a in answers] == ["applied", "duplicate"]
    assert collected(account_id) == 40_000
    assert AccountModel.get(account_id).balance_cents == 100_000 - 40_000


def test_a_refund_that_arrives_before_its_payment_is_held_then_applied(stack):
    account_id, link_id = open_link(stack, "sandbox")
    rail, payment = SandboxRail(stack), txn()
    early = post(stack, "sandbox", rail.refund(link_id, payment, "R1", 10_000))
    assert (early["status"], early["outcome"]) == (200, "held")
    assert collected(account_id) == 0
    post(stack, "sandbox", rail.success(link_id, payment, 50_000))
    assert collected(account_id) == 40_000


def test_a_stitch_refund_in_its_documented_shape_finds_its_link_through_the_payment(stack):
    # Given a credited Stitch payment of R600
    account_id, link_id = open_link(stack, "stitch")
    rail, payment = StitchRail(stack), txn()
    assert post(stack, "stitch", rail.success(link_id, payment, 60_000))["outcome"] == "applied"
    # When Stitch reports a R200 refund of it in its documented shape: no externalReference, only
    # the payment request it refunds; first pending, then completed
    refund_id = "R" + uuid.uuid4().hex[:10]

    def refund(status: str) -> tuple[dict, bytes]:
        return rail._signed(
            {
                "id": refund_id,
                "paymentRequestId": payment,
                "status": {"__typename": status},
                "amount": {"quantity": "200.00", "currency": "ZAR"},
            }
        )

    pending = post(stack, "stitch", refund("RefundPending"))
    assert (pending["status"], collected(account_id)) == (200, 60_000), pending
    answer = post(stack, "stitch", refund("RefundCompleted"))
    # Then the refund is applied on the payment's link
    assert (answer["status"], answer["outcome"]) == (200, "applied"), answer
    assert collected(account_id) == 40_000
    assert deliveries("stitch", link_id)[-1].outcome == "applied"


def test_a_peach_refund_without_our_reference_finds_its_link_through_the_payment(stack):
    account_id, link_id = open_link(stack, "peach")
    rail, payment = PeachRail(), txn()
    post(stack, "peach", rail.success(link_id, payment, 60_000))
    params = rail._params(link_id, "R" + txn(), 20_000, "000.100.110", kind="RF", referencedId=payment)
    del params["merchantTransactionId"]
    answer = post(stack, "peach", rail._signed(params))
    assert (answer["status"], answer["outcome"]) == (200, "applied"), answer
    assert collected(account_id) == 40_000


def test_a_stitch_refund_of_a_payment_not_yet_seen_is_held_and_applied_when_the_payment_comes(stack):
    # Given a Stitch refund, without our reference, of a payment whose success has not arrived
    account_id, link_id = open_link(stack, "stitch")
    rail, payment = StitchRail(stack), txn()
    refund = rail._signed(
        {
            "id": "R" + uuid.uuid4().hex[:10],
            "paymentRequestId": payment,
            "status": {"__typename": "RefundCompleted"},
            "amount": {"quantity": "100.00", "currency": "ZAR"},
        }
    )
    early = post(stack, "stitch", refund)
    # Then it is held, not refused, and credits nothing
    assert (early["status"], early["outcome"], early["reason"]) == (200, "held", "payment_not_seen")
    assert collected(account_id) == 0
    # When the R500 payment arrives, the held refund is taken from it
    late = post(stack, "stitch", rail.success(link_id, payment, 50_000))
    assert late["outcome"] == "applied"
    assert collected(account_id) == 40_000
    assert sorted(e["kind"] for e in PaymentLinkModel.get(link_id).events) == ["refunded", "succeeded"]
    # And a redelivery of the refund credits nothing more
    assert post(stack, "stitch", refund)["outcome"] == "duplicate"
    assert collected(account_id) == 40_000


def test_a_held_refund_is_not_lost_when_a_payment_that_read_the_link_earlier_commits_after_it(
    stack, monkeypatch
):
    # Given two deliveries for one link that read it at the same moment: a refund that arrives
    # before its payment (held, no credit) and the payment itself
    account_id, link_id = open_link(stack, "sandbox")
    rail, payment = SandboxRail(stack), txn()
    stale = PaymentLinkModel.get(link_id)
    services = stack.cloud.services
    refund = rail.refund(link_id, payment, "R1", 10_000)
    early = handle_payment_webhook(services, "sandbox", *refund, lambda_context=_Context())
    assert early.outcome == "held"
    # When the payment commits second, from what it read before the refund was written
    monkeypatch.setattr(services.repos.links, "find", lambda _link_id: stale)
    success = rail.success(link_id, payment, 50_000)
    late = handle_payment_webhook(services, "sandbox", *success, lambda_context=_Context())
    monkeypatch.undo()
    # Then it loses the race and is told to retry, and the held refund is still recorded
    assert (late.http_status, late.outcome) == (503, "retry")
    assert [e["kind"] for e in PaymentLinkModel.get(link_id).events] == ["refunded"]
    assert collected(account_id) == 0
    # And the provider's retry folds both: R500 paid, R100 of it refunded
    retried = handle_payment_webhook(services, "sandbox", *success, lambda_context=_Context())
    assert (retried.http_status, retried.outcome) == (200, "applied")
    assert collected(account_id) == 40_000


def test_a_settled_account_refunded_in_full_is_open_again_and_audited(stack):
    # Given a debtor in arrears who paid their R300 in full (settled)
    account_id, link_id = open_link(stack, "sandbox", amount_cents=30_000)
    AccountModel(account_id).update(actions=[AccountModel.arrears_segment.set("needs_help")])
    before = AccountModel.get(account_id)
    assert (before.status, before.arrears_segment) == ("in_arrears", "needs_help")
    rail, payment = SandboxRail(stack), txn()
    post(stack, "sandbox", rail.success(link_id, payment, 30_000))
    assert AccountModel.get(account_id).status == "settled"
    # When the payment is refunded in full
    post(stack, "sandbox", rail.refund(link_id, payment, "RF" + txn(), 30_000))
    # Then the account owes R300 again and is back in arrears as it was, with the reason audited
    stored = AccountModel.get(account_id)
    assert stored.balance_cents == 30_000
    assert (stored.status, stored.arrears_segment) == ("in_arrears", "needs_help")
    reopened = [a for a in AuditModel.query(account_id) if a.action == "account_reopened"]
    assert len(reopened) == 1
    assert reopened[0].inputs["balance_cents"] == 30_000


def test_an_account_settled_without_a_record_of_before_goes_back_in_arrears_in_its_segment(stack):
    # Given a paid account whose state before it settled was not kept (a plan that completed, say)
    account_id, link_id = open_link(stack, "sandbox", amount_cents=30_000)
    rail, payment = SandboxRail(stack), txn()
    post(stack, "sandbox", rail.success(link_id, payment, 30_000))
    AccountModel(account_id).update(
        actions=[
            AccountModel.segment.set("self_cure"),
            AccountModel.status_before_settled.remove(),
            AccountModel.segment_before_settled.remove(),
        ]
    )
    # When R100 of it is refunded
    post(stack, "sandbox", rail.refund(link_id, payment, "RF" + txn(), 10_000))
    # Then it is in arrears again, in its assessed segment (it is 60 days past due)
    stored = AccountModel.get(account_id)
    assert stored.balance_cents == 10_000
    assert (stored.status, stored.arrears_segment) == ("in_arrears", "self_cure")


def test_a_partial_refund_of_an_overpayment_that_still_leaves_a_credit_keeps_the_account_settled(stack):
    account_id, link_id = open_link(stack, "sandbox", amount_cents=30_000)
    rail, payment = SandboxRail(stack), txn()
    post(stack, "sandbox", rail.success(link_id, payment, 35_000))
    post(stack, "sandbox", rail.refund(link_id, payment, "RF" + txn(), 5_000))
    stored = AccountModel.get(account_id)
    assert (stored.balance_cents, stored.status) == (0, "settled")
    assert not [a for a in AuditModel.query(account_id) if a.action == "account_reopened"]


def test_a_payment_far_beyond_the_link_and_balance_is_refused_for_a_person_to_reconcile(stack):
    # Given a debtor owing R100 on a R100 link
    account_id, link_id = open_link(stack, "sandbox", amount_cents=10_000)
    # When the provider reports R100,000 paid on it
    answer = post(stack, "sandbox", SandboxRail(stack).success(link_id, txn(), 10_000_000))
    # Then nothing is credited, the refusal is recorded and a person is asked to reconcile it
    assert (answer["status"], answer["outcome"], answer["reason"]) == (422, "rejected", "amount_beyond_link")
    assert collected(account_id) == 0
    assert AccountModel.get(account_id).balance_cents == 10_000
    assert deliveries("sandbox", link_id)[-1].reason == "amount_beyond_link"
    items = [i for i in WorklistModel.query("agents") if i.account_id == account_id]
    assert [i.reason for i in items] == ["payment_beyond_link"]


def test_a_payment_just_within_the_tolerance_is_credited_as_an_overpayment(stack):
    # Given a debtor owing R100 on a R100 link
    account_id, link_id = open_link(stack, "sandbox", amount_cents=10_000)
    rail = SandboxRail(stack)
    ceiling = 10_000 + webhooks.OVERPAYMENT_TOLERANCE_CENTS
    # When one cent more than the ceiling is reported, then exactly the ceiling
    above = post(stack, "sandbox", rail.success(link_id, txn(), ceiling + 1))
    at = post(stack, "sandbox", rail.success(link_id, txn(), ceiling))
    # Then the first is refused and the second kept, the excess as a credit on the account
    assert (above["status"], above["reason"]) == (422, "amount_beyond_link")
    assert (at["status"], at["outcome"]) == (200, "applied")
    stored = AccountModel.get(account_id)
    assert (stored.collected_cents, stored.balance_cents) == (ceiling, 10_000 - ceiling)
    assert PaymentLinkModel.get(link_id).status == "overpaid"


def test_a_refund_larger_than_the_payment_is_refused_with_422(stack):
    account_id, link_id = open_link(stack, "peach")
    rail, payment = PeachRail(), txn()
    post(stack, "peach", rail.success(link_id, payment, 10_000))
    answer = post(stack, "peach", rail.refund(link_id, payment, "R" + txn(), 10_001))
    assert (answer["status"], answer["reason"]) == (422, "reversal_exceeds_credit")
    assert collected(account_id) == 10_000


def test_part_payments_add_up_and_an_overpayment_is_kept_as_a_credit(stack):
    # Given a debtor owing R1,000
    account_id, link_id = open_link(stack, "sandbox")
    rail = SandboxRail(stack)
    # When they pay R300, then R900 (R200 too much)
    post(stack, "sandbox", rail.success(link_id, txn(), 30_000))
    assert PaymentLinkModel.get(link_id).status == "partly_paid"
    post(stack, "sandbox", rail.success(link_id, txn(), 90_000))
    # Then both are credited, the link is overpaid and the account carries R200 in credit, audited
    stored = AccountModel.get(account_id)
    assert (stored.collected_cents, stored.balance_cents, stored.status) == (120_000, -20_000, "settled")
    assert PaymentLinkModel.get(link_id).status == "overpaid"
    audits = [a.inputs for a in AuditModel.query(account_id) if a.action == "payment_applied"]
    assert sorted(a["overpayment"] for a in audits) == [False, True]


# --- no sequence of deliveries credits more than was paid --------------------------------------------


class _Context:
    """The one thing Powertools idempotency reads from a Lambda context."""

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


_script = st.lists(
    st.tuples(
        st.sampled_from(["pay", "redeliver", "refund", "fail", "forge"]),
        st.integers(min_value=0, max_value=4),
        st.integers(min_value=1, max_value=80_000),
    ),
    min_size=1,
    max_size=7,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=_script)
def test_no_sequence_of_deliveries_credits_more_than_was_paid(stack, script):
    # Given a fresh link, and a script of deliveries: payments, redeliveries of anything already
    # sent, refunds and failures of earlier payments (possibly too large), and forgeries
    account_id, link_id = open_link(stack, "sandbox", amount_cents=100_000)
    rail = SandboxRail(stack)
    sent: list[tuple[dict, bytes]] = []
    payments: dict[str, int] = {}
    for action, pick, cents in script:
        earlier = list(payments)
        if action == "pay" or not earlier:
            payment = txn()
            payments[payment] = cents
            delivery = rail.success(link_id, payment, cents)
        elif action == "redeliver" and sent:
            delivery = sent[pick % len(sent)]
        elif action == "refund":
            delivery = rail.refund(link_id, earlier[pick % len(earlier)], f"R{len(sent)}", cents)
        elif action == "fail":
            delivery = rail.failure(link_id, earlier[pick % len(earlier)], cents)
        else:
            delivery = rail.forged(link_id, txn(), cents)
        sent.append(delivery)
        # When each is delivered through the real handler
        handle_payment_webhook(stack.cloud.services, "sandbox", *delivery, lambda_context=_Context())
    # Then what the account collected is never negative and never more than the distinct payments
    stored = AccountModel.get(account_id)
    assert 0 <= stored.collected_cents <= sum(payments.values())
    assert stored.balance_cents + stored.collected_cents == 100_000


def test_a_second_full_payment_on_a_paid_link_is_refused_for_a_person(stack):
    # Given a debtor who owed R1,000 and paid it in full on the link
    account_id, link_id = open_link(stack, "sandbox", amount_cents=100_000)
    rail = SandboxRail(stack)
    assert post(stack, "sandbox", rail.success(link_id, txn(), 100_000))["outcome"] == "applied"
    assert AccountModel.get(account_id).balance_cents == 0
    # When the provider reports a second R1,000 payment on the same link (the debtor paid twice)
    again = post(stack, "sandbox", rail.success(link_id, txn(), 100_000))
    # Then nobody owes it, by far more than the tolerance: refused, credited nothing, put before a person
    assert (again["status"], again["reason"]) == (422, "amount_beyond_link")
    assert collected(account_id) == 100_000 and AccountModel.get(account_id).balance_cents == 0
    assert [item.reason for item in WorklistModel.scan() if item.account_id == account_id] == [
        "payment_beyond_link"
    ]
