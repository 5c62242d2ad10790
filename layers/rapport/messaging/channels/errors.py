"""Translation of botocore errors into the channel errors of the port.

The rule behind every table: an error that proves nothing was accepted and that the same request
will work later is *throttled*; an error about this address or this message is *rejected*; an error
about our own set-up (credentials, disabled account, missing identity, spend limit) or a connection
that was never made is *unavailable*, and only that one allows another provider to be tried.

Server faults (HTTP 5xx) count as throttled, not unavailable: the service may have accepted the
message before failing to answer, so the same channel is retried rather than a second provider used.
A read timeout or a connection dropped mid-request is not translated at all (see
``translate_botocore_error``): its outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from rapport.messaging.channels.port import (
    ChannelError,
    ChannelRejectedError,
    ChannelThrottledError,
    ChannelUnavailableError,
    RejectionReason,
)
from rapport.models.enums import Channel

logger = Logger(child=True)

T = TypeVar("T")

THROTTLED = "throttled"
UNAVAILABLE = "unavailable"

# Codes any AWS service may answer with, whatever its model says.
GENERIC_CODES: Mapping[str, str | RejectionReason] = {
    "Throttling": THROTTLED,
    "ThrottlingException": THROTTLED,
    "ThrottledException": THROTTLED,
    "TooManyRequestsException": THROTTLED,
    "RequestLimitExceeded": THROTTLED,
    "ServiceUnavailable": THROTTLED,
    "ServiceUnavailableException": THROTTLED,
    "InternalFailure": THROTTLED,
    "InternalServerError": THROTTLED,
    "RequestTimeout": THROTTLED,
    "RequestTimeoutException": THROTTLED,
    "UnrecognizedClientException": UNAVAILABLE,
    "InvalidClientTokenId": UNAVAILABLE,
    "InvalidSignatureException": UNAVAILABLE,
    "ExpiredTokenException": UNAVAILABLE,
    "AccessDenied": UNAVAILABLE,
    "AccessDeniedException": UNAVAILABLE,
}

# SES v2 SendEmail.
#   TooManyRequestsException        sending rate exceeded                      -> throttled
#   LimitExceededException          a sending quota reached; clears with time  -> throttled
#   AccountSuspendedException       account may not send                       -> unavailable
#   SendingPausedException          sending paused for the account or set      -> unavailable
#   MailFromDomainNotVerified...    our MAIL FROM domain is not set up         -> unavailable
#   NotFoundException               configuration set or identity missing      -> unavailable
#   MessageRejected                 SES refused this message (content, or an
#                                   unverified address in the sandbox)         -> rejected
#   BadRequestException             the request is invalid for this address    -> rejected
SES_CODES: Mapping[str, str | RejectionReason] = {
    "TooManyRequestsException": THROTTLED,
    "LimitExceededException": THROTTLED,
    "AccountSuspendedException": UNAVAILABLE,
    "SendingPausedException": UNAVAILABLE,
    "MailFromDomainNotVerifiedException": UNAVAILABLE,
    "NotFoundException": UNAVAILABLE,
    "MessageRejected": RejectionReason.MESSAGE_REJECTED,
    "BadRequestException": RejectionReason.MESSAGE_REJECTED,
}

# AWS End User Messaging SMS (pinpoint-sms-voice-v2) SendTextMessage. Its exceptions carry a
# ``Reason`` that decides between rejected and unavailable; see SMS_REASONS below.
#   ThrottlingException             -> throttled
#   InternalServerException         -> throttled (5xx, outcome may be unknown: same channel only)
#   ServiceQuotaExceededException   spend limit or quota reached               -> unavailable
#   AccessDeniedException           account disabled or low reputation         -> unavailable
#   ResourceNotFoundException       origination identity or set missing       -> unavailable
#   ConflictException               opted out, unverified, blocked number      -> rejected (by Reason),
#                                   other conflicts are our configuration      -> unavailable
#   ValidationException             invalid number or body                     -> rejected,
#                                   unless the Reason names our set-up          -> unavailable
SMS_CODES: Mapping[str, str | RejectionReason] = {
    "ThrottlingException": THROTTLED,
    "InternalServerException": THROTTLED,
    "ServiceQuotaExceededException": UNAVAILABLE,
    "AccessDeniedException": UNAVAILABLE,
    "ResourceNotFoundException": UNAVAILABLE,
    "ConflictException": UNAVAILABLE,
    "ValidationException": RejectionReason.MESSAGE_REJECTED,
}

SMS_REASONS: Mapping[str, str | RejectionReason] = {
    # ConflictException reasons about the destination.
    "DESTINATION_PHONE_NUMBER_OPTED_OUT": RejectionReason.OPTED_OUT,
    "DESTINATION_PHONE_NUMBER_NOT_VERIFIED": RejectionReason.UNVERIFIED_DESTINATION,
    "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE": RejectionReason.DESTINATION_BLOCKED,
    "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION": RejectionReason.DESTINATION_BLOCKED,
    # ValidationException reasons about the destination.
    "CANNOT_PARSE": RejectionReason.INVALID_ADDRESS,
    "DESTINATION_COUNTRY_BLOCKED": RejectionReason.DESTINATION_BLOCKED,
    "CANNOT_ADD_OPTED_OUT_NUMBER": RejectionReason.OPTED_OUT,
    # ValidationException reasons about our own set-up: the channel cannot send here.
    "CHANNEL_NOT_ENABLED": UNAVAILABLE,
    "COUNTRY_NOT_ENABLED": UNAVAILABLE,
    "INTERNATIONAL_SENDING_NOT_SUPPORTED": UNAVAILABLE,
    "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY": UNAVAILABLE,
    "SENDER_ID_NOT_REGISTERED": UNAVAILABLE,
    "SENDER_ID_NOT_SUPPORTED": UNAVAILABLE,
    "SENDER_ID_REQUIRES_REGISTRATION": UNAVAILABLE,
    "PRICE_OVER_THRESHOLD": UNAVAILABLE,
    "RESOURCE_NOT_ACCESSIBLE": UNAVAILABLE,
}

# SNS Publish to a phone number.
#   Throttled / KMSThrottling       -> throttled
#   InternalError                   -> throttled
#   InvalidParameter(Value)         number or attributes refused               -> rejected
#   AuthorizationError, NotFound,
#   InvalidSecurity, KMS* faults    our set-up                                 -> unavailable
SNS_CODES: Mapping[str, str | RejectionReason] = {
    "Throttled": THROTTLED,
    "KMSThrottling": THROTTLED,
    "InternalError": THROTTLED,
    "InvalidParameter": RejectionReason.INVALID_ADDRESS,
    "ParameterValueInvalid": RejectionReason.INVALID_ADDRESS,
    "InvalidParameterValue": RejectionReason.INVALID_ADDRESS,
    "ValidationException": RejectionReason.MESSAGE_REJECTED,
    "AuthorizationError": UNAVAILABLE,
    "NotFound": UNAVAILABLE,
    "InvalidSecurity": UNAVAILABLE,
    "KMSDisabled": UNAVAILABLE,
    "KMSInvalidState": UNAVAILABLE,
    "KMSNotFound": UNAVAILABLE,
    "KMSOptInRequired": UNAVAILABLE,
    "KMSAccessDenied": UNAVAILABLE,
}

# AWS End User Messaging Social (socialmessaging) SendWhatsAppMessage.
#   ThrottledRequestException       -> throttled
#   InternalServiceException        -> throttled
#   DependencyException             Meta's API failed behind AWS               -> throttled
#   ValidationException,
#   InvalidParametersException      template, language or number refused       -> rejected
#   AccessDeniedException,
#   ResourceNotFoundException       phone number id not linked or no access    -> unavailable
WHATSAPP_CODES: Mapping[str, str | RejectionReason] = {
    "ThrottledRequestException": THROTTLED,
    "InternalServiceException": THROTTLED,
    "DependencyException": THROTTLED,
    "ValidationException": RejectionReason.MESSAGE_REJECTED,
    "InvalidParametersException": RejectionReason.MESSAGE_REJECTED,
    "AccessDeniedException": UNAVAILABLE,
    "ResourceNotFoundException": UNAVAILABLE,
}

# Pinpoint SendMessages (push).
#   TooManyRequestsException        -> throttled
#   InternalServerErrorException    -> throttled
#   BadRequestException,
#   PayloadTooLargeException        -> rejected
#   ForbiddenException, NotFound-,
#   MethodNotAllowedException       application missing or no access           -> unavailable
PUSH_CODES: Mapping[str, str | RejectionReason] = {
    "TooManyRequestsException": THROTTLED,
    "InternalServerErrorException": THROTTLED,
    "BadRequestException": RejectionReason.MESSAGE_REJECTED,
    "PayloadTooLargeException": RejectionReason.MESSAGE_REJECTED,
    "ForbiddenException": UNAVAILABLE,
    "NotFoundException": UNAVAILABLE,
    "MethodNotAllowedException": UNAVAILABLE,
}

SERVICE_CODES: Mapping[str, Mapping[str, str | RejectionReason]] = {
    "sesv2": SES_CODES,
    "pinpoint-sms-voice-v2": SMS_CODES,
    "sns": SNS_CODES,
    "socialmessaging": WHATSAPP_CODES,
    "pinpoint": PUSH_CODES,
}

SERVICE_REASONS: Mapping[str, Mapping[str, str | RejectionReason]] = {
    "pinpoint-sms-voice-v2": SMS_REASONS,
}


def _error_reason(error: ClientError) -> str | None:
    """The modelled ``Reason`` member, which botocore puts at the top of the parsed response."""
    reason = error.response.get("Reason") or error.response.get("Error", {}).get("Reason")
    return str(reason) if reason else None


def classify_client_error(error: ClientError, service: str) -> str | RejectionReason:
    """THROTTLED, UNAVAILABLE or a RejectionReason for an error returned by ``service``."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    reason = _error_reason(error)
    if reason is not None and reason in SERVICE_REASONS.get(service, {}):
        return SERVICE_REASONS[service][reason]
    if code in SERVICE_CODES.get(service, {}):
        return SERVICE_CODES[service][code]
    if code in GENERIC_CODES:
        return GENERIC_CODES[code]
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    # Unknown codes: a 429 or 5xx may clear on its own; any other refusal is about our request or set-up.
    if status == 429 or status >= 500:
        return THROTTLED
    return UNAVAILABLE


