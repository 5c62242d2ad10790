"""DebiCheck collections on the local cloud: a plan accepted with bank details, its Stitch mandate
granted by a Svix-signed callback, then the ``submit_collections`` function (the real handler, invoked
as its schedule does) writes Stitch's collection file into the stack's bucket (moto's S3) and hands it
to the SFTP connector (Transfer Family, stubbed with botocore's Stubber: moto has no
``StartFileTransfer``). Stitch's ``transaction`` callback for the collection then pays the instalment.

Stitch's API and callbacks are the fakes and signing of ``test_payments_debicheck``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.stub import ANY, Stubber
from journey_helpers import MONDAY_MORNING
from test_payments_debicheck import DEBICHECK_KEYS, FakeStitch, Stack, collection, consent_update, mandated, post

from rapport.clock import SimulatedClock
from rapport.payments.collection_delivery import S3TransferDelivery
from rapport.payments.debicheck_collections import collection_window, submitted_records
from rapport.payments.plans import PaymentPlan, business_calendar
from rapport.payments.providers.stitch_debicheck import contract_reference
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_local.cloud import REGION, LocalCloud
from rapport_local.payments_page import enable_payments, latest_plan

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Africa/Johannesburg")


@pytest.fixture
def stack():
    cloud = LocalCloud(CLIENTS_DIR / "acme-za.toml", SimulatedClock(MONDAY_MORNING, scale=1))
    cloud.__enter__()
    stitch = FakeStitch()
    enable_payments(cloud, extra_keys={"debicheck": DEBICHECK_KEYS}, transport=stitch)
    yield Stack(cloud, stitch)
    cloud.__exit__(None, None, None)


def test_an_approved_mandates_instalment_is_submitted_once_and_paid_by_stitchs_callback(stack):
    cloud = stack.cloud
    config = cloud.client.payments.debicheck_collections
    assert config is not None and cloud.settings is not None
    # Given a debtor whose plan's mandate Stitch reports granted
    account_id, mandate = mandated(stack)
    assert post(stack, consent_update(stack, mandate, "PaymentConsentGranted"))["outcome"] == "applied"
    first = PaymentPlan.model_validate(latest_plan(account_id).plan["current"]).unpaid[0]
    # And the first morning whose collection window holds the first instalment's date
    calendar = business_calendar("ZA")
    day = first.due_date - timedelta(days=1)
    while first.due_date not in collection_window(day, calendar, config.lead_business_days,
                                                   config.window_business_days):
        day -= timedelta(days=1)
    cloud.clock.rebase(datetime.combine(day, time(7, 0), tzinfo=ZONE))
    # And the stack's bucket, and a connector that takes one file
    bucket = cloud.settings.collections_bucket
    s3, transfer = boto3.client("s3", region_name=REGION), boto3.client("transfer", region_name=REGION)
    with Stubber(transfer) as connector:
        connector.add_response(
            "start_file_transfer", {"TransferId": "t-integration"},
            # The file's name carries the minute it is built in; the unit tests check the path itself.
            {"ConnectorId": config.connector_id, "SendFilePaths": ANY,
             "RemoteDirectoryPath": config.remote_directory},
        )
        cloud.services.collection_delivery = S3TransferDelivery(
            s3, transfer, bucket=bucket, connector_id=config.connector_id, remote_directory=config.remote_directory
        )
        # When the schedule invokes submit_collections that morning
        result = cloud.invoke("submit_collections", {})
        connector.assert_no_pending_responses()
    # Then one file holds the instalment, on the mandate's consent, for its amount and date
    (name,) = result["files"]
    assert (result["submitted"], result["files_sent"]) == (1, 1)
    body = s3.get_object(Bucket=bucket, Key=f"debicheck/outgoing/{name}")["Body"].read().decode("ascii")
    (line,) = [row.split(",") for row in body.split("\r\n") if row.startswith("D,")]
    assert line[2:5] == [mandate["provider_reference"], contract_reference(mandate["mandate_id"]),
                         f"{first.outstanding_cents // 100}.{first.outstanding_cents % 100:02d}"]
    assert line[6] == first.due_date.isoformat()
    # And the plan records it as submitted in that file, without any bank detail anywhere
    (record,) = submitted_records(latest_plan(account_id).plan)
    assert (record.instalment, record.attempt, record.file) == (first.number, first.misses, name)
    assert "1234567890" not in body
    # When Stitch reports the collection succeeded on its date
    cloud.clock.rebase(datetime.combine(first.due_date, time(10, 0), tzinfo=ZONE))
    answer = post(stack, collection(stack, mandate, first.outstanding_cents))
    # Then the instalment is paid, and a later run lists nothing again
    assert answer["status"] == 200, answer
    paid = PaymentPlan.model_validate(latest_plan(account_id).plan["current"]).instalment(first.number)
    assert paid.outstanding_cents == 0
    cloud.clock.rebase(datetime.combine(day + timedelta(days=1), time(7, 0), tzinfo=ZONE))
    with Stubber(transfer):  # no response scripted: any transfer would fail the run
        again = cloud.invoke("submit_collections", {})
    assert (again["submitted"], again["files_sent"], again["files"]) == (0, 0, [])
