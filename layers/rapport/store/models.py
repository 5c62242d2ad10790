"""pynamodb models: one table per record kind, keyed for the access patterns (see README).

Table names are bound at run time by :func:`bind_tables` (a client stack prefixes every table with
its own name), so the classes carry only short names here.

Access patterns and the keys that serve them:

* account by id: ``accounts`` hash ``account_id``.
* due accounts for a campaign: ``accounts.arrears-index`` hash ``arrears_segment`` (set only while
  the account is collectable), range ``days_past_due``; one query per segment, a key condition on
  days past due.
* sender lookup for replies: ``accounts.phone-index`` and ``accounts.email-index``.
* an account's timeline: ``contacts``, ``payments``, ``promises``, ``plans``, ``journeys`` and
  ``audit`` are all hashed on ``account_id``; one query each, merged in time order.
* delivery events back to a message: ``contacts.provider-message-index``.
* payment link by id: ``links`` hash ``link_id``; links of an account: ``links.account-index``.
* the payment records of one provider payment (a refund naming only its payment):
  ``payments.transaction-index`` hash ``transaction_key``.
* the agents' worklist: ``worklist`` hash ``queue``, range ``created_key``.
* plans due for the daily overdue sweep: ``plans.due-index`` hash ``status``, range ``next_due`` (the
  oldest unpaid instalment's due date, set only while the plan is active, so the index is sparse);
  one query with a key condition on the date.
"""

from __future__ import annotations

from typing import ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class ArrearsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "arrears-index"
        projection = KeysOnlyProjection()

    arrears_segment = UnicodeAttribute(hash_key=True)
    days_past_due = NumberAttribute(range_key=True)


class PhoneIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "phone-index"
        projection = KeysOnlyProjection()

    phone = UnicodeAttribute(hash_key=True)


class EmailIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "email-index"
        projection = KeysOnlyProjection()

    email = UnicodeAttribute(hash_key=True)


class Debtor(MapAttribute):
    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    language = UnicodeAttribute(default="en")
    timezone = UnicodeAttribute(default="Africa/Johannesburg")
    synthetic = BooleanAttribute(default=False)


class HoldRecord(MapAttribute):
    kind = UnicodeAttribute()
    placed_by = UnicodeAttribute()
    placed_at = UTCDateTimeAttribute()
    reason = UnicodeAttribute()
    until = UTCDateTimeAttribute(null=True)
    cleared_at = UTCDateTimeAttribute(null=True)
    cleared_by = UnicodeAttribute(null=True)


class OptOutRecord(MapAttribute):
    channel = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute()


class PushDevice(MapAttribute):
    """The debtor's device for push, registered by the client's app (``register_device``). The token is an
    address like a phone number: encrypted at rest with the table, never logged."""

    token = UnicodeAttribute()
    platform = UnicodeAttribute()  # the Pinpoint channel type: GCM, APNS or APNS_SANDBOX
    registered_at = UTCDateTimeAttribute()


class RapportModel(Model):
    """Base: remembers the short table name that :func:`bind_tables` prefixes."""

    short_name: ClassVar[str] = ""


class AccountModel(RapportModel):
    short_name = "accounts"

    class Meta:
        table_name = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    debtor = Debtor()
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    push_device = PushDevice(null=True)
    credit_limit_cents = NumberAttribute(default=0)
    balance_cents = NumberAttribute(default=0)
    currency = UnicodeAttribute(default="ZAR")
    days_past_due = NumberAttribute(default=0)
    # Six months of [month, repayment status, bill cents, paid cents], newest first. Read whole,
    # never queried: one JSON string keeps the item small and cheap to read on every step.
    history = JSONAttribute(default=list)
    status = UnicodeAttribute(default="active")
    segment = UnicodeAttribute(null=True)
    score = NumberAttribute(null=True)
    reason_codes = ListAttribute(of=UnicodeAttribute, default=list)
    arrears_segment = UnicodeAttribute(null=True)
    stated_channel = UnicodeAttribute(null=True)
    suppressed_channels = ListAttribute(of=UnicodeAttribute, default=list)
    holds = ListAttribute(of=HoldRecord, default=list)
    opt_outs = ListAttribute(of=OptOutRecord, default=list)
    variant = UnicodeAttribute(null=True)
    collected_cents = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)
    # What the account was when a payment settled it, so that a refund or chargeback that makes it
    # owe again puts it back as it was (see Accounts.reopen_if_owed).
    status_before_settled = UnicodeAttribute(null=True)
    segment_before_settled = UnicodeAttribute(null=True)

    arrears_index = ArrearsIndex()
    phone_index = PhoneIndex()
    email_index = EmailIndex()


class ProviderMessageIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "provider-message-index"
        projection = KeysOnlyProjection()

    provider_message_id = UnicodeAttribute(hash_key=True)


class ContactModel(RapportModel):
    """A message out or a reply in. Outbound ids are deterministic, so a retried send is recognised."""

    short_name = "contacts"

    class Meta:
        table_name = "contacts"

    account_id = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    direction = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    journey_id = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)
    tone = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    sms_segments = NumberAttribute(null=True)
    link_id = UnicodeAttribute(null=True)
    intent = UnicodeAttribute(null=True)
    sentiment = UnicodeAttribute(null=True)
    vulnerable = BooleanAttribute(null=True)
    promise_date = UnicodeAttribute(null=True)
    amount_cents = NumberAttribute(null=True)
    # The reply as written, for the agent's single view; encrypted at rest, never logged.
    text = UnicodeAttribute(null=True)
    redacted_text = UnicodeAttribute(null=True)
    # What a reply carried besides words (a voice note, a photo) and the provider's media id to fetch it.
    attachment = UnicodeAttribute(null=True)
    attachment_id = UnicodeAttribute(null=True)
    # A reply queued while its journey was busy: that journey, and the worklist item a person would read
    # it from if the journey ends before it parks again.
    queued_for = UnicodeAttribute(null=True)
    worklist_key = UnicodeAttribute(null=True)
    # A message being sent (status "sending"): when and by which invocation the send was claimed, so that a
    # second invocation of the same step neither sends it again nor waits forever on a dead one.
    claimed_at = UTCDateTimeAttribute(null=True)
    claim_id = UnicodeAttribute(null=True)
    # A reply, once everything it asks for is done: a redelivery of a reply not yet handled is handled again.
    handled_at = UTCDateTimeAttribute(null=True)
    events = ListAttribute(default=list)

    provider_message_index = ProviderMessageIndex()


class AccountLinksIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "account-index"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class PaymentLinkModel(RapportModel):
    short_name = "links"

    class Meta:
        table_name = "links"

    link_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    journey_id = UnicodeAttribute(null=True)
    provider = UnicodeAttribute()
    purpose = UnicodeAttribute()
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute(default="ZAR")
    url = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default="open")
    credited_cents = NumberAttribute(default=0)
    events = JSONAttribute(default=list)
    # Raised by one on every payment write; a write is conditional on the version it read, so a
    # delivery that read the link before another committed (even a held refund, which changes no
    # figure) fails and reads again. Absent on a link no payment has touched.
    version = NumberAttribute(null=True)

    account_index = AccountLinksIndex()


class PaymentTransactionIndex(GlobalSecondaryIndex):
    """Payment records by the provider's payment they are about (``<provider>#<transaction id>``):
    how a refund that names only the payment it reverses finds that payment's link, and how a
    payment finds the refunds that came before it with no link to be held on."""

    class Meta:
        index_name = "transaction-index"
        projection = AllProjection()

    transaction_key = UnicodeAttribute(hash_key=True)


class PaymentModel(RapportModel):
    """One provider event applied to (or refused by) the ledger; keyed on the provider's event id.

    A reversal whose payment we have not seen yet, and which names no link, has no account either:
    it is kept under the ``UNLINKED_PAYMENTS`` partition with the event itself (``event``), until
    its payment arrives and takes it onto its link.
    """

    short_name = "payments"

    class Meta:
        table_name = "payments"

    account_id = UnicodeAttribute(hash_key=True)
    payment_key = UnicodeAttribute(range_key=True)
    provider = UnicodeAttribute()
    link_id = UnicodeAttribute(null=True)
    transaction_id = UnicodeAttribute()
    # "<provider>#<transaction id>"; absent on records written before the index existed (NOTE: a
    # deployment with older payments backfills it, or refunds of those payments stay held).
    transaction_key = UnicodeAttribute(null=True)
    event = JSONAttribute(null=True)
    kind = UnicodeAttribute()
    amount_cents = NumberAttribute()
    credit_delta_cents = NumberAttribute()
    route = UnicodeAttribute(default="link")
    occurred_at = UTCDateTimeAttribute()
    recorded_at = UTCDateTimeAttribute()

    transaction_index = PaymentTransactionIndex()


# The partition of payment records that belong to no account yet (see PaymentModel).
UNLINKED_PAYMENTS = "unlinked"


