"""The daily submission of DebiCheck collections to Stitch, run by the scheduled ``submit_collections``.

Each run, for the client's today (:func:`run_collection_submission`):

1. Reads the plans ``plans.due-index`` lists as owing an instalment by the window's last date (a key
   condition, never a scan), and from each active plan with an approved mandate takes the unpaid
   instalments due in the window (:mod:`rapport.payments.debicheck_collections`).
2. Sends again any file its plans record as submitted but whose ``sent`` marker is missing (a run
   that stopped after recording and before the connector took the file), rebuilt from the records
   of the collections still owed.
3. Builds one file of the new collections, stores it under a name no other file has, records on
   each plan which of its instalments went into which file, and hands the file to the SFTP connector.
   A collection whose plan could not be written is left out of the file before it is sent.

Recording before sending makes the submission at most once per plan, instalment and attempt: a
rerun never lists a recorded collection in a new file. One failing plan never stops the run; the run
ends with :class:`CollectionSubmissionIncompleteError` so Lambda retries it and, if the failure
persists, the dead-letter queue and an alarm tell a person.

It acts only for a client whose file configures ``payments.debicheck_collections`` and whose payment
secret names Stitch as the DebiCheck gateway: the mandates' consent ids are Stitch's then.
The result and the logs hold counts, file names and plan ids only, never a debtor's details.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from rapport.payments.collection_delivery import CollectionDelivery, CollectionDeliveryError, S3TransferDelivery
from rapport.payments.debicheck_collections import (
    MAX_SEQUENCE,
    Collection,
    CollectionFile,
    CollectionFileError,
    CollectionWindow,
    SubmittedCollection,
    build_collection_file,
    collectable,
    collection_window,
    rebuild_collection_file,
    submitted_records,
    with_submitted,
)
from rapport.payments.plans import PaymentPlan, business_calendar
from rapport.runtime import Services, aws_client
from rapport.store.models import PlanModel
from rapport.store.repositories import ConcurrentUpdateError, PlanChange

logger = Logger(child=True)

# Stop reading new pages when less time than this is left (milliseconds).
TIME_RESERVE_MS = 90_000
MAX_WRITE_ATTEMPTS = 3
# NOTE: DebiCheck runs on South Africa's banking days; the plans' own calendars are ZA too.
CALENDAR_COUNTRY = "ZA"


class CollectionSubmissionIncompleteError(Exception):
    """Some plan could not be recorded, a file could not be sent, or time ran out. Raised at the end
    of the run, after everything else was done, so the invocation fails and is retried."""

    def __init__(self, plans_failed: int, files_failed: int, out_of_time: bool) -> None:
        self.plans_failed = plans_failed
        self.files_failed = files_failed
        self.out_of_time = out_of_time
        super().__init__(
            f"collection submission incomplete: {plans_failed} plan(s), {files_failed} file(s) failed, "
            f"out of time: {out_of_time}"
        )


class CollectionSubmissionRun(BaseModel):
    """The schedule's input. Every field has a default: the schedule sends ``{}``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    page_size: int = Field(default=100, ge=1, le=1000)


def client_today(services: Services) -> date:
    return services.clock.now().astimezone(ZoneInfo(services.client.timezone)).date()


def delivery_for(services: Services) -> CollectionDelivery:
    """The services' collection delivery, built on first use from the settings and client file."""
    if services.collection_delivery is None:
        config = services.client.payments.debicheck_collections
        assert config is not None
        services.collection_delivery = S3TransferDelivery(
            aws_client(services.settings, "s3"),
            aws_client(services.settings, "transfer"),
            bucket=services.settings.collections_bucket or "",
            connector_id=config.connector_id,
            remote_directory=config.remote_directory,
        )
    return services.collection_delivery


def _gateway_is_stitch(services: Services) -> bool:
    keys = getattr(services.payments, "keys", None)
    debicheck = getattr(keys, "debicheck", None)
    return getattr(debicheck, "provider", None) == "stitch"