def translate_client_error(error: ClientError, *, service: str, channel: Channel) -> ChannelError:
    """The channel error to raise (``from error``) for a ClientError of ``service``."""
    code = str(error.response.get("Error", {}).get("Code", "Unknown"))
    reason = _error_reason(error)
    detail = f"{service} refused the send: {code}" + (f" ({reason})" if reason else "")
    kind = classify_client_error(error, service)
    if kind == THROTTLED:
        return ChannelThrottledError(detail, channel=channel, provider_code=code)
    if kind == UNAVAILABLE:
        return ChannelUnavailableError(detail, channel=channel, provider_code=code)
    return ChannelRejectedError(detail, reason=RejectionReason(kind), channel=channel, provider_code=code)


def translate_botocore_error(error: Exception, *, service: str, channel: Channel) -> ChannelError | None:
    """The channel error for a ClientError or a failed connection; None when it must propagate.

    A connection that could not be opened (DNS, refused, connect timeout, TLS handshake) never carried
    the request, so the channel is unavailable. A read timeout or a closed connection may follow a
    request the service accepted: the outcome is unknown, so it is returned as None and the caller
    re-raises it unchanged rather than let anyone retry or fall back blindly.
    """
    if isinstance(error, ClientError):
        return translate_client_error(error, service=service, channel=channel)
    if isinstance(error, BotocoreConnectionError):
        return ChannelUnavailableError(
            f"{service} could not be reached: {type(error).__name__}", channel=channel, provider_code=None
        )
    return None


def call_provider(
    operation: Callable[..., T], params: Mapping[str, Any], *, service: str, channel: Channel, message_id: str
) -> T:
    """Call one provider operation, raising channel errors instead of botocore ones."""
    try:
        return operation(**params)
    except (ClientError, BotoCoreError) as error:
        translated = translate_botocore_error(error, service=service, channel=channel)
        if translated is None:
            logger.error(
                "send outcome unknown",
                extra={"service": service, "message_id": message_id, "error": type(error).__name__},
            )
            raise
        logger.warning(
            "send failed",
            extra={
                "service": service,
                "message_id": message_id,
                "error": type(translated).__name__,
                "provider_code": translated.provider_code,
            },
        )
        raise translated from error
