"""A plan's pay link, ``GET /plans/{plan_id}/pay?token=...``: the real ``pay_plan`` handler on moto's
DynamoDB, with a plan offered by the journey's OfferPlan step and accepted through its signed link.

The provider is a fake of our provider port that behaves as Paystack does: one checkout per
transaction reference, each at its own URL, and a refusal for a reference it already holds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rapport_tables import rapport_tables

from rapport.journey.plans import PlanAcceptance, accept_plan_offer
from rapport.journey.steps import OfferPlanInput, offer_plan
from rapport.payments import PaymentLinkRequest, ProviderLink
from rapport.payments.debicheck_collections import SubmittedCollection
from rapport.payments.errors import DuplicateReferenceError
from rapport.payments.plans import PaymentPlan, cancel_plan, record_payment
from rapport.payments.tokens import ACCEPT, PAY, PlanTokenSigner
from rapport.runtime import Services, use_services
from rapport.settings import Settings
from rapport.store.models import ALL_MODELS, AccountModel, AuditModel, Debtor
from rapport.store.repositories import PlanChange, Repositories
from rapport.strategy.config import load_client_config
from rapport_infra.catalogue import CLIENTS_DIR, function_spec

PREFIX = "unit-plan-pay"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TOKEN_SECRET = "plan-token-secret-" + "7" * 16
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class PaystackLike:
    """A fake of our PaymentProvider port: one checkout per reference, a refusal for a reference it
    already holds (as Paystack answers "Duplicate Transaction Reference")."""

    name = "paystack"

    def __init__(self) -> None:
        self.opened: dict[str, int] = {}  # reference -> amount in cents

    def create_link(self, request: PaymentLinkRequest) -> ProviderLink:
        reference = request.provider_reference
        if reference in self.opened:
            raise DuplicateReferenceError("duplicate_reference", self.name)
        self.opened[reference] = request.amount_cents
        code = hashlib.sha256(reference.encode()).hexdigest()[:12]
        return ProviderLink(
            provider=self.name,
            link_id=request.link_id,
            url=f"https://checkout.paystack.test/{code}",
            provider_reference=code,
            expires_at=request.expires_at,
        )


class FakePayments:
    """What the handlers read of ``rapport.payments.wiring.PaymentWiring``: the provider by name and the
    plan token signer."""

    def __init__(self, provider: PaystackLike) -> None:
        self.provider = provider
        self.plan_tokens = PlanTokenSigner(TOKEN_SECRET)
        self.debicheck = None

    def get(self, name: str) -> PaystackLike:
        return self.provider


@dataclass
class FakeContext:
    """The parts of a Lambda context Powertools reads."""

    function_name: str = "rapport-acme-za-pay-plan"
    invoked_function_arn: str = "arn:aws:lambda:af-south-1:123456789012:function:rapport-acme-za-pay-plan"
    aws_request_id: str = "req-1"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


@pytest.fixture(scope="module")
def tables() -> Iterator[None]:
    with rapport_tables(PREFIX):
        yield


@pytest.fixture
def provider() -> PaystackLike:
    return PaystackLike()


@pytest.fixture
def services(tables: None, provider: PaystackLike) -> Iterator[Services]:
    path = CLIENTS_DIR / "acme-za.toml"
    built = Services(
        settings=Settings(client_id="acme-za", client_config_path=path, table_prefix=PREFIX),
        client=load_client_config(path),
        clock=FixedClock(NOW),
        repos=Repositories(),
        senders={},
        renderer=None,
        payments=FakePayments(provider),
        analyser=None,
        stepfunctions=None,
    )
    use_services(built)
    yield built
    use_services(None)
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)


@pytest.fixture(scope="module")
def handler() -> Any:
    path = function_spec("pay_plan").folder / "handler.py"
    module_spec = importlib.util.spec_from_file_location("rapport_function_pay_plan_under_test", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.handler


_numbers = itertools.count(1)


def offered(services: Services) -> tuple[str, str, str]:
    """A debtor offered a three-month plan by the OfferPlan step: (account id, plan id, acceptance token)."""
    account_id = f"ACC-{next(_numbers):04d}"
    AccountModel(
        account_id, debtor=Debtor(first_name="Test", last_name="Debtor"), balance_cents=240_000,
        days_past_due=60, segment="needs_help", status="active",
    ).save()
    step = OfferPlanInput(
        account_id=account_id,
        journey_id=f"{account_id}-test",
        assessment={"max_plan_months": 12},
        analysis={"reply_id": "r1", "amount_cents": 80_000},
    )
    answer = offer_plan(services, step)
    assert answer["offered"]
    stored = services.repos.plans.find(account_id, answer["plan_id"])
    token = parse_qs(urlsplit(stored.plan["accept_url"]).query)["token"][0]
    return account_id, answer["plan_id"], token


def accepted(services: Services) -> tuple[str, str, str]:
    """A debtor who accepted the offer: (account id, plan id, the pay link from the acceptance answer)."""
    account_id, plan_id, token = offered(services)
    answer = accept_plan_offer(services, plan_id, PlanAcceptance(token=token))
    assert answer.outcome == "accepted"
    return account_id, plan_id, answer.pay_url


def visit(handler: Any, url: str, accept: str = "application/json") -> dict[str, Any]:
    """What API Gateway hands the function when the debtor opens ``url``."""
    parts = urlsplit(url)
    plan_id = parts.path.split("/")[-2]
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    event = {
        "resource": "/plans/{plan_id}/pay",
        "path": parts.path,
        "httpMethod": "GET",
        "headers": {"Accept": accept},
        "pathParameters": {"plan_id": plan_id},
        "queryStringParameters": query or None,
        "body": None,
        "isBase64Encoded": False,
    }
    return handler(event, FakeContext())


def pay_oldest_instalment(services: Services, account_id: str, plan_id: str) -> None:
    """The oldest unpaid instalment is paid (as the webhook records a credit on the plan's link)."""
    stored = services.repos.plans.find(account_id, plan_id)
    plan = PaymentPlan.model_validate(stored.plan["current"])
    after = record_payment(plan, NOW, plan.unpaid[0].outstanding_cents)
    status = "completed" if not after.unpaid else "active"
    document = {**stored.plan, "current": after.model_dump(mode="json")}
    services.repos.plans.change(PlanChange(stored, status, document), NOW)


def checkouts(services: Services, account_id: str, plan_id: str) -> dict[str, Any]:
    return services.repos.plans.find(account_id, plan_id).plan["checkouts"]


def refusals(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int]]:
    return [
        (record.reason, record.http_status)
        for record in caplog.records
        if record.getMessage() == "plan pay link refused"
    ]


