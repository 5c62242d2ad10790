"""DebiCheck through Stitch on the local cloud: a plan accepted with bank details becomes a Stitch
payment consent, and Stitch's Svix-signed callbacks to ``/webhooks/debicheck`` move the mandate and
credit its collections, through the real webhook and acceptance handlers.

Stitch's API is a fake of our HttpTransport port (``FakeStitch``) that answers as Stitch's docs
describe: a client token, then consents created, queried, cancelled and revoked. Every callback is
signed here from Svix's documented scheme. Judged by the records: the HTTP answer, the delivery
log, the plan's mandate, the account's balance and what the fake was asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from journey_helpers import MONDAY_MORNING, account, load

from rapport.clock import SimulatedClock
from rapport.journey.steps import OfferPlanInput, offer_plan
from rapport.payments import HttpRequest, HttpResponse
from rapport.payments.debicheck import MandateStatus
from rapport.payments.plans import PaymentPlan
from rapport.payments.wiring import PaymentEnvironment, PaymentKeys, build_debicheck
from rapport.runtime import plan_mandate_reference
from rapport.store.models import AccountModel, PaymentModel, WebhookDeliveryModel, WorklistModel
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_local.cloud import LocalCloud
from rapport_local.payments_page import accept_latest_offer, enable_payments, latest_plan

pytestmark = pytest.mark.integration

KEY = b"stitch-debicheck-integration-key-01"
DEBICHECK_KEYS = {
    "provider": "stitch",
    "webhook_secret": "whsec_" + base64.b64encode(KEY).decode(),
    "client_id": "stitch-client",
    "client_secret": "stitch-client-secret",
}
BANK = {"account_number": "1234567890", "branch_code": "250655", "account_type": "savings"}


class FakeStitch:
    """Stitch's token endpoint and GraphQL API as far as DebiCheck consents go, in memory."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []
        self.consents: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def send(self, request: HttpRequest) -> HttpResponse:
        with self._lock:
            self.requests.append(request)
            if request.url.endswith("/connect/token"):
                return self._answer({"access_token": "client-token", "expires_in": 3600})
            payload = request.json_body()
            query, variables = payload["query"], payload["variables"]
            if "paymentConsentRequestCreate" in query:
                consent_input = variables["input"]
                consent_id = "pcr_" + consent_input["nonce"][-16:]
                self.consents[consent_id] = {
                    "status": "PaymentConsentPending",
                    "externalReference": consent_input["externalReference"],
                }
                return self._consent("paymentConsentRequestCreate", consent_id)
            if "node(id: $id)" in query:
                consent = self.consents.get(variables["id"])
                node = (
                    None
                    if consent is None
                    else {"id": variables["id"], "status": {"__typename": consent["status"]}}
                )
                return self._answer({"data": {"node": node}})
            for field, status in (
                ("paymentConsentRequestRevoke", "PaymentConsentRevoked"),
                ("paymentConsentRequestCancel", "PaymentConsentCancelled"),
            ):
                if field in query:
                    self.consents[variables["id"]]["status"] = status
                    return self._consent(field, variables["id"])
            raise AssertionError("the gateway asked Stitch something this fake does not know")

    def mutations(self, field: str) -> list[dict[str, Any]]:
        return [
            r.json_body()["variables"]
            for r in self.requests
            if r.url.endswith("/graphql") and field in r.json_body()["query"]
        ]

    def _consent(self, field: str, consent_id: str) -> HttpResponse:
        status = self.consents[consent_id]["status"]
        node = {
            "id": consent_id,
            "url": f"https://secure.stitch.example/consent/{consent_id}",
            "status": {"__typename": status},
        }
        return self._answer({"data": {field: node}})

    @staticmethod
    def _answer(document: dict[str, Any]) -> HttpResponse:
        return HttpResponse(status=200, body=json.dumps(document).encode())


class Stack:
    def __init__(self, cloud: LocalCloud, stitch: FakeStitch) -> None:
        self.cloud, self.stitch = cloud, stitch


