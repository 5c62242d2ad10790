"""Jurisdiction profiles: when and how often a debtor may be contacted, per country.

A profile holds the legal contact window, the public-holiday calendar, per-channel frequency caps, the
United States call rules of Regulation F and which channels need an opt-out line. Clients may make a
profile stricter with :class:`ClientOverrides`; :func:`apply_overrides` refuses anything looser than
the profile it starts from, raising :class:`LooserThanLawError`.

Conventions
-----------
* Windows are half-open local wall-time intervals ``[start, end)``: a contact must start at or after
  ``start`` and strictly before ``end``. So 13:00 exactly on a South African Saturday, or 21:00 exactly
  in the United States, is outside. We read "after 21:00" the safe way.
* Caps count contacts on one channel for one account: ``per_day`` per local calendar day of the debtor,
  ``per_7_days`` over the rolling 168 hours before the contact. Every recorded message counts, delivered
  or not; for calls, every attempt and conversation counts.
* Where the law sets no number (messages everywhere, calls outside the US), the cap ceilings are
  Rapport's house reading of "no unreasonable frequency" (CPA / Debt Collectors Act code, FDCPA s806,
  CONC 7.9): at most 3 a day and 7 in 7 days per channel, Regulation F's only numeric benchmark.
"""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rapport.compliance.errors import LooserThanLawError
from rapport.models.enums import Channel, Jurisdiction

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MESSAGE_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.PUSH})


class ContactWindow(BaseModel):
    """Local wall-time interval ``[start, end)`` inside which a contact may start."""

    model_config = ConfigDict(frozen=True)

    start: time
    end: time

    @model_validator(mode="after")
    def _start_before_end(self) -> ContactWindow:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall times and carry no time zone")
        if self.start >= self.end:
            raise ValueError("a window must start before it ends (windows do not cross midnight)")
        return self

    def contains(self, wall: time) -> bool:
        return self.start <= wall < self.end

    def within(self, other: ContactWindow) -> bool:
        return other.start <= self.start and self.end <= other.end

    def describe(self) -> str:
        return f"{self.start.hour:02d}:{self.start.minute:02d} to {self.end.hour:02d}:{self.end.minute:02d}"


_Week = tuple[ContactWindow | None, ...]


class ChannelLimit(BaseModel):
    """How many contacts one channel may carry; ``None`` means no limit of that kind."""

    model_config = ConfigDict(frozen=True)

    per_day: int | None = Field(default=None, ge=0)
    per_7_days: int | None = Field(default=None, ge=0)

    def looser_than(self, ceiling: ChannelLimit) -> list[str]:
        """Names of the limits in which ``self`` allows more than ``ceiling``."""
        problems = []
        for name in ("per_day", "per_7_days"):
            mine, most = getattr(self, name), getattr(ceiling, name)
            if most is not None and (mine is None or mine > most):
                problems.append(name)
        return problems


class CallRules(BaseModel):
    """Regulation F (12 CFR 1006.14(b)) call frequency, counted in the debtor's local calendar days.

    At most ``max_calls`` calls placed in any ``period_days`` consecutive days, and none in the
    ``quiet_days_after_conversation`` days that start on the day of a telephone conversation. Calls
    that did not connect to the dialled number do not count (1006.14(b)(3)).
    """

    model_config = ConfigDict(frozen=True)

    max_calls: int = Field(default=7, ge=1)
    period_days: int = Field(default=7, ge=1)
    quiet_days_after_conversation: int = Field(default=7, ge=0)


