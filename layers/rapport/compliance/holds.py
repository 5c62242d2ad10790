"""Holds: a recorded reason to stop or limit contact with one account.

Each kind of hold has a policy: what it stops (every contact, or collection messages only while
service messages such as a plan confirmation may still go), whether only a person may clear it, and
for a few kinds how long it lasts when nobody says. A hold that only a person may clear stays in force
past its ``until``: for those kinds ``until`` is a review date, never an expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from rapport.models.enums import HoldKind


class HoldScope(StrEnum):
    ALL_CONTACT = "all_contact"
    COLLECTION_ONLY = "collection_only"


@dataclass(frozen=True)
class HoldPolicy:
    kind: HoldKind
    scope: HoldScope
    cleared_only_by_person: bool
    default_duration: timedelta | None
    summary: str


HOLD_POLICIES: dict[HoldKind, HoldPolicy] = {
    policy.kind: policy
    for policy in (
        HoldPolicy(
            HoldKind.DISPUTE,
            HoldScope.COLLECTION_ONLY,
            cleared_only_by_person=True,
            default_duration=None,
            summary="the debtor disputes the debt; collection waits until the dispute is resolved",
        ),
        HoldPolicy(
            HoldKind.DEBT_REVIEW,
            HoldScope.COLLECTION_ONLY,
            cleared_only_by_person=True,
            default_duration=None,
            summary="the debtor is under debt review; collection goes through the debt counsellor",
        ),
        HoldPolicy(
            HoldKind.DECEASED,
            HoldScope.ALL_CONTACT,
            cleared_only_by_person=True,
            default_duration=None,
            summary="the debtor is reported deceased; the estate is dealt with by a person",
        ),
        HoldPolicy(
            HoldKind.FRAUD,
            HoldScope.ALL_CONTACT,
            cleared_only_by_person=True,
            default_duration=None,
            summary="the account is under a fraud claim; nobody is contacted until it is investigated",
        ),
        HoldPolicy(
            HoldKind.VULNERABILITY,
            HoldScope.COLLECTION_ONLY,
            cleared_only_by_person=True,
            default_duration=None,
            summary="the debtor is vulnerable; a person decides how collection may continue",
        ),
        HoldPolicy(
            HoldKind.LEGAL_REPRESENTATION,
            HoldScope.ALL_CONTACT,
            cleared_only_by_person=True,
            default_duration=None,
            summary="the debtor has a legal representative; contact goes to the representative only",
        ),
        HoldPolicy(
            HoldKind.BREATHING_SPACE,
            HoldScope.COLLECTION_ONLY,
            cleared_only_by_person=False,
            # The standard UK Breathing Space. A mental health crisis moratorium has no fixed end:
            # record it with an explicit `until` (or cleared_at when it ends).
            default_duration=timedelta(days=60),
            summary="the debtor is in a Breathing Space; no payment may be requested while it lasts",
        ),
        HoldPolicy(
            HoldKind.HARDSHIP,
            HoldScope.COLLECTION_ONLY,
            cleared_only_by_person=False,
            default_duration=None,
            summary="the debtor is in hardship; collection pauses for the agreed period",
        ),
    )
}


def hold_policy(kind: HoldKind) -> HoldPolicy:
    return HOLD_POLICIES[kind]


class Hold(BaseModel):
    """A hold on one account. ``placed_by`` and ``cleared_by`` are staff or system ids, not debtor data."""

    model_config = ConfigDict(frozen=True)

    kind: HoldKind
    placed_by: str = Field(min_length=1)
    placed_at: AwareDatetime
    reason: str
    until: AwareDatetime | None = None
    cleared_at: AwareDatetime | None = None
    cleared_by: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Hold:
        if (self.cleared_at is None) != (self.cleared_by is None):
            raise ValueError("cleared_at and cleared_by go together")
        if self.until is not None and self.until <= self.placed_at:
            raise ValueError("until must be after placed_at")
        if self.cleared_at is not None and self.cleared_at < self.placed_at:
            raise ValueError("a hold cannot be cleared before it was placed")
        return self

    @property
    def policy(self) -> HoldPolicy:
        return HOLD_POLICIES[self.kind]

    @property
    def ends_at(self) -> datetime | None:
        """When the hold ends by itself, or None if only a person (or nothing recorded) can end it."""
        if self.policy.cleared_only_by_person:
            return None
        if self.until is not None:
            return self.until.astimezone(UTC)
        if self.policy.default_duration is not None:
            return self.placed_at.astimezone(UTC) + self.policy.default_duration
        return None

    def is_active(self, at: datetime) -> bool:
        """In force at ``at``: not yet cleared and, for kinds that lapse, not yet lapsed.

        A hold stamped later than ``at`` still counts (clocks of two systems can disagree; the safe
        reading is that the hold is already there).
        """
        if self.cleared_at is not None and self.cleared_at <= at:
            return False
        ends_at = self.ends_at
        return ends_at is None or at < ends_at

    def stops(self, *, collection: bool) -> bool:
        """Whether this kind of hold stops a contact of the given purpose."""
        return self.policy.scope is HoldScope.ALL_CONTACT or collection


def active_holds(holds: tuple[Hold, ...] | list[Hold], at: datetime) -> list[Hold]:
    return [hold for hold in holds if hold.is_active(at)]