# --- the link that pays --------------------------------------------------------------------------


def test_the_acceptance_answer_carries_the_plans_pay_link_not_a_checkout(services):
    # Given a debtor who accepts their plan
    account_id, plan_id, pay_url = accepted(services)
    # Then the answer's link is the plan's signed pay link, kept with the plan
    assert pay_url.startswith(f"https://pay.rapport.example/pay/plans/{plan_id}/pay?token=")
    stored = services.repos.plans.find(account_id, plan_id)
    assert stored.plan["pay_link"] == pay_url
    assert not pay_url.startswith("https://checkout.")
    # And it is signed until the plan's payment link expires, for this account and plan only
    token = parse_qs(urlsplit(pay_url).query)["token"][0]
    claims = services.plan_tokens.verify(token, plan_id, NOW, purpose=PAY)
    link = services.repos.links.get(stored.plan["link_id"])
    assert (claims.account_id, claims.expires_at) == (account_id, link.expires_at.replace(microsecond=0))


def test_a_valid_link_redirects_to_the_due_instalments_checkout_without_caching(services, handler, provider):
    # Given an accepted plan, its first instalment's checkout opened at acceptance
    account_id, plan_id, pay_url = accepted(services)
    first = checkouts(services, account_id, plan_id)["1"]
    asked = dict(provider.opened)
    # When the debtor opens the pay link, twice
    answers = [visit(handler, pay_url, BROWSER) for _ in range(2)]
    # Then both visits go to that checkout, and nothing may cache the answer
    for answer in answers:
        assert answer["statusCode"] == 302
        assert answer["headers"]["Location"] == first["url"]
        assert answer["headers"]["Cache-Control"] == "no-store"
        assert answer["headers"]["Referrer-Policy"] == "no-referrer"
    # And the provider was asked for nothing new
    assert provider.opened == asked


