"""The dependencies a handler needs, built lazily once per process and replaceable in tests.

Handlers call :func:`services`. The first call reads the environment (:mod:`rapport.settings`),
binds the tables and builds the clients; nothing is built at import time. Tests and the local
cloud install their own :class:`Services` with :func:`use_services` (for example a simulated
clock, or a fake of a channel that moto does not model).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from rapport.clock import Clock, SystemClock
from rapport.models.enums import Channel
from rapport.settings import Settings, load_settings
from rapport.store.models import bind_tables
from rapport.store.repositories import Repositories
from rapport.strategy.config import ClientConfig, load_client_config

_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 5})


@dataclass
class Services:
    settings: Settings
    client: ClientConfig
    clock: Clock
    repos: Repositories
    senders: Mapping[Channel, Any]
    renderer: Any
    payments: Any  # rapport.payments.ProviderRegistry
    analyser: Any  # rapport.analysis.ReplyAnalyser
    stepfunctions: Any

    @property
    def payment_provider(self) -> Any:
        return self.payments.get(self.client.payments.provider)


_lock = threading.Lock()
_current: Services | None = None


def _client(settings: Settings, service: str) -> Any:
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url, config=_RETRIES)


def build_senders(settings: Settings) -> dict[Channel, Any]:
    from rapport.messaging.channels import (
        EumSmsConfig,
        EumSmsSender,
        FallbackSender,
        PushConfig,
        PushSender,
        SesEmailConfig,
        SesEmailSender,
        SnsSmsConfig,
        SnsSmsSender,
        WhatsAppConfig,
        WhatsAppSender,
    )

    senders: dict[Channel, Any] = {
        Channel.EMAIL: SesEmailSender(
            _client(settings, "sesv2"),
            SesEmailConfig(from_address=settings.email_from, configuration_set=settings.ses_configuration_set),
        )
    }
    sns_sms = SnsSmsSender(_client(settings, "sns"), SnsSmsConfig())
    if settings.sms_origination_identity:
        eum = EumSmsSender(
            _client(settings, "pinpoint-sms-voice-v2"),
            EumSmsConfig(origination_identity=settings.sms_origination_identity),
        )
        senders[Channel.SMS] = FallbackSender(eum, sns_sms)
    else:
        senders[Channel.SMS] = sns_sms
    if settings.whatsapp_phone_number_id:
        senders[Channel.WHATSAPP] = WhatsAppSender(
            _client(settings, "socialmessaging"),
            WhatsAppConfig(origination_phone_number_id=settings.whatsapp_phone_number_id),
        )
    if settings.push_application_id:
        senders[Channel.PUSH] = PushSender(
            _client(settings, "pinpoint"), PushConfig(application_id=settings.push_application_id)
        )
    return senders


def build_payments(settings: Settings, clock: Clock) -> Any:
    from rapport.payments import ProviderRegistry, SandboxProvider

    secret = _client(settings, "secretsmanager").get_secret_value(SecretId=settings.payment_secret_id)
    keys = json.loads(secret["SecretString"])
    providers = [SandboxProvider(keys["sandbox_webhook_secret"], settings.pay_page_base_url, clock=clock.now)]
    # NOTE: only the sandbox is wired into the registry; the real adapters in rapport.payments
    # (Paystack, Stitch, Ozow, PayFast, Peach) need their API credentials from the same secret and
    # are added here once a client's configuration names one.
    return ProviderRegistry(providers)


def build_analyser(settings: Settings) -> Any:
    from rapport.analysis import ComprehendReplyAnalyser, LocalReplyAnalyser

    local = LocalReplyAnalyser()
    if settings.reply_analyser == "comprehend":
        return ComprehendReplyAnalyser(_client(settings, "comprehend"), fallback=local)
    return local


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    from rapport.messaging.templates import MessageRenderer, TemplateCatalogue

    clock = clock or SystemClock()
    client = load_client_config(settings.client_config_path)
    bind_tables(settings.table_prefix, settings.region, settings.endpoint_url)
    return Services(
        settings=settings,
        client=client,
        clock=clock,
        repos=Repositories(),
        senders=build_senders(settings),
        renderer=MessageRenderer(TemplateCatalogue.load(default=True)),
        payments=build_payments(settings, clock),
        analyser=build_analyser(settings),
        stepfunctions=_client(settings, "stepfunctions"),
    )


def services() -> Services:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = build_services(load_settings())
    return _current


def use_services(replacement: Services | None) -> None:
    """Install (or with None, forget) the process's services: for tests and the local cloud."""
    global _current
    with _lock:
        _current = replacement
