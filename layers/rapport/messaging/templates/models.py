"""The values templates work with: which template, what goes into it, and what comes out."""

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rapport.messaging.sms_encoding import SmsEncoding
from rapport.messaging.templates.formatting import CURRENCY_SYMBOLS, Frequency
from rapport.models.enums import Channel, Tone

TEMPLATE_CHANNELS: frozenset[Channel] = frozenset(
    {Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.PUSH}
)
"""Channels that carry written messages; a call has a script, not a template."""

TEMPLATE_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class TemplateId(StrEnum):
    """The messages of a collections journey that ship with Rapport. A client may add its own ids."""

    FIRST_NOTICE = "first_notice"
    REMINDER = "reminder"
    FINAL_REMINDER = "final_reminder"
    PAYMENT_RECEIVED_THANKS = "payment_received_thanks"
    PROMISE_CONFIRMATION = "promise_confirmation"
    PROMISE_PARTLY_KEPT = "promise_partly_kept"
    PLAN_OFFER = "plan_offer"
    PLAN_CONFIRMATION = "plan_confirmation"
    HARDSHIP_SUPPORT = "hardship_support"
    DISPUTE_ACKNOWLEDGED = "dispute_acknowledged"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    AGENT_HANDOFF = "agent_handoff"
    BALANCE_STATEMENT = "balance_statement"
    WRONG_PERSON_APOLOGY = "wrong_person_apology"
    CALLBACK_SCHEDULED = "callback_scheduled"


class TemplateKey(BaseModel):
    """Names one template: (template_id, channel, language, tone). Hashable, so usable as a dict key."""

    model_config = ConfigDict(frozen=True)

    template_id: str
    channel: Channel
    language: str = "en"
    tone: Tone = Tone.NEUTRAL

    @field_validator("template_id")
    @classmethod
    def _template_id_is_snake_case(cls, value: str) -> str:
        if not TEMPLATE_ID_PATTERN.match(value):
            raise ValueError("template_id must be lower snake_case, starting with a letter")
        return str(value)

    @field_validator("channel")
    @classmethod
    def _channel_carries_text(cls, value: Channel) -> Channel:
        if value not in TEMPLATE_CHANNELS:
            raise ValueError(f"channel {value} has no written templates")
        return value

    @field_validator("language")
    @classmethod
    def _language_is_iso_639_1(cls, value: str) -> str:
        if not LANGUAGE_PATTERN.match(value):
            raise ValueError("language must be a two-letter ISO 639-1 code in lower case")
        return value

    def dotted(self) -> str:
        """The key as written in a language file: "reminder.sms.firm" (the file gives the language)."""
        return f"{self.template_id}.{self.channel.value}.{self.tone.value}"

    def __str__(self) -> str:
        return f"{self.language}:{self.dotted()}"


def _https_only(value: str | None) -> str | None:
    if value is not None and not value.startswith("https://"):
        raise ValueError("links in messages must use https://")
    return value


class MessageContext(BaseModel):
    """Everything a template may say about a debtor and their account.

    Money is in minor units of ``currency``. Dates and ``callback_at`` are the debtor's local
    calendar and clock: convert before building the context. A field left as None is simply absent
    for the template, so a template that needs it fails with a TemplateRenderError naming it.
    ``plan_summary`` is free text the caller writes in the message's language; the default
    templates use the structured ``plan_*`` fields instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    debtor_first_name: str = Field(min_length=1, max_length=60)
    client_name: str = Field(min_length=1, max_length=80)
    reference: str = Field(min_length=1, max_length=40)
    amount_due_cents: int = Field(ge=0)
    currency: str = "ZAR"
    due_date: date | None = None
    pay_link_url: str | None = Field(default=None, max_length=1024)
    """Where the debtor pays: a provider's link, or a plan's signed pay link (as long as plan_accept_url)."""
    promise_date: date | None = None
    promise_amount_cents: int | None = Field(default=None, gt=0)
    plan_summary: str | None = Field(default=None, max_length=300)
    plan_instalment_cents: int | None = Field(default=None, gt=0)
    plan_instalments: int | None = Field(default=None, ge=1)
    plan_frequency: Frequency | None = None
    plan_start_date: date | None = None
    plan_accept_url: str | None = Field(default=None, max_length=1024)
    """The signed self-service link to see and accept a plan offer; None when self-service is off."""
    agent_phone: str | None = Field(default=None, max_length=30)
    agent_name: str | None = Field(default=None, max_length=60)
    balance_cents: int | None = None
    payment_amount_cents: int | None = Field(default=None, gt=0)
    payment_date: date | None = None
    callback_at: datetime | None = None
    unsubscribe_url: str | None = Field(default=None, max_length=300)
    debt_advice_name: str | None = Field(default=None, max_length=120)
    """Who offers free debt advice; when None the renderer uses the jurisdiction's default."""
    debt_advice_contact: str | None = Field(default=None, max_length=120)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_SYMBOLS:
            raise ValueError(f"currency must be one of {sorted(CURRENCY_SYMBOLS)}")
        return value

    @field_validator("pay_link_url", "plan_accept_url", "unsubscribe_url")
    @classmethod
    def _links_are_https(cls, value: str | None) -> str | None:
        return _https_only(value)

    @model_validator(mode="after")
    def _single_line_text(self) -> "MessageContext":
        for name, value in self:
            if isinstance(value, str) and _CONTROL_CHARACTERS.search(value):
                raise ValueError(f"{name} must not contain line breaks or control characters")
        return self

    def template_variables(self) -> dict[str, Any]:
        """The values a template sees: every field that is set, under its own name."""
        return {name: value for name, value in self if value is not None}


CONTEXT_VARIABLES: frozenset[str] = frozenset(MessageContext.model_fields)


class WarningCode(StrEnum):
    SMS_OVER_SEGMENT_LIMIT = "sms_over_segment_limit"
    """The SMS needs more segments than the client allows; sending it costs more than planned."""


class RenderWarning(BaseModel):
    """Something the caller should know before sending; the message itself rendered correctly."""

    model_config = ConfigDict(frozen=True)

    code: WarningCode
    detail: str


class RenderedMessage(BaseModel):
    """A message ready for a channel adapter.

    ``language`` and ``tone`` are what was used; they differ from ``requested_language`` and
    ``requested_tone`` when a fallback was taken. For push, ``title`` is the notification title and
    ``text`` its body. For WhatsApp, ``text`` is what the debtor will read (the approved body with
    the parameters filled in), and ``whatsapp_footer`` is the opt-out line the approved template must
    carry as its footer, since a business-initiated template cannot take extra text.
    """

    model_config = ConfigDict(frozen=True)

    template_id: str
    channel: Channel
    language: str
    tone: Tone
    requested_language: str
    requested_tone: Tone
    subject: str | None = None
    title: str | None = None
    text: str
    html: str | None = None
    whatsapp_template: str | None = None
    whatsapp_parameters: tuple[str, ...] = ()
    whatsapp_footer: str | None = None
    sms: SmsEncoding | None = None
    opt_out_line_added: bool = False
    warnings: tuple[RenderWarning, ...] = ()

    @property
    def language_fallback_used(self) -> bool:
        return self.language != self.requested_language

    @property
    def tone_fallback_used(self) -> bool:
        return self.tone != self.requested_tone

    @property
    def sms_over_segment_limit(self) -> bool:
        return any(warning.code == WarningCode.SMS_OVER_SEGMENT_LIMIT for warning in self.warnings)
