"""Reads and writes the handlers need, one small class per record kind.

The repositories speak the domain's language (accounts, contacts, journeys...) and hide pynamodb.
Every write that must happen once is conditional, so a retried Lambda recognises its own earlier
attempt instead of doing the work twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from rapport.store.models import (
    UNLINKED_PAYMENTS,
    AccountModel,
    AuditModel,
    ContactModel,
    HoldRecord,
    JourneyModel,
    OptOutRecord,
    PaymentLinkModel,
    PaymentModel,
    PlanModel,
    PromiseModel,
    WebhookDeliveryModel,
    WorklistModel,
)

# The status of an account that owes again after it settled, when what it was before is not known.
REOPENED_STATUS = "in_arrears"


class RecordNotFoundError(Exception):
    """The record the step needs does not exist (an unknown account, link or reply)."""


class AlreadyRecordedError(Exception):
    """A conditional write found the record already there: this is a repeat of earlier work."""


class ConcurrentUpdateError(Exception):
    """Another writer changed the record between our read and our write; read again and retry."""


@dataclass(frozen=True)
class PlanChange:
    """A plan's new state and what it means for its account, written together or not at all.

    ``plan`` is the record as it was read: its status and document are the write's condition, so
    two writers (a payment and a mandate callback, say) cannot overwrite each other. On the
    account: ``account_status`` "plan" takes it out of campaigns, "active" puts it back (with
    ``arrears_segment``), "settled" closes it; ``write_off_cents`` leaves the balance (a settlement
    discount) and then ``expected_balance_cents`` must still be the balance.
    """

    plan: PlanModel
    status: str
    document: dict[str, Any]
    account_status: str | None = None
    arrears_segment: str | None = None
    write_off_cents: int = 0
    expected_balance_cents: int | None = None

    @property
    def touches_account(self) -> bool:
        return self.account_status is not None or self.write_off_cents != 0


ACTIVE_PLAN = "active"


def plan_next_due(status: str, document: dict[str, Any] | None) -> str | None:
    """The ISO due date of an active plan's oldest unpaid instalment, read from its live schedule
    (``document["current"]``); None for any other plan. This is ``PlanModel.next_due``, which keeps
    ``due-index`` sparse: a plan leaves the index when it completes, is cancelled or owes nothing."""
    current = (document or {}).get("current")
    if status != ACTIVE_PLAN or not isinstance(current, dict):
        return None
    unpaid = [
        instalment["due_date"]
        for instalment in current.get("instalments") or ()
        if instalment.get("status") != "paid"
    ]
    return min(unpaid) if unpaid else None


def _plan_actions(change: PlanChange) -> tuple[list[Any], Any]:
    """The plan's update: status and document, and ``next_due`` kept in step with both."""
    condition = (PlanModel.status == change.plan.status) & (PlanModel.plan == change.plan.plan)
    next_due = plan_next_due(change.status, change.document)
    actions = [
        PlanModel.status.set(change.status),
        PlanModel.plan.set(change.document),
        PlanModel.next_due.set(next_due) if next_due else PlanModel.next_due.remove(),
    ]
    return actions, condition


def _account_update(
    change: PlanChange | None, credit_delta_cents: int, at: datetime
) -> tuple[list[Any], Any]:
    """The one update of the account a transaction may carry: credit, write-off, status."""
    actions: list[Any] = [AccountModel.updated_at.set(at)]
    condition = AccountModel.account_id.exists()
    balance_move = credit_delta_cents + (change.write_off_cents if change else 0)
    if credit_delta_cents:
        actions.append(AccountModel.collected_cents.add(credit_delta_cents))
    if balance_move:
        actions.append(AccountModel.balance_cents.add(-balance_move))
    if change is not None and change.expected_balance_cents is not None:
        condition = condition & (AccountModel.balance_cents == change.expected_balance_cents)
    if change is not None and change.account_status is not None:
        actions.append(AccountModel.status.set(change.account_status))
        if change.account_status == "active" and change.arrears_segment:
            actions.append(AccountModel.arrears_segment.set(change.arrears_segment))
        else:
            actions.append(AccountModel.arrears_segment.remove())
    return actions, condition