@pytest.fixture(scope="module")
def stack():
    cloud = LocalCloud(CLIENTS_DIR / "acme-za.toml", SimulatedClock(MONDAY_MORNING, scale=1))
    cloud.__enter__()
    stitch = FakeStitch()
    enable_payments(cloud, extra_keys={"debicheck": DEBICHECK_KEYS}, transport=stitch)
    yield Stack(cloud, stitch)
    cloud.__exit__(None, None, None)


_numbers = itertools.count(900)


def offered_plan(stack: Stack, balance_cents: int = 240_000) -> str:
    """A debtor offered a plan by the journey's OfferPlan step; their account id."""
    debtor = account(next(_numbers), balance_cents=balance_cents)
    load(stack.cloud, debtor)
    step = OfferPlanInput(
        account_id=debtor.account_id,
        journey_id=f"{debtor.account_id}-test",
        assessment={"max_plan_months": 12},
        analysis={"reply_id": "r1", "amount_cents": 60_000},
    )
    assert offer_plan(stack.cloud.services, step)["offered"]
    return debtor.account_id


def mandated(stack: Stack, balance_cents: int = 240_000) -> tuple[str, dict[str, Any]]:
    """A debtor offered a plan who accepts it with their bank account: (account id, the plan's
    mandate record)."""
    account_id = offered_plan(stack, balance_cents)
    accepted = accept_latest_offer(stack.cloud, account_id, bank_account=BANK)
    assert accepted["statusCode"] == 200, accepted["json"]
    return account_id, latest_plan(account_id).plan["mandate"]


def signed(body: dict[str, Any], at: datetime, message_id: str | None = None, key: bytes = KEY):
    raw = json.dumps(body).encode()
    message_id = message_id or "msg_" + uuid.uuid4().hex[:20]
    stamp = str(int(at.timestamp()))
    digest = hmac.new(key, f"{message_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    headers = {
        "svix-id": message_id,
        "svix-timestamp": stamp,
        "svix-signature": "v1," + base64.b64encode(digest).decode(),
        "content-type": "application/json",
    }
    return headers, raw


def consent_update(stack: Stack, mandate: dict[str, Any], type_name: str, **signing: Any):
    body = {
        "id": mandate["provider_reference"],
        "externalReference": mandate["mandate_id"],
        "status": {"__typename": type_name, "date": stack.cloud.clock.now().isoformat()},
    }
    return signed(body, signing.pop("at", None) or stack.cloud.clock.now(), **signing)


def collection(
    stack: Stack,
    mandate: dict[str, Any],
    cents: int,
    type_name: str = "TransactionSuccess",
    transaction_id: str | None = None,
    **signing: Any,
):
    body = {
        "id": transaction_id or "txn_" + uuid.uuid4().hex[:16],
        "amount": {"quantity": f"{cents // 100}.{cents % 100:02d}", "currency": "ZAR"},
        "state": {"__typename": type_name, "date": stack.cloud.clock.now().isoformat()},
        "paymentConsentRequest": {
            "id": mandate["provider_reference"],
            "externalReference": mandate["mandate_id"],
        },
    }
    return signed(body, stack.cloud.clock.now(), **signing)


def post(stack: Stack, delivery: tuple[dict[str, str], bytes]) -> dict[str, Any]:
    headers, raw = delivery
    response = stack.cloud.post_webhook("debicheck", headers, raw)
    return {"status": response["statusCode"], **json.loads(response["body"])}


def last_delivery() -> WebhookDeliveryModel:
    return sorted(WebhookDeliveryModel.query("debicheck"), key=lambda d: d.delivery_id)[-1]


def next_instalment(account_id: str) -> int:
    return PaymentPlan.model_validate(latest_plan(account_id).plan["current"]).unpaid[0].outstanding_cents


# --- the mandate request ------------------------------------------------------------------------------