def run_collection_submission(
    services: Services,
    run: CollectionSubmissionRun,
    time_left_ms: Callable[[], float] = lambda: float("inf"),
) -> dict[str, Any]:
    """Submit every collection due in today's window once; return the counts."""
    config = services.client.payments.debicheck_collections
    if config is None:
        logger.info("debicheck collections not configured")
        return {"submitted": 0, "skipped": "not_configured"}
    if not _gateway_is_stitch(services):
        # Mandates of another gateway carry no Stitch consent id: a file of them would be refused.
        logger.warning("debicheck collections configured but the gateway is not stitch")
        return {"submitted": 0, "skipped": "gateway_not_stitch"}
    delivery = delivery_for(services)
    today = client_today(services)
    window = collection_window(
        today, business_calendar(CALENDAR_COUNTRY), config.lead_business_days, config.window_business_days
    )
    submission = _Submission(services, delivery, window, config.stitch_client_id, config.tracking_days)
    out_of_time = submission.read_plans(run.page_size, time_left_ms)
    submission.resend_unsent()
    submission.submit_new()
    counts = submission.counts
    result = {
        "today": today.isoformat(),
        "earliest": window.earliest.isoformat(),
        "latest": window.latest.isoformat(),
        "plans_read": counts["plans_read"],
        "submitted": counts["submitted"],
        "resubmitted": counts["resubmitted"],
        "files_sent": counts["files_sent"],
        "plans_failed": counts["plans_failed"],
        "files_failed": counts["files_failed"],
        "skipped": {reason: n for reason, n in sorted(submission.skipped.items())},
        "files": sorted(submission.files),
        "finished": not out_of_time,
    }
    logger.info("collection submission run", extra=result)
    if counts["plans_failed"] or counts["files_failed"] or out_of_time:
        raise CollectionSubmissionIncompleteError(counts["plans_failed"], counts["files_failed"], out_of_time)
    return result


