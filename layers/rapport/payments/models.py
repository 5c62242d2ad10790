"""Values that cross the payment edge: link requests, provider links and payment events.

Money is always an integer number of minor units (``amount_cents``) plus an ISO 4217 code.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

CURRENCY_PATTERN = r"^[A-Z]{3}$"
# Our own identifiers (link ids, account ids) are plain tokens, so every provider can carry them
# in a reference field without escaping.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


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
    """The terms of a link as the ledger needs them: what is owed, in which currency, and the
    stored status (only ``expired`` matters as input; every other status is derived from events).
    """

    link_id: str = Field(min_length=1)
    amount_cents: StrictInt = Field(gt=0)
    currency: str = Field(default="ZAR", pattern=CURRENCY_PATTERN)
    status: LinkStatus = LinkStatus.OPEN
