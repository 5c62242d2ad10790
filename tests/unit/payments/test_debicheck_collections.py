"""Stitch DebiCheck collection files: which instalments go in, and the bytes Stitch's format asks for.

The format is the one on https://docs.stitch.money/payment-products/payins/debicheck/collections-files
and in its sample file (``202401011200123_1.csv``). Today is Monday 2 March 2026 in Johannesburg.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from rapport.payments.debicheck_collections import (
    SUBMITTED,
    Collection,
    CollectionFileError,
    CollectionWindow,
    SubmittedCollection,
    build_collection_file,
    collectable,
    collection_file_name,
    collection_window,
    rebuild_collection_file,
    submitted_records,
    with_submitted,
)
from rapport.payments.plans import Instalment, PayDay, PaymentPlan, PlanFrequency, PlanStatus, business_calendar
from rapport.payments.providers.stitch_debicheck import contract_reference

SUBMITTED_AT = datetime(2026, 3, 2, 7, 0, 5, tzinfo=timezone(timedelta(hours=2)))  # 05:00:05 UTC
MANDATE_ID = "ACC-7:plan0007"
CONSENT = "bWFuZGF0ZS81ZWNjY2RhMS1jZTQ0LTRiMmMtOThhMC05Mjk3ODNmYWY3NTU="
WINDOW = CollectionWindow(date(2026, 3, 4), date(2026, 3, 8))


def collection(number: int = 1, cents: int = 10_000, *, attempt: int = 0, day: date = date(2026, 3, 4),
               tracking: int = 0, mandate_id: str = MANDATE_ID, consent: str = CONSENT) -> Collection:
    return Collection(
        mandate_id=mandate_id, instalment=number, attempt=attempt, consent_id=consent,
        contract_reference=contract_reference(mandate_id), amount_cents=cents, collection_date=day,
        tracking_days=tracking,
    )


def lines(body: bytes) -> list[list[str]]:
    text = body.decode("ascii")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return [line.split(",") for line in text.removesuffix("\r\n").split("\r\n")]


def plan_document(*instalments: tuple[int, date, int], mandate_status: str = "approved", paid: int = 0,
                  misses: int = 0, maximum: int = 30_000, reference: str | None = CONSENT) -> dict[str, Any]:
    """A plan record's document: the live schedule and the mandate record, as acceptance stores them."""
    schedule = tuple(
        Instalment(number=n, due_date=day, original_due_date=day, amount_cents=cents,
                   paid_cents=paid if n == 1 else 0, misses=misses if n == 1 else 0)
        for n, day, cents in instalments
    )
    total = sum(cents for _, _, cents in instalments)
    plan = PaymentPlan(
        plan_id="plan0007", account_id="ACC-7", frequency=PlanFrequency.MONTHLY, pay_day=PayDay.of_month(4),
        balance_cents=total, total_cents=total, instalments=schedule, status=PlanStatus.ACTIVE, paid_cents=paid,
    )
    mandate = {
        "mandate_id": MANDATE_ID, "status": mandate_status, "provider_reference": reference,
        "instalment_cents": 20_000, "maximum_cents": maximum,
    }
    return {"current": plan.model_dump(mode="json"), "mandate": mandate, "link_id": "I0007"}


# --- the file ----------------------------------------------------------------------------------------


def test_the_file_has_stitchs_four_records_each_under_its_own_title_line():
    # Given two collections, one tracked for two days
    built = build_collection_file(
        [collection(1, 10_000), collection(2, 2_531_10, day=date(2026, 3, 5), tracking=2)],
        client_id="a1405e59-789f-4773-b5da-85ef468b4af9", submitted_at=SUBMITTED_AT,
    )
    rows = lines(built.body)
    # Then the product header names the client, DebiCheck collections and the COLLECTION file type
    assert rows[0] == ["RECORD_TYPE", "CLIENT_ID", "PRODUCT", "CHANNEL", "FILE_TYPE"]
    assert rows[1] == ["P", "a1405e59-789f-4773-b5da-85ef468b4af9", "COLLECTIONS", "DEBICHECK", "COLLECTION"]
    # And the header our batch reference and the submission time in UTC
    assert rows[2] == ["RECORD_TYPE", "EXTERNAL_BATCH_REFERENCE", "SUBMISSION_DATETIME"]
    assert rows[3] == ["H", "RAPPORT_202603020500001_1", "2026-03-02T05:00:05Z"]
    # And one data record per collection: nonce, consent, contract reference, rand, our reference, date
    assert rows[4] == ["RECORD_TYPE", "NONCE", "CONSENT_ID", "CONTRACT_REFERENCE", "VALUE",
                       "EXTERNAL_COLLECTION_REFERENCE", "COLLECTION_DATE", "TRACKING_PERIOD"]
    first, second = collection(1, 10_000), collection(2, 2_531_10, day=date(2026, 3, 5), tracking=2)
    assert rows[5] == ["D", first.nonce, CONSENT, contract_reference(MANDATE_ID), "100.00",
                       first.external_reference, "2026-03-04", "0"]
    assert rows[6] == ["D", second.nonce, CONSENT, contract_reference(MANDATE_ID), "2531.10",
                       second.external_reference, "2026-03-05", "2"]
    # And the trailer counts and adds up every record, and the tracked ones apart
    assert rows[7] == ["RECORD_TYPE", "TOTAL_RECORDS", "TOTAL_VALUE", "TOTAL_TRACKING_RECORDS", "TOTAL_TRACKING_VALUE"]
    assert rows[8] == ["T", "2", "2631.10", "1", "2531.10"]
    assert len(rows) == 9 and built.name == "202603020500001_1.csv"


