"""Environment settings of a Rapport function, modelled once instead of read all over the code.

Every Lambda in a client stack receives the same variables (the CDK stack and the local cloud set
them from one catalogue, ``rapport_infra.catalogue``). Read them with :func:`load_settings`, never
with ``os.environ`` elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(Exception):
    """The function's environment is incomplete or malformed."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")
    client_config_path: Path
    table_prefix: str
    region: str = "af-south-1"
    journey_state_machine_arn: str | None = None
    send_failures_queue_url: str | None = None
    email_from: str = "collections@example.com"
    ses_configuration_set: str | None = None
    sms_origination_identity: str | None = None
    # The End User Messaging SMS configuration set whose event destination publishes the SMS events.
    sms_configuration_set: str | None = None
    whatsapp_phone_number_id: str | None = None
    push_application_id: str | None = None
    payment_provider: str = "sandbox"
    payment_secret_id: str = "rapport/sandbox/webhook"  # noqa: S105 - a secret's name, not a secret
    pay_page_base_url: str = "https://pay.rapport.example/pay"
    reply_analyser: Literal["local", "comprehend"] = "local"
    # The bucket DebiCheck collection files are written to before the SFTP connector sends them.
    collections_bucket: str | None = None
    endpoint_url: str | None = None

    def table_name(self, short_name: str) -> str:
        return f"{self.table_prefix}-{short_name}"


_ENVIRONMENT_NAMES = {
    "client_id": "RAPPORT_CLIENT_ID",
    "client_config_path": "RAPPORT_CLIENT_CONFIG",
    "table_prefix": "RAPPORT_TABLE_PREFIX",
    "region": "AWS_REGION",
    "journey_state_machine_arn": "RAPPORT_JOURNEY_STATE_MACHINE_ARN",
    "send_failures_queue_url": "RAPPORT_SEND_FAILURES_QUEUE_URL",
    "email_from": "RAPPORT_EMAIL_FROM",
    "ses_configuration_set": "RAPPORT_SES_CONFIGURATION_SET",
    "sms_origination_identity": "RAPPORT_SMS_ORIGINATION_IDENTITY",
    "sms_configuration_set": "RAPPORT_SMS_CONFIGURATION_SET",
    "whatsapp_phone_number_id": "RAPPORT_WHATSAPP_PHONE_NUMBER_ID",
    "push_application_id": "RAPPORT_PUSH_APPLICATION_ID",
    "payment_provider": "RAPPORT_PAYMENT_PROVIDER",
    "payment_secret_id": "RAPPORT_PAYMENT_SECRET_ID",
    "pay_page_base_url": "RAPPORT_PAY_PAGE_BASE_URL",
    "reply_analyser": "RAPPORT_REPLY_ANALYSER",
    "collections_bucket": "RAPPORT_COLLECTIONS_BUCKET",
    "endpoint_url": "RAPPORT_AWS_ENDPOINT_URL",
}


def environment_names() -> Mapping[str, str]:
    """Setting name -> environment variable name; the CDK stack writes the same variables."""
    return dict(_ENVIRONMENT_NAMES)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    source = os.environ if environ is None else environ
    values = {field: source[name] for field, name in _ENVIRONMENT_NAMES.items() if source.get(name)}
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        missing = [_ENVIRONMENT_NAMES[str(problem["loc"][0])] for problem in error.errors() if problem["loc"]]
        raise SettingsError(f"function environment is invalid: {', '.join(missing)}") from error


def to_environment(settings: Settings) -> dict[str, str]:
    """The variables that reproduce ``settings`` (used by the local cloud and the CDK stack)."""
    values = settings.model_dump(exclude_none=True)
    return {_ENVIRONMENT_NAMES[field]: str(value) for field, value in values.items()}
