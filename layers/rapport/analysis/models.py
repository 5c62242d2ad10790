"""What goes into reply analysis and what comes out of it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rapport.models.enums import Intent, Sentiment


class ReplyToAnalyse(BaseModel):
    """One inbound debtor reply (SMS, WhatsApp or email body) and when and where it arrived.

    `timezone` is the debtor's IANA zone: relative dates such as "tomorrow" are resolved against
    the debtor's local date at `received_at`, not the server's.
    """

    model_config = ConfigDict(frozen=True)

    reply_id: str = Field(min_length=1)
    text: str
    received_at: datetime
    timezone: str
    language_hint: str | None = None

    @field_validator("received_at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("received_at must carry a time zone offset")
        return value

    @field_validator("timezone")
    @classmethod
    def _must_be_iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("timezone must be an IANA time zone name") from error
        return value

    def local_date(self) -> date:
        """The debtor's calendar date when the reply arrived."""
        return self.received_at.astimezone(ZoneInfo(self.timezone)).date()


class ReplyAnalysis(BaseModel):
    """What a reply says, in the terms a collections journey acts on.

    `promise_date` is set only when the reply is a promise to pay with a day that can be resolved.
    `amount_cents` is the sum the debtor offers to pay (a one-off sum or an instalment), never a
    balance they quote or dispute. `redacted_text` is the only form of the reply that may be stored
    beside the analysis or shown outside the conversation view.
    """

    model_config = ConfigDict(frozen=True)

    reply_id: str
    intent: Intent
    intent_confidence: float = Field(ge=0.0, le=1.0)
    sentiment: Sentiment
    sentiment_scores: dict[str, float]
    promise_date: date | None = None
    amount_cents: int | None = Field(default=None, ge=0)
    currency: str = Field(default="ZAR", min_length=3, max_length=3)
    vulnerable: bool
    vulnerability_reasons: list[str] = Field(default_factory=list)
    language: str
    redacted_text: str
    analyser: str
