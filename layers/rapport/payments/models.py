"""Values that cross the payment edge: link requests, provider links and payment events.

Money is always an integer number of minor units (``amount_cents``) plus an ISO 4217 code.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

CURRENCY_PATTERN = r"^[A-Z]{3}$"
# Our own identifiers (link ids, account ids) are plain tokens, so every provider can carry them
# in a reference field without escaping.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
# A plan's instalment checkout: "<link id>.i<instalment>.a<attempt>". The suffix adds only dots,
# letters and digits, which every provider's reference field accepts (Paystack's takes "-", ".", "="
# and alphanumerics; plan link ids are hex).
_INSTALMENT_REFERENCE = re.compile(
    r"(?P<link_id>[A-Za-z0-9][A-Za-z0-9_.:-]*)\.i(?P<number>[1-9][0-9]{0,3})\.a(?P<attempt>[1-9][0-9]{0,2})"
)


class InstalmentReference(NamedTuple):
    link_id: str
    number: int
    attempt: int


def instalment_reference(link_id: str, number: int, attempt: int) -> str:
    """The provider reference of one checkout for one instalment of a plan's link.

    Deterministic: the same link (itself named after the plan and its terms), instalment and attempt
    always give the same reference, so a retried creation asks the provider for the same
    transaction; a new attempt (a checkout renewed, or a reference lost before it was recorded) gets
    its own. :func:`link_id_of_reference` reads the link back from it.
    """
    if not 1 <= number <= 9999 or not 1 <= attempt <= 999:
        raise ValueError("an instalment number is 1 to 9999 and an attempt 1 to 999")
    return f"{link_id}.i{number}.a{attempt}"


def parse_instalment_reference(reference: str) -> InstalmentReference | None:
    """The link, instalment and attempt an instalment reference names; None for any other reference."""
    found = _INSTALMENT_REFERENCE.fullmatch(reference)
    if found is None:
        return None
    return InstalmentReference(found["link_id"], int(found["number"]), int(found["attempt"]))


def link_id_of_reference(reference: str) -> str:
    """The link a provider reference belongs to: the link id itself, or an instalment's reference."""
    parsed = parse_instalment_reference(reference)
    return parsed.link_id if parsed is not None else reference


class LinkPurpose(StrEnum):
    BALANCE = "balance"
    SETTLEMENT = "settlement"
    INSTALMENT = "instalment"


class PaymentEventKind(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    PENDING = "pending"
    CHARGEBACK = "chargeback"


# Kinds that move money: a success credits, a refund or chargeback reverses a success.
MONEY_KINDS = frozenset({PaymentEventKind.SUCCEEDED, PaymentEventKind.REFUNDED, PaymentEventKind.CHARGEBACK})
REVERSAL_KINDS = frozenset({PaymentEventKind.REFUNDED, PaymentEventKind.CHARGEBACK})


class LinkStatus(StrEnum):
    OPEN = "open"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    OVERPAID = "overpaid"
    REFUNDED = "refunded"
    FAILED = "failed"
    EXPIRED = "expired"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PaymentLinkRequest(_Value):
    """What we ask a provider for: a link the debtor opens to pay ``amount_cents``."""

    link_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)
    account_id: str = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)
    amount_cents: StrictInt = Field(gt=0)
    currency: str = Field(default="ZAR", pattern=CURRENCY_PATTERN)
    purpose: LinkPurpose
    expires_at: AwareDatetime
    return_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    description: str = Field(min_length=1, max_length=140)
    # The provider's transaction reference for this checkout when one link takes several payments
    # (a plan's instalments, see instalment_reference); None means the link id. Providers that key
    # a transaction on it (Paystack) use it; the others keep the link id as their reference.
    reference: str | None = Field(default=None, min_length=1, max_length=100, pattern=IDENTIFIER_PATTERN)

    @model_validator(mode="after")
    def _reference_names_the_link(self) -> PaymentLinkRequest:
        if self.reference is not None and link_id_of_reference(self.reference) != self.link_id:
            raise ValueError("a checkout reference must name its link (see instalment_reference)")
        return self

    @property
    def provider_reference(self) -> str:
        """What to give the provider as the transaction's reference."""
        return self.reference or self.link_id


class ProviderLink(_Value):
    """What the provider gave back: the URL to send the debtor and the provider's own reference."""

    provider: str
    link_id: str
    url: str
    provider_reference: str
    expires_at: AwareDatetime


class PaymentEvent(_Value):
    """One verified payment fact reported by a provider, in our terms.

    ``event_id`` is the provider's id for this delivery (or, where the provider sends none, an id
    derived from the signed content, so that a redelivery derives the same id). ``transaction_id``
    names the payment the fact is about: for a refund or chargeback it is the id of the payment
    being reversed. ``refund_id`` is an addition to the original brief: it is the provider's id of
    one refund or chargeback, so that two partial refunds of one payment are two facts rather than
    a duplicate. It is ``None`` for every other kind.

    ``amount_cents`` is not bounded here on purpose: the ledger rejects non-positive money
    amounts with a reason instead of the model raising, so a bad event is recorded as rejected.
    """

    provider: str = Field(min_length=1)
    event_id: str = Field(min_length=1)
    transaction_id: str = Field(min_length=1)
    link_id: str | None = None
    kind: PaymentEventKind
    amount_cents: StrictInt
    currency: str = Field(pattern=CURRENCY_PATTERN)
    occurred_at: AwareDatetime
    provider_status: str
    refund_id: str | None = None

    @property
    def moves_money(self) -> bool:
        return self.kind in MONEY_KINDS

    @property
    def is_reversal(self) -> bool:
        return self.kind in REVERSAL_KINDS


class LinkSnapshot(_Value):
    """The terms of a link as the ledger needs them: what is owed, in which currency, the stored
    status (only ``expired`` matters as input; every other status is derived from events), and the
    most one payment may bring in.
    """

    link_id: str = Field(min_length=1)
    amount_cents: StrictInt = Field(gt=0)
    currency: str = Field(default="ZAR", pattern=CURRENCY_PATTERN)
    status: LinkStatus = LinkStatus.OPEN
    # The most one payment may bring in (None: no bound). A payment above it is not credited: the
    # provider took more than anyone owes, which a person reconciles (see the ledger's rules).
    payment_ceiling_cents: StrictInt | None = Field(default=None, gt=0)
