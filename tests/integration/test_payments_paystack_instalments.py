"""A plan paid instalment by instalment through Paystack, on the local cloud.

Paystack takes one payment per transaction reference, so each instalment's checkout carries a
reference of its own (``<plan link>.i<instalment>.a<attempt>``). A fake of our HTTP transport
answers Paystack's initialize call as Paystack does (a checkout per new reference, "Duplicate
Transaction Reference" for one it already holds); the webhooks are signed here with Paystack's
documented scheme and go through the real webhook handler.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from pathlib import Path

import pytest
from journey_helpers import MONDAY_MORNING, account, load

from rapport.clock import SimulatedClock
from rapport.journey.plans import instalment_checkout
from rapport.journey.steps import OfferPlanInput, offer_plan
from rapport.payments import HttpRequest, HttpResponse
from rapport.payments.plans import InstalmentStatus, PaymentPlan
from rapport.store.models import AccountModel, AuditModel, PaymentModel
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_local.cloud import LocalCloud
from rapport_local.payments_page import accept_latest_offer, enable_payments, follow_pay_link, latest_plan

pytestmark = pytest.mark.integration

PAYSTACK_KEY = "sk_test_" + "5e" * 20


class FakePaystack:
    """A fake of our HttpTransport port in Paystack's place: records each initialised reference."""

    def __init__(self) -> None:
        self.initialised: dict[str, int] = {}  # reference -> amount in cents
        self.checkouts: dict[str, str] = {}  # checkout URL -> reference

    def send(self, request: HttpRequest) -> HttpResponse:
        assert request.url == "https://api.paystack.co/transaction/initialize"
        body = request.json_body()
        reference = body["reference"]
        if reference in self.initialised:
            refusal = b'{"status": false, "message": "Duplicate Transaction Reference"}'
            return HttpResponse(status=400, body=refusal)
        self.initialised[reference] = int(body["amount"])
        code = hashlib.sha256(reference.encode()).hexdigest()[:12]
        data = {"authorization_url": f"https://checkout.paystack.com/{code}", "access_code": code}
        self.checkouts[data["authorization_url"]] = reference
        answer = {"status": True, "data": {**data, "reference": reference}}
        return HttpResponse(status=200, body=json.dumps(answer).encode())


@pytest.fixture(scope="module")
def paystack() -> FakePaystack:
    return FakePaystack()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, paystack: FakePaystack):
    # The reference client, with Paystack making its links.
    text = (CLIENTS_DIR / "acme-za.toml").read_text(encoding="utf-8")
    assert 'provider = "sandbox"' in text
    client_file = Path(tmp_path_factory.mktemp("client")) / "acme-za.toml"
    client_file.write_text(text.replace('provider = "sandbox"', 'provider = "paystack"'), encoding="utf-8")
    cloud = LocalCloud(client_file, SimulatedClock(MONDAY_MORNING, scale=1))
    cloud.__enter__()
    enable_payments(cloud, extra_keys={"paystack": {"secret_key": PAYSTACK_KEY}}, transport=paystack)
    yield cloud
    cloud.__exit__(None, None, None)


_numbers = itertools.count(950)
_charges = itertools.count(7_000_001)


def accepted_plan(cloud) -> tuple[str, str, PaymentPlan, dict]:
    """A debtor offered a plan by the journey's OfferPlan step who accepts it: (account id, plan id,
    schedule, acceptance answer)."""
    debtor = account(next(_numbers), balance_cents=240_000)
    load(cloud, debtor)
    step = OfferPlanInput(
        account_id=debtor.account_id,
        journey_id=f"{debtor.account_id}-test",
        assessment={"max_plan_months": 12},
        analysis={"reply_id": "r1", "amount_cents": 60_000},
    )
    assert offer_plan(cloud.services, step)["offered"]
    answer = accept_latest_offer(cloud, debtor.account_id)
    assert answer["statusCode"] == 200, answer["json"]
    stored = latest_plan(debtor.account_id)
    schedule = PaymentPlan.model_validate(stored.plan["current"])
    return debtor.account_id, stored.plan_id, schedule, answer["json"]


