"""Push for a journey: the client's app registers the debtor's device (``POST /accounts/{id}/devices``), and
an attempt whose channel is push sends to it through Pinpoint's SendMessages, checked against the real
service model by botocore's Stubber. The token never reaches a log."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from conversation_helpers import ACCOUNT_ID, NOW, LambdaContext, load_function_handler, save_account

from rapport.journey.devices import handle_device_registration
from rapport.journey.errors import NoAddressError
from rapport.journey.messages import address_for
from rapport.journey.steps import PlanContactInput, SendInput, plan_contact, send_message
from rapport.messaging.channels import PushConfig, PushSender
from rapport.messaging.templates import MessageRenderer, TemplateCatalogue
from rapport.models.enums import Channel
from rapport.payments.providers.sandbox import SandboxProvider
from rapport.runtime import use_services
from rapport.store.models import AccountModel, AuditModel, OptOutRecord, PushDevice

TOKEN = "fcm-token_abc:DEF-0123456789"
APPLICATION_ID = "0123456789abcdef0123456789abcdef"


_THIRD_PARTY = ("botocore", "boto3", "pynamodb", "moto", "urllib3")


def _our_logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    """Everything our code logged: each record with its structured extras, and Powertools' JSON lines."""
    records = [r for r in caplog.records if not r.name.startswith(_THIRD_PARTY)]
    captured = capsys.readouterr()
    return json.dumps([r.__dict__ for r in records], default=str) + captured.out + captured.err


def _register(services, body: dict[str, Any], account_id: str = ACCOUNT_ID) -> tuple[int, dict[str, Any]]:
    return handle_device_registration(services, account_id, json.dumps(body).encode())


# -- registering a device --------------------------------------------------------------------------


def test_the_app_registers_the_debtors_device_on_the_account(services, caplog, capsys):
    save_account()
    caplog.set_level(logging.DEBUG)

    status, answer = _register(services, {"token": TOKEN, "platform": "GCM"})

    assert (status, answer) == (201, {"outcome": "registered", "platform": "GCM", "push_reopened": False})
    device = AccountModel.get(ACCOUNT_ID).push_device
    assert (device.token, device.platform, device.registered_at) == (TOKEN, "GCM", NOW)
    (entry,) = [e for e in AuditModel.query(ACCOUNT_ID) if e.action == "device_registered"]
    assert entry.actor == "app" and entry.inputs["platform"] == "GCM"
    # The token is an address: on neither the audit trail nor any log line
    logged = _our_logs(caplog, capsys)
    assert "push device registered" in logged and "GCM" in logged
    assert TOKEN not in json.dumps(entry.inputs) and TOKEN not in logged


def test_the_same_device_twice_is_registered_once_and_a_new_one_replaces_it(services):
    save_account()
    assert _register(services, {"token": TOKEN, "platform": "GCM"})[0] == 201
    assert _register(services, {"token": TOKEN, "platform": "GCM"}) == (
        200,
        {"outcome": "unchanged", "platform": "GCM"},
    )
    assert _register(services, {"token": "a1b2c3d4e5f6", "platform": "APNS"})[0] == 201
    device = AccountModel.get(ACCOUNT_ID).push_device
    assert (device.token, device.platform) == ("a1b2c3d4e5f6", "APNS")
    assert [e.action for e in AuditModel.query(ACCOUNT_ID)].count("device_registered") == 2


def test_a_new_device_reopens_push_closed_by_a_dead_token_but_never_an_opt_out(services):
    # Given push suppressed because the last token died
    save_account(suppressed_channels=["push", "email"])
    status, answer = _register(services, {"token": TOKEN, "platform": "GCM"})
    # Then the new device opens push again, and only push
    assert (status, answer["push_reopened"]) == (201, True)
    assert AccountModel.get(ACCOUNT_ID).suppressed_channels == ["email"]


def test_a_debtor_who_opted_out_of_push_stays_out_whatever_device_is_registered(services):
    save_account(
        suppressed_channels=["push"],
        opt_outs=[OptOutRecord(channel="push", recorded_at=NOW - timedelta(days=2))],
    )
    status, answer = _register(services, {"token": TOKEN, "platform": "GCM"})
    assert (status, answer["push_reopened"]) == (201, False)
    assert AccountModel.get(ACCOUNT_ID).suppressed_channels == ["push"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"token": TOKEN}, ["platform"]),
        ({"token": TOKEN, "platform": "ios"}, ["platform"]),
        ({"token": "short", "platform": "GCM"}, ["token"]),
        ({"token": "has spaces in it", "platform": "GCM"}, ["token"]),
        ({"token": TOKEN, "platform": "GCM", "name": "Thandi's phone"}, ["name"]),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_no_value_echoed(services, body, fields):
    save_account()
    status, answer = _register(services, body)
    assert (status, answer["reason"], answer["fields"]) == (400, "invalid_request", fields)
    assert "has spaces" not in json.dumps(answer) and "Thandi" not in json.dumps(answer)
    assert AccountModel.get(ACCOUNT_ID).push_device is None


