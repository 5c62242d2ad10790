"""The channel adapters against real boto3 clients.

moto has no backend for ``pinpoint-sms-voice-v2``, ``socialmessaging`` or Pinpoint push, so those
use botocore's Stubber, which checks every request against the real service model; SES v2 and SNS
run on moto's ``mock_aws``. Request parameters are captured with a ``provide-client-params`` hook
so that tests assert exactly what the adapter asked AWS to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws
from moto.backends import get_backend
from pydantic import ValidationError

from rapport.messaging.channels import (
    ChannelRejectedError,
    ChannelThrottledError,
    ChannelUnavailableError,
    EumSmsConfig,
    EumSmsSender,
    FallbackSender,
    OutboundMessage,
    PushConfig,
    PushSender,
    RejectionReason,
    SesEmailConfig,
    SesEmailSender,
    SnsSmsConfig,
    SnsSmsSender,
    WhatsAppConfig,
    WhatsAppSender,
)
from rapport.messaging.channels.identifiers import from_ses_tag_value
from rapport.models.enums import Channel

REGION = "af-south-1"
MOTO_ACCOUNT = "123456789012"
SENDER = "accounts@collect.example.co.za"
ARREARS_TEXT = "Your account ending 1001 is R2,450.00 in arrears."
PHONE_ID_ARN = "arn:aws:social-messaging:af-south-1:111122223333:phone-number-id/7e1f0c2d3b4a5968"


def make_client(service: str) -> Any:
    return boto3.client(
        service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def capture_params(client: Any, operation: str) -> list[dict[str, Any]]:
    """Every parameter dict the client is asked to send for ``operation``."""
    calls: list[dict[str, Any]] = []
    service = client.meta.service_model.service_id.hyphenize()

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register(f"provide-client-params.{service}.{operation}", record)
    return calls


def message(channel: Channel, to: str, **fields: Any) -> OutboundMessage:
    return OutboundMessage(
        message_id=fields.pop("message_id", "msg_01JE9X3K9S"),
        account_id=fields.pop("account_id", "ACC-1001"),
        channel=channel,
        to=to,
        text=fields.pop("text", ARREARS_TEXT),
        **fields,
    )


def email(**fields: Any) -> OutboundMessage:
    return message(Channel.EMAIL, "thandi.debtor@example.com", subject="Your Acme account", **fields)


# --- SES v2 (moto) ------------------------------------------------------------------------------


@pytest.fixture
def ses() -> Iterator[Any]:
    with mock_aws():
        client = make_client("sesv2")
        client.create_email_identity(EmailIdentity=SENDER)
        yield client


def ses_sent_messages() -> list[Any]:
    return get_backend("ses")[MOTO_ACCOUNT][REGION].sent_messages


def test_ses_sends_simple_content_with_id_tags(ses: Any) -> None:
    # Given a verified sender and a configuration set for event publishing
    calls = capture_params(ses, "SendEmail")
    sender = SesEmailSender(ses, SesEmailConfig(from_address=SENDER, configuration_set="rapport-email"))
    # When an email with text and html is sent
    receipt = sender.send(email(html="<p>Your account is in arrears.</p>"))
    # Then SES received exactly this request
    assert calls == [
        {
            "FromEmailAddress": SENDER,
            "Destination": {"ToAddresses": ["thandi.debtor@example.com"]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": "Your Acme account", "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": ARREARS_TEXT, "Charset": "UTF-8"},
                        "Html": {"Data": "<p>Your account is in arrears.</p>", "Charset": "UTF-8"},
                    },
                }
            },
            "EmailTags": [
                {"Name": "message_id", "Value": "msg_01JE9X3K9S"},
                {"Name": "account_id", "Value": "ACC-1001"},
            ],
            "ConfigurationSetName": "rapport-email",
        }
    ]
    # And the message left (moto recorded it) under the id the receipt carries
    sent = ses_sent_messages()
    assert [item.id for item in sent] == [receipt.provider_message_id]
    assert sent[0].destinations["ToAddresses"] == ["thandi.debtor@example.com"]
    assert receipt.provider == "ses" and receipt.channel is Channel.EMAIL
    assert receipt.message_id == "msg_01JE9X3K9S"


def test_ses_leaves_list_management_out_unless_configured(ses: Any) -> None:
    calls = capture_params(ses, "SendEmail")
    SesEmailSender(ses, SesEmailConfig(from_address=SENDER)).send(email())
    assert "ListManagementOptions" not in calls[0]
    assert "ConfigurationSetName" not in calls[0]
    assert "Html" not in calls[0]["Content"]["Simple"]["Body"]


def test_ses_adds_list_management_when_configured() -> None:
    # Given a contact list (moto does not model list management, so the Stubber checks the request)
    client = make_client("sesv2")
    config = SesEmailConfig(from_address=SENDER, contact_list="debtors", contact_list_topic="collections")
    with Stubber(client) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "0101019384a7b2c1-example"},
            {
                "FromEmailAddress": SENDER,
                "Destination": ANY,
                "Content": ANY,
                "EmailTags": ANY,
                "ListManagementOptions": {"ContactListName": "debtors", "TopicName": "collections"},
            },
        )
        receipt = SesEmailSender(client, config).send(email())
        stub.assert_no_pending_responses()
    assert receipt.provider_message_id == "0101019384a7b2c1-example"


def test_ses_encodes_ids_that_ses_tags_cannot_carry(ses: Any) -> None:
    # Given an account number with characters SES tags refuse
    calls = capture_params(ses, "SendEmail")
    SesEmailSender(ses, SesEmailConfig(from_address=SENDER)).send(email(account_id="ACC/1001.ZA"))
    tags = {tag["Name"]: tag["Value"] for tag in calls[0]["EmailTags"]}
    # Then the tag is SES-safe and decodes back to the account number
    assert tags["account_id"] != "ACC/1001.ZA"
    assert from_ses_tag_value(tags["account_id"]) == "ACC/1001.ZA"


def test_ses_unverified_sender_is_rejected(ses: Any) -> None:
    # Given a From address SES has not verified / When sending / Then SES's MessageRejected is a rejection
    sender = SesEmailSender(ses, SesEmailConfig(from_address="other@example.co.za"))
    with pytest.raises(ChannelRejectedError) as raised:
        sender.send(email())
    assert raised.value.reason is RejectionReason.MESSAGE_REJECTED
    assert raised.value.provider_code == "MessageRejected"
    assert "@" not in str(raised.value)
    assert ses_sent_messages() == []


def test_ses_invalid_address_is_rejected_before_calling_aws(ses: Any) -> None:
    calls = capture_params(ses, "SendEmail")
    with pytest.raises(ChannelRejectedError) as raised:
        SesEmailSender(ses, SesEmailConfig(from_address=SENDER)).send(
            message(Channel.EMAIL, "not-an-address", subject="Hi")
        )
    assert raised.value.reason is RejectionReason.INVALID_ADDRESS
    assert calls == []


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("TooManyRequestsException", 429, ChannelThrottledError),
        ("AccountSuspendedException", 400, ChannelUnavailableError),
        ("SendingPausedException", 400, ChannelUnavailableError),
    ],
)
def test_ses_service_errors_map_to_channel_errors(code: str, status: int, expected: type) -> None:
    client = make_client("sesv2")
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code=code, http_status_code=status)
        with pytest.raises(expected) as raised:
            SesEmailSender(client, SesEmailConfig(from_address=SENDER)).send(email())
    assert raised.value.provider_code == code


# --- SMS through End User Messaging (Stubber) ---------------------------------------------------

POOL_ID = "pool-3f9c1a2b4d5e6f708192a3b4c5d6e7f8"
EUM_CONFIG = EumSmsConfig(origination_identity=POOL_ID, configuration_set="rapport-sms")


OPTED_OUT = RejectionReason.OPTED_OUT
UNAVAILABLE = ChannelUnavailableError


def sms(to: str = "082 555 0123", **fields: Any) -> OutboundMessage:
    return message(Channel.SMS, to, **fields)


def test_eum_sends_transactional_text_with_context() -> None:
    client = make_client("pinpoint-sms-voice-v2")
    with Stubber(client) as stub:
        stub.add_response(
            "send_text_message",
            {"MessageId": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"},
            {
                "DestinationPhoneNumber": "+27825550123",
                "OriginationIdentity": POOL_ID,
                "MessageBody": ARREARS_TEXT,
                "MessageType": "TRANSACTIONAL",
                "ConfigurationSetName": "rapport-sms",
                "Context": {"message_id": "msg_01JE9X3K9S", "account_id": "ACC-1001"},
            },
        )
        receipt = EumSmsSender(client, EUM_CONFIG).send(sms())
        stub.assert_no_pending_responses()
    assert receipt.provider_message_id == "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    assert receipt.provider == "eum-sms" and receipt.channel is Channel.SMS


def test_the_production_sms_sender_sends_through_the_configured_configuration_set(monkeypatch) -> None:
    # Given the function settings the stack writes: an origination identity and an SMS configuration set
    from pathlib import Path

    from rapport import runtime
    from rapport.settings import Settings

    settings = Settings(
        client_id="acme-za",
        client_config_path=Path("clients/acme-za.toml"),
        table_prefix="rapport-acme-za",
        region=REGION,
        sms_origination_identity=POOL_ID,
        sms_configuration_set="rapport-acme-za-sms",
    )
    clients = {service: make_client(service) for service in ("sesv2", "sns", "pinpoint-sms-voice-v2")}
    monkeypatch.setattr(runtime, "_client", lambda _settings, service: clients[service])
    sender = runtime.build_senders(settings)[Channel.SMS]
    # When it sends an SMS, the request names the configuration set, so End User Messaging publishes the
    # message's events (delivered, failed...) to the set's destination
    with Stubber(clients["pinpoint-sms-voice-v2"]) as stub:
        stub.add_response(
            "send_text_message",
            {"MessageId": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"},
            {
                "DestinationPhoneNumber": "+27825550123",
                "OriginationIdentity": POOL_ID,
                "MessageBody": ARREARS_TEXT,
                "MessageType": "TRANSACTIONAL",
                "ConfigurationSetName": "rapport-acme-za-sms",
                "Context": {"message_id": "msg_01JE9X3K9S", "account_id": "ACC-1001"},
            },
        )
        receipt = sender.send(sms())
        stub.assert_no_pending_responses()
    assert receipt.provider == "eum-sms"


@pytest.mark.parametrize(
    ("code", "reason", "expected", "rejection"),
    [
        ("ThrottlingException", None, ChannelThrottledError, None),
        ("ConflictException", "DESTINATION_PHONE_NUMBER_OPTED_OUT", ChannelRejectedError, OPTED_OUT),
        ("ValidationException", "CANNOT_PARSE", ChannelRejectedError, RejectionReason.INVALID_ADDRESS),
        ("ServiceQuotaExceededException", "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT", UNAVAILABLE, None),
        ("ResourceNotFoundException", None, ChannelUnavailableError, None),
    ],
)
def test_eum_errors_map_by_code_and_reason(code, reason, expected, rejection) -> None:
    # Given End User Messaging answering with a modelled exception (Reason at the top of the response)
    client = make_client("pinpoint-sms-voice-v2")
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_text_message",
            service_error_code=code,
            http_status_code=429 if code == "ThrottlingException" else 400,
            modeled_fields={"Reason": reason} if reason else None,
        )
        # When sending / Then the documented channel error comes out
        with pytest.raises(expected) as raised:
            EumSmsSender(client, EUM_CONFIG).send(sms())
    if rejection is not None:
        assert raised.value.reason is rejection
    assert raised.value.channel is Channel.SMS


def test_eum_refuses_an_invalid_number_before_calling_aws() -> None:
    client = make_client("pinpoint-sms-voice-v2")
    with Stubber(client) as stub:
        # No response queued: a call to AWS would fail the test with UnStubbedResponseError.
        with pytest.raises(ChannelRejectedError) as raised:
            EumSmsSender(client, EUM_CONFIG).send(sms(to="082 555"))
        stub.assert_no_pending_responses()
    assert raised.value.reason is RejectionReason.INVALID_ADDRESS


# --- SMS through SNS (moto) and the fallback ----------------------------------------------------


@pytest.fixture
def sns() -> Iterator[Any]:
    with mock_aws():
        yield make_client("sns")


def sns_sms_sent() -> dict[str, tuple[str, str]]:
    return dict(get_backend("sns")[MOTO_ACCOUNT][REGION].sms_messages)


def test_sns_publishes_transactional_sms(sns: Any) -> None:
    calls = capture_params(sns, "Publish")
    receipt = SnsSmsSender(sns).send(sms())
    assert calls == [
        {
            "PhoneNumber": "+27825550123",
            "Message": ARREARS_TEXT,
            "MessageAttributes": {
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
            },
        }
    ]
    assert sns_sms_sent() == {receipt.provider_message_id: ("+27825550123", ARREARS_TEXT)}


def test_sns_adds_the_sender_id_when_configured(sns: Any) -> None:
    calls = capture_params(sns, "Publish")
    SnsSmsSender(sns, SnsSmsConfig(sender_id="ACME")).send(sms())
    sender_id = calls[0]["MessageAttributes"]["AWS.SNS.SMS.SenderID"]
    assert sender_id == {"DataType": "String", "StringValue": "ACME"}


def test_sns_refuses_an_invalid_number_before_publishing(sns: Any) -> None:
    with pytest.raises(ChannelRejectedError):
        SnsSmsSender(sns).send(sms(to="12345"))
    assert sns_sms_sent() == {}


def test_fallback_to_sns_when_end_user_messaging_is_not_set_up(sns: Any) -> None:
    # Given End User Messaging without the origination pool (ResourceNotFoundException)
    eum = make_client("pinpoint-sms-voice-v2")
    with Stubber(eum) as stub:
        stub.add_client_error(
            "send_text_message",
            service_error_code="ResourceNotFoundException",
            http_status_code=404,
            modeled_fields={"ResourceType": "pool", "ResourceId": "pool-3f9c1a2b4d5e6f708192a3b4c5d6e7f8"},
        )
        sender = FallbackSender(EumSmsSender(eum, EUM_CONFIG), SnsSmsSender(sns))
        # When an SMS is sent
        receipt = sender.send(sms())
    # Then SNS carried it, once
    assert receipt.provider == "sns"
    assert list(sns_sms_sent()) == [receipt.provider_message_id]


def test_no_fallback_to_sns_when_end_user_messaging_throttles(sns: Any) -> None:
    # Given End User Messaging throttling the send
    eum = make_client("pinpoint-sms-voice-v2")
    with Stubber(eum) as stub:
        stub.add_client_error(
            "send_text_message", service_error_code="ThrottlingException", http_status_code=429
        )
        sender = FallbackSender(EumSmsSender(eum, EUM_CONFIG), SnsSmsSender(sns))
        # When an SMS is sent / Then the throttle reaches the caller and SNS sent nothing
        with pytest.raises(ChannelThrottledError):
            sender.send(sms())
    assert sns_sms_sent() == {}


def test_no_fallback_to_sns_when_the_debtor_opted_out(sns: Any) -> None:
    eum = make_client("pinpoint-sms-voice-v2")
    with Stubber(eum) as stub:
        stub.add_client_error(
            "send_text_message",
            service_error_code="ConflictException",
            modeled_fields={"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT"},
        )
        with pytest.raises(ChannelRejectedError):
            FallbackSender(EumSmsSender(eum, EUM_CONFIG), SnsSmsSender(sns)).send(sms())
    assert sns_sms_sent() == {}


# --- WhatsApp through End User Messaging Social (Stubber) ---------------------------------------


def whatsapp(**fields: Any) -> OutboundMessage:
    template = {
        "whatsapp_template": "arrears_reminder_v2",
        "whatsapp_language": "en_ZA",
        "whatsapp_parameters": ["Thandi", "R2,450.00"],
    }
    return message(Channel.WHATSAPP, "082 555 0123", **{**template, **fields})


def whatsapp_sender(client: Any) -> WhatsAppSender:
    return WhatsAppSender(client, WhatsAppConfig(origination_phone_number_id=PHONE_ID_ARN))


def test_whatsapp_sends_the_meta_template_message() -> None:
    client = make_client("socialmessaging")
    calls = capture_params(client, "SendWhatsAppMessage")
    with Stubber(client) as stub:
        stub.add_response(
            "send_whatsapp_message",
            {"messageId": "4d2c1b0a-9f8e-4d7c-b6a5-948372615049"},
            {"originationPhoneNumberId": PHONE_ID_ARN, "message": ANY, "metaApiVersion": "v20.0"},
        )
        receipt = whatsapp_sender(client).send(whatsapp())
        stub.assert_no_pending_responses()
    # The message blob is the Meta Cloud API JSON, as bytes
    body = calls[0]["message"]
    assert isinstance(body, bytes)
    assert json.loads(body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+27825550123",
        "type": "template",
        "template": {
            "name": "arrears_reminder_v2",
            "language": {"code": "en_ZA"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Thandi"},
                        {"type": "text", "text": "R2,450.00"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": "msg_01JE9X3K9S",
    }
    assert receipt.provider_message_id == "4d2c1b0a-9f8e-4d7c-b6a5-948372615049"
    assert receipt.channel is Channel.WHATSAPP


def test_whatsapp_template_without_parameters_has_no_components() -> None:
    client = make_client("socialmessaging")
    calls = capture_params(client, "SendWhatsAppMessage")
    with Stubber(client) as stub:
        stub.add_response("send_whatsapp_message", {"messageId": "m-1"})
        whatsapp_sender(client).send(whatsapp(whatsapp_parameters=[]))
    assert "components" not in json.loads(calls[0]["message"])["template"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ThrottledRequestException", ChannelThrottledError),
        ("InvalidParametersException", ChannelRejectedError),
        ("AccessDeniedException", ChannelUnavailableError),
    ],
)
def test_whatsapp_errors_map_to_channel_errors(code: str, expected: type) -> None:
    client = make_client("socialmessaging")
    with Stubber(client) as stub:
        stub.add_client_error("send_whatsapp_message", service_error_code=code)
        with pytest.raises(expected):
            whatsapp_sender(client).send(whatsapp())


def test_whatsapp_config_wants_an_aws_phone_number_id() -> None:
    with pytest.raises(ValidationError):
        WhatsAppConfig(origination_phone_number_id="+27875550101")
    assert WhatsAppConfig(origination_phone_number_id="phone-number-id-7e1f0c2d3b4a5968")


# --- push through Pinpoint SendMessages (Stubber) -----------------------------------------------

PUSH_CONFIG = PushConfig(application_id="6a1b2c3d4e5f60718293a4b5c6d7e8f9")
FCM_TOKEN = "fGx1Hk2mQ0y:APA91bHexampleTokenValue"


def push_result(status: str, token: str = FCM_TOKEN) -> dict[str, Any]:
    return {
        "MessageResponse": {
            "ApplicationId": PUSH_CONFIG.application_id,
            "RequestId": "req-1",
            "Result": {token: {"DeliveryStatus": status, "StatusCode": 200, "MessageId": "push-msg-1"}},
        }
    }


def push(to: str = FCM_TOKEN) -> OutboundMessage:
    return message(Channel.PUSH, to, push_title="Acme", text="Your account is in arrears. Tap to pay.")


def test_push_sends_to_the_token_with_context() -> None:
    client = make_client("pinpoint")
    with Stubber(client) as stub:
        stub.add_response(
            "send_messages",
            push_result("SUCCESSFUL"),
            {
                "ApplicationId": "6a1b2c3d4e5f60718293a4b5c6d7e8f9",
                "MessageRequest": {
                    "Addresses": {FCM_TOKEN: {"ChannelType": "GCM"}},
                    "Context": {"message_id": "msg_01JE9X3K9S", "account_id": "ACC-1001"},
                    "MessageConfiguration": {
                        "DefaultPushNotificationMessage": {
                            "Action": "OPEN_APP",
                            "Body": "Your account is in arrears. Tap to pay.",
                            "Data": {"message_id": "msg_01JE9X3K9S"},
                            "Title": "Acme",
                        }
                    },
                    "TraceId": "msg_01JE9X3K9S",
                },
            },
        )
        receipt = PushSender(client, PUSH_CONFIG).send(push())
        stub.assert_no_pending_responses()
    assert receipt.provider_message_id == "push-msg-1"
    assert receipt.channel is Channel.PUSH


def test_push_platform_prefix_selects_apns() -> None:
    client = make_client("pinpoint")
    calls = capture_params(client, "SendMessages")
    token = "a3f1c9e2b7d4605812ab34cd56ef7890a3f1c9e2b7d4605812ab34cd56ef7890"
    with Stubber(client) as stub:
        stub.add_response("send_messages", push_result("SUCCESSFUL", token))
        PushSender(client, PUSH_CONFIG).send(push(to=f"APNS:{token}"))
    assert calls[0]["MessageRequest"]["Addresses"] == {token: {"ChannelType": "APNS"}}


@pytest.mark.parametrize(
    ("status", "expected", "reason"),
    [
        ("OPT_OUT", ChannelRejectedError, RejectionReason.OPTED_OUT),
        ("PERMANENT_FAILURE", ChannelRejectedError, RejectionReason.INVALID_ADDRESS),
        ("TEMPORARY_FAILURE", ChannelThrottledError, None),
        ("THROTTLED", ChannelThrottledError, None),
        ("UNKNOWN_FAILURE", ChannelThrottledError, None),
    ],
)
def test_push_per_address_status_maps_to_channel_errors(status, expected, reason) -> None:
    # Given Pinpoint accepting the request but reporting a failure for the token
    client = make_client("pinpoint")
    with Stubber(client) as stub:
        stub.add_response("send_messages", push_result(status))
        with pytest.raises(expected) as raised:
            PushSender(client, PUSH_CONFIG).send(push())
    assert raised.value.provider_code == status
    if reason is not None:
        assert raised.value.reason is reason


def test_push_throttled_request_is_throttled() -> None:
    client = make_client("pinpoint")
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_messages", service_error_code="TooManyRequestsException", http_status_code=429
        )
        with pytest.raises(ChannelThrottledError):
            PushSender(client, PUSH_CONFIG).send(push())


def test_adapters_refuse_messages_for_another_channel() -> None:
    with pytest.raises(ValueError, match="SMS"):
        EumSmsSender(make_client("pinpoint-sms-voice-v2"), EUM_CONFIG).send(push())