def charge_success(reference: str, amount_cents: int, link_id: str) -> tuple[dict[str, str], bytes]:
    """Paystack's charge.success for one checkout, signed: hex HMAC-SHA512 of the body."""
    body = json.dumps(
        {
            "event": "charge.success",
            "data": {
                "id": next(_charges),
                "status": "success",
                "reference": reference,
                "amount": amount_cents,
                "currency": "ZAR",
                "paid_at": "2026-12-24T08:00:00.000Z",
                "metadata": {"link_id": link_id, "purpose": "instalment"},
            },
        }
    ).encode()
    return {"x-paystack-signature": hmac.new(PAYSTACK_KEY.encode(), body, hashlib.sha512).hexdigest()}, body


def post(cloud, delivery: tuple[dict[str, str], bytes]) -> dict:
    response = cloud.post_webhook("paystack", *delivery)
    return {"status": response["statusCode"], **json.loads(response["body"])}


def test_two_instalments_paid_through_paystack_are_each_credited_once(cloud, paystack):
    # Given an accepted plan: its link opened with a checkout for the first instalment only
    account_id, plan_id, plan, answer = accepted_plan(cloud)
    link_id = latest_plan(account_id).plan["link_id"]
    first, second = plan.instalments[0], plan.instalments[1]
    assert paystack.initialised[f"{link_id}.i1.a1"] == first.amount_cents
    assert f"{link_id}.i2.a1" not in paystack.initialised
    assert answer["pay_url"] == latest_plan(account_id).plan["pay_link"]
    assert latest_plan(account_id).plan["pay_url"].startswith("https://checkout.paystack.com/")
    # When the debtor pays it, and Paystack delivers the success twice
    paid_first = charge_success(f"{link_id}.i1.a1", first.amount_cents, link_id)
    answers = [post(cloud, paid_first) for _ in range(2)]
    # Then it is credited once, the repeat recognised
    assert [(a["status"], a["outcome"]) for a in answers] == [(200, "applied"), (200, "duplicate")]
    # When the second instalment's checkout is asked for, twice (a retried request)
    checkout = instalment_checkout(cloud.services, account_id, plan_id)
    assert instalment_checkout(cloud.services, account_id, plan_id) == checkout
    # Then Paystack was asked once, under the second instalment's own reference and amount
    assert (checkout.instalment, checkout.reference) == (2, f"{link_id}.i2.a1")
    assert paystack.initialised[checkout.reference] == second.amount_cents == checkout.amount_cents
    assert latest_plan(account_id).plan["pay_url"] == checkout.url
    # When the debtor pays that checkout, and Paystack delivers the success twice
    paid_second = charge_success(checkout.reference, second.amount_cents, link_id)
    answers = [post(cloud, paid_second) for _ in range(2)]
    # Then it is credited once as well: the two instalments are two transactions of one link
    assert [(a["status"], a["outcome"]) for a in answers] == [(200, "applied"), (200, "duplicate")]
    assert AccountModel.get(account_id).collected_cents == first.amount_cents + second.amount_cents
    credited = [p for p in PaymentModel.query(account_id) if p.credit_delta_cents > 0]
    assert sorted(p.transaction_id for p in credited) == [f"{link_id}.i1.a1", f"{link_id}.i2.a1"]
    assert {p.route for p in credited} == {"instalment"}
    # And the plan knows which instalment each payment paid, and through which checkout
    now = PaymentPlan.model_validate(latest_plan(account_id).plan["current"])
    paid_due = [InstalmentStatus.PAID, InstalmentStatus.PAID, InstalmentStatus.DUE]
    assert [i.status for i in now.instalments[:3]] == paid_due
    paid = sorted(
        (a.inputs["checkout_instalment"], a.inputs["instalments"])
        for a in AuditModel.query(account_id) if a.action == "plan_instalment_paid"
    )
    assert paid == [(1, [1]), (2, [2])]