def test_an_unknown_account_is_not_found(services):
    assert _register(services, {"token": TOKEN, "platform": "GCM"}, account_id="ACC-404") == (
        404,
        {"outcome": "rejected", "reason": "unknown_account"},
    )


@pytest.fixture
def handler(services) -> Iterator[Any]:
    loaded = load_function_handler("register_device")
    use_services(services)
    yield loaded
    use_services(None)


def test_the_function_takes_api_gateways_event_and_answers_in_json(services, handler, caplog, capsys):
    save_account()
    caplog.set_level(logging.DEBUG)
    event = {
        "httpMethod": "POST",
        "pathParameters": {"account_id": ACCOUNT_ID},
        "body": json.dumps({"token": TOKEN, "platform": "APNS"}),
        "isBase64Encoded": False,
    }
    response = handler(event, LambdaContext("register_device"))
    assert response["statusCode"] == 201 and json.loads(response["body"])["outcome"] == "registered"
    assert AccountModel.get(ACCOUNT_ID).push_device.platform == "APNS"
    assert TOKEN not in _our_logs(caplog, capsys)


# -- a journey sending on push ---------------------------------------------------------------------


class _Payments:
    """What send_message reads of the payment wiring: the client's provider, here the sandbox."""

    def __init__(self) -> None:
        self.sandbox = SandboxProvider(secret="unit-test", pay_page_base_url="https://pay.example.test/pay")

    def get(self, name: str) -> Any:
        return self.sandbox


@pytest.fixture
def pinpoint() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("pinpoint", region_name="af-south-1")
    with Stubber(client) as stubber:
        yield client, stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def push_services(services, pinpoint) -> Any:
    client, _ = pinpoint
    sender = PushSender(client, PushConfig(application_id=APPLICATION_ID))
    return dataclasses.replace(
        services,
        senders={Channel.PUSH: sender},
        renderer=MessageRenderer(TemplateCatalogue.load(default=True)),
        payments=_Payments(),
    )


def _assessment() -> dict[str, Any]:
    return {"channels": ["push", "sms"], "templates": ["first_notice", "reminder"], "tone": "neutral"}


def test_without_a_device_push_has_no_address_and_the_attempt_moves_on(push_services):
    save_account()
    with pytest.raises(NoAddressError):
        address_for(AccountModel.get(ACCOUNT_ID), Channel.PUSH)
    step = PlanContactInput(account_id=ACCOUNT_ID, journey_id="J1", attempt=0, assessment=_assessment())
    planned = plan_contact(push_services, step)
    assert (planned["decision"], planned["rule"]) == ("refuse", "address.missing")


def test_a_journey_attempt_on_push_sends_to_the_registered_device(push_services, pinpoint, caplog, capsys):
    # Given a debtor whose app registered an iPhone, and a treatment whose first channel is push
    save_account(push_device=PushDevice(token="a1b2c3d4e5f6a7b8", platform="APNS", registered_at=NOW))
    caplog.set_level(logging.DEBUG)

    # When the journey plans its first attempt
    step = PlanContactInput(account_id=ACCOUNT_ID, journey_id="J1", attempt=0, assessment=_assessment())
    planned = plan_contact(push_services, step)
    assert (planned["decision"], planned["channel"]) == ("send", "push")

    # And sends it (the Stubber checks the request against Pinpoint's model; the hook keeps what was asked)
    client, stubber = pinpoint
    requests: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.pinpoint.SendMessages", lambda params, **_: requests.append(params)
    )
    result = {"a1b2c3d4e5f6a7b8": {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200, "MessageId": "m-1"}}
    response = {"MessageResponse": {"ApplicationId": APPLICATION_ID, "Result": result}}
    stubber.add_response("send_messages", response)
    sent = send_message(
        push_services,
        SendInput(
            account_id=ACCOUNT_ID,
            journey_id="J1",
            attempt=0,
            channel=planned["channel"],
            template_id=planned["template_id"],
            tone=planned["tone"],
        ),
    )

    # Then one SendMessages call went to that device, as an APNs address, with the rendered notification
    (request,) = requests
    message = request["MessageRequest"]
    assert request["ApplicationId"] == APPLICATION_ID
    assert message["Addresses"] == {"a1b2c3d4e5f6a7b8": {"ChannelType": "APNS"}}
    assert message["Context"] == {"account_id": ACCOUNT_ID, "message_id": "J1.0.first_notice"}
    notification = message["MessageConfiguration"]["DefaultPushNotificationMessage"]
    assert notification["Title"] and ACCOUNT_ID in notification["Body"]
    # And it is on the account's timeline as a push, and the token is in no log
    assert (sent["status"], sent["channel"]) == ("sent", "push")
    contact = push_services.repos.contacts.get(ACCOUNT_ID, sent["message_id"])
    assert (contact.channel, contact.status, contact.template_id) == ("push", "sent", "first_notice")
    logged = _our_logs(caplog, capsys)
    assert "push accepted" in logged and "a1b2c3d4e5f6a7b8" not in logged