def _is_condition_failure(error: Exception) -> bool:
    cause = getattr(error, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def _save_if(item: Any, condition: Any) -> bool:
    """Write ``item`` only while ``condition`` holds; False when it did not (another caller wrote first).
    Any other failure is raised."""
    try:
        item.save(condition=condition)
    except PutError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


def _update_if(item: Any, actions: list[Any], condition: Any) -> bool:
    """Apply ``actions`` to ``item`` only while ``condition`` holds; False when it no longer did (another
    caller changed the item first). Any other failure is raised."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


@dataclass(frozen=True)
class DuePlan:
    """A plan listed by ``due-index``: its keys and the due date it was listed under (ISO)."""

    account_id: str
    plan_id: str
    next_due: str


@dataclass(frozen=True)
class DuePlansPage:
    plans: list[DuePlan]
    last_key: dict[str, Any] | None


class Accounts:
    def get(self, account_id: str) -> AccountModel:
        try:
            return AccountModel.get(account_id)
        except DoesNotExist as error:
            raise RecordNotFoundError(f"account {account_id} not found") from error

    def save_all(self, accounts: Iterable[AccountModel]) -> int:
        count = 0
        with AccountModel.batch_write() as batch:
            for account in accounts:
                batch.save(account)
                count += 1
        return count

    def find_by_phone(self, phone: str) -> AccountModel | None:
        return next(iter(AccountModel.phone_index.query(phone, limit=1)), None)

    def find_by_email(self, email: str) -> AccountModel | None:
        return next(iter(AccountModel.email_index.query(email.lower(), limit=1)), None)

    def record_assessment(
        self, account: AccountModel, segment: str, score: int, reasons: list[str], variant: str, at: datetime
    ) -> None:
        collectable = account.days_past_due >= 30 and account.status != "settled"
        account.update(
            actions=[
                AccountModel.segment.set(segment),
                AccountModel.score.set(score),
                AccountModel.reason_codes.set(reasons),
                AccountModel.variant.set(variant),
                AccountModel.updated_at.set(at),
                AccountModel.arrears_segment.set(segment) if collectable else AccountModel.arrears_segment.remove(),
            ]
        )

    def settle_if_paid(self, account_id: str) -> int:
        """Mark the account settled once nothing is owed; returns the balance. What it was before
        (status and arrears segment) is kept for :meth:`reopen_if_owed`."""
        account = self.get(account_id)
        if account.balance_cents <= 0 and account.status != "settled":
            actions = [
                AccountModel.status.set("settled"),
                AccountModel.arrears_segment.remove(),
                AccountModel.status_before_settled.set(account.status),
                AccountModel.segment_before_settled.set(account.arrears_segment)
                if account.arrears_segment
                else AccountModel.segment_before_settled.remove(),
            ]
            account.update(actions=actions)
        return account.balance_cents

    def reopen_if_owed(self, account_id: str) -> AccountModel | None:
        """Put a settled account that owes again (a refund or chargeback after it was paid) back as
        it was before it settled; returns the account as it was read when it was reopened, else None.

        An account settled some other way (a plan that completed) has no earlier state kept: it goes
        back in arrears, in its assessed segment when it is collectable (as ``record_assessment``).
        """
        account = self.get(account_id)
        if account.status != "settled" or account.balance_cents <= 0:
            return None
        status = account.status_before_settled or REOPENED_STATUS
        segment = account.segment_before_settled
        if segment is None and account.status_before_settled is None and account.days_past_due >= 30:
            segment = account.segment
        actions = [
            AccountModel.status.set(status),
            AccountModel.arrears_segment.set(segment) if segment else AccountModel.arrears_segment.remove(),
            AccountModel.status_before_settled.remove(),
            AccountModel.segment_before_settled.remove(),
        ]
        condition = (AccountModel.status == "settled") & (AccountModel.balance_cents > 0)
        return account if _update_if(account, actions, condition) else None

    def add_hold(self, account_id: str, hold: HoldRecord) -> None:
        AccountModel(account_id).update(
            actions=[AccountModel.holds.set(AccountModel.holds.append([hold])), AccountModel.status.set("hold")]
        )

    def add_opt_out(self, account_id: str, opt_out: OptOutRecord, expected_count: int | None = None) -> bool:
        """Append ``opt_out``; with ``expected_count``, only while the account holds that many opt-outs (the
        number read before deciding to add it). False when another writer added one meanwhile."""
        actions = [AccountModel.opt_outs.set(AccountModel.opt_outs.append([opt_out]))]
        if expected_count is None:
            AccountModel(account_id).update(actions=actions)
            return True
        unchanged = size(AccountModel.opt_outs) == expected_count
        if expected_count == 0:
            unchanged = AccountModel.opt_outs.does_not_exist() | unchanged
        return _update_if(AccountModel(account_id), actions, unchanged)

    def state_channel(self, account_id: str, channel: str) -> None:
        """The channel the debtor asked to be contacted on (``rank_channels`` puts it first)."""
        AccountModel(account_id).update(actions=[AccountModel.stated_channel.set(channel)])

    def suppress_channel(self, account_id: str, channel: str) -> None:
        """Add ``channel`` to the suppressed channels, once: a channel already there is left as it is."""
        _update_if(
            AccountModel(account_id),
            [AccountModel.suppressed_channels.set(AccountModel.suppressed_channels.append([channel]))],
            ~AccountModel.suppressed_channels.contains(channel),
        )


class Contacts:
    def record(self, contact: ContactModel) -> None:
        """Insert once. A second insert with the same id raises :class:`AlreadyRecordedError`."""
        if not _save_if(contact, ContactModel.contact_id.does_not_exist()):
            raise AlreadyRecordedError(contact.contact_id)

    def get(self, account_id: str, contact_id: str) -> ContactModel:
        try:
            return ContactModel.get(account_id, contact_id)
        except DoesNotExist as error:
            raise RecordNotFoundError(f"contact {contact_id} not found") from error

    def for_account(self, account_id: str) -> list[ContactModel]:
        return sorted(ContactModel.query(account_id), key=lambda contact: contact.at)

    def queue_reply(self, reply: ContactModel, journey_id: str, worklist_key: str) -> None:
        """A reply that came while ``journey_id`` was busy: kept for that journey's next park (and for a
        person, through the worklist item, should the journey end instead)."""
        reply.update(
            actions=[
                ContactModel.status.set("queued"),
                ContactModel.queued_for.set(journey_id),
                ContactModel.worklist_key.set(worklist_key),
            ]
        )

    def queued_replies(self, account_id: str, journey_id: str) -> list[ContactModel]:
        """The replies still waiting for ``journey_id`` to read them, oldest first. Only that journey's: a
        reply queued for a journey that ended is a person's to read, never a later journey's."""
        return [
            c for c in self.for_account(account_id)
            if c.direction == "in" and c.status == "queued" and c.queued_for == journey_id
        ]

    def claim_send(self, contact: ContactModel, stale_before: datetime) -> bool:
        """Write ``contact`` (status "sending") as the claim on its message before the provider is called;
        False when another invocation holds a claim made at or after ``stale_before`` or the message was
        sent. A message that failed without reaching a provider may be claimed again."""
        condition = (
            ContactModel.contact_id.does_not_exist()
            | ((ContactModel.status == "failed") & ContactModel.provider_message_id.does_not_exist())
            | (
                (ContactModel.status == "sending")
                & (ContactModel.claimed_at.does_not_exist() | (ContactModel.claimed_at < stale_before))
            )
        )
        return _save_if(contact, condition)

    def mark_sent(self, contact: ContactModel, provider_message_id: str) -> None:
        """The provider accepted the claimed message: "sending" becomes "sent", with the provider's id. A
        delivery event matched on our own id may have moved the status on first; it keeps its status."""
        contact.provider_message_id = provider_message_id
        sent = [ContactModel.status.set("sent"), ContactModel.provider_message_id.set(provider_message_id)]
        if not _update_if(contact, sent, ContactModel.status == "sending"):
            contact.update(actions=[ContactModel.provider_message_id.set(provider_message_id)])

    def release_claim(self, contact: ContactModel) -> None:
        """Remove our own claim on a message that was not sent and will be tried again (throttling)."""
        try:
            ours = (ContactModel.status == "sending") & (ContactModel.claim_id == contact.claim_id)
            contact.delete(condition=ours)
        except DeleteError as error:
            if not _is_condition_failure(error):
                raise

    def record_send_failure(self, contact: ContactModel) -> bool:
        """Record a message that could not be sent (status "failed"), over a claim left by the failed
        invocation; False when it is already recorded as failed, or was sent after all."""
        condition = ContactModel.contact_id.does_not_exist() | (ContactModel.status == "sending")
        return _save_if(contact, condition)

    def take_over_reply(self, reply: ContactModel, at: datetime, stale_before: datetime) -> bool:
        """Take over the handling of a stored reply not yet handled whose handling began before
        ``stale_before`` (its handler died); False when it was handled, or is being handled, meanwhile."""
        began = reply.claimed_at
        still = ContactModel.handled_at.does_not_exist() & (
            ContactModel.claimed_at.does_not_exist() if began is None else ContactModel.claimed_at == began
        )
        if began is not None and began >= stale_before:
            return False
        return _update_if(reply, [ContactModel.claimed_at.set(at)], still)

    def release_reply(self, reply: ContactModel, began: datetime) -> None:
        """Let go of a reply whose handling (begun at ``began``) failed, so that a retry takes it at once;
        nothing when it was handled, or taken over, meanwhile."""
        still = ContactModel.handled_at.does_not_exist() & (ContactModel.claimed_at == began)
        _update_if(reply, [ContactModel.claimed_at.remove()], still)

    def mark_handled(self, reply: ContactModel, at: datetime) -> None:
        """Everything the reply asked for is done: a redelivery of it is a duplicate from now on."""
        reply.update(actions=[ContactModel.handled_at.set(at)])

    def claim_queued_reply(self, reply: ContactModel) -> bool:
        """Mark a queued reply as received, once: False when another caller took it first."""
        return _update_if(reply, [ContactModel.status.set("received")], ContactModel.status == "queued")


class Links:
    def create(self, link: PaymentLinkModel) -> None:
        """Insert once. A link id already stored raises :class:`AlreadyRecordedError`."""
        if not _save_if(link, PaymentLinkModel.link_id.does_not_exist()):
            raise AlreadyRecordedError(link.link_id)

    def get(self, link_id: str) -> PaymentLinkModel:
        try:
            return PaymentLinkModel.get(link_id)
        except DoesNotExist as error:
            raise RecordNotFoundError(f"payment link {link_id} not found") from error

    def find(self, link_id: str) -> PaymentLinkModel | None:
        try:
            return PaymentLinkModel.get(link_id)
        except DoesNotExist:
            return None


class Payments:
    def __init__(self) -> None:
        self._connection: Connection | None = None

    def _transactions(self) -> Connection:
        """One connection for transactions, built on first use (a botocore client is costly to make)."""
        if self._connection is None:
            self._connection = Connection(region=PaymentModel.Meta.region, host=PaymentModel.Meta.host)
        return self._connection

    def apply(
        self,
        payment: PaymentModel,
        link: PaymentLinkModel,
        events: Sequence[Any],
        decision: Any,
        at: datetime,
        plan_change: PlanChange | None = None,
    ) -> None:
        """Record the payment, fold it into its link and move the balance: all or nothing.

        One transaction, so a crash between steps can neither credit twice nor lose a credit:
        the payment's key (the provider's event id) must be new, and the link must be as we read it
        (its ``version``: the whole event list, not only the credit, since a held refund changes
        the list and no figure, and the list is written whole).
        A payment on a plan's link carries the plan's new state (``plan_change``) in the same
        transaction, so an instalment is never credited without the plan knowing, or the reverse.
        """
        account = AccountModel(payment.account_id)
        try:
            with TransactWrite(connection=self._transactions()) as tx:
                tx.save(payment, condition=PaymentModel.payment_key.does_not_exist())
                tx.update(
                    link,
                    actions=[
                        PaymentLinkModel.events.set([event.model_dump(mode="json") for event in events]),
                        PaymentLinkModel.status.set(decision.status.value),
                        PaymentLinkModel.credited_cents.set(decision.credited_cents),
                        PaymentLinkModel.version.set((link.version or 0) + 1),
                    ],
                    condition=_as_read(link),
                )
                if decision.credit_delta_cents or (plan_change is not None and plan_change.touches_account):
                    actions, condition = _account_update(plan_change, decision.credit_delta_cents, at)
                    tx.update(account, actions=actions, condition=condition)
                if plan_change is not None:
                    plan_actions, plan_condition = _plan_actions(plan_change)
                    tx.update(plan_change.plan, actions=plan_actions, condition=plan_condition)
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                raise AlreadyRecordedError(payment.payment_key) from error
            if any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons):
                raise ConcurrentUpdateError(link.link_id) from error
            raise

    def for_account(self, account_id: str) -> list[PaymentModel]:
        return list(PaymentModel.query(account_id))

    def of_transaction(self, provider: str, transaction_id: str) -> list[PaymentModel]:
        """Every record about one provider payment: its success, failures and reversals on its link,
        and reversals held before it was seen (``UNLINKED_PAYMENTS``).

        The index is eventually consistent: a record written a moment ago may not be listed yet.
        """
        return list(PaymentModel.transaction_index.query(transaction_key(provider, transaction_id)))

    def link_of(self, provider: str, transaction_id: str) -> str | None:
        """The link a provider payment was recorded on, if we have seen it."""
        return next(
            (
                record.link_id
                for record in self.of_transaction(provider, transaction_id)
                if record.link_id and record.account_id != UNLINKED_PAYMENTS
            ),
            None,
        )

    def hold_unlinked(self, payment: PaymentModel) -> None:
        """Keep a reversal of a payment not seen yet, which names no link, until its payment comes.
        A second hold of the same delivery raises :class:`AlreadyRecordedError`."""
        if not _save_if(payment, PaymentModel.payment_key.does_not_exist()):
            raise AlreadyRecordedError(payment.payment_key)


def transaction_key(provider: str, transaction_id: str) -> str:
    """The key of ``payments.transaction-index``: one provider payment."""
    return f"{provider}#{transaction_id}"


def _as_read(link: PaymentLinkModel) -> Any:
    """The condition that a link is still the version we read."""
    if link.version is None:
        return PaymentLinkModel.version.does_not_exist()
    return PaymentLinkModel.version == link.version


class Promises:
    def save(self, promise: PromiseModel) -> None:
        promise.save()

    def get(self, account_id: str, promise_id: str) -> PromiseModel:
        try:
            return PromiseModel.get(account_id, promise_id)
        except DoesNotExist as error:
            raise RecordNotFoundError(f"promise {promise_id} not found") from error

    def for_account(self, account_id: str) -> list[PromiseModel]:
        return list(PromiseModel.query(account_id))

    def close_pending(self, promise: PromiseModel, status: str, paid_cents: int) -> bool:
        """Give a promise still pending its final ``status``; False when it was judged meanwhile."""
        actions = [PromiseModel.status.set(status), PromiseModel.paid_cents.set(paid_cents)]
        return _update_if(promise, actions, PromiseModel.status == "pending")

    def replace_pending(self, account_id: str, by_promise_id: str) -> list[str]:
        """Mark the account's promises still waiting for their date as replaced by ``by_promise_id``;
        returns their ids. A promise judged meanwhile (a payment kept it) keeps its judgement."""
        return [
            promise.promise_id
            for promise in PromiseModel.query(account_id)
            if promise.promise_id != by_promise_id
            and promise.status == "pending"
            and _update_if(promise, [PromiseModel.status.set("replaced")], PromiseModel.status == "pending")
        ]


class Plans:
    def __init__(self) -> None:
        self._connection: Connection | None = None

    def save(self, plan: PlanModel) -> None:
        """Record an offer. A repeated offer (a retried step) replaces only an offer still open:
        a plan the debtor accepted since is never overwritten."""
        _save_if(plan, PlanModel.plan_id.does_not_exist() | (PlanModel.status == "offered"))

    def for_account(self, account_id: str) -> list[PlanModel]:
        return list(PlanModel.query(account_id))

    def find(self, account_id: str, plan_id: str) -> PlanModel | None:
        try:
            return PlanModel.get(account_id, plan_id, consistent_read=True)
        except DoesNotExist:
            return None

    def due_for_review(
        self, due_by: date, limit: int = 100, last_key: dict[str, Any] | None = None
    ) -> DuePlansPage:
        """One page of active plans whose oldest unpaid instalment fell due on or before ``due_by``,
        oldest first: a key condition on ``due-index``, never a scan. ``last_key`` continues a page.

        The index is eventually consistent: a plan changed a moment ago may be listed by its old
        date, so the caller reads the plan itself before deciding anything.
        """
        page = PlanModel.due_index.query(
            ACTIVE_PLAN,
            range_key_condition=PlanModel.next_due <= due_by.isoformat(),
            limit=limit,
            last_evaluated_key=last_key,
        )
        plans = [DuePlan(item.account_id, item.plan_id, item.next_due) for item in page]
        return DuePlansPage(plans, page.last_evaluated_key)

    def change(self, change: PlanChange, at: datetime) -> None:
        """Write a plan's new state (and its account's) if nobody changed the plan since it was read.

        Raises :class:`ConcurrentUpdateError` otherwise (or when the account's balance moved under
        a write-off): read again and decide again.
        """
        if self._connection is None:
            self._connection = Connection(region=PlanModel.Meta.region, host=PlanModel.Meta.host)
        try:
            with TransactWrite(connection=self._connection) as tx:
                plan_actions, plan_condition = _plan_actions(change)
                tx.update(change.plan, actions=plan_actions, condition=plan_condition)
                if change.touches_account:
                    actions, condition = _account_update(change, 0, at)
                    tx.update(AccountModel(change.plan.account_id), actions=actions, condition=condition)
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons):
                raise ConcurrentUpdateError(change.plan.plan_id) from error
            raise


class Journeys:
    def start(self, journey: JourneyModel) -> bool:
        """Record a new journey; False when it was already recorded.

        The execution is started before it is recorded, so its first steps may already have written
        the record (parked, or even finished) when this runs. Then only what they do not know, the
        campaign and the start time, is added, and their status stands.
        """
        try:
            journey.save(condition=JourneyModel.journey_id.does_not_exist())
        except PutError as error:
            if not _is_condition_failure(error):
                raise
            JourneyModel(journey.account_id, journey.journey_id).update(
                actions=[
                    JourneyModel.campaign.set(JourneyModel.campaign | journey.campaign),
                    JourneyModel.started_at.set(JourneyModel.started_at | journey.started_at),
                ]
            )
            return False
        return True

    def park(self, account_id: str, journey_id: str, token: str, waiting_for: str, at: datetime) -> None:
        JourneyModel(account_id, journey_id).update(
            actions=[
                JourneyModel.task_token.set(token),
                JourneyModel.waiting_for.set(waiting_for),
                JourneyModel.waiting_since.set(at),
                JourneyModel.status.set("waiting"),
            ]
        )

    def waiting(self, account_id: str) -> JourneyModel | None:
        """The account's journey that waits for a reply or payment, if any (newest first)."""
        for journey in JourneyModel.query(account_id, scan_index_forward=False):
            if journey.status == "waiting" and journey.task_token:
                return journey
        return None

    def in_progress(self, account_id: str) -> JourneyModel | None:
        """The account's journey that has not finished (busy between steps, or waiting), if any."""
        for journey in JourneyModel.query(account_id, scan_index_forward=False):
            if journey.status in ("running", "waiting"):
                return journey
        return None

    def take_token(self, journey: JourneyModel, claimant: str | None = None) -> str | None:
        """Claim the waiting token exactly once: a second claimant (a duplicate event) gets None.

        A ``claimant`` (a reply's id) is written with the token it took, so that the same claimant, handling
        its reply again after a failure, finds what it took (:meth:`taken_by`)."""
        token = journey.task_token
        actions = [JourneyModel.task_token.remove(), JourneyModel.status.set("running")]
        if claimant is not None:
            actions += [JourneyModel.taken_by.set(claimant), JourneyModel.taken_token.set(token)]
        return token if _update_if(journey, actions, JourneyModel.task_token == token) else None

    def taken_by(self, account_id: str, claimant: str) -> JourneyModel | None:
        """The account's journey whose last token ``claimant`` took, if any."""
        return next((j for j in JourneyModel.query(account_id) if j.taken_by == claimant), None)

    def finish(self, account_id: str, journey_id: str, outcome: str, at: datetime) -> None:
        JourneyModel(account_id, journey_id).update(
            actions=[
                JourneyModel.status.set("finished"),
                JourneyModel.outcome.set(outcome),
                JourneyModel.finished_at.set(at),
                JourneyModel.task_token.remove(),
            ]
        )

    def for_account(self, account_id: str) -> list[JourneyModel]:
        return list(JourneyModel.query(account_id))