class JurisdictionProfile(BaseModel):
    """The contact rules of one jurisdiction, plus a client's stricter choices once overrides apply."""

    model_config = ConfigDict(frozen=True)

    jurisdiction: Jurisdiction
    name: str
    rule_prefix: str = Field(description='stable prefix of this profile\'s rule ids, e.g. "za.cpa"')
    legal_basis: str
    weekly_windows: tuple[ContactWindow | None, ...] = Field(description="Monday first; None = closed")
    closed_on_public_holidays: bool
    holiday_country: str = Field(description="country code for the `holidays` library")
    holiday_subdivision: str | None = None
    phone_country_code: str = Field(pattern=r"^[1-9][0-9]{0,2}$")
    caps: dict[Channel, ChannelLimit]
    cap_ceilings: dict[Channel, ChannelLimit] = Field(
        description="the loosest caps a client may choose: the law's number, else the house ceiling"
    )
    call_rules: CallRules | None = None
    opt_out_notice_channels: frozenset[Channel] = frozenset()

    @field_validator("weekly_windows")
    @classmethod
    def _seven_days_one_open(cls, windows: _Week) -> _Week:
        if len(windows) != 7:
            raise ValueError("weekly_windows needs one entry per weekday, Monday first")
        if all(window is None for window in windows):
            raise ValueError("at least one weekday must have a contact window")
        return windows

    @model_validator(mode="after")
    def _caps_within_ceilings(self) -> JurisdictionProfile:
        for channel, limit in self.caps.items():
            ceiling = self.cap_ceilings.get(channel)
            if ceiling is not None and limit.looser_than(ceiling):
                raise ValueError(f"default caps for {channel} exceed the ceiling")
        return self

    def window_on(self, weekday: int) -> ContactWindow | None:
        return self.weekly_windows[weekday]

    def cap_for(self, channel: Channel) -> ChannelLimit:
        return self.caps.get(channel, ChannelLimit())

    def requires_opt_out_notice(self, channel: Channel) -> bool:
        return channel in self.opt_out_notice_channels


class ClientOverrides(BaseModel):
    """A client's stricter settings. Every field left ``None`` keeps the profile's value."""

    model_config = ConfigDict(frozen=True)

    weekly_windows: tuple[ContactWindow | None, ...] | None = Field(
        default=None, description="Monday first; each must lie inside the profile's window or be None"
    )
    closed_on_public_holidays: bool | None = None
    caps: dict[Channel, ChannelLimit] | None = Field(
        default=None, description="replaces the profile's cap per channel named; within the ceilings"
    )
    opt_out_notice_channels: frozenset[Channel] | None = Field(
        default=None, description="may add channels, never remove one"
    )

    @field_validator("weekly_windows")
    @classmethod
    def _seven_days(cls, windows: _Week | None) -> _Week | None:
        if windows is not None and len(windows) != 7:
            raise ValueError("weekly_windows needs one entry per weekday, Monday first")
        return windows


def apply_overrides(profile: JurisdictionProfile, overrides: ClientOverrides | None) -> JurisdictionProfile:
    """Return ``profile`` tightened by ``overrides``; raise :class:`LooserThanLawError` if any is looser."""
    if overrides is None:
        return profile
    problems: list[str] = []
    update: dict[str, object] = {}

    if overrides.weekly_windows is not None:
        pairs = zip(overrides.weekly_windows, profile.weekly_windows, strict=True)
        for weekday, (wanted, allowed) in enumerate(pairs):
            if wanted is None:
                continue
            if allowed is None:
                problems.append(f"{WEEKDAY_NAMES[weekday]} is closed by law")
            elif not wanted.within(allowed):
                problems.append(
                    f"{WEEKDAY_NAMES[weekday]} window {wanted.describe()} is wider than {allowed.describe()}"
                )
        update["weekly_windows"] = overrides.weekly_windows

    if overrides.closed_on_public_holidays is not None:
        if profile.closed_on_public_holidays and not overrides.closed_on_public_holidays:
            problems.append("public holidays are closed by law")
        update["closed_on_public_holidays"] = overrides.closed_on_public_holidays

    if overrides.caps is not None:
        caps = dict(profile.caps)
        for channel, limit in overrides.caps.items():
            ceiling = profile.cap_ceilings.get(channel)
            if ceiling is not None:
                problems.extend(f"{channel} {name} above the ceiling" for name in limit.looser_than(ceiling))
            caps[channel] = limit
        update["caps"] = caps

    if overrides.opt_out_notice_channels is not None:
        missing = profile.opt_out_notice_channels - overrides.opt_out_notice_channels
        if missing:
            problems.append("an opt-out line is required on " + ", ".join(sorted(missing)))
        update["opt_out_notice_channels"] = (
            overrides.opt_out_notice_channels | profile.opt_out_notice_channels
        )

    if problems:
        raise LooserThanLawError(problems)
    # Validate the combined result (for example that some weekday stays open).
    return JurisdictionProfile.model_validate({**profile.model_dump(), **update})