def test_after_the_first_instalment_is_paid_the_same_link_opens_the_seconds_checkout(services, handler, provider):
    # Given an accepted plan whose first instalment is paid
    account_id, plan_id, pay_url = accepted(services)
    first = checkouts(services, account_id, plan_id)["1"]
    pay_oldest_instalment(services, account_id, plan_id)
    # When the debtor opens the same link
    answer = visit(handler, pay_url)
    # Then it goes to a checkout for the second instalment, under a reference of its own
    kept = checkouts(services, account_id, plan_id)
    second = kept["2"]
    assert answer["statusCode"] == 302 and answer["headers"]["Location"] == second["url"]
    assert second["url"] != first["url"] and second["reference"] != first["reference"]
    assert second["reference"].endswith(".i2.a1") and first["reference"].endswith(".i1.a1")
    plan = PaymentPlan.model_validate(services.repos.plans.find(account_id, plan_id).plan["current"])
    assert provider.opened[second["reference"]] == plan.instalments[1].amount_cents == second["amount_cents"]
    # And a second visit reuses it: the provider is asked once per instalment
    assert visit(handler, pay_url)["headers"]["Location"] == second["url"]
    assert sum(reference.endswith(".i2.a1") for reference in provider.opened) == 1
    assert [reference for reference in provider.opened if ".i2." in reference] == [second["reference"]]


def test_a_completed_plan_has_nothing_to_pay(services, handler):
    # Given a plan whose every instalment is paid
    account_id, plan_id, pay_url = accepted(services)
    while services.repos.plans.find(account_id, plan_id).status == "active":
        pay_oldest_instalment(services, account_id, plan_id)
    # When the debtor opens the link from a browser, or a program asks for JSON
    page = visit(handler, pay_url, BROWSER)
    answer = visit(handler, pay_url)
    # Then nothing redirects: a short page, or JSON, says there is nothing to pay
    assert page["statusCode"] == 200 and "Location" not in page["headers"]
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert "nothing to pay" in page["body"] and page["headers"]["Cache-Control"] == "no-store"
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"outcome": "nothing_to_pay", "reason": "plan_completed"}


def test_an_instalment_in_a_debit_order_file_is_not_taken_a_second_time_by_card(services, handler, provider):
    # Given an accepted plan whose first instalment went into a DebiCheck collection file
    account_id, plan_id, pay_url = accepted(services)
    stored = services.repos.plans.find(account_id, plan_id)
    due = PaymentPlan.model_validate(stored.plan["current"]).unpaid[0]
    submitted = SubmittedCollection(
        mandate_id=f"{account_id}:{plan_id}", instalment=due.number, attempt=due.misses, consent_id="pcr_1",
        contract_reference="RAPPORT0001", amount_cents=due.outstanding_cents, collection_date=due.due_date,
        file="202603020800001_1.csv", submitted_at=NOW,
    )
    document = {**stored.plan, "collections": [submitted.model_dump(mode="json")]}
    services.repos.plans.change(PlanChange(stored, "active", document), NOW)
    asked = dict(provider.opened)
    # When the debtor opens the plan's pay link
    answer = visit(handler, pay_url)
    # Then it does not redirect to a checkout: the debit order collects that instalment
    assert answer["statusCode"] == 200 and "Location" not in answer["headers"]
    assert json.loads(answer["body"]) == {
        "outcome": "nothing_to_pay", "reason": "collecting_by_debit_order", "instalment": due.number
    }
    assert provider.opened == asked


def test_a_cancelled_plan_is_gone_and_the_attempt_is_on_the_debtors_timeline(services, handler):
    # Given an accepted plan that was cancelled since
    account_id, plan_id, pay_url = accepted(services)
    stored = services.repos.plans.find(account_id, plan_id)
    plan = cancel_plan(PaymentPlan.model_validate(stored.plan["current"]), NOW.date())
    document = {**stored.plan, "current": plan.model_dump(mode="json")}
    services.repos.plans.change(PlanChange(stored, "cancelled", document), NOW)
    # When the debtor opens its pay link
    answer = visit(handler, pay_url)
    # Then it is refused as gone, and an agent can see the debtor tried to pay
    assert answer["statusCode"] == 410
    assert json.loads(answer["body"]) == {"outcome": "rejected", "reason": "plan_cancelled"}
    entries = [a for a in AuditModel.query(account_id) if a.action == "plan_payment_refused"]
    assert [(a.rule, a.inputs) for a in entries] == [("plan.pay.plan_cancelled", {"plan_id": plan_id})]