def test_the_trailer_adds_up_stitchs_sample_exactly():
    # Given the seven values and tracking periods of Stitch's sample file
    sample = [(600_000, 1), (253_110, 2), (365_400, 0), (100_000, 0), (965_488, 0), (23_600, 0), (10_000, 0)]
    collections = [collection(n, cents, tracking=days) for n, (cents, days) in enumerate(sample, start=1)]
    built = build_collection_file(collections, client_id="client", submitted_at=SUBMITTED_AT)
    # Then its trailer is the sample's trailer
    assert lines(built.body)[-1] == ["T", "7", "23175.98", "2", "8531.10"]
    assert built.total_cents == 2_317_598


@pytest.mark.parametrize(("cents", "text"), [(1, "0.01"), (10, "0.10"), (100, "1.00"), (99_999_999, "999999.99")])
def test_amounts_are_cents_written_as_rand_with_two_decimals_exactly(cents, text):
    built = build_collection_file([collection(1, cents)], client_id="client", submitted_at=SUBMITTED_AT)
    assert lines(built.body)[5][4] == text
    assert lines(built.body)[-1][2] == text


def test_thirds_of_a_rand_add_up_to_the_cent():
    # Given amounts whose float sum would not be exact
    collections = [collection(n, 3_333) for n in (1, 2, 3)] + [collection(4, 1)]
    built = build_collection_file(collections, client_id="client", submitted_at=SUBMITTED_AT)
    assert lines(built.body)[-1][:3] == ["T", "4", "100.00"]


def test_the_same_collections_make_the_same_bytes_in_any_order():
    collections = [collection(2, day=date(2026, 3, 6)), collection(1), collection(3, mandate_id="ACC-1:plan0001")]
    first = build_collection_file(collections, client_id="client", submitted_at=SUBMITTED_AT)
    again = build_collection_file(list(reversed(collections)), client_id="client", submitted_at=SUBMITTED_AT)
    assert first.body == again.body and first.name == again.name
    # And the lines run by date, then plan
    dates = [row[6] for row in lines(first.body) if row[0] == "D"]
    assert dates == sorted(dates)


def test_the_file_name_is_the_minute_in_utc_a_sequence_and_the_part():
    assert collection_file_name(SUBMITTED_AT) == "202603020500001_1.csv"
    assert collection_file_name(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), 12) == "202612312359012_1.csv"
    with pytest.raises(CollectionFileError):
        collection_file_name(SUBMITTED_AT, 1000)
    with pytest.raises(ValueError):
        collection_file_name(datetime(2026, 3, 2, 7, 0))


def test_a_file_is_never_built_empty_twice_listing_a_collection_or_with_a_value_it_cannot_carry():
    with pytest.raises(CollectionFileError):
        build_collection_file([], client_id="client", submitted_at=SUBMITTED_AT)
    with pytest.raises(CollectionFileError):
        build_collection_file([collection(1), collection(1)], client_id="client", submitted_at=SUBMITTED_AT)
    with pytest.raises(CollectionFileError):
        build_collection_file([collection(1, consent="a,b")], client_id="client", submitted_at=SUBMITTED_AT)
    with pytest.raises(CollectionFileError):
        build_collection_file([collection(1)], client_id="cliënt", submitted_at=SUBMITTED_AT)


def test_a_file_rebuilt_from_the_plans_records_is_byte_for_byte_the_file_first_built():
    # Given a file built with sequence 7, and the records the plans keep of it
    collections = [collection(1), collection(2, 20_000, day=date(2026, 3, 6), tracking=3)]
    built = build_collection_file(collections, client_id="client", submitted_at=SUBMITTED_AT, sequence=7)
    document = with_submitted({}, collections, built)
    records = submitted_records(document)
    # Then the records name the file, and rebuild it exactly
    assert {r.file for r in records} == {"202603020500007_1.csv"}
    rebuilt = rebuild_collection_file(records, client_id="client")
    assert (rebuilt.name, rebuilt.body) == (built.name, built.body)


# --- which instalments ---------------------------------------------------------------------------------


