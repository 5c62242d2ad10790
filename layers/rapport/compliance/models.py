"""What a compliance decision takes in and gives back."""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from rapport.compliance.clock import resolve_zone
from rapport.compliance.holds import Hold
from rapport.compliance.jurisdictions import (
    ClientOverrides,
    JurisdictionProfile,
    apply_overrides,
    profile_for,
)
from rapport.models.enums import Channel, Jurisdiction


class ContactPurpose(StrEnum):
    COLLECTION = "collection"
    SERVICE = "service"
    CONFIRMATION = "confirmation"


class AttemptKind(StrEnum):
    MESSAGE = "message"
    CALL_ATTEMPT = "call_attempt"
    CONVERSATION = "conversation"


class DecisionOutcome(StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    REFUSE = "refuse"


class ContactAttempt(BaseModel):
    """An earlier contact on this account.

    ``delivered`` is False for a message the provider could not deliver and for a call that did not
    connect to the dialled number. Caps count every attempt; Regulation F's call count skips calls
    that did not connect. A call that rang unanswered did connect.
    """

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    channel: Channel
    kind: AttemptKind
    delivered: bool = True

    @model_validator(mode="after")
    def _kind_fits_channel(self) -> ContactAttempt:
        is_call = self.channel is Channel.CALL
        if is_call == (self.kind is AttemptKind.MESSAGE):
            raise ValueError("calls are call_attempt or conversation; other channels carry messages")
        return self


class OptOut(BaseModel):
    """A debtor's request to stop contact: one channel (None: every channel), one address (None: all)."""

    model_config = ConfigDict(frozen=True)

    channel: Channel | None = None
    address: str | None = None
    recorded_at: AwareDatetime | None = None


class ContactRequest(BaseModel):
    """One proposed contact with everything the rules need to judge it.

    The profile in force is ``profile`` (or the default profile of ``jurisdiction``, South Africa when
    neither is given) tightened by ``overrides``; it is resolved and checked when the request is built.
    Build changed requests with ``model_validate``: ``model_copy(update=...)`` skips that resolution.
    """

    model_config = ConfigDict(frozen=True)

    account_id: str = Field(min_length=1)
    jurisdiction: Jurisdiction | None = None
    profile: JurisdictionProfile | None = None
    overrides: ClientOverrides | None = None
    debtor_timezone: str = Field(description='IANA key, e.g. "Africa/Johannesburg"')
    channel: Channel
    address: str = Field(min_length=1)
    purpose: ContactPurpose = ContactPurpose.COLLECTION
    history: tuple[ContactAttempt, ...] = ()
    holds: tuple[Hold, ...] = ()
    opt_outs: tuple[OptOut, ...] = ()

    _resolved_profile: JurisdictionProfile = PrivateAttr()

    @field_validator("debtor_timezone")
    @classmethod
    def _known_zone(cls, key: str) -> str:
        resolve_zone(key)
        return key

    @model_validator(mode="after")
    def _resolve_profile(self) -> ContactRequest:
        base = self.profile
        if base is None:
            base = profile_for(self.jurisdiction or Jurisdiction.ZA)
        elif self.jurisdiction is not None and self.jurisdiction is not base.jurisdiction:
            raise ValueError("jurisdiction and profile disagree")
        self._resolved_profile = apply_overrides(base, self.overrides)
        return self

    @property
    def resolved_profile(self) -> JurisdictionProfile:
        return self._resolved_profile

    @property
    def zone(self) -> tzinfo:
        return resolve_zone(self.debtor_timezone)


class ContactDecision(BaseModel):
    """The verdict on one proposed contact, ready for the audit trail (it holds no personal data).

    ``rule`` is a stable id ("za.cpa.window.sunday", "cap.sms.7d", "hold.dispute", "optout.sms",
    "allow"). ``not_before`` is set only for a deferral: the earliest whole minute at which the same
    contact, with the same history, would be allowed.
    """

    model_config = ConfigDict(frozen=True)

    outcome: DecisionOutcome
    rule: str = Field(min_length=1)
    reason: str
    not_before: datetime | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    account_id: str
    channel: Channel
    purpose: ContactPurpose
    evaluated_at: datetime
    requires_opt_out_notice: bool = False

    @model_validator(mode="after")
    def _not_before_only_on_defer(self) -> ContactDecision:
        if (self.outcome is DecisionOutcome.DEFER) != (self.not_before is not None):
            raise ValueError("not_before is given exactly when the contact is deferred")
        return self

    @property
    def allowed(self) -> bool:
        return self.outcome is DecisionOutcome.ALLOW
