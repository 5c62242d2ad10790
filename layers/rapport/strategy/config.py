"""A client's configuration: one file per client shapes its stack and its decision tree.

The file is TOML (see ``clients/*.toml``). :func:`load_client_config` validates it and names the
file and field of every problem, so a cloud team sees all mistakes at once instead of one per run.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rapport.messaging.templates.models import TemplateId
from rapport.models.enums import Channel, Jurisdiction, Segment, Tone
from rapport.payments.plans import (
    AffordabilityRules,
    MissPolicy,
    PayDay,
    PlanFrequency,
    SassaGrant,
    pay_day_carries,
)


class ClientConfigError(Exception):
    """A client configuration file is missing or invalid; the message lists every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# How a client file and a debtor's acceptance name weekdays (Monday first, as PayDay counts them)
# and instalment frequencies.
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_NAMES: tuple[str, ...] = get_args(Weekday)
InstalmentFrequency = Literal["weekly", "fortnightly", "monthly"]


def parse_pay_day(text: str) -> PayDay:
    """A pay day as a client file writes it. Raises ``ValueError`` naming what is accepted.

    ``"25"`` is a day of the month (1 to 31; 31 is the last day in shorter months);
    ``"last_day_of_month"`` and ``"last_working_day"`` are month end; ``"sassa:older_persons"`` (or
    ``disability``, ``children``) is a SASSA grant's payment day; ``"weekly:friday"`` a weekly wage;
    ``"fortnightly:2026-01-09"`` a fortnightly wage, by any one known pay date. A weekend or public
    holiday moves each date to the business day before (``rapport.payments.plans``).
    """
    kind, _, detail = text.strip().lower().partition(":")
    try:
        if kind.isdigit() and not detail:
            return PayDay.of_month(int(kind))
        if kind == "last_day_of_month" and not detail:
            return PayDay.last_day_of_month()
        if kind == "last_working_day" and not detail:
            return PayDay.last_working_day()
        if kind == "sassa":
            return PayDay.sassa(SassaGrant(detail or SassaGrant.OLDER_PERSONS.value))
        if kind == "weekly" and detail in WEEKDAY_NAMES:
            return PayDay.weekly(WEEKDAY_NAMES.index(detail))
        if kind == "fortnightly" and detail:
            return PayDay.fortnightly(date.fromisoformat(detail))
    except ValueError:
        pass
    raise ValueError(
        f"unknown pay day {text!r}: use a day of the month 1 to 31, last_day_of_month, last_working_day, "
        "sassa:<older_persons|disability|children>, weekly:<weekday> or fortnightly:<YYYY-MM-DD>"
    )


def _valid_pay_day(value: str | None) -> str | None:
    if value is not None:
        parse_pay_day(value)
    return value


class SegmentRule(_Strict):
    """First matching rule wins. Bounds are inclusive; a missing bound does not constrain."""

    segment: Segment
    min_days_past_due: int = 0
    max_days_past_due: int | None = None
    min_balance_cents: int = 0
    max_balance_cents: int | None = None
    min_score: int | None = None
    max_score: int | None = None
    min_months_late: int = 0
    max_months_late: int | None = None


def _known_templates(templates: list[str] | None) -> list[str] | None:
    """A template a treatment sends must be one the catalogue has: a misspelt name is refused when the
    client file is read (at synth, and when the local cloud starts), not at the first send."""
    unknown = [name for name in templates or [] if name not in TemplateId.__members__.values()]
    if unknown:
        known = ", ".join(sorted(TemplateId))
        raise ValueError(f"unknown template(s) {', '.join(unknown)}; the catalogue has {known}")
    return templates


class Treatment(_Strict):
    """How a segment is treated: channel order, tone, template per attempt, timings, offers."""

    channels: Annotated[list[Channel], Field(min_length=1)]
    tone: Tone
    templates: Annotated[list[str], Field(min_length=1)] = ["first_notice", "reminder", "final_reminder"]
    reply_timeout: timedelta = timedelta(days=2)
    promise_grace_days: int = Field(default=2, ge=0, le=10)
    offer_plan: bool = True
    settlement_discount_bps: int = Field(default=0, ge=0, le=5000)
    max_plan_months: int = Field(default=12, ge=1, le=60)
    # The pay day and frequency of the plans this segment is offered; None takes the client's [plans].
    plan_pay_day: str | None = None
    plan_frequency: InstalmentFrequency | None = None

    _plan_pay_day = field_validator("plan_pay_day")(_valid_pay_day)
    _templates = field_validator("templates")(_known_templates)

    @field_validator("channels")
    @classmethod
    def _no_repeats(cls, channels: list[Channel]) -> list[Channel]:
        if len(set(channels)) != len(channels):
            raise ValueError("a channel may appear once in the order")
        return channels


