"""The ``submit_collections`` function: plans with approved mandates become one Stitch collection file in
the client's bucket (moto's S3), handed to the SFTP connector (Transfer Family, stubbed with botocore's
Stubber: moto has connectors but no ``StartFileTransfer``), and recorded on the plans once.

Today is Monday 2 March 2026, 07:00 in Johannesburg (05:00 UTC); with two business days of lead time
and a three-day window the run collects instalments due from Wednesday 4 to Sunday 8 March.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from rapport_tables import rapport_tables

from rapport.journey.collection_submission import (
    CollectionSubmissionIncompleteError,
    CollectionSubmissionRun,
    run_collection_submission,
)
from rapport.payments.collection_delivery import S3TransferDelivery
from rapport.payments.debicheck_collections import SUBMITTED, rebuild_collection_file, submitted_records
from rapport.payments.plans import Instalment, InstalmentStatus, PayDay, PaymentPlan, PlanFrequency, PlanStatus
from rapport.payments.providers.stitch_debicheck import contract_reference
from rapport.payments.wiring import PaymentKeys
from rapport.runtime import Services, use_services
from rapport.settings import Settings
from rapport.store.models import ALL_MODELS, PlanModel
from rapport.store.repositories import Repositories, plan_next_due
from rapport.strategy.config import load_client_config
from rapport_infra.catalogue import CLIENTS_DIR, function_spec

NOW = datetime(2026, 3, 2, 5, 0, 30, tzinfo=UTC)
PREFIX = "unit-collections"
BUCKET = "rapport-acme-za-collections-unit"
FILE = "202603020500001_1.csv"
CONNECTOR = "c-0a1b2c3d4e5f6a7b8"
STITCH_KEYS = {
    "provider": "stitch",
    "webhook_secret": "whsec_c3RpdGNoLWRlYmljaGVjay11bml0LWtleQ==",
    "client_id": "stitch-client",
    "client_secret": "stitch-client-secret",
}


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@dataclass
class FakeContext:
    function_name: str = "rapport-acme-za-submit-collections"
    invoked_function_arn: str = "arn:aws:lambda:af-south-1:123456789012:function:rapport-acme-za-submit-collections"
    aws_request_id: str = "req-1"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


@dataclass
class World:
    services: Services
    s3: Any
    connector: Stubber

    def expect_transfer(self, name: str = FILE, transfer_id: str = "t-0001") -> None:
        self.connector.add_response(
            "start_file_transfer",
            {"TransferId": transfer_id},
            {
                "ConnectorId": CONNECTOR,
                "SendFilePaths": [f"/{BUCKET}/debicheck/outgoing/{name}"],
                "RemoteDirectoryPath": "/Outgoing",
            },
        )

    def objects(self) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {o["Key"]: self.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    with rapport_tables(PREFIX):
        yield


@pytest.fixture
def world(aws: None) -> Iterator[World]:
    path = CLIENTS_DIR / "acme-za.toml"
    s3 = boto3.client("s3", region_name="af-south-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "af-south-1"})
    transfer = boto3.client("transfer", region_name="af-south-1")
    client = load_client_config(path)
    services = Services(
        settings=Settings(client_id="acme-za", client_config_path=path, table_prefix=PREFIX,
                          collections_bucket=BUCKET),
        client=client,
        clock=FixedClock(NOW),
        repos=Repositories(),
        senders={},
        renderer=None,
        payments=SimpleNamespace(keys=PaymentKeys.model_validate({"debicheck": STITCH_KEYS})),
        analyser=None,
        stepfunctions=None,
    )
    config = client.payments.debicheck_collections
    assert config is not None and config.connector_id == CONNECTOR
    services.collection_delivery = S3TransferDelivery(
        s3, transfer, bucket=BUCKET, connector_id=CONNECTOR, remote_directory=config.remote_directory
    )
    with Stubber(transfer) as connector:
        use_services(services)
        yield World(services, s3, connector)
        use_services(None)
        connector.assert_no_pending_responses()
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
    for key in World(services, s3, connector).objects():
        s3.delete_object(Bucket=BUCKET, Key=key)
    s3.delete_bucket(Bucket=BUCKET)


_numbers = itertools.count(1)


def stored_plan(*due: tuple[date, int], mandate: str = "approved") -> tuple[str, str]:
    """An active plan with a mandate, as acceptance and Stitch's callbacks leave it: (account, plan)."""
    number = next(_numbers)
    account_id, plan_id = f"ACC-{number}", f"plan{number:04d}"
    schedule = tuple(
        Instalment(number=n, due_date=day, original_due_date=day, amount_cents=cents)
        for n, (day, cents) in enumerate(due, start=1)
    )
    total = sum(cents for _, cents in due)
    plan = PaymentPlan(
        plan_id=plan_id, account_id=account_id, frequency=PlanFrequency.MONTHLY, pay_day=PayDay.of_month(4),
        balance_cents=total, total_cents=total, instalments=schedule, status=PlanStatus.ACTIVE,
        accepted_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    document = {
        "current": plan.model_dump(mode="json"),
        "link_id": f"I{number:020d}",
        "mandate": {
            "mandate_id": f"{account_id}:{plan_id}", "status": mandate,
            "provider_reference": f"bWFuZGF0ZS9{number:04d}", "maximum_cents": 60_000,
        },
    }
    PlanModel(
        account_id, plan_id, status="active", plan=document, created_at=datetime(2026, 2, 1, tzinfo=UTC),
        next_due=plan_next_due("active", document),
    ).save()
    return account_id, plan_id


def plan_record(account_id: str, plan_id: str) -> dict[str, Any]:
    return PlanModel.get(account_id, plan_id).plan


def load_handler() -> Any:
    path = function_spec("submit_collections").folder / "handler.py"
    module_spec = importlib.util.spec_from_file_location("rapport_function_submit_collections_under_test", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.handler


def test_the_handler_sends_one_file_of_the_collections_due_and_records_them_on_their_plans(world):
    # Given a plan owing on Wednesday and next month, one owing on Friday, one whose mandate is not
    # approved yet, and one owing only next week
    first = stored_plan((date(2026, 3, 4), 40_000), (date(2026, 4, 6), 40_000))
    second = stored_plan((date(2026, 3, 6), 25_050))
    pending = stored_plan((date(2026, 3, 4), 40_000), mandate="sent_for_approval")
    later = stored_plan((date(2026, 3, 11), 40_000))
    world.expect_transfer()
    # When the schedule invokes the function
    result = load_handler()({}, FakeContext())
    # Then one file of the two collections due was sent, under the name of this minute
    assert result["files"] == [FILE]
    assert (result["submitted"], result["files_sent"], result["resubmitted"]) == (2, 1, 0)
    assert (result["earliest"], result["latest"]) == ("2026-03-04", "2026-03-08")
    assert result["skipped"] == {"mandate_not_approved": 1, "not_yet": 1}
    # And the plan owing only next week was not even read: the due-index lists plans due by Sunday
    assert result["plans_read"] == 3
    stored = world.objects()
    body = stored[f"debicheck/outgoing/{FILE}"].decode("ascii")
    data = [line.split(",") for line in body.split("\r\n") if line.startswith("D,")]
    assert [(d[2], d[3], d[4], d[6]) for d in data] == [
        ("bWFuZGF0ZS90001", contract_reference("ACC-1:plan0001"), "400.00", "2026-03-04"),
        ("bWFuZGF0ZS90002", contract_reference("ACC-2:plan0002"), "250.50", "2026-03-06"),
    ]
    assert body.splitlines()[1] == "P,00000000-0000-4000-8000-000000000000,COLLECTIONS,DEBICHECK,COLLECTION"
    # And the transfer's id is kept beside it
    marker = json.loads(stored[f"debicheck/sent/{FILE}.json"])
    assert (marker["file"], marker["transfer_id"]) == (FILE, "t-0001")
    # And each plan records which of its instalments went in which file; the others record nothing
    (record,) = submitted_records(plan_record(*first))
    assert (record.instalment, record.attempt, record.amount_cents, record.file) == (1, 0, 40_000, FILE)
    assert [r.instalment for r in submitted_records(plan_record(*second))] == [1]
    assert SUBMITTED not in plan_record(*pending) and SUBMITTED not in plan_record(*later)
    # And the file is what the plans' records rebuild, byte for byte
    records = submitted_records(plan_record(*first)) + submitted_records(plan_record(*second))
    assert rebuild_collection_file(records, client_id="00000000-0000-4000-8000-000000000000").body == body.encode()
    # When it runs again the same day (the Stubber refuses any further transfer)
    before = (world.objects(), plan_record(*first), plan_record(*second))
    again = load_handler()({}, FakeContext())
    # Then nothing is listed twice and nothing is sent or stored again
    assert (again["submitted"], again["files_sent"], again["resubmitted"], again["files"]) == (0, 0, 0, [])
    assert again["skipped"]["already_submitted"] == 2
    assert (world.objects(), plan_record(*first), plan_record(*second)) == before


def test_a_file_the_connector_refused_is_sent_again_by_the_retry_and_never_rebuilt_with_new_lines(world):
    # Given a plan owing on Wednesday, and a connector that refuses the first transfer
    owing = stored_plan((date(2026, 3, 4), 40_000))
    world.connector.add_client_error("start_file_transfer", service_error_code="ServiceUnavailableException",
                                     http_status_code=503)
    # When the run tries to send its file
    with pytest.raises(CollectionSubmissionIncompleteError) as raised:
        run_collection_submission(world.services, CollectionSubmissionRun())
    # Then the run fails, so Lambda retries it, with the collection recorded and the file stored unsent
    assert (raised.value.files_failed, raised.value.plans_failed) == (1, 0)
    assert [r.file for r in submitted_records(plan_record(*owing))] == [FILE]
    first_body = world.objects()[f"debicheck/outgoing/{FILE}"]
    assert f"debicheck/sent/{FILE}.json" not in world.objects()
    # When a new plan owing on Thursday appears and the retry runs a minute later
    newcomer = stored_plan((date(2026, 3, 5), 30_000))
    world.services.clock = FixedClock(datetime(2026, 3, 2, 5, 1, 10, tzinfo=UTC))
    world.expect_transfer(FILE, "t-0002")
    world.expect_transfer("202603020501001_1.csv", "t-0003")
    result = run_collection_submission(world.services, CollectionSubmissionRun())
    # Then the refused file is sent again unchanged, and the newcomer goes in a file of its own
    assert (result["resubmitted"], result["submitted"], result["files_sent"]) == (1, 1, 2)
    assert result["files"] == [FILE, "202603020501001_1.csv"]
    assert world.objects()[f"debicheck/outgoing/{FILE}"] == first_body
    assert json.loads(world.objects()[f"debicheck/sent/{FILE}.json"])["transfer_id"] == "t-0002"
    assert [r.file for r in submitted_records(plan_record(*newcomer))] == ["202603020501001_1.csv"]


def test_a_taken_file_name_moves_to_the_next_sequence(world):
    stored_plan((date(2026, 3, 4), 40_000))
    world.s3.put_object(Bucket=BUCKET, Key=f"debicheck/outgoing/{FILE}", Body=b"another file")
    world.expect_transfer("202603020500002_1.csv")
    result = run_collection_submission(world.services, CollectionSubmissionRun())
    assert result["files"] == ["202603020500002_1.csv"]
    # And the other file is left as it was
    assert world.objects()[f"debicheck/outgoing/{FILE}"] == b"another file"


def test_a_recorded_collection_paid_since_is_left_out_when_its_unsent_file_is_sent_again(world):
    # Given a file refused by the connector, one of whose two plans is then paid by its link
    paid, owing = stored_plan((date(2026, 3, 4), 40_000)), stored_plan((date(2026, 3, 5), 30_000))
    world.connector.add_client_error("start_file_transfer", http_status_code=503)
    with pytest.raises(CollectionSubmissionIncompleteError):
        run_collection_submission(world.services, CollectionSubmissionRun())
    stored = PlanModel.get(*paid)
    current = PaymentPlan.model_validate(stored.plan["current"])
    paid_off = tuple(
        i.model_copy(update={"paid_cents": i.amount_cents, "status": InstalmentStatus.PAID})
        for i in current.instalments
    )
    settled = current.model_copy(
        update={"instalments": paid_off, "paid_cents": current.total_cents, "status": PlanStatus.COMPLETED}
    )
    document = {**stored.plan, "current": settled.model_dump(mode="json")}
    PlanModel(*paid, status="completed", plan=document, created_at=stored.created_at).save()
    # When the retry sends the file again
    world.expect_transfer()
    result = run_collection_submission(world.services, CollectionSubmissionRun())
    # Then it carries only the collection still owed
    assert result["resubmitted"] == 1
    body = world.objects()[f"debicheck/outgoing/{FILE}"].decode("ascii")
    assert [line.split(",")[6] for line in body.split("\r\n") if line.startswith("D,")] == ["2026-03-05"]
    assert [r.file for r in submitted_records(plan_record(*owing))] == [FILE]


def test_a_client_without_collections_or_without_stitch_sends_nothing(world):
    stored_plan((date(2026, 3, 4), 40_000))
    # Given the Stitch gateway is not the client's (the sandbox requested its mandates)
    sandbox = PaymentKeys.model_validate({"debicheck": {"provider": "sandbox", "callback_secret": "s" * 32}})
    world.services.payments = SimpleNamespace(keys=sandbox)
    assert run_collection_submission(world.services, CollectionSubmissionRun()) == {
        "submitted": 0, "skipped": "gateway_not_stitch",
    }
    # And a client whose file does not configure collections
    world.services.client = load_client_config(CLIENTS_DIR / "harbour-uk.toml")
    assert run_collection_submission(world.services, CollectionSubmissionRun()) == {
        "submitted": 0, "skipped": "not_configured",
    }
    assert world.objects() == {}