def test_a_plan_accepted_with_bank_details_becomes_a_stitch_consent(stack):
    # Given a debtor who accepts a plan with their bank account
    account_id, mandate = mandated(stack)
    # Then Stitch was asked for a DebiCheck consent naming the mandate, with the plan's instalment
    created = [v["input"] for v in stack.stitch.mutations("paymentConsentRequestCreate")]
    ours = next(i for i in created if i["externalReference"] == mandate["mandate_id"])
    details = ours["paymentMethods"]["debicheck"]["details"]
    current = PaymentPlan.model_validate(latest_plan(account_id).plan["current"])
    assert (
        details["collection"]["instalmentAmount"]["quantity"]
        == f"{current.regular_instalment_cents / 100:.2f}"
    )
    assert details["payerBank"]["accountNumber"] == BANK["account_number"]
    # And the plan keeps the consent's id and the status "sent for approval", never the bank details
    assert mandate["status"] == "sent_for_approval"
    assert mandate["provider_reference"] in stack.stitch.consents
    assert BANK["account_number"] not in json.dumps(latest_plan(account_id).plan)


def test_the_debtor_is_sent_to_stitch_to_approve_and_finds_the_page_again_on_a_second_visit(stack):
    # Given a debtor offered a plan
    account_id = offered_plan(stack)
    # When they accept it with their bank account, and open the acceptance link again
    first = accept_latest_offer(stack.cloud, account_id, bank_account=BANK)
    again = accept_latest_offer(stack.cloud, account_id, bank_account=BANK)
    # Then the answer sends them to Stitch's page for the consent, both times
    consent_id = latest_plan(account_id).plan["mandate"]["provider_reference"]
    assert first["json"]["mandate_approval_url"].startswith(f"https://secure.stitch.example/consent/{consent_id}")
    assert again["json"]["outcome"] == "already_accepted"
    assert again["json"]["mandate_approval_url"] == first["json"]["mandate_approval_url"]


def test_a_gateway_that_did_not_request_the_mandate_finds_it_through_the_plan(stack):
    # Given a mandate requested by the stack, and a gateway built afresh (another Lambda container)
    _, mandate = mandated(stack)
    keys = PaymentKeys.model_validate({"debicheck": DEBICHECK_KEYS})
    environment = PaymentEnvironment(
        clock=stack.cloud.clock.now,
        pay_page_base_url="https://pay.example.test",
        transport=stack.stitch,
        mandate_reference=plan_mandate_reference,
    )
    fresh = build_debicheck(keys, environment)
    # Then it asks Stitch about the consent the plan record names
    assert fresh.mandate_status(mandate["mandate_id"]) is MandateStatus.SENT_FOR_APPROVAL
    assert stack.stitch.requests[-1].json_body()["variables"] == {"id": mandate["provider_reference"]}


# --- mandate callbacks --------------------------------------------------------------------------------


def test_the_debtors_approval_is_recorded_once_however_often_it_is_delivered(stack):
    # Given a mandate sent for approval
    account_id, mandate = mandated(stack)
    delivery = consent_update(stack, mandate, "PaymentConsentGranted")
    # When Stitch reports it granted, then delivers the same message again
    first, again = post(stack, delivery), post(stack, delivery)
    # Then the plan's mandate is approved once; the repeat is a 200 duplicate
    assert (first["status"], first["outcome"]) == (200, "applied")
    assert (again["status"], again["outcome"], again["reason"]) == (200, "duplicate", "already_recorded")
    recorded = latest_plan(account_id).plan["mandate"]
    assert recorded["status"] == "approved"
    assert recorded["event_ids"] == [delivery[0]["svix-id"]]
    # And both deliveries are logged under debicheck by the body Stitch sent (never our restatement)
    logged = last_delivery()
    assert (logged.outcome, logged.event_id, logged.account_id) == (
        "duplicate",
        delivery[0]["svix-id"],
        account_id,
    )
    assert logged.body_sha256 == hashlib.sha256(delivery[1]).hexdigest()


