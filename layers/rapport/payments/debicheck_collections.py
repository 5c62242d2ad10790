"""DebiCheck collections as Stitch collection files: which instalments to collect, and the file's bytes.

Stitch takes collections against an approved DebiCheck mandate as CSV batch files uploaded to its
SFTP server, answers each with a REPLY file (validation) and later an OUTPUT file (results), and
reports each collection's result as a ``transaction`` webhook (read by
``rapport.payments.providers.stitch_debicheck``). Sources: Stitch's pages
https://docs.stitch.money/payment-products/payins/debicheck/collections and
https://docs.stitch.money/payment-products/payins/debicheck/collections-files, and its sample
collection file https://docs.stitch.money/samples/debicheck/202401011200123_1.csv.

The file (``FILE_TYPE`` COLLECTION) has four record types, each preceded by its own line of column
titles (Stitch's REPLY files name a missing or wrong title line as a schema error)::

    RECORD_TYPE,CLIENT_ID,PRODUCT,CHANNEL,FILE_TYPE
    P,<Stitch client id>,COLLECTIONS,DEBICHECK,COLLECTION
    RECORD_TYPE,EXTERNAL_BATCH_REFERENCE,SUBMISSION_DATETIME
    H,<our batch reference>,<ISO 8601, UTC>
    RECORD_TYPE,NONCE,CONSENT_ID,CONTRACT_REFERENCE,VALUE,EXTERNAL_COLLECTION_REFERENCE,COLLECTION_DATE,TRACKING_PERIOD
    D,<nonce>,<the mandate's consent id>,<its contract reference>,<rand, 2 decimals>,<our reference>,<YYYY-MM-DD>,<days>
    RECORD_TYPE,TOTAL_RECORDS,TOTAL_VALUE,TOTAL_TRACKING_RECORDS,TOTAL_TRACKING_VALUE
    T,<D records>,<sum of VALUE>,<D records with a tracking period>,<their sum>

A collection needs only the mandate's consent id (its Stitch payment consent request) and contract
reference, an amount and a date: no bank details, which Rapport never stores.

Everything here is pure: the same collections, client id, submission time and sequence give the
same bytes, so a file recorded on the plans can be rebuilt exactly from what the plans record.

Idempotency: a collection is one attempt of one instalment of one plan (``Collection.key``: the
mandate id, the instalment's number and its misses so far). Once listed in a file, the plan document
records it under ``"collections"`` with the file's name (:func:`with_submitted`), and
:func:`collectable` never offers it again. A missed instalment is rescheduled with one more miss,
which is a new attempt and may be collected again.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, ValidationError

from rapport.payments.plans import BusinessCalendar, PaymentPlan
from rapport.payments.providers.base import cents_to_decimal
from rapport.payments.providers.stitch_debicheck import contract_reference

PRODUCT_TITLES = ("RECORD_TYPE", "CLIENT_ID", "PRODUCT", "CHANNEL", "FILE_TYPE")
HEADER_TITLES = ("RECORD_TYPE", "EXTERNAL_BATCH_REFERENCE", "SUBMISSION_DATETIME")
DATA_TITLES = (
    "RECORD_TYPE",
    "NONCE",
    "CONSENT_ID",
    "CONTRACT_REFERENCE",
    "VALUE",
    "EXTERNAL_COLLECTION_REFERENCE",
    "COLLECTION_DATE",
    "TRACKING_PERIOD",
)
TRAILER_TITLES = ("RECORD_TYPE", "TOTAL_RECORDS", "TOTAL_VALUE", "TOTAL_TRACKING_RECORDS", "TOTAL_TRACKING_VALUE")
PRODUCT, CHANNEL, FILE_TYPE = "COLLECTIONS", "DEBICHECK", "COLLECTION"
# NOTE: Stitch's pages show the CSV columns but neither the line ending nor the encoding. We write
# RFC 4180's CRLF and plain ASCII (every value we write is ASCII, and a value that is not is refused),
# which any CSV reader accepts. If Stitch names another convention, change these two.
LINE_END = "\r\n"
ENCODING = "ascii"
# The key of the plan document that records each collection submitted (see ``with_submitted``).
SUBMITTED = "collections"
MAX_SEQUENCE = 999
# A value in the file is never quoted: it must not hold a separator, a quote or a line break.
_UNQUOTED = re.compile(r"[\x21\x23-\x2b\x2d-\x7e]+")


class CollectionFileError(ValueError):
    """A collection cannot be written into a file (a value Stitch's CSV cannot carry, say)."""


class Collection(BaseModel):
    """One D record: one attempt to collect one instalment against one approved mandate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mandate_id: str = Field(min_length=3, max_length=64)
    instalment: StrictInt = Field(ge=1)
    attempt: StrictInt = Field(ge=0)
    consent_id: str = Field(min_length=1, max_length=256)
    contract_reference: str = Field(min_length=1, max_length=64)
    amount_cents: StrictInt = Field(gt=0)
    collection_date: date
    tracking_days: StrictInt = Field(default=0, ge=0, le=10)

    @property
    def key(self) -> str:
        """Plan, instalment and attempt: what is collected at most once."""
        return f"{self.mandate_id}#{self.instalment}#{self.attempt}"

    @property
    def nonce(self) -> str:
        # NOTE: Stitch's pages show a NONCE per collection without saying what a repeated one does;
        # deriving it from the key means a resent file repeats it, which lets Stitch refuse the
        # duplicate if it checks. Confirm with Stitch whether it does.
        return hashlib.sha256(f"nonce:{self.key}".encode()).hexdigest()[:32]

    @property
    def external_reference(self) -> str:
        """Our EXTERNAL_COLLECTION_REFERENCE, which REPLY and OUTPUT files name each line by.

        NOTE: Stitch documents no length or alphabet for it; 20 upper-case letters and digits fit
        any bank reference field we know of.
        """
        return "RC" + hashlib.sha256(f"reference:{self.key}".encode()).hexdigest()[:18].upper()

    @property
    def sort_key(self) -> tuple[date, str, int, int]:
        return (self.collection_date, self.mandate_id, self.instalment, self.attempt)


class SubmittedCollection(Collection):
    """A collection as the plan document records it: the collection, and the file it went in."""

    file: str = Field(min_length=1, max_length=64)
    submitted_at: AwareDatetime


@dataclass(frozen=True)
class CollectionFile:
    name: str
    body: bytes
    batch_reference: str
    submitted_at: datetime
    collections: tuple[Collection, ...]

    @property
    def total_cents(self) -> int:
        return sum(c.amount_cents for c in self.collections)


# --- which instalments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionWindow:
    """The collection dates one run submits: ``earliest`` is the first date still at least the lead
    time away, ``latest`` the last date of the window."""

    earliest: date
    latest: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.earliest <= day <= self.latest


def add_business_days(calendar: BusinessCalendar, day: date, count: int) -> date:
    for _ in range(count):
        day = calendar.next_after(day)
    return day


def collection_window(
    today: date, calendar: BusinessCalendar, lead_business_days: int, window_business_days: int
) -> CollectionWindow:
    """Instalments due from ``lead_business_days`` business days after ``today`` for
    ``window_business_days`` business days (and the weekend or holidays that follow the last).

    NOTE: Stitch's pages state no lead time between submission and collection date (its sample file
    is submitted two days before the collection). Two business days is DebiCheck's usual two-day
    submission rule; the client file changes it (``payments.debicheck_collections``).
    """
    if lead_business_days < 1 or window_business_days < 1:
        raise ValueError("the lead time and the window are at least one business day")
    earliest = add_business_days(calendar, today, lead_business_days)
    last_business_day = add_business_days(calendar, earliest, window_business_days - 1)
    latest = calendar.next_after(last_business_day)
    return CollectionWindow(earliest, date.fromordinal(latest.toordinal() - 1))


def submitted_records(document: Mapping[str, Any]) -> list[SubmittedCollection]:
    """The collections a plan document records as submitted (unreadable entries are skipped)."""
    records = []
    for entry in document.get(SUBMITTED) or ():
        try:
            records.append(SubmittedCollection.model_validate(entry))
        except ValidationError:
            continue
    return records


def collectable(
    status: str, document: Mapping[str, Any], window: CollectionWindow, tracking_days: int = 0
) -> tuple[list[Collection], Counter[str]]:
    """The collections a plan record owes in ``window``, and why its other instalments are not.

    A plan qualifies while it is active and its mandate is approved with a consent id. Each unpaid
    instalment due in the window is collected for what remains unpaid of it, once per attempt;
    one due before the window is too late for this run, one after it waits for a later run.
    """
    skipped: Counter[str] = Counter()
    mandate = document.get("mandate") or {}
    if status != "active" or not document.get("current"):
        skipped["plan_not_active"] += 1
        return [], skipped
    if mandate.get("status") != "approved" or not mandate.get("provider_reference"):
        skipped["mandate_not_approved"] += 1
        return [], skipped
    plan = PaymentPlan.model_validate(document["current"])
    done = {record.key for record in submitted_records(document)}
    maximum = mandate.get("maximum_cents")
    found: list[Collection] = []
    for instalment in plan.unpaid:
        if instalment.due_date < window.earliest:
            skipped["too_late"] += 1
            continue
        if instalment.due_date > window.latest:
            skipped["not_yet"] += 1
            continue
        collection = Collection(
            mandate_id=mandate["mandate_id"],
            instalment=instalment.number,
            attempt=instalment.misses,
            consent_id=mandate["provider_reference"],
            contract_reference=contract_reference(mandate["mandate_id"]),
            amount_cents=instalment.outstanding_cents,
            collection_date=instalment.due_date,
            tracking_days=tracking_days,
        )
        if collection.key in done:
            skipped["already_submitted"] += 1
            continue
        if isinstance(maximum, int) and collection.amount_cents > maximum:
            # A collection above the mandate's maximum is refused by the debtor's bank, or disputed.
            skipped["over_mandate_maximum"] += 1
            continue
        found.append(collection)
    return found, skipped


def with_submitted(
    document: Mapping[str, Any], collections: Iterable[Collection], file: CollectionFile
) -> dict[str, Any]:
    """The plan document with ``collections`` recorded as submitted in ``file``."""
    records = [entry for entry in document.get(SUBMITTED) or ()]
    for collection in collections:
        record = SubmittedCollection(
            **collection.model_dump(), file=file.name, submitted_at=file.submitted_at
        )
        records.append(record.model_dump(mode="json"))
    return {**document, SUBMITTED: records}


# --- the file --------------------------------------------------------------------------------------


def collection_file_name(submitted_at: datetime, sequence: int = 1) -> str:
    """``YYYYMMDDhhmm`` (UTC), a three-digit sequence and ``_1.csv``: the shape of Stitch's sample
    name ``202401011200123_1.csv``.

    NOTE: Stitch's pages show that sample name but state no naming rule; the sequence keeps two
    files of one minute apart, and ``_1`` is the sample's part number (one file per batch here).
    """
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise CollectionFileError("the file sequence runs from 1 to 999")
    return f"{_utc(submitted_at):%Y%m%d%H%M}{sequence:03d}_1.csv"


def batch_reference(name: str) -> str:
    """The EXTERNAL_BATCH_REFERENCE of the file called ``name``: ``RAPPORT_`` and its stamp."""
    return "RAPPORT_" + name.removesuffix(".csv")


def build_collection_file(
    collections: Sequence[Collection], *, client_id: str, submitted_at: datetime, sequence: int = 1
) -> CollectionFile:
    """Stitch's collection file for ``collections``: deterministic, lines in date then plan order."""
    if not collections:
        raise CollectionFileError("a collection file needs at least one collection")
    keys = [c.key for c in collections]
    if len(set(keys)) != len(keys):
        raise CollectionFileError("a collection is listed twice")
    name = collection_file_name(submitted_at, sequence)
    reference = batch_reference(name)
    ordered = tuple(sorted(collections, key=lambda c: c.sort_key))
    tracked = [c for c in ordered if c.tracking_days > 0]
    rows: list[Sequence[str]] = [
        PRODUCT_TITLES,
        ("P", client_id, PRODUCT, CHANNEL, FILE_TYPE),
        HEADER_TITLES,
        ("H", reference, _utc(submitted_at).strftime("%Y-%m-%dT%H:%M:%SZ")),
        DATA_TITLES,
        *(
            (
                "D",
                c.nonce,
                c.consent_id,
                c.contract_reference,
                cents_to_decimal(c.amount_cents),
                c.external_reference,
                c.collection_date.isoformat(),
                str(c.tracking_days),
            )
            for c in ordered
        ),
        TRAILER_TITLES,
        (
            "T",
            str(len(ordered)),
            cents_to_decimal(sum(c.amount_cents for c in ordered)),
            str(len(tracked)),
            cents_to_decimal(sum(c.amount_cents for c in tracked)),
        ),
    ]
    for row in rows:
        for value in row:
            if not _UNQUOTED.fullmatch(value):
                raise CollectionFileError("a value is empty or holds a character the file cannot carry")
    text = "".join(",".join(row) + LINE_END for row in rows)
    return CollectionFile(
        name=name,
        body=text.encode(ENCODING),
        batch_reference=reference,
        submitted_at=_utc(submitted_at),
        collections=ordered,
    )


def rebuild_collection_file(records: Sequence[SubmittedCollection], *, client_id: str) -> CollectionFile:
    """The file the plan records name, built again: the same bytes as when it was first built from
    the same collections. Every record must name the same file and submission time."""
    files = {(r.file, r.submitted_at) for r in records}
    if len(files) != 1:
        raise CollectionFileError("the records name more than one file")
    ((name, submitted_at),) = files
    sequence = int(name[12:15]) if re.fullmatch(r"\d{15}_1\.csv", name) else 0
    collections = [Collection.model_validate(r.model_dump(exclude={"file", "submitted_at"})) for r in records]
    rebuilt = build_collection_file(collections, client_id=client_id, submitted_at=submitted_at, sequence=sequence)
    if rebuilt.name != name:
        raise CollectionFileError("the records' submission time does not match their file's name")
    return rebuilt


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the submission time must carry its time zone")
    return moment.astimezone(UTC).replace(microsecond=0)
