"""Compliance guardrails as code: may this contact with a debtor happen now, later, or never?

Pure domain logic, no AWS calls. Start with :func:`evaluate_contact`::

    decision = evaluate_contact(ContactRequest(...), now=datetime.now(UTC))
    if decision.outcome is DecisionOutcome.DEFER:
        schedule(decision.not_before)
"""

from rapport.compliance.addresses import normalise_address, normalise_email, normalise_phone
from rapport.compliance.decision import ALLOW_RULE, evaluate_contact
from rapport.compliance.errors import (
    ComplianceError,
    LooserThanLawError,
    NaiveDatetimeError,
    NoContactWindowError,
    UnknownTimeZoneError,
)
from rapport.compliance.explain import explain_decision
from rapport.compliance.holds import HOLD_POLICIES, Hold, HoldPolicy, HoldScope, active_holds, hold_policy
from rapport.compliance.jurisdictions import (
    SOUTH_AFRICA,
    UNITED_KINGDOM,
    UNITED_STATES,
    CallRules,
    ChannelLimit,
    ClientOverrides,
    ContactWindow,
    JurisdictionProfile,
    apply_overrides,
    profile_for,
)
from rapport.compliance.models import (
    AttemptKind,
    ContactAttempt,
    ContactDecision,
    ContactPurpose,
    ContactRequest,
    DecisionOutcome,
    OptOut,
)
from rapport.compliance.windows import next_allowed_moment, public_holiday

__all__ = [
    "ALLOW_RULE",
    "HOLD_POLICIES",
    "SOUTH_AFRICA",
    "UNITED_KINGDOM",
    "UNITED_STATES",
    "AttemptKind",
    "CallRules",
    "ChannelLimit",
    "ClientOverrides",
    "ComplianceError",
    "ContactAttempt",
    "ContactDecision",
    "ContactPurpose",
    "ContactRequest",
    "ContactWindow",
    "DecisionOutcome",
    "Hold",
    "HoldPolicy",
    "HoldScope",
    "JurisdictionProfile",
    "LooserThanLawError",
    "NaiveDatetimeError",
    "NoContactWindowError",
    "OptOut",
    "UnknownTimeZoneError",
    "active_holds",
    "apply_overrides",
    "evaluate_contact",
    "explain_decision",
    "hold_policy",
    "next_allowed_moment",
    "normalise_address",
    "normalise_email",
    "normalise_phone",
    "profile_for",
    "public_holiday",
]