def test_the_window_starts_the_lead_time_in_business_days_ahead():
    calendar = business_calendar("ZA")
    # Monday: Wednesday to Friday, and the weekend after it
    assert collection_window(date(2026, 3, 2), calendar, 2, 3) == CollectionWindow(date(2026, 3, 4), date(2026, 3, 8))
    # A Saturday counts from the Monday
    assert collection_window(date(2026, 3, 7), calendar, 2, 1) == CollectionWindow(date(2026, 3, 10), date(2026, 3, 10))
    # Good Friday and Family Day (3 and 6 April 2026) are not business days
    assert collection_window(date(2026, 4, 1), calendar, 2, 1) == CollectionWindow(date(2026, 4, 7), date(2026, 4, 7))
    with pytest.raises(ValueError):
        collection_window(date(2026, 3, 2), calendar, 0, 1)


def test_only_instalments_due_in_the_window_are_collected_at_its_boundaries():
    # Given unpaid instalments due the day before the window, on its first and last days, and after it
    document = plan_document(
        (1, date(2026, 3, 3), 10_000), (2, date(2026, 3, 4), 10_000),
        (3, date(2026, 3, 8), 10_000), (4, date(2026, 3, 9), 10_000),
    )
    owed, skipped = collectable("active", document, WINDOW)
    # Then the ones due on the window's first and last days are collected
    assert [(c.instalment, c.collection_date) for c in owed] == [(2, date(2026, 3, 4)), (3, date(2026, 3, 8))]
    # And the one before it is too late for this run, the one after it waits for a later run
    assert skipped == Counter({"too_late": 1, "not_yet": 1})
    # And each names the mandate's consent and contract reference, never bank details
    assert {(c.consent_id, c.contract_reference) for c in owed} == {(CONSENT, contract_reference(MANDATE_ID))}


@pytest.mark.parametrize("status", ["created", "sent_for_approval", "rejected", "expired", "suspended", "cancelled"])
def test_only_an_approved_mandate_is_collected_on(status):
    document = plan_document((1, date(2026, 3, 4), 10_000), mandate_status=status)
    assert collectable("active", document, WINDOW) == ([], Counter({"mandate_not_approved": 1}))


def test_nothing_is_collected_without_a_consent_id_a_mandate_or_an_active_plan():
    due = (1, date(2026, 3, 4), 10_000)
    assert collectable("active", plan_document(due, reference=None), WINDOW)[0] == []
    without_mandate = {k: v for k, v in plan_document(due).items() if k != "mandate"}
    assert collectable("active", without_mandate, WINDOW)[0] == []
    for status in ("offered", "completed", "cancelled"):
        assert collectable(status, plan_document(due), WINDOW) == ([], Counter({"plan_not_active": 1}))


def test_a_partly_paid_instalment_is_collected_for_what_remains():
    document = plan_document((1, date(2026, 3, 4), 10_000), (2, date(2026, 4, 6), 10_000), paid=2_550)
    (owed,), _ = collectable("active", document, WINDOW)
    assert owed.amount_cents == 7_450


def test_an_instalment_above_the_mandates_maximum_is_not_collected():
    document = plan_document((1, date(2026, 3, 4), 40_000), maximum=30_000)
    assert collectable("active", document, WINDOW) == ([], Counter({"over_mandate_maximum": 1}))


def test_a_collection_recorded_as_submitted_is_not_offered_again_until_it_is_a_new_attempt():
    # Given a plan whose first instalment was put in a file and recorded on the plan
    document = plan_document((1, date(2026, 3, 4), 10_000), (2, date(2026, 3, 6), 10_000))
    owed, _ = collectable("active", document, WINDOW)
    built = build_collection_file(owed, client_id="client", submitted_at=SUBMITTED_AT)
    recorded = with_submitted(document, owed[:1], built)
    # When the plan is read again in the same window
    again, skipped = collectable("active", recorded, WINDOW)
    # Then only the instalment not yet recorded is offered
    assert [c.instalment for c in again] == [2] and skipped["already_submitted"] == 1
    # And the record says which file took which attempt of which instalment
    (record,) = recorded[SUBMITTED]
    assert (record["instalment"], record["attempt"], record["file"]) == (1, 0, built.name)
    assert SubmittedCollection.model_validate(record).key == owed[0].key
    # When the first instalment is missed and rescheduled into the window (its second attempt)
    retried = plan_document((1, date(2026, 3, 5), 10_000), (2, date(2026, 3, 6), 10_000), misses=1)
    retried[SUBMITTED] = recorded[SUBMITTED]
    (first, _), _ = collectable("active", retried, WINDOW)
    # Then it is collected again, as attempt 1, with its own nonce and reference
    assert (first.instalment, first.attempt) == (1, 1)
    assert first.nonce != owed[0].nonce and first.external_reference != owed[0].external_reference