class TreatmentOverride(_Strict):
    channels: list[Channel] | None = None
    tone: Tone | None = None
    templates: list[str] | None = None
    reply_timeout: timedelta | None = None
    offer_plan: bool | None = None
    settlement_discount_bps: int | None = None

    _templates = field_validator("templates")(_known_templates)


class Variant(_Strict):
    """A challenger (or the champion, with no overrides) and its share of accounts."""

    name: str = Field(pattern=r"^[a-z0-9_-]{1,30}$")
    weight: int = Field(ge=0, le=100)
    overrides: dict[Segment, TreatmentOverride] = {}


class Audience(_Strict):
    segments: list[Segment] = list(Segment)
    min_days_past_due: int = 30
    max_days_past_due: int | None = None
    min_balance_cents: int = 1


class Campaign(_Strict):
    """A scheduled run: EventBridge Scheduler fires ``schedule`` in the client's time zone."""

    name: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    schedule: str = Field(pattern=r"^cron\(.+\)$")
    audience: Audience = Audience()
    enabled: bool = True
    # Journeys started per minute at most (each sends its first message within a minute or so):
    # keep it under the slowest channel's sending rate. None: as fast as pages start (1,000 a page).
    max_journeys_per_minute: int | None = Field(default=None, ge=1, le=60_000)


class Strategy(_Strict):
    segment_rules: Annotated[list[SegmentRule], Field(min_length=1)]
    default_segment: Segment = Segment.NEEDS_HELP
    treatments: dict[Segment, Treatment]
    variants: list[Variant] = [Variant(name="champion", weight=100)]

    @model_validator(mode="after")
    def _complete(self) -> Strategy:
        used = {rule.segment for rule in self.segment_rules} | {self.default_segment}
        missing = sorted(segment.value for segment in used - set(self.treatments))
        if missing:
            raise ValueError(f"segments without a treatment: {', '.join(missing)}")
        if sum(variant.weight for variant in self.variants) != 100:
            raise ValueError("variant weights must add up to 100")
        if len({variant.name for variant in self.variants}) != len(self.variants):
            raise ValueError("variant names must be unique")
        return self


class Contact(_Strict):
    email_from: str = "collections@example.com"
    ses_configuration_set: str | None = None
    sms_origination_identity: str | None = None
    whatsapp_phone_number_id: str | None = None
    push_application_id: str | None = None
    agent_phone: str = "+27 10 000 0000"


class PlanReview(_Strict):
    """The daily overdue sweep of payment plans (the ``review_plans`` function): EventBridge
    Scheduler fires ``schedule`` in the client's time zone; an instalment still unpaid
    ``grace_days`` days after its due date is missed."""

    schedule: str = Field(default="cron(0 6 * * ? *)", pattern=r"^cron\(.+\)$")
    grace_days: int = Field(default=2, ge=0, le=10)


class DebiCheckCollections(_Strict):
    """DebiCheck collections sent to Stitch as batch files over SFTP (the ``submit_collections``
    function, through an AWS Transfer Family SFTP connector). Without this section the function is
    deployed but never scheduled.

    ``connector_id`` is the SFTP connector the operator created with Stitch's host key and
    credentials; ``stitch_client_id`` is the client id Stitch assigned at SFTP onboarding, which the
    file's product header carries. Each run, at ``schedule`` in the client's time zone, submits the
    unpaid instalments of approved mandates due from ``lead_business_days`` business days ahead, for
    ``window_business_days`` business days, so a failed or missed run is caught up by the next.
    ``tracking_days`` is each collection's TRACKING_PERIOD (0: no tracking).
    """

    connector_id: str = Field(pattern=r"^c-[0-9a-f]{17}$")
    stitch_client_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    # NOTE: 07:00 runs after the 06:00 plan review (so a missed instalment is rescheduled first) and
    # before business hours. Stitch's public docs give no submission cut-off; set the time Stitch
    # confirms at onboarding.
    schedule: str = Field(default="cron(0 7 * * ? *)", pattern=r"^cron\(.+\)$")
    remote_directory: str = Field(default="/Outgoing", pattern=r"^/[A-Za-z0-9_./-]{0,200}$")
    lead_business_days: int = Field(default=2, ge=1, le=10)
    window_business_days: int = Field(default=3, ge=1, le=10)
    tracking_days: int = Field(default=0, ge=0, le=10)


