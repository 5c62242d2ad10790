"""Looks a provider up by name and runs its webhook verification, logging the outcome once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from aws_lambda_powertools import Logger

from rapport.payments.errors import UnknownProviderError, WebhookError
from rapport.payments.models import PaymentEvent
from rapport.payments.providers.base import PaymentProvider

logger = Logger(child=True)


class ProviderRegistry:
    """The configured providers, by ``name``. Built by the caller from injected adapters."""

    def __init__(self, providers: Iterable[PaymentProvider]) -> None:
        self._providers: dict[str, PaymentProvider] = {}
        for provider in providers:
            if provider.name in self._providers:
                raise ValueError("two payment providers share one name")
            self._providers[provider.name] = provider

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._providers))

    def get(self, name: str) -> PaymentProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownProviderError("unknown_provider") from None

    def parse_webhook(
        self, name: str, headers: Mapping[str, str], raw_body: bytes, now: datetime
    ) -> PaymentEvent:
        """Verify and parse one delivery for provider ``name``; errors carry their HTTP status."""
        provider = self.get(name)
        try:
            event = provider.parse_webhook(headers, raw_body, now)
        except WebhookError as error:
            logger.warning(
                "payment webhook not accepted",
                extra={"provider": name, "reason": error.reason, "http_status": error.http_status},
            )
            raise
        logger.info(
            "payment webhook verified",
            extra={"provider": name, "event_id": event.event_id, "kind": event.kind.value},
        )
        return event
