"""Typed failures of the payment edge.

Every error carries the HTTP status a webhook or API handler should answer with and a short,
stable ``reason`` code that is safe to log (it never contains a body, a secret or personal data).
Handlers translate these once, at the boundary.

Status choices:

- ``WebhookSignatureError`` is 401: the sender could not prove it holds the shared secret.
- ``StaleWebhookError`` is 401 as well, not 400: the freshness of a signed timestamp is part of
  authenticating a delivery (it is what defeats replay), and a provider that retries re-signs with
  a fresh timestamp, so a 4xx that invites a retry is the right answer.
- ``MalformedWebhookError`` is 400: the delivery was authentic or unparseable, but it does not
  carry the fields we need.
- ``IgnoredWebhookError`` is 200: the delivery is authentic but is not a payment fact we model
  (for example a transfer or subscription event). Answering 200 stops the provider retrying.
- ``UnknownProviderError`` is 404: no adapter is registered under that name.
- ``ProviderRequestError`` is 502: a provider's API refused or garbled a request we made.
"""

from __future__ import annotations


class PaymentError(Exception):
    """Base of every payment failure: an HTTP status and a loggable reason code."""

    http_status: int = 500

    def __init__(self, reason: str, detail: str | None = None) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(reason if detail is None else f"{reason}: {detail}")


class WebhookError(PaymentError):
    """Base of failures while verifying or parsing an inbound webhook."""


class WebhookSignatureError(WebhookError):
    """The signature is missing, forged, or made with another secret."""

    http_status = 401


class StaleWebhookError(WebhookError):
    """The signed timestamp lies outside the tolerance window (too old, or in the future)."""

    http_status = 401


class MalformedWebhookError(WebhookError):
    """The body cannot be parsed or lacks a field we need."""

    http_status = 400


class IgnoredWebhookError(WebhookError):
    """An authentic delivery that carries no payment fact we model; acknowledge and drop it."""

    http_status = 200


class UnknownProviderError(PaymentError):
    """No payment provider adapter is registered under the requested name."""

    http_status = 404


class ProviderRequestError(PaymentError):
    """A provider's API answered a request we made with an error or an unexpected shape."""

    http_status = 502


class DuplicateReferenceError(ProviderRequestError):
    """The provider already holds a transaction under the reference we asked for (Paystack takes one
    per reference). The caller decides: a reference we recorded is reused, one we never recorded
    (a try that died before its answer was stored) is given up for the next attempt's."""


class PaymentConfigurationError(PaymentError):
    """The client's payment secret or configuration cannot wire what is asked of it (for example
    the configured provider has no keys). Raised when payments are first used, never at import;
    the message names the provider and the missing fields, never a value."""

    http_status = 500