def test_a_reference_taken_by_a_try_never_recorded_gives_way_to_the_next_attempt(cloud, paystack):
    # Given an accepted plan whose second instalment's first reference Paystack already holds
    # (an earlier try that died before its checkout was recorded, so no debtor ever had it)
    account_id, plan_id, plan, _ = accepted_plan(cloud)
    link_id = latest_plan(account_id).plan["link_id"]
    post(cloud, charge_success(f"{link_id}.i1.a1", plan.instalments[0].amount_cents, link_id))
    paystack.initialised[f"{link_id}.i2.a1"] = plan.instalments[1].amount_cents
    # When the second instalment's checkout is asked for
    checkout = instalment_checkout(cloud.services, account_id, plan_id)
    # Then the next attempt's reference is used, recorded, and returned again on a retry
    assert (checkout.reference, checkout.attempt) == (f"{link_id}.i2.a2", 2)
    assert instalment_checkout(cloud.services, account_id, plan_id) == checkout
    # And a payment through it is credited to the plan
    answer = post(cloud, charge_success(checkout.reference, checkout.amount_cents, link_id))
    assert (answer["status"], answer["outcome"]) == (200, "applied")
    collected = AccountModel.get(account_id).collected_cents
    assert collected == plan.instalments[0].amount_cents + checkout.amount_cents


def test_a_renewed_checkout_gets_a_new_reference_and_an_old_one_still_pays(cloud, paystack):
    # Given the first instalment's checkout from acceptance, which the debtor let lapse
    account_id, plan_id, plan, _ = accepted_plan(cloud)
    link_id = latest_plan(account_id).plan["link_id"]
    # When a fresh checkout is asked for
    renewed = instalment_checkout(cloud.services, account_id, plan_id, renew=True)
    # Then it is the first instalment's second attempt
    assert (renewed.instalment, renewed.reference) == (1, f"{link_id}.i1.a2")
    # And whichever checkout the debtor pays, the money reaches the plan once
    first = plan.instalments[0].amount_cents
    assert post(cloud, charge_success(f"{link_id}.i1.a1", first, link_id))["outcome"] == "applied"
    assert AccountModel.get(account_id).collected_cents == first


def test_a_debtor_pays_two_instalments_through_the_plans_one_link(cloud, paystack):
    # Given an accepted plan, and the pay link the acceptance answer gave the debtor
    account_id, plan_id, plan, answer = accepted_plan(cloud)
    link_id = latest_plan(account_id).plan["link_id"]
    pay_link = answer["pay_url"]
    assert f"/plans/{plan_id}/pay?token=" in pay_link
    # When the debtor opens it, and pays the checkout it leads to
    first = follow_pay_link(cloud, pay_link)
    assert (first["statusCode"], first["headers"]["Cache-Control"]) == (302, "no-store")
    first_reference = paystack.checkouts[first["location"]]
    assert first_reference == f"{link_id}.i1.a1"
    paid = post(cloud, charge_success(first_reference, plan.instalments[0].amount_cents, link_id))
    assert (paid["status"], paid["outcome"]) == (200, "applied")
    # When they open the same link again for the next instalment, and pay where it leads
    second = follow_pay_link(cloud, pay_link)
    assert second["statusCode"] == 302
    second_reference = paystack.checkouts[second["location"]]
    paid = post(cloud, charge_success(second_reference, plan.instalments[1].amount_cents, link_id))
    assert (paid["status"], paid["outcome"]) == (200, "applied")
    # Then the link led to the second instalment's own checkout: another URL, reference and amount
    assert second["location"] != first["location"]
    assert second_reference == f"{link_id}.i2.a1"
    assert paystack.initialised[second_reference] == plan.instalments[1].amount_cents
    # And each instalment was credited once, through the checkout the link gave for it
    collected = AccountModel.get(account_id).collected_cents
    assert collected == plan.instalments[0].amount_cents + plan.instalments[1].amount_cents
    now = PaymentPlan.model_validate(latest_plan(account_id).plan["current"])
    paid_due = [InstalmentStatus.PAID, InstalmentStatus.PAID, InstalmentStatus.DUE]
    assert [i.status for i in now.instalments[:3]] == paid_due
    through = sorted(
        (a.inputs["checkout_instalment"], a.inputs["instalments"])
        for a in AuditModel.query(account_id) if a.action == "plan_instalment_paid"
    )
    assert through == [(1, [1]), (2, [2])]
    # And the link now leads to the third instalment's checkout
    third = follow_pay_link(cloud, pay_link)
    assert paystack.checkouts[third["location"]] == f"{link_id}.i3.a1"
