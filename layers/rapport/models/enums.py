"""Closed vocabularies of collections. String enums, so they serialise as their values."""

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    PUSH = "push"
    CALL = "call"


class Tone(StrEnum):
    """How a message speaks: soft for those who need help, firm only for those who will not pay."""

    FRIENDLY = "friendly"
    SUPPORTIVE = "supportive"
    NEUTRAL = "neutral"
    FIRM = "firm"


class Segment(StrEnum):
    SELF_CURE = "self_cure"
    NEEDS_HELP = "needs_help"
    CANT_PAY = "cant_pay"
    WONT_PAY = "wont_pay"


class Intent(StrEnum):
    PROMISE_TO_PAY = "promise_to_pay"
    PAID_ALREADY = "paid_already"
    PAYMENT_PLAN_REQUEST = "payment_plan_request"
    HARDSHIP = "hardship"
    DISPUTE = "dispute"
    OPT_OUT = "opt_out"
    CALLBACK_REQUEST = "callback_request"
    WRONG_PERSON = "wrong_person"
    BALANCE_QUERY = "balance_query"
    REFUSAL = "refusal"
    ACKNOWLEDGE = "acknowledge"


class Sentiment(StrEnum):
    POSITIVE = "POSITIVE"
    NEGATIVE = "NEGATIVE"
    NEUTRAL = "NEUTRAL"
    MIXED = "MIXED"


class HoldKind(StrEnum):
    DISPUTE = "dispute"
    DEBT_REVIEW = "debt_review"
    DECEASED = "deceased"
    FRAUD = "fraud"
    VULNERABILITY = "vulnerability"
    LEGAL_REPRESENTATION = "legal_representation"
    BREATHING_SPACE = "breathing_space"
    HARDSHIP = "hardship"


class Jurisdiction(StrEnum):
    ZA = "ZA"
    US = "US"
    UK = "UK"