def test_an_offer_not_accepted_yet_has_no_checkout_to_go_to(services, handler, provider):
    # Given an offer, and an authentic pay token for it before it is accepted
    account_id, plan_id, _ = offered(services)
    token = services.plan_tokens.issue(account_id, plan_id, NOW + timedelta(days=3), purpose=PAY)
    base = f"https://pay.rapport.example/pay/plans/{plan_id}/pay"
    # When it is opened / Then it is refused, and no checkout is opened
    answer = visit(handler, f"{base}?token={token}")
    assert (answer["statusCode"], json.loads(answer["body"])["reason"]) == (409, "plan_offered")
    assert provider.opened == {}


def test_a_link_for_a_plan_that_does_not_exist_is_not_found(services, handler):
    # Given an authentic token for a plan never offered
    account_id, _, _ = accepted(services)
    token = services.plan_tokens.issue(account_id, "PLnosuchplan", NOW + timedelta(days=30), purpose=PAY)
    # When it is opened / Then it is not found
    answer = visit(handler, f"https://pay.rapport.example/pay/plans/PLnosuchplan/pay?token={token}")
    assert (answer["statusCode"], json.loads(answer["body"])["reason"]) == (404, "unknown_plan")


# --- tokens refused --------------------------------------------------------------------------------


def test_a_forged_token_is_refused_and_recorded_without_the_token(services, handler, provider, caplog):
    # Given an accepted plan and a token altered in its signature
    caplog.set_level(logging.INFO)
    account_id, plan_id, pay_url = accepted(services)
    token = parse_qs(urlsplit(pay_url).query)["token"][0]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    before = services.repos.plans.find(account_id, plan_id).plan
    asked = dict(provider.opened)
    # When it is opened, from a browser
    answer = visit(handler, pay_url.replace(token, forged), BROWSER)
    # Then it is refused with a page that says so, and the refusal is logged with its reason
    assert answer["statusCode"] == 403 and "Location" not in answer["headers"]
    assert "not valid" in answer["body"] and answer["headers"]["Cache-Control"] == "no-store"
    assert refusals(caplog) == [("bad_signature", 403)]
    # And nothing changed, nothing was asked of the provider, and neither token was logged
    assert services.repos.plans.find(account_id, plan_id).plan == before
    assert provider.opened == asked
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert token[:40] not in logged and forged[:40] not in logged


@pytest.mark.parametrize(
    "query, reason",
    [("", "malformed_token"), ("?token=abc", "malformed_token"), ("?token=a.b", "bad_signature")],
)
def test_a_missing_or_malformed_token_is_refused(services, handler, caplog, query, reason):
    _, plan_id, _ = accepted(services)
    answer = visit(handler, f"https://pay.rapport.example/pay/plans/{plan_id}/pay{query}")
    assert (answer["statusCode"], json.loads(answer["body"])) == (403, {"outcome": "rejected", "reason": reason})
    assert refusals(caplog) == [(reason, 403)]


def test_another_plans_link_is_refused(services, handler):
    # Given two accepted plans
    _, plan_id, _ = accepted(services)
    _, _, other_pay_url = accepted(services)
    other_token = parse_qs(urlsplit(other_pay_url).query)["token"][0]
    # When one plan's token is used on the other's route / Then it is refused: the signature binds the plan
    answer = visit(handler, f"https://pay.rapport.example/pay/plans/{plan_id}/pay?token={other_token}")
    assert (answer["statusCode"], json.loads(answer["body"])["reason"]) == (403, "bad_signature")


def test_the_acceptance_link_does_not_open_the_pay_link(services, handler):
    # Given a plan offered with its acceptance link, and accepted
    account_id, plan_id, _ = accepted(services)
    acceptance = services.plan_tokens.issue(account_id, plan_id, NOW + timedelta(days=3), purpose=ACCEPT)
    # When the acceptance token is used on the pay route / Then it is refused: its purpose is signed
    answer = visit(handler, f"https://pay.rapport.example/pay/plans/{plan_id}/pay?token={acceptance}")
    assert (answer["statusCode"], json.loads(answer["body"])["reason"]) == (403, "bad_signature")


def test_a_link_past_its_plans_link_expiry_is_refused(services, handler):
    # Given an accepted plan, and the day after its payment link expired
    account_id, plan_id, pay_url = accepted(services)
    link = services.repos.links.get(services.repos.plans.find(account_id, plan_id).plan["link_id"])
    services.clock.moment = link.expires_at + timedelta(seconds=1)
    # When the debtor opens the pay link / Then it is refused as expired
    answer = visit(handler, pay_url)
    assert (answer["statusCode"], json.loads(answer["body"])["reason"]) == (403, "token_expired")