class PromiseModel(RapportModel):
    short_name = "promises"

    class Meta:
        table_name = "promises"

    account_id = UnicodeAttribute(hash_key=True)
    promise_id = UnicodeAttribute(range_key=True)
    amount_cents = NumberAttribute()
    due_date = UnicodeAttribute()
    check_date = UnicodeAttribute()
    made_at = UTCDateTimeAttribute()
    source = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    paid_cents = NumberAttribute(default=0)
    journey_id = UnicodeAttribute(null=True)  # the journey that recorded it and waits for its date


class PlanDueIndex(GlobalSecondaryIndex):
    """Active plans by the due date of their oldest unpaid instalment (sparse: see ``next_due``)."""

    class Meta:
        index_name = "due-index"
        projection = KeysOnlyProjection()

    status = UnicodeAttribute(hash_key=True)
    next_due = UnicodeAttribute(range_key=True)


class PlanModel(RapportModel):
    """A plan offered or accepted. ``next_due`` (ISO date) is written by the repository from the
    plan's schedule on every change, and only while the plan is active and owes an instalment:
    offered and closed plans carry none, so they stay out of ``due-index``.

    NOTE: every active plan shares one index partition ("active"). That holds while plan writes stay
    far below a partition's 1,000 writes a second; past that, shard the key (``active#0``..``#9``)
    and query each shard. A plan accepted before ``next_due`` existed enters the index on its next
    write; an installation that has such plans backfills ``next_due`` once (plan_next_due).
    """

    short_name = "plans"

    class Meta:
        table_name = "plans"

    account_id = UnicodeAttribute(hash_key=True)
    plan_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    offer_id = UnicodeAttribute(null=True)
    plan = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    next_due = UnicodeAttribute(null=True)

    due_index = PlanDueIndex()


class JourneyModel(RapportModel):
    """A journey's state, including the task token it waits on (the only way to resume it)."""

    short_name = "journeys"

    class Meta:
        table_name = "journeys"

    account_id = UnicodeAttribute(hash_key=True)
    journey_id = UnicodeAttribute(range_key=True)
    campaign = UnicodeAttribute(null=True)
    variant = UnicodeAttribute(null=True)
    segment = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="running")
    task_token = UnicodeAttribute(null=True)
    waiting_for = UnicodeAttribute(null=True)
    waiting_since = UTCDateTimeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    # Who took the last task token (a reply's id) and the token itself, so that the same claimant, handling
    # its reply again after a failure, can hand over what it took; nobody else can.
    taken_by = UnicodeAttribute(null=True)
    taken_token = UnicodeAttribute(null=True)


class AuditModel(RapportModel):
    """Append-only: every decision with its rule and inputs. Never updated, never deleted."""

    short_name = "audit"

    class Meta:
        table_name = "audit"

    account_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    rule = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    journey_id = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(default="rapport")
    inputs = JSONAttribute(default=dict)


class WebhookDeliveryModel(RapportModel):
    """Every webhook delivery, accepted or refused, with its reason (never its body)."""

    short_name = "deliveries"

    class Meta:
        table_name = "deliveries"

    provider = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)
    received_at = UTCDateTimeAttribute()
    outcome = UnicodeAttribute()
    http_status = NumberAttribute()
    reason = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    link_id = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    body_sha256 = UnicodeAttribute()


class WorklistModel(RapportModel):
    """Accounts handed to a person: what they need and why."""

    short_name = "worklist"

    class Meta:
        table_name = "worklist"

    queue = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)
    account_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    journey_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="open")


ALL_MODELS: tuple[type[RapportModel], ...] = (
    AccountModel,
    ContactModel,
    PaymentLinkModel,
    PaymentModel,
    PromiseModel,
    PlanModel,
    JourneyModel,
    AuditModel,
    WebhookDeliveryModel,
    WorklistModel,
)

# Powertools idempotency keeps its records here; the table is declared alongside ours.
IDEMPOTENCY_TABLE = "idempotency"


def bind_tables(table_prefix: str, region: str, host: str | None = None) -> None:
    """Point every model at the client's tables. Called once per process, before first use."""
    for model in ALL_MODELS:
        model.Meta.table_name = f"{table_prefix}-{model.short_name}"
        model.Meta.region = region
        model.Meta.host = host
        model.Meta.billing_mode = "PAY_PER_REQUEST"
        model._connection = None


def open_connections() -> None:
    """Build every table's client now. pynamodb builds one lazily and without a lock, so many
    threads starting at once (the local cloud) would each build their own, at a high CPU cost."""
    for model in ALL_MODELS:
        _ = model._get_connection().connection.client