def test_a_rejected_mandate_leaves_the_plan_payable_and_tells_an_agent(stack):
    account_id, mandate = mandated(stack)
    answer = post(stack, consent_update(stack, mandate, "PaymentConsentFailed"))
    assert (answer["status"], answer["outcome"]) == (200, "applied")
    plan = latest_plan(account_id)
    assert (plan.status, plan.plan["mandate"]["status"]) == ("active", "rejected")
    assert plan.plan["mandate"]["reason_code"] == "stitch_PaymentConsentFailed"
    assert any(
        w.account_id == account_id and w.reason == "mandate_rejected" for w in WorklistModel.query("agents")
    )


def test_a_granted_then_revoked_mandate_is_cancelled(stack):
    account_id, mandate = mandated(stack)
    assert post(stack, consent_update(stack, mandate, "PaymentConsentGranted"))["outcome"] == "applied"
    stack.cloud.clock.rebase(stack.cloud.clock.now() + timedelta(seconds=1))
    assert post(stack, consent_update(stack, mandate, "PaymentConsentRevoked"))["outcome"] == "applied"
    assert latest_plan(account_id).plan["mandate"]["status"] == "cancelled"


def test_the_debtor_still_deciding_is_acknowledged_and_changes_nothing(stack):
    account_id, mandate = mandated(stack)
    answer = post(stack, consent_update(stack, mandate, "PaymentConsentProcessing"))
    assert (answer["status"], answer["outcome"], answer["reason"]) == (200, "ignored", "mandate_pending")
    assert latest_plan(account_id).plan["mandate"]["status"] == "sent_for_approval"


@pytest.mark.parametrize(
    ("tamper", "status", "reason"),
    [
        ("forged", 401, "bad_signature"),
        ("stale", 401, "stale_timestamp"),
        ("unsigned", 401, "missing_signature"),
        ("ours", 401, "missing_signature"),
        ("malformed", 400, "unparseable_body"),
    ],
)
def test_a_bad_mandate_callback_is_refused_recorded_and_changes_nothing(stack, tamper, status, reason):
    # Given a mandate sent for approval, and a grant that is forged, replayed late, unsigned, in
    # the sandbox's shape (our own signature headers, which Stitch never sends), or not JSON
    account_id, mandate = mandated(stack)
    now = stack.cloud.clock.now()
    headers, raw = consent_update(stack, mandate, "PaymentConsentGranted")
    if tamper == "forged":
        headers, raw = consent_update(stack, mandate, "PaymentConsentGranted", key=b"not-stitchs-key-000000")
    elif tamper == "stale":
        headers, raw = consent_update(stack, mandate, "PaymentConsentGranted", at=now - timedelta(minutes=6))
    elif tamper == "unsigned":
        headers = {"content-type": "application/json"}
    elif tamper == "ours":
        headers = {"X-Mandate-Timestamp": str(int(now.timestamp())), "X-Mandate-Signature": "v1=" + "0" * 64}
    elif tamper == "malformed":
        headers, raw = _resign("msg_" + uuid.uuid4().hex[:20], b"{not json", now)
    # When it is posted
    answer = post(stack, (headers, raw))
    # Then it is refused with the right status and reason, recorded, and the mandate is unchanged
    assert (answer["status"], answer["outcome"], answer["reason"]) == (status, "rejected", reason)
    logged = last_delivery()
    assert (logged.http_status, logged.reason) == (status, reason)
    assert logged.body_sha256 == hashlib.sha256(raw).hexdigest()
    assert latest_plan(account_id).plan["mandate"]["status"] == "sent_for_approval"


def _resign(message_id: str, raw: bytes, at: datetime) -> tuple[dict[str, str], bytes]:
    stamp = str(int(at.timestamp()))
    digest = hmac.new(KEY, f"{message_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    headers = {
        "svix-id": message_id,
        "svix-timestamp": stamp,
        "svix-signature": "v1," + base64.b64encode(digest).decode(),
    }
    return headers, raw


def test_a_callback_for_a_mandate_we_never_requested_is_a_recorded_404(stack):
    mandate = {"mandate_id": "ACC-404404:plan-nope", "provider_reference": "pcr_unknown"}
    answer = post(stack, consent_update(stack, mandate, "PaymentConsentGranted"))
    assert (answer["status"], answer["reason"]) == (404, "unknown_mandate")
    assert last_delivery().reason == "unknown_mandate"