_WEEKDAY = ContactWindow(start=time(8), end=time(20))
_ZA_SATURDAY = ContactWindow(start=time(9), end=time(13))
_EIGHT_TO_NINE = ContactWindow(start=time(8), end=time(21))

# House defaults: one message a day and three a week per channel; calls a little more often.
_DEFAULT_CAPS = {
    Channel.SMS: ChannelLimit(per_day=1, per_7_days=3),
    Channel.WHATSAPP: ChannelLimit(per_day=1, per_7_days=3),
    Channel.EMAIL: ChannelLimit(per_day=1, per_7_days=3),
    Channel.PUSH: ChannelLimit(per_day=1, per_7_days=3),
    Channel.CALL: ChannelLimit(per_day=2, per_7_days=6),
}
_HOUSE_CEILINGS = {channel: ChannelLimit(per_day=3, per_7_days=7) for channel in Channel}

SOUTH_AFRICA = JurisdictionProfile(
    jurisdiction=Jurisdiction.ZA,
    name="South Africa",
    rule_prefix="za.cpa",
    legal_basis="Consumer Protection Act regulation 4 contact hours; NCA; POPIA s69 opt-out",
    weekly_windows=(_WEEKDAY, _WEEKDAY, _WEEKDAY, _WEEKDAY, _WEEKDAY, _ZA_SATURDAY, None),
    closed_on_public_holidays=True,
    holiday_country="ZA",
    phone_country_code="27",
    caps=_DEFAULT_CAPS,
    cap_ceilings=_HOUSE_CEILINGS,
    # NOTE: POPIA s69 demands an opt-out in electronic direct marketing; collection messages are not
    # marketing, but we carry the line on every electronic channel as the safe default.
    opt_out_notice_channels=MESSAGE_CHANNELS,
)

UNITED_STATES = JurisdictionProfile(
    jurisdiction=Jurisdiction.US,
    name="United States",
    rule_prefix="us.regf",
    legal_basis="Regulation F, 12 CFR 1006 (1006.6(b)(1)(i) hours, 1006.14(b) calls, 1006.6(e) opt-out)",
    weekly_windows=(_EIGHT_TO_NINE,) * 7,
    # Regulation F names hours, not holidays; a client may close public holidays with an override.
    closed_on_public_holidays=False,
    holiday_country="US",
    phone_country_code="1",
    caps=_DEFAULT_CAPS,
    # Regulation F counts calls itself (call_rules, in calendar days), so a client may drop the rolling
    # weekly call cap; the house daily ceiling still applies.
    cap_ceilings=_HOUSE_CEILINGS | {Channel.CALL: ChannelLimit(per_day=3, per_7_days=None)},
    call_rules=CallRules(),
    opt_out_notice_channels=MESSAGE_CHANNELS,
)

UNITED_KINGDOM = JurisdictionProfile(
    jurisdiction=Jurisdiction.UK,
    name="United Kingdom",
    rule_prefix="uk.conc",
    # The FCA names no hours. The OFT debt collection guidance that CONC 7 carried forward called contact
    # before 08:00, after 21:00, on Sundays or on bank holidays unreasonable: those are our defaults.
    legal_basis="FCA CONC 7 and Consumer Duty; Breathing Space Regulations 2020",
    weekly_windows=(_EIGHT_TO_NINE,) * 6 + (None,),
    closed_on_public_holidays=True,
    holiday_country="GB",
    # NOTE: England's bank holidays are also Wales's; Scotland and Northern Ireland have others. A
    # client with Scottish or Northern Irish debtors needs a profile with that subdivision.
    holiday_subdivision="ENG",
    phone_country_code="44",
    caps=_DEFAULT_CAPS,
    cap_ceilings=_HOUSE_CEILINGS,
    # No statute demands an opt-out line on UK collection messages; clients may add channels.
    opt_out_notice_channels=frozenset(),
)

_PROFILES = {
    Jurisdiction.ZA: SOUTH_AFRICA,
    Jurisdiction.US: UNITED_STATES,
    Jurisdiction.UK: UNITED_KINGDOM,
}


def profile_for(jurisdiction: Jurisdiction) -> JurisdictionProfile:
    """The default profile of a jurisdiction (South Africa is Rapport's default)."""
    return _PROFILES[jurisdiction]
