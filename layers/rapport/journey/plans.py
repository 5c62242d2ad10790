"""Payment plans after the offer: accepted through a signed link, collected, then closed or cancelled.

The journey's OfferPlan step stores the proposed schedule with the plan record (status ``offered``)
and a signed acceptance URL (:func:`acceptance_url`). From there:

- :func:`accept_plan_offer` (``POST /plans/{plan_id}/accept``): the debtor accepts with the token
  (the body is :class:`PlanAcceptance`). The schedule is always computed here, never taken from the
  caller: the stored one, moved to the next pay days if the offer's first date has passed or the
  balance changed since; or, when the debtor chooses a pay day or frequency or states a monthly
  income and expenses, one proposed again on that pay day, as long as the strategy allows or as
  short as their budget affords (:func:`_chosen_schedule`). One payment link is raised for
  the plan (purpose ``instalment``, or ``settlement`` when the debtor takes the once-off
  settlement) and opened with a checkout for the first instalment, a DebiCheck mandate is
  requested when the debtor gives bank details, the account leaves the campaigns (status
  ``plan``) and the waiting journey is resumed with ``plan_accepted``. The answer carries the
  plan's pay link (:func:`plan_pay_url`), not a checkout.
- :func:`plan_change_for_payment`: a provider's event on the plan's link. A credit pays the oldest
  instalments; a failed collection on or after an instalment's due date misses it. The plan's new
  state is written in the same transaction as the payment (``Payments.apply``).
- :func:`review_plan`: the overdue sweep. An instalment unpaid ``grace_days`` after its due date is
  missed: retried on the next pay day or moved to the end (the plan's ``MissPolicy``); a second
  miss cancels the plan, which puts the account back in the campaigns. The scheduled
  ``review_plans`` function runs it daily for the plans ``due-index`` lists as due
  (:mod:`rapport.journey.plan_review`).
- :func:`instalment_checkout`: a checkout for the instalment now due, with a provider reference of
  its own (Paystack takes one payment per reference), kept in the plan document. The plan's pay
  link (``GET /plans/{plan_id}/pay``, :mod:`rapport.journey.plan_pay`) redirects the debtor to it.
- :func:`apply_mandate_callback` (``POST /webhooks/debicheck``): the bank's answer on the mandate.

A completed plan closes the account: what remains of the balance (a settlement discount) is
written off in the same transaction as the last instalment, and the mandate is cancelled.

The plan record's document (``PlanModel.plan``) keeps the offer's summary (``instalment_cents``,
``instalments``, ``frequency``, ``first_due``, ``total_cents``, ``offer_expires_at``), the proposed
schedule (``offered``) and, once accepted, the live schedule (``current``), the ``option``, the
``link_id`` and ``pay_url`` (the newest checkout's), the ``pay_link`` (the plan's signed pay link, the
one the debtor is given), the ``checkouts`` opened per instalment (:class:`InstalmentCheckout`) and
the ``mandate`` (terms and status; bank details are never kept).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rapport.journey.resume import resume_journey
from rapport.models.enums import Channel, Segment
from rapport.payments.debicheck import (
    ACCOUNT_NUMBER_PATTERN,
    BRANCH_CODE_PATTERN,
    AuthenticationType,
    BankAccountType,
    Mandate,
    MandateCallbackError,
    MandateFrequency,
    MandateSignatureError,
    MandateStatus,
    MandateTransitionError,
    MandateValidationError,
    create_mandate,
    mandate_event_target,
    mandate_request_for_plan,
    parse_mandate_callback,
    transition_mandate,
    validate_mandate_for_plan,
)
from rapport.payments.errors import DuplicateReferenceError, ProviderRequestError
from rapport.payments.models import (
    LinkPurpose,
    PaymentEvent,
    PaymentEventKind,
    PaymentLinkRequest,
    instalment_reference,
    parse_instalment_reference,
)
from rapport.payments.plans import (
    FORTNIGHTS_PER_YEAR,
    MONTHS_PER_YEAR,
    WEEKS_PER_YEAR,
    Affordability,
    Instalment,
    InstalmentStatus,
    PayDay,
    PayDayKind,
    PaymentPlan,
    PlanError,
    PlanFrequency,
    PlanNotAffordableError,
    PlanRules,
    PlanStatus,
    SassaGrant,
    SettlementRule,
    accept_plan,
    assess_affordability,
    mark_missed,
    pay_day_carries,
    propose_plan,
    record_payment,
)
from rapport.payments.tokens import ACCEPT, PAY, PlanTokenError
from rapport.runtime import Services
from rapport.store.models import AccountModel, PaymentLinkModel, PlanModel
from rapport.store.repositories import AlreadyRecordedError, ConcurrentUpdateError, PlanChange
from rapport.strategy.config import WEEKDAY_NAMES, InstalmentFrequency, Treatment, Weekday

logger = Logger(child=True)

OFFERED, ACTIVE, COMPLETED, CANCELLED = "offered", "active", "completed", "cancelled"
# A plan's link stays payable this long after its last instalment (misses move instalments later).
LINK_GRACE = timedelta(days=31)
DEFAULT_REVIEW_GRACE_DAYS = 2
MAX_WRITE_ATTEMPTS = 3
# Fresh references tried when the provider already holds one (see _open_checkout).
CHECKOUT_ATTEMPTS = 3
# A sanity bound on a stated monthly income or expense (R100 million): beyond it the figure is a typo.
MAX_STATED_CENTS = 10_000_000_000
_PER_YEAR = {
    PlanFrequency.WEEKLY: WEEKS_PER_YEAR,
    PlanFrequency.FORTNIGHTLY: FORTNIGHTS_PER_YEAR,
    PlanFrequency.MONTHLY: MONTHS_PER_YEAR,
}
# The frequency a pay day takes when the debtor names the pay day only and the offer's cannot go on it.
_OWN_FREQUENCY = {PayDayKind.WEEKLY: PlanFrequency.WEEKLY, PayDayKind.FORTNIGHTLY: PlanFrequency.FORTNIGHTLY}


class PlanAcceptanceError(Exception):
    """A self-service acceptance refused; ``http_status`` and ``reason`` are safe to return and log.
    ``details`` are safe to return to the debtor (never log them): what else they can do."""

    def __init__(self, http_status: int, reason: str, details: dict[str, Any] | None = None) -> None:
        self.http_status = http_status
        self.reason = reason
        self.details = details or {}
        super().__init__(reason)


class AcceptanceOption(StrEnum):
    INSTALMENTS = "instalments"
    SETTLEMENT = "settlement"


class BankAccount(BaseModel):
    """The debtor's bank account for a DebiCheck mandate. Never stored, never logged."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    account_number: SecretStr
    branch_code: SecretStr
    account_type: BankAccountType = BankAccountType.CURRENT
    authentication: AuthenticationType = AuthenticationType.TT1

    @field_validator("account_number")
    @classmethod
    def _account_digits(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(ACCOUNT_NUMBER_PATTERN, value.get_secret_value()):
            raise ValueError("account number must be 6 to 11 digits")
        return value

    @field_validator("branch_code")
    @classmethod
    def _branch_digits(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(BRANCH_CODE_PATTERN, value.get_secret_value()):
            raise ValueError("branch code must be 6 digits")
        return value


class PayDayChoice(BaseModel):
    """The debtor's pay day as the acceptance page asks for it. ``kind`` says which one other field
    it takes: ``day_of_month`` a ``day`` (1 to 31; 31 is the last day of shorter months), ``weekly`` a
    ``weekday`` (``"monday"`` to ``"sunday"``), ``fortnightly`` an ``anchor`` (any one of their pay
    dates, ``YYYY-MM-DD``), ``sassa`` a ``grant`` (``older_persons``, ``disability`` or ``children``);
    ``last_day_of_month`` and ``last_working_day`` take none. A pay date on a weekend or public
    holiday is moved to the business day before, and each instalment falls on a pay date."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    kind: PayDayKind
    day: StrictInt | None = Field(default=None, ge=1, le=31)
    weekday: Weekday | None = None
    anchor: date | None = None
    grant: SassaGrant | None = None

    @model_validator(mode="after")
    def _fields_match_kind(self) -> PayDayChoice:
        try:
            self.pay_day()
        except ValueError:
            raise ValueError(f"a {self.kind.value} pay day takes {_PAY_DAY_FIELD[self.kind]}") from None
        return self

    def pay_day(self) -> PayDay:
        weekday = WEEKDAY_NAMES.index(self.weekday) if self.weekday is not None else None
        return PayDay(kind=self.kind, day=self.day, weekday=weekday, anchor=self.anchor, grant=self.grant)


_PAY_DAY_FIELD = {
    PayDayKind.DAY_OF_MONTH: "a day and nothing else",
    PayDayKind.WEEKLY: "a weekday and nothing else",
    PayDayKind.FORTNIGHTLY: "an anchor date and nothing else",
    PayDayKind.SASSA: "a grant and nothing else",
    PayDayKind.LAST_DAY_OF_MONTH: "no other field",
    PayDayKind.LAST_WORKING_DAY: "no other field",
}


class PlanAcceptance(BaseModel):
    """The body of ``POST /plans/{plan_id}/accept`` (JSON). Only ``token`` is required.

    - ``option``: ``"instalments"`` (the default) or ``"settlement"`` (one payment of the balance less
      the strategy's settlement discount).
    - ``bank_account``: ``account_number``, ``branch_code`` (and optionally ``account_type``,
      ``authentication``) for a DebiCheck mandate on the instalments; never stored or logged.
    - ``pay_day``: the debtor's pay day (:class:`PayDayChoice`), e.g. ``{"kind": "weekly", "weekday":
      "friday"}`` or ``{"kind": "last_working_day"}``. Instalments (or the settlement) fall on it.
    - ``frequency``: ``"weekly"``, ``"fortnightly"`` or ``"monthly"`` instalments; not with a
      settlement. Weekly needs a weekly pay day, fortnightly a weekly or fortnightly one, monthly a
      monthly one. Given alone, the offer's pay day is kept; a ``pay_day`` alone keeps the offer's
      frequency when it can, else takes its own.
    - ``income_cents`` and ``expenses_cents``: the debtor's monthly income and essential expenses,
      stated together, in cents; not with a settlement. The plan then has the fewest instalments
      that half of what is left each month pays, within the strategy's longest term; when none
      does, the answer is 422 ``plan_not_affordable`` with the alternatives. Never stored or logged.

    Without ``pay_day``, ``frequency`` and a budget the offered schedule is accepted as it stands.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    token: str = Field(min_length=1, max_length=512)
    option: AcceptanceOption = AcceptanceOption.INSTALMENTS
    bank_account: BankAccount | None = None
    pay_day: PayDayChoice | None = None
    frequency: InstalmentFrequency | None = None
    income_cents: StrictInt | None = Field(default=None, ge=0, le=MAX_STATED_CENTS)
    # Validated even when absent, so an income stated without expenses is refused.
    expenses_cents: StrictInt | None = Field(default=None, ge=0, le=MAX_STATED_CENTS, validate_default=True)

    @field_validator("frequency", "income_cents")
    @classmethod
    def _instalments_only(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("option") is AcceptanceOption.SETTLEMENT:
            raise ValueError("a settlement is one payment: it takes no frequency or budget")
        return value

    @field_validator("expenses_cents")
    @classmethod
    def _stated_with_income(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "income_cents" in info.data and (value is None) != (info.data["income_cents"] is None):
            raise ValueError("income_cents and expenses_cents are stated together")
        return value

    @property
    def states_budget(self) -> bool:
        return self.income_cents is not None and self.expenses_cents is not None

    @property
    def choices(self) -> list[str]:
        """Which choices the debtor made (for the audit trail: names, never the figures)."""
        chosen = {"pay_day": self.pay_day is not None, "frequency": self.frequency is not None}
        return [name for name, made in {**chosen, "budget": self.states_budget}.items() if made]


class AcceptanceResult(BaseModel):
    """What the acceptance endpoint answers: no personal data, no bank details."""

    model_config = ConfigDict(frozen=True)

    http_status: int
    outcome: str
    plan_id: str
    status: str
    option: str | None = None
    instalments: int | None = None
    instalment_cents: int | None = None
    total_cents: int | None = None
    first_due: date | None = None
    frequency: str | None = None
    # The plan's pay link (plan_pay_url): the one link that pays whichever instalment is due.
    pay_url: str | None = None
    mandate_status: str | None = None
    # Where the debtor approves the mandate, when the gateway has its own page before the bank asks
    # (Stitch); the acceptance page sends the debtor there next.
    mandate_approval_url: str | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"http_status"}, exclude_none=True)


class MandateRecord(BaseModel):
    """What a plan keeps of its DebiCheck mandate: terms and status, never the bank details."""

    model_config = ConfigDict(frozen=True)

    mandate_id: str
    status: MandateStatus
    provider_reference: str | None = None
    authentication: AuthenticationType
    instalment_cents: int
    maximum_cents: int
    frequency: MandateFrequency
    collection_day: int
    first_collection_date: date
    created_at: AwareDatetime
    updated_at: AwareDatetime
    event_ids: tuple[str, ...] = ()
    reason_code: str | None = None

    @classmethod
    def of(cls, mandate: Mandate) -> MandateRecord:
        request = mandate.request
        return cls(
            mandate_id=mandate.mandate_id,
            status=mandate.status,
            provider_reference=mandate.provider_reference,
            authentication=request.authentication,
            instalment_cents=request.instalment_cents,
            maximum_cents=request.maximum_cents,
            frequency=request.frequency,
            collection_day=request.collection_day,
            first_collection_date=request.first_collection_date,
            created_at=mandate.created_at,
            updated_at=mandate.updated_at,
        )


def mandate_id_for(account_id: str, plan_id: str) -> str:
    """A mandate names its plan, so a bank's callback finds it without an index."""
    mandate_id = f"{account_id}:{plan_id}"
    if len(mandate_id) > 64:
        raise MandateValidationError(["account and plan ids are too long to name a mandate"])
    return mandate_id


def plan_link_id(plan: PaymentPlan) -> str:
    """One link per plan and terms: a retried acceptance finds it, other terms get their own."""
    terms = f"plan:{plan.plan_id}:{plan.frequency.value}:{plan.total_cents}"
    return "I" + hashlib.sha256(terms.encode()).hexdigest()[:20]


def acceptance_url(services: Services, account_id: str, plan_id: str, expires_at: datetime) -> str | None:
    """The self-service link for a plan offer, signed until the offer expires; None when the
    client's payment secret has no ``plan_token_secret``."""
    signer = services.plan_tokens
    if signer is None:
        return None
    token = signer.issue(account_id, plan_id, expires_at, purpose=ACCEPT)
    return f"{services.settings.pay_page_base_url.rstrip('/')}/plans/{plan_id}?token={token}"


def plan_pay_url(services: Services, account_id: str, plan_id: str, expires_at: datetime) -> str | None:
    """The plan's pay link (``GET /plans/{plan_id}/pay``, :mod:`rapport.journey.plan_pay`): the same
    token scheme as the acceptance link, signed until the plan's payment link expires, so one link
    pays every instalment. None without a ``plan_token_secret``."""
    signer = services.plan_tokens
    if signer is None:
        return None
    # NOTE: like the acceptance link, it is built on pay_page_base_url, so the API must be served
    # there (a custom domain, which the stack does not create); a pay-link base URL of its own in the
    # settings would free the pay page from that.
    token = signer.issue(account_id, plan_id, expires_at, purpose=PAY)
    return f"{services.settings.pay_page_base_url.rstrip('/')}/plans/{plan_id}/pay?token={token}"


def _today(account: AccountModel, now: datetime) -> date:
    return now.astimezone(ZoneInfo(account.debtor.timezone)).date()


def _months_for(frequency: PlanFrequency, instalments: int) -> int:
    per_year = {PlanFrequency.WEEKLY: WEEKS_PER_YEAR, PlanFrequency.FORTNIGHTLY: FORTNIGHTS_PER_YEAR}
    if frequency in per_year:
        return math.ceil(instalments * MONTHS_PER_YEAR / per_year[frequency]) + 1
    return max(1, instalments)


def _treatment(services: Services, account: AccountModel) -> Treatment | None:
    """The strategy's treatment of the account's segment and variant; None when it names neither."""
    try:
        segment = Segment(account.segment) if account.segment else services.client.strategy.default_segment
        variant = account.variant or services.client.strategy.variants[0].name
        return services.client.treatment(segment, variant)
    except (ValueError, KeyError, StopIteration):
        return None


def _settlement_discount_bps(services: Services, account: AccountModel) -> int:
    treatment = _treatment(services, account)
    return treatment.settlement_discount_bps if treatment is not None else 0


def _schedule(
    services: Services,
    account: AccountModel,
    offered: PaymentPlan,
    option: AcceptanceOption,
    today: date,
    pay_day: PayDay | None = None,
) -> PaymentPlan:
    """The schedule to accept: the offered one when it still holds, else the same shape from today.
    A settlement falls on the next ``pay_day`` (the debtor's choice), else the offer's."""
    if option is AcceptanceOption.SETTLEMENT:
        rules = PlanRules(
            currency=offered.currency,
            settlement=SettlementRule(discount_bps=_settlement_discount_bps(services, account)),
            miss_policy=offered.miss_policy,
            max_consecutive_misses=offered.max_consecutive_misses,
        )
        return propose_plan(
            account.balance_cents,
            PlanFrequency.SETTLEMENT,
            today,
            pay_day or offered.pay_day,
            None,
            rules,
            plan_id=offered.plan_id,
            account_id=account.account_id,
            calendar=offered.calendar,
        )
    if account.balance_cents == offered.balance_cents and offered.instalments[0].due_date >= today:
        return offered
    months = min(120, _months_for(offered.frequency, len(offered.instalments)))
    rules = PlanRules(
        max_term_months=months,
        default_term_months=1,
        currency=offered.currency,
        miss_policy=offered.miss_policy,
        max_consecutive_misses=offered.max_consecutive_misses,
    )
    return propose_plan(
        account.balance_cents,
        offered.frequency,
        today,
        offered.pay_day,
        None,
        rules,
        instalments=min(len(offered.instalments), rules.max_instalments(offered.frequency)),
        plan_id=offered.plan_id,
        account_id=account.account_id,
        calendar=offered.calendar,
    )


def _frequency_and_pay_day(offered: PaymentPlan, acceptance: PlanAcceptance) -> tuple[PlanFrequency, PayDay]:
    """The debtor's pay day and frequency, completed from the offer: a frequency alone keeps the
    offer's pay day; a pay day alone keeps the offer's frequency when it can carry it, else takes its
    own (weekly for a weekly wage, fortnightly for a fortnightly one). Raises
    :class:`PlanAcceptanceError` (422) when the two cannot go together."""
    pay_day = acceptance.pay_day.pay_day() if acceptance.pay_day is not None else offered.pay_day
    if acceptance.frequency is not None:
        frequency = PlanFrequency(acceptance.frequency)
    elif pay_day_carries(pay_day, offered.frequency):
        frequency = offered.frequency
    else:
        frequency = _OWN_FREQUENCY.get(pay_day.kind, PlanFrequency.MONTHLY)
    if not pay_day_carries(pay_day, frequency):
        raise PlanAcceptanceError(422, "pay_day_does_not_fit_frequency")
    return frequency, pay_day


def _chosen_schedule(
    services: Services, account: AccountModel, offered: PaymentPlan, acceptance: PlanAcceptance, today: date
) -> tuple[PaymentPlan, Affordability | None]:
    """The instalments for what the debtor chose on the acceptance page (:class:`PlanAcceptance`), and
    the affordability their stated budget gave, if they stated one.

    With a budget, the plan has the fewest instalments that its affordable share
    (:func:`~rapport.payments.plans.assess_affordability`) pays at the chosen frequency; without one,
    it keeps the offer's term at the new frequency. Either way the strategy's longest term for the
    debtor's segment is the ceiling (never shorter than the offer's) and its minimum instalment the
    floor. Raises :class:`PlanAcceptanceError` (422) for a pay day that cannot carry the frequency
    and ``PlanNotAffordableError`` when the budget pays no plan within the longest term.
    """
    frequency, pay_day = _frequency_and_pay_day(offered, acceptance)
    affordability = None
    if acceptance.income_cents is not None and acceptance.expenses_cents is not None:
        affordability = assess_affordability(
            # A budget stated on the self-service page affords a plan or it does not: a token payment
            # below the floor is forbearance an agent arranges with the debtor (CONC 7.3).
            acceptance.income_cents, acceptance.expenses_cents, 0, services.client.plans.affordability()
        )
    elif (frequency, pay_day) == (offered.frequency, offered.pay_day):
        return _schedule(services, account, offered, AcceptanceOption.INSTALMENTS, today), None
    treatment = _treatment(services, account)
    offered_months = _months_for(offered.frequency, len(offered.instalments))
    longest = max(treatment.max_plan_months if treatment is not None else 0, offered_months)
    rules = PlanRules(
        max_term_months=min(120, longest),
        default_term_months=1,
        currency=offered.currency,
        miss_policy=offered.miss_policy,
        max_consecutive_misses=offered.max_consecutive_misses,
    )
    same_term = None
    if affordability is None:
        per_year = _PER_YEAR[frequency] / _PER_YEAR.get(offered.frequency, MONTHS_PER_YEAR)
        same_term = min(math.ceil(len(offered.instalments) * per_year), rules.max_instalments(frequency))
    plan = propose_plan(
        account.balance_cents,
        frequency,
        today,
        pay_day,
        affordability,
        rules,
        instalments=same_term,
        plan_id=offered.plan_id,
        account_id=account.account_id,
        calendar=offered.calendar,
    )
    return plan, affordability


def _not_affordable(
    services: Services,
    account: AccountModel,
    plan_id: str,
    error: PlanNotAffordableError,
    journey_id: str | None,
    now: datetime,
) -> PlanAcceptanceError:
    """The refusal of a budget that pays no plan within the strategy's longest term, recorded on the
    account's timeline (that the debtor's statement was the basis, never the figures), with what the
    debtor can do instead: take the settlement, or speak to an agent."""
    services.repos.audit.append(
        account.account_id,
        "plan_not_affordable",
        now,
        rule="plan.not_affordable.debtor_statement",
        journey_id=journey_id,
        reason="the debtor's stated income and expenses pay no plan within the strategy's longest term",
        inputs={
            "plan_id": plan_id,
            "frequency": error.frequency.value,
            "max_instalments": error.max_instalments,
            "smallest_viable_instalment_cents": error.smallest_viable_instalment_cents,
            "affordability": "debtor_statement",
        },
    )
    return PlanAcceptanceError(
        422,
        "plan_not_affordable",
        {
            "alternatives": [AcceptanceOption.SETTLEMENT.value, "agent"],
            "agent_phone": services.client.contact.agent_phone,
            "frequency": error.frequency.value,
            "max_instalments": error.max_instalments,
            "smallest_instalment_cents": error.smallest_viable_instalment_cents,
        },
    )


def _pay_day_evidence(pay_day: PayDay) -> dict[str, Any]:
    """What the audit trail keeps of a pay day: enough to explain the dates. A SASSA grant's kind is
    left out: which grant a debtor receives tells their age, a disability or their children."""
    return pay_day.model_dump(mode="json", exclude_none=True, exclude={"grant"})


class InstalmentCheckout(BaseModel):
    """One checkout for one instalment of a plan's link, as the plan document keeps it (``checkouts``,
    by instalment number). ``reference`` is the provider's transaction reference: see
    :func:`~rapport.payments.models.instalment_reference`."""

    model_config = ConfigDict(frozen=True)

    instalment: int
    attempt: int
    reference: str
    amount_cents: int
    url: str
    created_at: AwareDatetime


def _open_checkout(
    services: Services,
    provider_name: str,
    request: PaymentLinkRequest,
    instalment: Instalment,
    first_attempt: int,
    now: datetime,
) -> InstalmentCheckout:
    """Ask the provider for a checkout of ``instalment``, under the reference of ``first_attempt``.

    A reference the provider already holds (``DuplicateReferenceError``) was taken by an earlier try
    whose answer was never recorded, so its checkout reached no debtor: the next attempt is used.
    """
    provider = services.payments.get(provider_name)
    for attempt in range(first_attempt, first_attempt + CHECKOUT_ATTEMPTS):
        reference = instalment_reference(request.link_id, instalment.number, attempt)
        checkout_request = PaymentLinkRequest.model_validate(
            {**dict(request), "amount_cents": instalment.outstanding_cents, "reference": reference}
        )
        try:
            opened = provider.create_link(checkout_request)
        except DuplicateReferenceError:
            logger.warning(
                "checkout reference already taken",
                extra={"link_id": request.link_id, "instalment": instalment.number, "attempt": attempt},
            )
            continue
        return InstalmentCheckout(
            instalment=instalment.number,
            attempt=attempt,
            reference=reference,
            amount_cents=instalment.outstanding_cents,
            url=opened.url,
            created_at=now,
        )
    raise ProviderRequestError("duplicate_reference", f"{CHECKOUT_ATTEMPTS} references already taken")


def _raise_plan_link(
    services: Services,
    account: AccountModel,
    plan: PaymentPlan,
    option: AcceptanceOption,
    journey_id: str | None,
) -> tuple[PaymentLinkModel, InstalmentCheckout | None]:
    """One link for the whole plan (the ledger of every instalment paid on it, each its own
    transaction), opened with a checkout for the first instalment.

    The checkout is None when a retried acceptance finds the link already stored: its URL is then
    the first checkout's, whose attempt was not recorded.
    """
    link_id = plan_link_id(plan)
    existing = services.repos.links.find(link_id)
    if existing is not None:
        return existing, None
    now = services.clock.now()
    last_due = max(i.due_date for i in plan.instalments)
    expires_at = (
        datetime.combine(last_due, datetime.min.time(), ZoneInfo(account.debtor.timezone)) + LINK_GRACE
    )
    purpose = LinkPurpose.SETTLEMENT if option is AcceptanceOption.SETTLEMENT else LinkPurpose.INSTALMENT
    request = PaymentLinkRequest(
        link_id=link_id,
        account_id=account.account_id,
        amount_cents=plan.total_cents,
        currency=plan.currency,
        purpose=purpose,
        expires_at=expires_at,
        description=f"{services.client.display_name} {account.account_id} {purpose.value}"[:140],
    )
    provider_name = services.payment_provider.name
    checkout = _open_checkout(services, provider_name, request, plan.unpaid[0], 1, now)
    link = PaymentLinkModel(
        link_id,
        account_id=account.account_id,
        journey_id=journey_id,
        provider=provider_name,
        purpose=purpose.value,
        amount_cents=plan.total_cents,
        currency=plan.currency,
        url=checkout.url,
        created_at=now,
        expires_at=expires_at,
    )
    try:
        services.repos.links.create(link)
    except AlreadyRecordedError:
        # A concurrent acceptance of the same plan stored the same link first: use it.
        return services.repos.links.get(link_id), None
    return link, checkout


def instalment_checkout(
    services: Services, account_id: str, plan_id: str, *, renew: bool = False
) -> InstalmentCheckout | None:
    """The checkout for the oldest unpaid instalment of an active plan, opened once and kept in the
    plan document (``checkouts``; ``pay_url`` follows it). None when the plan is not active or owes
    nothing.

    A checkout already kept for that instalment is returned as it is, unless the amount owed on the
    instalment changed (part of it was paid another way) or ``renew`` asks for a fresh one (the
    debtor's checkout session lapsed): then the next attempt opens a new one with its own reference.

    Acceptance opens the first instalment's checkout; the plan's pay link (``GET
    /plans/{plan_id}/pay``, :mod:`rapport.journey.plan_pay`) calls this on every visit and redirects
    to ``url``, so the later instalments' checkouts are opened when the debtor comes to pay them.

    NOTE: a kept checkout carries no expiry of its own (each adapter reports the plan link's, which
    the pay link's token shares), so the pay link reuses it. A provider whose checkout sessions
    lapse sooner than the link would need its expiry recorded here and ``renew`` asked for past it.
    """
    repos, now = services.repos, services.clock.now()
    for _ in range(MAX_WRITE_ATTEMPTS):
        stored = repos.plans.find(account_id, plan_id)
        document = dict(stored.plan or {}) if stored is not None else {}
        if stored is None or stored.status != ACTIVE or "current" not in document:
            return None
        plan = PaymentPlan.model_validate(document["current"])
        if not plan.unpaid:
            return None
        due = plan.unpaid[0]
        checkouts = dict(document.get("checkouts") or {})
        kept = checkouts.get(str(due.number))
        known = InstalmentCheckout.model_validate(kept) if kept else None
        if known is not None and not renew and known.amount_cents == due.outstanding_cents:
            return known
        link = repos.links.get(document["link_id"])
        request = PaymentLinkRequest(
            link_id=link.link_id,
            account_id=account_id,
            amount_cents=due.outstanding_cents,
            currency=link.currency,
            purpose=LinkPurpose(link.purpose),
            expires_at=link.expires_at,
            description=f"{services.client.display_name} {account_id} {link.purpose}"[:140],
        )
        first_attempt = known.attempt + 1 if known is not None else 1
        checkout = _open_checkout(services, link.provider, request, due, first_attempt, now)
        checkouts[str(due.number)] = checkout.model_dump(mode="json")
        document.update(checkouts=checkouts, pay_url=checkout.url)
        try:
            repos.plans.change(PlanChange(stored, stored.status, document), now)
        except ConcurrentUpdateError:
            # Read again: a payment may have moved the plan on. The checkout just opened is left
            # unrecorded; its reference is refused next time and the attempt after it is used.
            continue
        logger.info(
            "instalment checkout opened",
            extra={"plan_id": plan_id, "instalment": due.number, "attempt": checkout.attempt},
        )
        return checkout
    raise ConcurrentUpdateError(plan_id)


def _request_mandate(
    services: Services, plan: PaymentPlan, bank: BankAccount, now: datetime
) -> tuple[MandateRecord | None, str, str | None]:
    """The plan's mandate as requested, why there is none, and the gateway's approval page if any.

    Terms the debtor's answer makes invalid are refused (422); terms that are valid but that the
    gateway cannot carry (a collection day it does not offer, say) leave the plan accepted without a
    mandate, paid through its link, rather than turning the debtor away.
    """
    gateway = services.debicheck
    if gateway is None:
        return None, "debicheck_not_configured", None
    if plan.currency != "ZAR":
        return None, "debicheck_collects_rand_only", None
    assert plan.account_id is not None
    try:
        request = mandate_request_for_plan(
            plan,
            mandate_id=mandate_id_for(plan.account_id, plan.plan_id),
            account_number=bank.account_number.get_secret_value(),
            branch_code=bank.branch_code.get_secret_value(),
            account_type=bank.account_type,
            authentication=bank.authentication,
        )
        validate_mandate_for_plan(request, plan)
    except (MandateValidationError, ValidationError) as error:
        logger.warning(
            "mandate request refused", extra={"plan_id": plan.plan_id, "error": type(error).__name__}
        )
        raise PlanAcceptanceError(422, "mandate_invalid") from None
    try:
        submission = gateway.request_mandate(request)
    except MandateValidationError:
        logger.warning("gateway cannot carry the mandate terms", extra={"plan_id": plan.plan_id})
        return None, "mandate_terms_not_supported_by_gateway", None
    mandate = create_mandate(request, now)
    if submission.status is not MandateStatus.CREATED:
        mandate = transition_mandate(
            mandate, submission.status, now, provider_reference=submission.provider_reference
        )
    return MandateRecord.of(mandate), "requested", submission.approval_url


def _offer_channel(services: Services, account: AccountModel) -> str:
    """Where the journey confirms the plan: the channel the offer went out on (the debtor read it
    there), else the channel of our latest message, else SMS."""
    contacts = services.repos.contacts.for_account(account.account_id)
    sent = [c for c in contacts if c.direction == "out" and c.provider_message_id]
    offers = [c for c in sent if c.template_id == "plan_offer"]
    latest = max(offers or sent, key=lambda c: (c.at, c.contact_id), default=None)
    return latest.channel if latest is not None else Channel.SMS.value


def _already(stored: PlanModel, http_status: int = 200) -> AcceptanceResult:
    document = stored.plan or {}
    current = PaymentPlan.model_validate(document["current"]) if "current" in document else None
    mandate = document.get("mandate") or {}
    return AcceptanceResult(
        http_status=http_status,
        outcome="already_accepted",
        plan_id=stored.plan_id,
        status=stored.status,
        option=document.get("option"),
        instalments=len(current.instalments) if current else None,
        instalment_cents=current.regular_instalment_cents if current else None,
        total_cents=current.total_cents if current else None,
        first_due=current.instalments[0].due_date if current else None,
        frequency=current.frequency.value if current else None,
        pay_url=document.get("pay_link") or document.get("pay_url"),
        mandate_status=mandate.get("status"),
        mandate_approval_url=(
            document.get("mandate_approval_url") if mandate.get("status") == "sent_for_approval" else None
        ),
    )


def accept_plan_offer(services: Services, plan_id: str, acceptance: PlanAcceptance) -> AcceptanceResult:
    """Accept a plan offer through its signed link, on the debtor's pay day, frequency and budget if
    they chose them (:class:`PlanAcceptance`). Raises :class:`PlanAcceptanceError` or
    :class:`~rapport.payments.tokens.PlanTokenError` (both carry their HTTP status).

    Accepting again answers the plan accepted the first time, whatever the second request chose.
    Nothing is written for a refused request, except the record that a stated budget afforded no plan.
    """
    repos, now = services.repos, services.clock.now()
    signer = services.plan_tokens
    if signer is None:
        raise PlanAcceptanceError(503, "self_service_not_configured")
    claims = signer.verify(acceptance.token, plan_id, now, purpose=ACCEPT)
    stored = repos.plans.find(claims.account_id, plan_id)
    if stored is None:
        raise PlanAcceptanceError(404, "unknown_plan")
    if stored.status in (ACTIVE, COMPLETED):
        return _already(stored)
    if stored.status != OFFERED:
        raise PlanAcceptanceError(409, f"plan_{stored.status}")
    document = dict(stored.plan or {})
    if "offered" not in document:
        raise PlanAcceptanceError(409, "offer_not_self_service")
    offered = PaymentPlan.model_validate(document["offered"])
    if now >= datetime.fromisoformat(document["offer_expires_at"]):
        raise PlanAcceptanceError(410, "offer_expired")
    account = repos.accounts.get(claims.account_id)
    if account.balance_cents <= 0:
        raise PlanAcceptanceError(409, "nothing_owed")
    holds = account.holds or []
    if any(hold.cleared_at is None and (hold.until is None or hold.until > now) for hold in holds):
        # A hold placed since the offer (debt review, a dispute, vulnerability) is a person's call.
        raise PlanAcceptanceError(409, "account_on_hold")

    today = _today(account, now)
    affordability = None
    try:
        if acceptance.option is AcceptanceOption.INSTALMENTS and acceptance.choices:
            schedule, affordability = _chosen_schedule(services, account, offered, acceptance, today)
        else:
            chosen_pay_day = acceptance.pay_day.pay_day() if acceptance.pay_day is not None else None
            schedule = _schedule(services, account, offered, acceptance.option, today, chosen_pay_day)
        plan = accept_plan(schedule, now)
    except PlanNotAffordableError as error:
        waiting = repos.journeys.waiting(account.account_id)
        journey_id = waiting.journey_id if waiting is not None else None
        raise _not_affordable(services, account, plan_id, error, journey_id, now) from None
    except PlanError as error:
        logger.warning(
            "plan could not be scheduled", extra={"plan_id": plan_id, "error": type(error).__name__}
        )
        raise PlanAcceptanceError(409, "plan_not_schedulable") from None
    mandate, mandate_reason, approval_url = None, "not_requested", None
    if acceptance.option is AcceptanceOption.INSTALMENTS and acceptance.bank_account is not None:
        mandate, mandate_reason, approval_url = _request_mandate(services, plan, acceptance.bank_account, now)
    waiting = repos.journeys.waiting(account.account_id)
    link, checkout = _raise_plan_link(
        services, account, plan, acceptance.option, waiting.journey_id if waiting else None
    )
    # The debtor keeps one link for the whole plan: it redirects to whichever instalment is due.
    pay_link = plan_pay_url(services, account.account_id, plan_id, link.expires_at)
    document.update(
        current=plan.model_dump(mode="json"),
        option=acceptance.option.value,
        link_id=link.link_id,
        pay_url=link.url,
        pay_link=pay_link,
        checkouts={str(checkout.instalment): checkout.model_dump(mode="json")} if checkout else {},
        mandate=mandate.model_dump(mode="json") if mandate else None,
        mandate_approval_url=approval_url,
        accepted_at=now.isoformat(),
    )
    try:
        repos.plans.change(PlanChange(stored, ACTIVE, document, account_status="plan"), now)
    except ConcurrentUpdateError:
        again = repos.plans.find(claims.account_id, plan_id)
        if again is not None and again.status in (ACTIVE, COMPLETED):
            return _already(again)
        raise PlanAcceptanceError(409, "plan_changed") from None

    inputs = {
        "plan_id": plan_id,
        "option": acceptance.option.value,
        "instalments": len(plan.instalments),
        "instalment_cents": plan.regular_instalment_cents,
        "total_cents": plan.total_cents,
        "discount_cents": plan.discount_cents,
        "first_due": plan.instalments[0].due_date.isoformat(),
        "frequency": plan.frequency.value,
        "pay_day": _pay_day_evidence(plan.pay_day),
        "rescheduled": plan.model_dump(exclude={"status", "accepted_at"})
        != offered.model_dump(exclude={"status", "accepted_at"}),
        "mandate": mandate_reason,
        # What the debtor chose on the page, and where the plan's affordability came from. The stated
        # income and expenses themselves are not kept (personal financial data the plan no longer
        # needs once its instalments are set).
        # NOTE: a lender that must evidence each assessment (FCA CONC 7.3) would keep the figures on
        # the account, encrypted and under its retention rule, never in the audit trail or logs.
        "chosen": acceptance.choices,
        "affordability": "debtor_statement" if affordability is not None else "offer",
    }
    if affordability is not None:
        inputs["affordability_reason"] = affordability.reason.value
    # A plan takes the place of a promise not yet due: that promise is never judged kept or broken.
    replaced = repos.promises.replace_pending(account.account_id, plan_id)
    if replaced:
        inputs["promises_replaced"] = replaced
    repos.audit.append(
        account.account_id,
        "plan_accepted",
        now,
        rule=f"plan.accepted.{acceptance.option.value}",
        journey_id=waiting.journey_id if waiting else None,
        reason="the debtor accepted the plan",
        inputs=inputs,
    )
    if waiting is not None:
        # Waiting for a reply, or for a promise's date: either way the plan is what happens next.
        resume_journey(
            services,
            account.account_id,
            {"kind": "plan_accepted", "plan_id": plan_id, "channel": _offer_channel(services, account)},
            journey=waiting,
        )
    logger.info(
        "plan accepted",
        extra={"plan_id": plan_id, "option": acceptance.option.value, "frequency": plan.frequency.value},
    )
    return AcceptanceResult(
        http_status=200,
        outcome="accepted",
        plan_id=plan_id,
        status=ACTIVE,
        option=acceptance.option.value,
        instalments=len(plan.instalments),
        instalment_cents=plan.regular_instalment_cents,
        total_cents=plan.total_cents,
        first_due=plan.instalments[0].due_date,
        frequency=plan.frequency.value,
        pay_url=pay_link or link.url,
        mandate_status=mandate.status.value if mandate else None,
        mandate_approval_url=approval_url,
    )


# --------------------------------------------------------------------------------------------------
# Instalments, misses, completion


@dataclass
class PlanOutcome:
    """A plan's new state (``change``, None when nothing changes) and what follows once it is written."""

    change: PlanChange | None
    account_id: str
    plan_id: str
    audit: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    to_agents: str | None = None
    cancel_mandate: str | None = None


def plan_of_link(services: Services, link: PaymentLinkModel) -> PlanModel | None:
    if link.purpose not in (LinkPurpose.INSTALMENT.value, LinkPurpose.SETTLEMENT.value):
        return None
    for stored in services.repos.plans.for_account(link.account_id):
        if (stored.plan or {}).get("link_id") == link.link_id:
            return stored
    return None


def _miss_due(plan: PaymentPlan, due_by: date, today: date) -> tuple[PaymentPlan, list[int]]:
    """Miss, oldest first, every unpaid instalment due on or before ``due_by``. A first miss moves
    the instalment past ``today``, so it is not missed again until its new date passes."""
    missed: list[int] = []
    while plan.status is PlanStatus.ACTIVE:
        overdue = [i for i in plan.unpaid if i.due_date <= due_by]
        if not overdue:
            break
        missed.append(overdue[0].number)
        plan = mark_missed(plan, overdue[0].number, today)
    return plan, missed


def _outcome(
    services: Services,
    stored: PlanModel,
    before: PaymentPlan,
    after: PaymentPlan,
    account: AccountModel,
    credit_delta_cents: int,
    notes: list[tuple[str, str, dict[str, Any]]],
) -> PlanOutcome:
    """The write and the follow-ups for a plan that went from ``before`` to ``after``."""
    outcome = PlanOutcome(None, account.account_id, stored.plan_id, audit=list(notes))
    if after == before:
        return outcome
    document = {**(stored.plan or {}), "current": after.model_dump(mode="json")}
    status = {PlanStatus.COMPLETED: COMPLETED, PlanStatus.CANCELLED: CANCELLED}.get(after.status, ACTIVE)
    mandate = (stored.plan or {}).get("mandate") or {}
    ends_mandate = mandate.get("status") in (
        MandateStatus.SENT_FOR_APPROVAL.value,
        MandateStatus.APPROVED.value,
    )
    change = PlanChange(stored, status, document)
    if after.status is PlanStatus.COMPLETED and before.status is not PlanStatus.COMPLETED:
        remainder = max(0, account.balance_cents - credit_delta_cents)
        change = PlanChange(
            stored,
            status,
            document,
            account_status="settled",
            write_off_cents=remainder,
            expected_balance_cents=account.balance_cents,
        )
        outcome.audit.append(("plan_completed", "plan.completed", {"written_off_cents": remainder}))
        outcome.cancel_mandate = mandate.get("mandate_id") if ends_mandate else None
    elif after.status is PlanStatus.CANCELLED and before.status is PlanStatus.ACTIVE:
        collectable = account.days_past_due >= 30 and account.balance_cents - credit_delta_cents > 0
        change = PlanChange(
            stored,
            status,
            document,
            account_status="active",
            arrears_segment=account.segment if collectable else None,
        )
        reason = after.cancel_reason.value if after.cancel_reason else "cancelled"
        outcome.audit.append(("plan_cancelled", f"plan.cancelled.{reason}", {"paid_cents": after.paid_cents}))
        outcome.to_agents = "plan_cancelled"
        outcome.cancel_mandate = mandate.get("mandate_id") if ends_mandate else None
    outcome.change = change
    return outcome


def _instalments_paid(
    link: PaymentLinkModel, event: PaymentEvent, before: PaymentPlan, after: PaymentPlan
) -> dict[str, Any]:
    """Which instalments a payment paid off, and which instalment's checkout it came through (read
    from the provider's reference; absent for a payment made on the plain link).

    Money always pays the oldest unpaid instalment first, so the two differ only when an older
    instalment was still owed (a debtor paying an old checkout after a debit order, say)."""
    paid_before = {i.number for i in before.instalments if i.status is InstalmentStatus.PAID}
    newly = sorted(i.number for i in after.instalments if i.status is InstalmentStatus.PAID)
    found: dict[str, Any] = {"instalments": [number for number in newly if number not in paid_before]}
    reference = parse_instalment_reference(event.transaction_id)
    if reference is not None and reference.link_id == link.link_id:
        found["checkout_instalment"] = reference.number
    return found


def plan_change_for_payment(
    services: Services, link: PaymentLinkModel, event: PaymentEvent, credit_delta_cents: int, now: datetime
) -> PlanOutcome | None:
    """What an accepted event on a plan's link does to the plan; None when the link is no plan's."""
    stored = plan_of_link(services, link)
    if stored is None or "current" not in (stored.plan or {}):
        return None
    account = services.repos.accounts.get(link.account_id)
    before = PaymentPlan.model_validate(stored.plan["current"])
    after, notes = before, []
    if credit_delta_cents > 0:
        if before.status in (PlanStatus.ACTIVE, PlanStatus.COMPLETED):
            after = record_payment(before, event.occurred_at, credit_delta_cents)
            notes.append(
                (
                    "plan_instalment_paid",
                    "plan.payment",
                    {
                        "amount_cents": credit_delta_cents,
                        "plan_paid_cents": after.paid_cents,
                        "overpaid_cents": after.overpaid_cents,
                        **_instalments_paid(link, event, before, after),
                    },
                )
            )
        else:
            notes.append(
                (
                    "plan_payment_after_end",
                    f"plan.{before.status.value}",
                    {"amount_cents": credit_delta_cents},
                )
            )
    elif credit_delta_cents < 0:
        # NOTE: the plan module has no reversal: a refunded instalment stays paid on the plan while
        # the ledger takes the money back, so a person reconciles the schedule by hand.
        notes.append(("plan_payment_reversed", "plan.reversal", {"amount_cents": -credit_delta_cents}))
        result = _outcome(services, stored, before, after, account, credit_delta_cents, notes)
        result.to_agents = "plan_payment_reversed"
        return result
    elif event.kind is PaymentEventKind.FAILED and before.status is PlanStatus.ACTIVE:
        # A failed collection misses the oldest unpaid instalment once it is due; a debtor's own
        # failed attempt before the due date misses nothing.
        today = _today(account, now)
        after, missed = _miss_due(before, today, today)
        if missed:
            notes.append(("instalment_missed", "plan.failed_collection", {"instalments": missed}))
    return _outcome(services, stored, before, after, account, credit_delta_cents, notes)


def finish_plan_outcome(
    services: Services, outcome: PlanOutcome, journey_id: str | None, now: datetime
) -> None:
    """The follow-ups of a written plan change: audit, agents, mandate cancellation."""
    repos = services.repos
    for action, rule, inputs in outcome.audit:
        repos.audit.append(
            outcome.account_id,
            action,
            now,
            rule=rule,
            journey_id=journey_id,
            reason="payment plan updated",
            inputs={"plan_id": outcome.plan_id, **inputs},
        )
    if outcome.to_agents:
        repos.worklist.add(outcome.account_id, outcome.to_agents, journey_id, now)
    gateway = services.debicheck
    if outcome.cancel_mandate and gateway is not None:
        try:
            gateway.cancel_mandate(outcome.cancel_mandate, "plan_ended")
        except Exception as error:
            # The plan has ended either way; a mandate left open is a person's task, not a retry.
            logger.warning(
                "mandate not cancelled", extra={"plan_id": outcome.plan_id, "error": type(error).__name__}
            )
            repos.worklist.add(outcome.account_id, "mandate_not_cancelled", journey_id, now)


def overdue_on_or_before(today: date, grace_days: int = DEFAULT_REVIEW_GRACE_DAYS) -> date:
    """The latest due date an instalment still unpaid ``today`` is missed for: more than
    ``grace_days`` days ago. The sweep and its index query share this, so they agree."""
    return today - timedelta(days=grace_days + 1)


@dataclass(frozen=True)
class PlanReview:
    """What the overdue sweep did to one plan: its status before and after, and the instalments it
    missed (each retried, or the last of them ending the plan)."""

    plan_id: str
    before: str
    status: str
    missed: tuple[int, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.missed) or self.status != self.before


def review_account_plans(
    services: Services,
    account_id: str,
    today: date | None = None,
    grace_days: int = DEFAULT_REVIEW_GRACE_DAYS,
) -> list[PlanReview]:
    """The overdue sweep for one account: every active plan's instalments unpaid ``grace_days``
    after their due date are missed (retried, moved to the end, or the plan cancelled). ``today``
    defaults to the debtor's own date. Running it twice on one day changes nothing the second time:
    a missed instalment is moved past today, a cancelled plan is no longer active.

    Raises ``ConcurrentUpdateError`` when a plan kept changing under it (a payment arriving).
    """
    repos, now = services.repos, services.clock.now()
    for _ in range(MAX_WRITE_ATTEMPTS):
        reviews: list[PlanReview] = []
        try:
            for stored in repos.plans.for_account(account_id):
                if stored.status != ACTIVE or "current" not in (stored.plan or {}):
                    reviews.append(PlanReview(stored.plan_id, stored.status, stored.status))
                    continue
                account = repos.accounts.get(account_id)
                before = PaymentPlan.model_validate(stored.plan["current"])
                day = today or _today(account, now)
                after, missed = _miss_due(before, overdue_on_or_before(day, grace_days), day)
                notes = [("instalment_missed", "plan.overdue", {"instalments": missed})] if missed else []
                outcome = _outcome(services, stored, before, after, account, 0, notes)
                if outcome.change is not None:
                    repos.plans.change(outcome.change, now)
                    finish_plan_outcome(services, outcome, None, now)
                status = outcome.change.status if outcome.change else stored.status
                reviews.append(PlanReview(stored.plan_id, stored.status, status, tuple(missed)))
            return reviews
        except ConcurrentUpdateError:
            continue
    raise ConcurrentUpdateError(account_id)


def review_plan(
    services: Services,
    account_id: str,
    today: date | None = None,
    grace_days: int = DEFAULT_REVIEW_GRACE_DAYS,
) -> dict[str, str]:
    """The overdue sweep for one account: plan id -> status after applying missed instalments.
    The daily ``review_plans`` function (:mod:`rapport.journey.plan_review`) runs it for every
    account with a plan due; see :func:`review_account_plans`."""
    return {
        review.plan_id: review.status
        for review in review_account_plans(services, account_id, today, grace_days)
    }


# --------------------------------------------------------------------------------------------------
# DebiCheck status callbacks


@dataclass(frozen=True)
class MandateCallbackResult:
    http_status: int
    outcome: str
    reason: str | None = None
    event_id: str | None = None
    account_id: str | None = None


def apply_mandate_callback(
    services: Services, headers: dict[str, str], raw_body: bytes, now: datetime
) -> MandateCallbackResult:
    """Verify a DebiCheck status callback and record the mandate's new status on its plan."""
    secret = getattr(services.payments, "mandate_callback_secret", None)
    if secret is None:
        return MandateCallbackResult(404, "rejected", "unknown_provider")
    try:
        event = parse_mandate_callback(raw_body, headers, secret, now)
    except MandateSignatureError:
        return MandateCallbackResult(401, "rejected", "bad_signature")
    except MandateCallbackError:
        return MandateCallbackResult(400, "rejected", "malformed_body")
    account_id, _, plan_id = event.mandate_id.rpartition(":")
    stored = services.repos.plans.find(account_id, plan_id) if account_id else None
    mandate = (stored.plan or {}).get("mandate") if stored is not None else None
    if stored is not None and not mandate and stored.status == OFFERED:
        # The bank answered before the acceptance that asked for the mandate was written (a real-time
        # approval can take seconds): a 5xx makes the provider deliver it again, when the plan holds it.
        # NOTE: an acceptance that fails after its mandate was requested leaves the mandate at the
        # gateway; its callbacks are then refused here until the offer lapses (then 404). Cancelling it
        # at the gateway on that failure needs care: a concurrent acceptance shares the mandate id.
        logger.info("mandate callback before its acceptance was recorded", extra={"plan_id": plan_id})
        return MandateCallbackResult(503, "retry", "acceptance_in_progress", event.event_id)
    if stored is None or not mandate:
        logger.warning(
            "mandate callback for no mandate we hold",
            extra={
                "plan_id": plan_id,
                "plan_found": stored is not None,
                "plan_status": stored.status if stored is not None else None,
                "document_keys": sorted((stored.plan or {}).keys()) if stored is not None else None,
            },
        )
        return MandateCallbackResult(404, "rejected", "unknown_mandate", event.event_id)
    record = MandateRecord.model_validate(mandate)
    try:
        target = mandate_event_target(
            record.mandate_id, record.status, record.updated_at, record.event_ids, event
        )
    except MandateTransitionError:
        services.repos.worklist.add(account_id, "mandate_out_of_step", None, now)
        return MandateCallbackResult(422, "rejected", "transition_not_allowed", event.event_id, account_id)
    if target is None:
        return MandateCallbackResult(200, "duplicate", "already_recorded", event.event_id, account_id)
    updated = record.model_copy(
        update={
            "status": target,
            "updated_at": event.occurred_at,
            "event_ids": (*record.event_ids, event.event_id),
            "provider_reference": event.provider_reference or record.provider_reference,
            "reason_code": event.reason_code,
        }
    )
    document = {**(stored.plan or {}), "mandate": updated.model_dump(mode="json")}
    try:
        services.repos.plans.change(PlanChange(stored, stored.status, document), now)
    except ConcurrentUpdateError:
        return MandateCallbackResult(503, "retry", "concurrent_update", event.event_id, account_id)
    services.repos.audit.append(
        account_id,
        "mandate_status_changed",
        now,
        rule=f"debicheck.{target.value}",
        reason="the debtor's bank answered on the mandate",
        inputs={
            "plan_id": plan_id,
            "from": record.status.value,
            "to": target.value,
            "reason_code": event.reason_code,
        },
    )
    if target in (MandateStatus.REJECTED, MandateStatus.EXPIRED) and stored.status == ACTIVE:
        # The plan stands; its instalments are paid through the link until a person sets up another.
        services.repos.worklist.add(account_id, f"mandate_{target.value}", None, now)
    return MandateCallbackResult(200, "applied", None, event.event_id, account_id)


# --------------------------------------------------------------------------------------------------
# The HTTP edge of acceptance


def handle_plan_acceptance(
    services: Services, plan_id: str, raw_body: bytes, query: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """``POST /plans/{plan_id}/accept``: (HTTP status, JSON body). Every refusal is logged with its
    reason (never the token or bank details).

    The token comes in the body (``{"token": ...}``) or, from a plain link, as ``?token=``.
    """
    try:
        document = json.loads(raw_body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return 400, {"outcome": "rejected", "reason": "unparseable_body"}
    if not isinstance(document, dict):
        return 400, {"outcome": "rejected", "reason": "unparseable_body"}
    if "token" not in document and query and query.get("token"):
        document["token"] = query["token"]
    try:
        acceptance = PlanAcceptance.model_validate(document)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in problem["loc"]) for problem in error.errors()})
        return 422, {"outcome": "rejected", "reason": "invalid_request", "fields": fields}
    try:
        result = accept_plan_offer(services, plan_id, acceptance)
    except (PlanTokenError, PlanAcceptanceError) as error:
        logger.warning("plan acceptance refused", extra={"plan_id": plan_id, "reason": error.reason})
        details = error.details if isinstance(error, PlanAcceptanceError) else {}
        return error.http_status, {"outcome": "rejected", "reason": error.reason, **details}
    except ProviderRequestError as error:
        logger.error("plan link not created", extra={"plan_id": plan_id, "reason": error.reason})
        return 502, {"outcome": "retry", "reason": "provider_unavailable"}
    return result.http_status, result.body()