# --- collections --------------------------------------------------------------------------------------


def test_a_collection_is_credited_once_however_often_and_under_whatever_id_it_arrives(stack):
    # Given an approved mandate on a plan
    account_id, mandate = mandated(stack)
    post(stack, consent_update(stack, mandate, "PaymentConsentGranted"))
    instalment = next_instalment(account_id)
    balance = AccountModel.get(account_id).balance_cents
    # When the first collection's success is delivered, delivered again, and re-sent as a new message
    delivery = collection(stack, mandate, instalment, transaction_id="txn_first")
    answers = [post(stack, delivery), post(stack, delivery)]
    answers.append(post(stack, collection(stack, mandate, instalment, transaction_id="txn_first")))
    # Then it is credited once, on the plan's link, as an instalment
    assert [a["status"] for a in answers] == [200, 200, 200]
    assert [a["outcome"] for a in answers] == ["applied", "duplicate", "duplicate"]
    stored = AccountModel.get(account_id)
    assert (stored.collected_cents, stored.balance_cents) == (instalment, balance - instalment)
    payments = [p for p in PaymentModel.query(account_id) if p.credit_delta_cents > 0]
    assert [(p.provider, p.route, p.link_id) for p in payments] == [
        ("debicheck", "instalment", latest_plan(account_id).plan["link_id"])
    ]
    # And the plan counts the instalment paid
    assert PaymentPlan.model_validate(latest_plan(account_id).plan["current"]).paid_cents == instalment
    assert last_delivery().event_id is not None


def test_a_failed_or_pending_collection_credits_nothing(stack):
    account_id, mandate = mandated(stack)
    post(stack, consent_update(stack, mandate, "PaymentConsentGranted"))
    instalment = next_instalment(account_id)
    for type_name in ("TransactionPending", "TransactionFailure"):
        answer = post(stack, collection(stack, mandate, instalment, type_name=type_name))
        assert (answer["status"], answer["outcome"]) == (200, "applied")
    assert AccountModel.get(account_id).collected_cents == 0


def test_a_collection_on_a_mandate_we_do_not_know_is_a_recorded_404(stack):
    mandate = {"mandate_id": "ACC-404404:plan-nope", "provider_reference": "pcr_unknown"}
    answer = post(stack, collection(stack, mandate, 10_000))
    assert (answer["status"], answer["reason"]) == (404, "unknown_mandate")
    assert (last_delivery().http_status, last_delivery().reason) == (404, "unknown_mandate")


def test_a_forged_collection_credits_nothing(stack):
    account_id, mandate = mandated(stack)
    answer = post(
        stack, collection(stack, mandate, next_instalment(account_id), key=b"someone-else-000000000")
    )
    assert (answer["status"], answer["reason"]) == (401, "bad_signature")
    assert AccountModel.get(account_id).collected_cents == 0


def test_the_last_collection_completes_the_plan_and_revokes_the_consent_at_stitch(stack):
    # Given an approved mandate on a plan
    account_id, mandate = mandated(stack, balance_cents=120_000)
    post(stack, consent_update(stack, mandate, "PaymentConsentGranted"))
    stack.stitch.consents[mandate["provider_reference"]]["status"] = "PaymentConsentGranted"
    # When every instalment is collected
    while latest_plan(account_id).status == "active":
        assert post(stack, collection(stack, mandate, next_instalment(account_id)))["outcome"] == "applied"
    # Then the account is settled and the consent was revoked at Stitch with the plan's reason
    assert AccountModel.get(account_id).status == "settled"
    assert {"id": mandate["provider_reference"], "reason": "plan_ended"} in stack.stitch.mutations(
        "paymentConsentRequestRevoke"
    )
    assert stack.stitch.consents[mandate["provider_reference"]]["status"] == "PaymentConsentRevoked"
