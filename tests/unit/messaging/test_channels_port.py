"""The sending port, error translation tables, phone normalisation, SES tag ids and FallbackSender.

Provider calls are not needed here: FallbackSender is tested with fakes of our own port, and the
error tables with ClientErrors built the way botocore builds them.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rapport.messaging.channels import (
    ChannelRejectedError,
    ChannelSender,
    ChannelThrottledError,
    ChannelUnavailableError,
    FallbackSender,
    InvalidPhoneNumberError,
    OutboundMessage,
    RejectionReason,
    SendReceipt,
    to_e164,
)
from rapport.messaging.channels.errors import (
    THROTTLED,
    UNAVAILABLE,
    classify_client_error,
    translate_botocore_error,
)
from rapport.messaging.channels.identifiers import from_ses_tag_value, to_ses_tag_value
from rapport.models.enums import Channel

EUM = "pinpoint-sms-voice-v2"
UNVERIFIED = RejectionReason.UNVERIFIED_DESTINATION


def sms(message_id: str = "msg-1", to: str = "082 555 0123") -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id, account_id="ACC-1001", channel=Channel.SMS, to=to, text="Hi"
    )


def client_error(code: str, status: int = 400, reason: str | None = None) -> ClientError:
    response: dict = {
        "Error": {"Code": code, "Message": "refused"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if reason:
        response["Reason"] = reason
    return ClientError(response, "Send")


# --- OutboundMessage ---------------------------------------------------------------------------


def test_email_without_subject_is_refused() -> None:
    # Given an email message without a subject / When it is built / Then validation fails
    with pytest.raises(ValidationError, match="subject"):
        OutboundMessage(message_id="m", account_id="a", channel=Channel.EMAIL, to="x@example.com", text="t")


def test_whatsapp_without_template_is_refused() -> None:
    with pytest.raises(ValidationError, match="template"):
        OutboundMessage(message_id="m", account_id="a", channel=Channel.WHATSAPP, to="0825550123", text="t")


def test_message_id_may_not_contain_spaces() -> None:
    # Given an id with a space (it would break the SMS Context and push TraceId)
    with pytest.raises(ValidationError):
        sms(message_id="msg 1")


def test_outbound_message_is_frozen() -> None:
    message = sms()
    with pytest.raises(ValidationError):
        message.text = "changed"


# --- error translation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "code", "reason", "expected"),
    [
        # SES v2
        ("sesv2", "TooManyRequestsException", None, THROTTLED),
        ("sesv2", "LimitExceededException", None, THROTTLED),
        ("sesv2", "AccountSuspendedException", None, UNAVAILABLE),
        ("sesv2", "SendingPausedException", None, UNAVAILABLE),
        ("sesv2", "MailFromDomainNotVerifiedException", None, UNAVAILABLE),
        ("sesv2", "NotFoundException", None, UNAVAILABLE),
        ("sesv2", "MessageRejected", None, RejectionReason.MESSAGE_REJECTED),
        ("sesv2", "BadRequestException", None, RejectionReason.MESSAGE_REJECTED),
        # End User Messaging SMS
        (EUM, "ThrottlingException", None, THROTTLED),
        (EUM, "InternalServerException", None, THROTTLED),
        (EUM, "ServiceQuotaExceededException", "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT", UNAVAILABLE),
        (EUM, "AccessDeniedException", "ACCOUNT_DISABLED", UNAVAILABLE),
        (EUM, "ResourceNotFoundException", None, UNAVAILABLE),
        (EUM, "ConflictException", "DESTINATION_PHONE_NUMBER_OPTED_OUT", RejectionReason.OPTED_OUT),
        (EUM, "ConflictException", "DESTINATION_PHONE_NUMBER_NOT_VERIFIED", UNVERIFIED),
        (EUM, "ConflictException", "NO_ORIGINATION_IDENTITIES_FOUND", UNAVAILABLE),
        (EUM, "ValidationException", "CANNOT_PARSE", RejectionReason.INVALID_ADDRESS),
        (EUM, "ValidationException", "DESTINATION_COUNTRY_BLOCKED", RejectionReason.DESTINATION_BLOCKED),
        (EUM, "ValidationException", "SENDER_ID_NOT_REGISTERED", UNAVAILABLE),
        (EUM, "ValidationException", "MAXIMUM_SIZE_EXCEEDED", RejectionReason.MESSAGE_REJECTED),
        # SNS
        ("sns", "Throttled", None, THROTTLED),
        ("sns", "InternalError", None, THROTTLED),
        ("sns", "InvalidParameter", None, RejectionReason.INVALID_ADDRESS),
        ("sns", "AuthorizationError", None, UNAVAILABLE),
        # End User Messaging Social
        ("socialmessaging", "ThrottledRequestException", None, THROTTLED),
        ("socialmessaging", "DependencyException", None, THROTTLED),
        ("socialmessaging", "InvalidParametersException", None, RejectionReason.MESSAGE_REJECTED),
        ("socialmessaging", "ResourceNotFoundException", None, UNAVAILABLE),
        # Pinpoint push
        ("pinpoint", "TooManyRequestsException", None, THROTTLED),
        ("pinpoint", "BadRequestException", None, RejectionReason.MESSAGE_REJECTED),
        ("pinpoint", "ForbiddenException", None, UNAVAILABLE),
        # Codes any service may send
        ("sns", "ExpiredTokenException", None, UNAVAILABLE),
        ("pinpoint", "ServiceUnavailable", None, THROTTLED),
    ],
)
def test_client_error_codes_map_to_channel_errors(service, code, reason, expected) -> None:
    # Given a service error code (and its Reason) / When classified / Then it lands in the documented kind
    assert classify_client_error(client_error(code, reason=reason), service) == expected


def test_unknown_codes_follow_the_http_status() -> None:
    # Given codes no table knows / Then 5xx and 429 are retryable, other refusals unavailable
    assert classify_client_error(client_error("SomethingNew", 503), "sns") == THROTTLED
    assert classify_client_error(client_error("SomethingNew", 429), "sns") == THROTTLED
    assert classify_client_error(client_error("SomethingNew", 403), "sns") == UNAVAILABLE


def test_translated_error_names_code_and_reason_but_no_address() -> None:
    error = client_error("ConflictException", reason="DESTINATION_PHONE_NUMBER_OPTED_OUT")
    translated = translate_botocore_error(error, service=EUM, channel=Channel.SMS)
    assert isinstance(translated, ChannelRejectedError)
    assert translated.reason is RejectionReason.OPTED_OUT
    assert translated.provider_code == "ConflictException"
    assert "DESTINATION_PHONE_NUMBER_OPTED_OUT" in str(translated)


def test_connection_failures_are_unavailable_but_read_timeouts_are_not_translated() -> None:
    # Given a connection that never opened / Then the channel is unavailable (nothing was sent)
    refused = EndpointConnectionError(endpoint_url="https://sms-voice.af-south-1.amazonaws.com")
    translated = translate_botocore_error(refused, service="sns", channel=Channel.SMS)
    assert isinstance(translated, ChannelUnavailableError)
    # Given a read timeout (the send may have arrived) / Then it is left to propagate unchanged
    timeout = ReadTimeoutError(endpoint_url="https://sms-voice.af-south-1.amazonaws.com")
    assert translate_botocore_error(timeout, service="sns", channel=Channel.SMS) is None


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("082 123 4567", "ZA", "+27821234567"),
        ("0821234567", "ZA", "+27821234567"),
        ("+27 82 123 4567", "ZA", "+27821234567"),
        ("27821234567", "ZA", "+27821234567"),
        ("0027821234567", "ZA", "+27821234567"),
        ("+27 (0)82 123-4567", "ZA", "+27821234567"),
        ("(021) 555 1234", "ZA", "+27215551234"),
        ("+44 20 7946 0958", "ZA", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "UK", "+442079460958"),
        ("(212) 555-0101", "US", "+12125550101"),
        ("1 212 555 0101", "US", "+12125550101"),
        ("+49 30 1234567", "ZA", "+49301234567"),
    ],
)
def test_numbers_normalise_to_e164(raw: str, region: str, expected: str) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    "raw", ["", "12345", "082 123 456", "+27 82 123 456", "082-CALL-NOW", "+27 82 123 4567 8"]
)
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumberError):
        to_e164(raw)


@given(st.from_regex(r"[6-8][0-9]{8}", fullmatch=True))
def test_every_za_mobile_written_nationally_becomes_plus_27(national: str) -> None:
    # Given any nine-digit ZA mobile number written with its trunk 0 and spaces
    written = f"0{national[:2]} {national[2:5]} {national[5:]}"
    # Then E.164 is +27 and the nine digits
    assert to_e164(written) == "+27" + national


# --- SES tag ids --------------------------------------------------------------------------------


def test_safe_ids_travel_as_they_are() -> None:
    assert to_ses_tag_value("msg_01JE9X3K9S") == "msg_01JE9X3K9S"


@given(st.text(min_size=1, max_size=80))
def test_any_id_survives_the_ses_tag_round_trip(value: str) -> None:
    # Given any id (slashes, dots, spaces, accents) / When encoded as a tag and decoded
    tag = to_ses_tag_value(value)
    # Then SES accepts the tag and the id comes back unchanged
    assert len(tag) <= 256
    assert all(char.isascii() and (char.isalnum() or char in "_-") for char in tag)
    assert from_ses_tag_value(tag) == value


# --- FallbackSender -----------------------------------------------------------------------------


class FakeSender:
    """A fake of our port: raises the queued error or returns a receipt, and records what it sent."""

    def __init__(self, name: str, error: Exception | None = None, channel: Channel = Channel.SMS):
        self.name = name
        self.error = error
        self.channel = channel
        self.sent: list[str] = []

    def send(self, message: OutboundMessage) -> SendReceipt:
        if self.error is not None:
            raise self.error
        self.sent.append(message.message_id)
        return SendReceipt(
            message_id=message.message_id,
            channel=self.channel,
            provider_message_id=f"{self.name}-1",
            provider=self.name,
        )


def test_fake_and_fallback_satisfy_the_port() -> None:
    sender = FallbackSender(FakeSender("a"), FakeSender("b"))
    assert isinstance(sender, ChannelSender)
    assert sender.channel is Channel.SMS


def test_fallback_is_used_when_the_primary_is_unavailable() -> None:
    # Given a primary that cannot send at all
    primary = FakeSender("eum", ChannelUnavailableError("not configured", channel=Channel.SMS))
    fallback = FakeSender("sns")
    # When a message is sent
    receipt = FallbackSender(primary, fallback).send(sms())
    # Then the fallback carried it
    assert receipt.provider == "sns"
    assert fallback.sent == ["msg-1"]


def test_throttling_never_falls_back() -> None:
    # Given a throttled primary
    primary = FakeSender("eum", ChannelThrottledError("slow down", channel=Channel.SMS))
    fallback = FakeSender("sns")
    # When a message is sent / Then the throttle reaches the caller and the fallback sent nothing
    with pytest.raises(ChannelThrottledError):
        FallbackSender(primary, fallback).send(sms())
    assert fallback.sent == []


def test_rejection_never_falls_back() -> None:
    primary = FakeSender(
        "eum", ChannelRejectedError("opted out", reason=RejectionReason.OPTED_OUT, channel=Channel.SMS)
    )
    fallback = FakeSender("sns")
    with pytest.raises(ChannelRejectedError):
        FallbackSender(primary, fallback).send(sms())
    assert fallback.sent == []


def test_unknown_outcomes_never_fall_back() -> None:
    # Given a primary whose request timed out while reading the answer (it may have been delivered)
    primary = FakeSender("eum", ReadTimeoutError(endpoint_url="https://example.invalid"))
    fallback = FakeSender("sns")
    with pytest.raises(ReadTimeoutError):
        FallbackSender(primary, fallback).send(sms())
    assert fallback.sent == []


def test_primary_and_fallback_must_share_a_channel() -> None:
    with pytest.raises(ValueError, match="same channel"):
        FallbackSender(FakeSender("a"), FakeSender("b", channel=Channel.EMAIL))
