"""The sandbox's hosted pay page on loopback: a debtor opens the link they were sent and pays."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from journey_helpers import account, finished, load, start

from rapport.store.models import AccountModel, ContactModel, PaymentLinkModel
from rapport_local.pay_page import serving

# The page is served on loopback; every other host stays blocked.
pytestmark = [pytest.mark.integration, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


def _fetch(url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=30) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _sent_link(account_id: str) -> PaymentLinkModel:
    sent = [c for c in ContactModel.query(account_id) if c.direction == "out" and c.link_id]
    return PaymentLinkModel.get(sent[-1].link_id)


@pytest.fixture
def waiting_debtor(make_cloud):
    """An account in arrears whose journey sent its first message, with a link, and waits."""
    cloud, waits = make_cloud()
    debtor = account(31, balance_cents=120_000)
    load(cloud, debtor)
    journey_id = start(cloud, debtor.account_id, reply_timeout=60)
    waits.wait(debtor.account_id)
    return cloud, debtor, journey_id


def test_a_debtor_pays_in_full_on_the_page_and_the_journey_ends_paid(waiting_debtor):
    cloud, debtor, journey_id = waiting_debtor
    link = _sent_link(debtor.account_id)
    with serving(cloud) as base_url:
        # When the debtor opens the link, the page shows what is due and nothing about who they are
        status, page = _fetch(f"{base_url}/{link.link_id}")
        assert status == 200
        assert "R 1 200.00" in page
        assert debtor.debtor.first_name not in page and debtor.debtor.last_name not in page
        # And pays it
        status, page = _fetch(f"{base_url}/{link.link_id}", {"amount": "1200.00", "action": "pay"})
    # Then the signed webhook was taken, the account is paid and the journey thanks and ends
    assert status == 200 and "Payment received" in page
    assert AccountModel.get(debtor.account_id).balance_cents == 0
    description = finished(cloud, journey_id)
    assert json.loads(description["output"])["outcome"]["name"] == "paid"


def test_a_part_payment_and_a_declined_card_credit_only_what_was_paid(waiting_debtor):
    cloud, debtor, _ = waiting_debtor
    link = _sent_link(debtor.account_id)
    with serving(cloud) as base_url:
        declined = _fetch(f"{base_url}/{link.link_id}", {"amount": "1200", "action": "decline"})
        part = _fetch(f"{base_url}/{link.link_id}", {"amount": "300,50", "action": "pay"})
    assert declined[0] == 200 and "Nothing was taken" in declined[1]
    assert part[0] == 200
    assert AccountModel.get(debtor.account_id).balance_cents == 120_000 - 30_050


def test_an_amount_the_page_cannot_read_is_refused_and_nothing_is_credited(waiting_debtor):
    cloud, debtor, _ = waiting_debtor
    link = _sent_link(debtor.account_id)
    unreadable = ["", "abc", "-5", "0", "12.345", "NaN", "Infinity", "1e30", "2000000000"]
    with serving(cloud) as base_url:
        answers = {
            amount: _fetch(f"{base_url}/{link.link_id}", {"amount": amount, "action": "pay"})[0]
            for amount in unreadable
        }
        no_action = _fetch(f"{base_url}/{link.link_id}", {"amount": "100"})[0]
    assert answers == dict.fromkeys(unreadable, 400)
    assert no_action == 400
    assert AccountModel.get(debtor.account_id).balance_cents == 120_000


def test_an_expired_or_unknown_link_takes_no_payment(waiting_debtor):
    cloud, debtor, _ = waiting_debtor
    link = _sent_link(debtor.account_id)
    link.update(actions=[PaymentLinkModel.expires_at.set(cloud.clock.now() - timedelta(minutes=1))])
    with serving(cloud) as base_url:
        opened = _fetch(f"{base_url}/{link.link_id}")
        paid = _fetch(f"{base_url}/{link.link_id}", {"amount": "1200", "action": "pay"})
        unknown = _fetch(f"{base_url}/lnk_does_not_exist")
        elsewhere = _fetch(f"{base_url}/../../etc/passwd")
    assert opened[0] == 410 and "expired" in opened[1]
    assert paid[0] == 410
    assert unknown[0] == 404 and elsewhere[0] == 404
    assert AccountModel.get(debtor.account_id).balance_cents == 120_000