class Payments(_Strict):
    provider: str = Field(default="sandbox", pattern=r"^(sandbox|paystack|stitch|ozow|payfast|peach)$")
    link_expiry: timedelta = timedelta(days=7)
    plan_review: PlanReview = PlanReview()
    debicheck_collections: DebiCheckCollections | None = None


class Plans(_Strict):
    """The plans the journey offers when a debtor asks for instalments: on which pay day and how often
    (see :func:`parse_pay_day`). A segment's treatment may name its own (``plan_pay_day``,
    ``plan_frequency``). The debtor may choose another pay day and frequency when accepting."""

    default_pay_day: str = "25"
    default_frequency: InstalmentFrequency = "monthly"
    # A missed instalment is retried once, on the next pay day or at the end of the plan; this many
    # misses in a row cancel the plan.
    miss_policy: MissPolicy = MissPolicy.RETRY_NEXT_PAY_DAY
    max_consecutive_misses: int = Field(default=2, ge=1, le=6)
    # A budget the debtor states when accepting: a plan may take this share of what is left after
    # their expenses, and a monthly instalment under the floor is no regular plan (an agent arranges
    # a token payment instead).
    affordable_share_percent: int = Field(default=50, ge=1, le=100)
    affordable_floor_cents: int = Field(default=5_000, ge=0)

    _default_pay_day = field_validator("default_pay_day")(_valid_pay_day)

    def affordability(self) -> AffordabilityRules:
        """The client's affordability rules for a budget stated on the self-service page; no token
        payment there (see ``rapport.journey.plans``)."""
        return AffordabilityRules(
            disposable_share_bps=self.affordable_share_percent * 100,
            floor_cents=self.affordable_floor_cents,
            token_payment_cents=0,
        )


class ClientConfig(_Strict):
    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")
    display_name: str = Field(min_length=1, max_length=80)
    jurisdiction: Jurisdiction = Jurisdiction.ZA
    timezone: str = "Africa/Johannesburg"
    currency: str = Field(default="ZAR", pattern=r"^[A-Z]{3}$")
    default_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    contact: Contact = Contact()
    payments: Payments = Payments()
    plans: Plans = Plans()
    strategy: Strategy
    campaigns: list[Campaign] = []
    state_machine: str | None = Field(
        default=None, description="the client's own ASL file, relative to the config file"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value

    @model_validator(mode="after")
    def _plans_collectable(self) -> ClientConfig:
        for segment in self.strategy.treatments:
            frequency, pay_day = self.plan_default(segment)
            if not pay_day_carries(pay_day, frequency):
                raise ValueError(
                    f"the {segment.value} plans cannot be {frequency.value} on a {pay_day.kind.value} pay day"
                )
        return self

    def plan_default(self, segment: Segment | None) -> tuple[PlanFrequency, PayDay]:
        """The frequency and pay day of a plan offered to a debtor in ``segment``: the segment's
        own, else the client's ``[plans]`` defaults."""
        treatment = self.strategy.treatments.get(segment) if segment is not None else None
        pay_day = (treatment.plan_pay_day if treatment else None) or self.plans.default_pay_day
        frequency = (treatment.plan_frequency if treatment else None) or self.plans.default_frequency
        return PlanFrequency(frequency), parse_pay_day(pay_day)

    def variant(self, name: str) -> Variant:
        return next(variant for variant in self.strategy.variants if variant.name == name)

    def treatment(self, segment: Segment, variant_name: str) -> Treatment:
        base = self.strategy.treatments[segment]
        override = self.variant(variant_name).overrides.get(segment)
        if override is None:
            return base
        return base.model_copy(update=override.model_dump(exclude_none=True))


def load_client_config(path: Path) -> ClientConfig:
    """Read and validate a client file (``.toml`` or the ``.json`` the stack ships to Lambda)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ClientConfigError(f"{path}: cannot read client configuration ({error.strerror})") from error
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ClientConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {error}") from error
    try:
        return ClientConfig.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc']) or '(top level)'}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise ClientConfigError(f"{path}: invalid client configuration:\n  " + "\n  ".join(problems)) from error
