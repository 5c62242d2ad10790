"""Payment provider adapters behind the ``PaymentProvider`` port."""

from rapport.payments.providers.base import (
    HttpRequest,
    HttpResponse,
    HttpTransport,
    PaymentProvider,
    UrllibTransport,
)
from rapport.payments.providers.ozow import OzowProvider
from rapport.payments.providers.payfast import PayFastProvider, PayFastServerValidator, PayFastValidator
from rapport.payments.providers.paystack import PaystackProvider
from rapport.payments.providers.peach import PeachProvider
from rapport.payments.providers.registry import ProviderRegistry
from rapport.payments.providers.sandbox import SandboxProvider
from rapport.payments.providers.stitch import StitchProvider

__all__ = [
    "HttpRequest",
    "HttpResponse",
    "HttpTransport",
    "OzowProvider",
    "PayFastProvider",
    "PayFastServerValidator",
    "PayFastValidator",
    "PaymentProvider",
    "PaystackProvider",
    "PeachProvider",
    "ProviderRegistry",
    "SandboxProvider",
    "StitchProvider",
    "UrllibTransport",
]