class Audit:
    def append(
        self,
        account_id: str,
        action: str,
        at: datetime,
        *,
        rule: str | None = None,
        reason: str | None = None,
        journey_id: str | None = None,
        inputs: dict | None = None,
        actor: str = "rapport",
    ) -> None:
        entry = AuditModel(
            account_id,
            # Time of writing after the decision's time: entries made at the same instant (a journey
            # whose clock waited for an allowed moment) still sort in the order they were written.
            f"{at.isoformat()}#{time.time_ns():016x}{uuid.uuid4().hex[:8]}",
            at=at,
            action=action,
            rule=rule,
            reason=reason,
            journey_id=journey_id,
            inputs=inputs or {},
            actor=actor,
        )
        entry.save(condition=AuditModel.entry_id.does_not_exist())

    def for_account(self, account_id: str) -> list[AuditModel]:
        return list(AuditModel.query(account_id))


class Deliveries:
    def record(self, delivery: WebhookDeliveryModel) -> None:
        delivery.save()


class Worklist:
    def add(
        self,
        account_id: str,
        reason: str,
        journey_id: str | None,
        at: datetime,
        queue: str = "agents",
        about: str | None = None,
    ) -> str:
        """Put an account before a person; returns the item's key. The key orders the queue by time; the
        account and the reason in it keep two items raised at one instant (a reply with a photo that came
        while its journey was busy) apart, and make the same item raised twice one item. ``about`` (a
        reply's id) keeps apart two items of one reason at one instant (two replies in one batch)."""
        key = f"{at.isoformat()}#{account_id}#{reason}" + (f"#{about}" if about else "")
        WorklistModel(queue, key, account_id=account_id, reason=reason, journey_id=journey_id).save()
        return key

    def close(self, key: str, status: str, queue: str = "agents") -> None:
        """Take an item off the open queue with the reason it no longer needs a person (its ``status``)."""
        WorklistModel(queue, key).update(actions=[WorklistModel.status.set(status)])


class Repositories:
    """All repositories, built once per process."""

    def __init__(self) -> None:
        self.accounts = Accounts()
        self.contacts = Contacts()
        self.links = Links()
        self.payments = Payments()
        self.promises = Promises()
        self.plans = Plans()
        self.journeys = Journeys()
        self.audit = Audit()
        self.deliveries = Deliveries()
        self.worklist = Worklist()