class _Submission:
    """One run's state: the plans read, what they owe, and what they record as submitted."""

    def __init__(
        self,
        services: Services,
        delivery: CollectionDelivery,
        window: CollectionWindow,
        stitch_client_id: str,
        tracking_days: int,
    ) -> None:
        self.services = services
        self.delivery = delivery
        self.window = window
        self.client_id = stitch_client_id
        self.tracking_days = tracking_days
        self.counts: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.files: set[str] = set()
        self.owed: dict[tuple[str, str], list[Collection]] = {}
        self.recorded: dict[str, list[SubmittedCollection]] = defaultdict(list)

    # -- 1. read ------------------------------------------------------------------------------------
    def read_plans(self, page_size: int, time_left_ms: Callable[[], float]) -> bool:
        """Read every plan due by the window's end; True when time ran out before the last page."""
        seen: set[tuple[str, str]] = set()
        last_key: dict[str, Any] | None = None
        while True:
            page = self.services.repos.plans.due_for_review(self.window.latest, page_size, last_key)
            for listed in page.plans:
                plan_key = (listed.account_id, listed.plan_id)
                if plan_key in seen:
                    continue
                seen.add(plan_key)
                self._read_plan(*plan_key)
            last_key = page.last_key
            if last_key is None:
                return False
            if time_left_ms() < TIME_RESERVE_MS:
                return True

    def _read_plan(self, account_id: str, plan_id: str) -> None:
        try:
            stored = self.services.repos.plans.find(account_id, plan_id)
            if stored is None:
                return
            self.counts["plans_read"] += 1
            document = stored.plan or {}
            owed, skipped = collectable(stored.status, document, self.window, self.tracking_days)
        except Exception as error:
            # One unreadable plan must not stop the others; the run still fails at its end. Only the
            # error's type is logged.
            self.counts["plans_failed"] += 1
            logger.error("plan not read for collection", extra={"plan_id": plan_id, "error": type(error).__name__})
            return
        self.skipped.update(skipped)
        if owed:
            self.owed[(account_id, plan_id)] = owed
        for record in submitted_records(document):
            if record.collection_date >= self.window.earliest and _still_owed(stored, record):
                self.recorded[record.file].append(record)

    # -- 2. files recorded but not sent --------------------------------------------------------------
    def resend_unsent(self) -> None:
        for name, records in sorted(self.recorded.items()):
            try:
                if self.delivery.is_sent(name):
                    continue
                built = rebuild_collection_file(records, client_id=self.client_id)
                self.delivery.write(built.name, built.body)
                self._send(built)
            except (CollectionDeliveryError, CollectionFileError) as error:
                self._file_failed(name, error)
                continue
            self.counts["resubmitted"] += len(built.collections)

    # -- 3. new collections --------------------------------------------------------------------------
    def submit_new(self) -> None:
        collections = [c for owed in self.owed.values() for c in owed]
        if not collections:
            return
        now = self.services.clock.now()
        try:
            built = self._reserve(collections, now)
        except CollectionDeliveryError as error:
            self._file_failed("new", error)
            return
        recorded: list[Collection] = []
        for (account_id, plan_id), owed in sorted(self.owed.items()):
            recorded.extend(self._record(account_id, plan_id, owed, built))
        if not recorded:
            logger.warning("collection file not sent: no plan recorded it", extra={"file": built.name})
            return
        try:
            if len(recorded) != len(built.collections):
                sequence = int(built.name[12:15])
                built = build_collection_file(
                    recorded, client_id=self.client_id, submitted_at=built.submitted_at, sequence=sequence
                )
                self.delivery.write(built.name, built.body)
            self._send(built)
        except CollectionDeliveryError as error:
            self._file_failed(built.name, error)
            return
        self.counts["submitted"] += len(built.collections)

    def _reserve(self, collections: list[Collection], now: Any) -> CollectionFile:
        """Build the file under the first name of this minute no other file has, and store it."""
        for sequence in range(1, MAX_SEQUENCE + 1):
            built = build_collection_file(
                collections, client_id=self.client_id, submitted_at=now, sequence=sequence
            )
            if self.delivery.reserve(built.name, built.body):
                return built
        raise CollectionDeliveryError("every file name of this minute is taken")

    def _record(
        self, account_id: str, plan_id: str, owed: list[Collection], built: CollectionFile
    ) -> list[Collection]:
        """Record on the plan which of its collections the file lists; those recorded."""
        in_file = {c.key: c for c in built.collections}
        for _ in range(MAX_WRITE_ATTEMPTS):
            try:
                stored = self.services.repos.plans.find(account_id, plan_id)
                if stored is None:
                    return []
                document = stored.plan or {}
                # Read again: the plan may have been paid, missed or cancelled since it was read.
                still, _ = collectable(stored.status, document, self.window, self.tracking_days)
                chosen = [c for c in still if in_file.get(c.key) == c]
                if not chosen:
                    return []
                change = PlanChange(stored, stored.status, with_submitted(document, chosen, built))
                self.services.repos.plans.change(change, self.services.clock.now())
            except ConcurrentUpdateError:
                continue
            except Exception as error:
                self._plan_failed(plan_id, error)
                return []
            logger.info(
                "collections recorded on plan",
                extra={"plan_id": plan_id, "file": built.name, "instalments": [c.instalment for c in chosen]},
            )
            return chosen
        self._plan_failed(plan_id, ConcurrentUpdateError(plan_id))
        return []

    def _send(self, built: CollectionFile) -> None:
        transfer_id = self.delivery.send(built.name)
        self.delivery.mark_sent(built.name, transfer_id, self.services.clock.now())
        self.counts["files_sent"] += 1
        self.files.add(built.name)

    def _plan_failed(self, plan_id: str, error: Exception) -> None:
        self.counts["plans_failed"] += 1
        logger.error("collection not recorded on plan", extra={"plan_id": plan_id, "error": type(error).__name__})

    def _file_failed(self, name: str, error: Exception) -> None:
        self.counts["files_failed"] += 1
        logger.error("collection file not sent", extra={"file": name, "error": type(error).__name__})


def _still_owed(stored: PlanModel, record: SubmittedCollection) -> bool:
    """A recorded collection the plan still owes as recorded: same attempt, date and amount, on the
    same consent, the plan active. Only those are sent again when their file was never sent."""
    document = stored.plan or {}
    mandate = document.get("mandate") or {}
    if stored.status != "active" or not document.get("current"):
        return False
    if mandate.get("status") != "approved" or mandate.get("provider_reference") != record.consent_id:
        return False
    plan = PaymentPlan.model_validate(document["current"])
    return any(
        i.number == record.instalment
        and i.misses == record.attempt
        and i.due_date == record.collection_date
        and i.outstanding_cents == record.amount_cents
        for i in plan.unpaid
    )
