"""The local cloud's moto speed-ups change how fast moto answers, never what it answers.

Each test runs the same DynamoDB calls on plain moto and on moto with the speed-ups installed and
compares what boto3 receives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from rapport_local import moto_speedups

REGION = "af-south-1"


def _create_tables(client: Any) -> None:
    client.create_table(
        TableName="accounts",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "account_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "account_id", "AttributeType": "S"},
            {"AttributeName": "phone", "AttributeType": "S"},
            {"AttributeName": "arrears_segment", "AttributeType": "S"},
            {"AttributeName": "days_past_due", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "phone-index",
                "KeySchema": [{"AttributeName": "phone", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "arrears-index",
                "KeySchema": [
                    {"AttributeName": "arrears_segment", "KeyType": "HASH"},
                    {"AttributeName": "days_past_due", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    )
    client.create_table(
        TableName="contacts",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "account_id", "KeyType": "HASH"},
            {"AttributeName": "contact_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "account_id", "AttributeType": "S"},
            {"AttributeName": "contact_id", "AttributeType": "S"},
        ],
    )


def _account(number: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "account_id": {"S": f"ACC-{number:04d}"},
        "phone": {"S": f"+2782{number % 7:07d}"},
        "days_past_due": {"N": str(30 * (number % 5))},
        "history": {"L": [{"N": str(month)} for month in range(6)]},
        "holds": {"M": {"dispute": {"BOOL": number % 3 == 0}}},
    }
    if number % 5:
        item["arrears_segment"] = {"S": ("self_cure", "needs_help")[number % 2]}
    return item


def _scenario(client: Any) -> list[Any]:
    """A run of item operations, including index moves, deletes, a failed transaction and errors."""
    _create_tables(client)
    answers: list[Any] = []
    for number in range(40):
        client.put_item(TableName="accounts", Item=_account(number))
        for contact in range(number % 4):
            client.put_item(
                TableName="contacts",
                Item={"account_id": {"S": f"ACC-{number:04d}"}, "contact_id": {"S": f"C{contact}"}, "n": {"N": "1"}},
            )
    answers.append(client.get_item(TableName="accounts", Key={"account_id": {"S": "ACC-0007"}}))
    answers.append(client.get_item(TableName="accounts", Key={"account_id": {"S": "ACC-9999"}}))
    answers.append(
        client.update_item(
            TableName="accounts",
            Key={"account_id": {"S": "ACC-0005"}},
            UpdateExpression="SET arrears_segment = :s, phone = :p",
            ExpressionAttributeValues={":s": {"S": "cant_pay"}, ":p": {"S": "+27829999999"}},
            ReturnValues="ALL_NEW",
        )
    )
    answers.append(
        client.update_item(
            TableName="accounts",
            Key={"account_id": {"S": "ACC-0006"}},
            UpdateExpression="REMOVE arrears_segment",
            ReturnValues="UPDATED_OLD",
        )
    )
    client.delete_item(TableName="accounts", Key={"account_id": {"S": "ACC-0008"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "accounts", "Item": _account(77)}},
                {
                    "Put": {
                        "TableName": "accounts",
                        "Item": _account(1),
                        "ConditionExpression": "attribute_not_exists(account_id)",
                    }
                },
            ]
        )
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "accounts",
                        "Key": {"account_id": {"S": "ACC-0003"}},
                        "UpdateExpression": "SET days_past_due = :d REMOVE arrears_segment",
                        "ExpressionAttributeValues": {":d": {"N": "999"}},
                    }
                },
                {"Delete": {"TableName": "accounts", "Key": {"account_id": {"S": "ACC-0004"}}}},
                {"ConditionCheck": {
                    "TableName": "accounts", "Key": {"account_id": {"S": "ACC-0002"}},
                    "ConditionExpression": "attribute_not_exists(account_id)",
                }},
            ]
        )
    answers.append(client.get_item(TableName="accounts", Key={"account_id": {"S": "ACC-0003"}}))
    answers.append(client.get_item(TableName="accounts", Key={"account_id": {"S": "ACC-0004"}}))
    for segment in ("self_cure", "needs_help", "cant_pay"):
        answers.append(
            client.query(
                TableName="accounts",
                IndexName="arrears-index",
                KeyConditionExpression="arrears_segment = :s AND days_past_due >= :d",
                ExpressionAttributeValues={":s": {"S": segment}, ":d": {"N": "60"}},
                Limit=3,
            )
        )
    for phone in ("+27829999999", "+27820000001", "+27820000003"):
        answers.append(
            client.query(
                TableName="accounts",
                IndexName="phone-index",
                KeyConditionExpression="phone = :p",
                ExpressionAttributeValues={":p": {"S": phone}},
            )
        )
    answers.append(
        client.query(
            TableName="contacts",
            KeyConditionExpression="account_id = :a",
            ExpressionAttributeValues={":a": {"S": "ACC-0003"}},
            ScanIndexForward=False,
        )
    )
    answers.append(client.scan(TableName="accounts", Limit=5))
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.get_item(TableName="no-such-table", Key={"account_id": {"S": "x"}})
    answers.append(missing.value.response["Error"])
    answers.append(client.describe_table(TableName="accounts")["Table"]["KeySchema"])
    for answer in answers:
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
    return answers


def _run(with_speedups: bool, scenario: Callable[[Any], list[Any]]) -> list[Any]:
    with mock_aws(), ExitStack() as stack:
        if with_speedups:
            moto_speedups.install(stack)
        return scenario(boto3.client("dynamodb", region_name=REGION))


def test_item_operations_answer_exactly_as_plain_moto() -> None:
    # Given the same calls, When run on plain moto and on moto with the speed-ups
    plain = _run(False, _scenario)
    fast = _run(True, _scenario)

    # Then every answer is the same, and the index queries saw the moved and deleted items
    assert fast == plain
    phone_answers = [a for a in fast if isinstance(a, dict) and a.get("Count") is not None]
    assert any(a["Count"] == 1 and a["Items"][0]["account_id"]["S"] == "ACC-0005" for a in phone_answers)


def test_index_buckets_follow_writes_from_many_threads() -> None:
    # Given 400 accounts moved between index values by 8 threads at once
    def scenario(client: Any) -> list[Any]:
        _create_tables(client)
        for number in range(400):
            client.put_item(TableName="accounts", Item=_account(number))
        client.query(  # builds the buckets before the writes start
            TableName="accounts",
            IndexName="arrears-index",
            KeyConditionExpression="arrears_segment = :s",
            ExpressionAttributeValues={":s": {"S": "settled"}},
        )

        def move(start: int) -> None:
            for number in range(start, 400, 8):
                client.update_item(
                    TableName="accounts",
                    Key={"account_id": {"S": f"ACC-{number:04d}"}},
                    UpdateExpression="SET arrears_segment = :s",
                    ExpressionAttributeValues={":s": {"S": "settled" if number % 2 else "self_cure"}},
                )

        threads = [threading.Thread(target=move, args=(start,)) for start in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        counts = []
        for segment in ("settled", "self_cure", "needs_help"):
            pages = client.get_paginator("query").paginate(
                TableName="accounts",
                IndexName="arrears-index",
                KeyConditionExpression="arrears_segment = :s",
                ExpressionAttributeValues={":s": {"S": segment}},
            )
            counts.append(sum(page["Count"] for page in pages))
        return counts

    # When the index is queried afterwards, Then it sees exactly where every account now is
    assert _run(True, scenario) == _run(False, scenario) == [200, 200, 0]


def test_a_query_never_trips_over_an_item_leaving_a_sparse_index_meanwhile() -> None:
    # Given 200 accounts in arrears, and 4 threads taking accounts out of the index and back, over and
    # over (an account pays: its arrears_segment is removed; a new arrear puts it back)
    def scenario(client: Any) -> list[Any]:
        _create_tables(client)
        for number in range(1, 200, 2):
            client.put_item(TableName="accounts", Item=_account(number))
        stop = threading.Event()

        def churn(start: int) -> None:
            while not stop.is_set():
                for number in range(start, 200, 8):
                    key = {"account_id": {"S": f"ACC-{number:04d}"}}
                    client.update_item(TableName="accounts", Key=key, UpdateExpression="REMOVE arrears_segment")
                    client.update_item(
                        TableName="accounts", Key=key, UpdateExpression="SET arrears_segment = :s",
                        ExpressionAttributeValues={":s": {"S": "needs_help"}},
                    )

        threads = [threading.Thread(target=churn, args=(start,)) for start in range(1, 9, 2)]
        for thread in threads:
            thread.start()
        answers = []
        try:
            # When the index is queried all the while
            for _ in range(150):
                answer = client.query(
                    TableName="accounts", IndexName="arrears-index",
                    KeyConditionExpression="arrears_segment = :s",
                    ExpressionAttributeValues={":s": {"S": "needs_help"}},
                )
                answers.append(answer["Items"])
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        return answers

    # Then every query answers, with accounts that held the segment when it was read
    answers = _run(True, scenario)
    assert len(answers) == 150
    assert all(item["arrears_segment"]["S"] == "needs_help" for items in answers for item in items)


def test_a_failed_transaction_keeps_what_other_writers_wrote_meanwhile() -> None:
    # Given a transaction that will fail, and another writer that puts a new account into the same
    # table while the transaction runs (here: when the transaction reads its condition's item)
    from moto.dynamodb.models import DynamoDBBackend

    def scenario(client: Any) -> list[Any]:
        _create_tables(client)
        for number in range(5):
            client.put_item(TableName="accounts", Item=_account(number))
        read_item = DynamoDBBackend.get_item
        written: list[bool] = []

        def read_while_another_writes(backend: Any, table_name: str, keys: Any, *args: Any, **kwargs: Any) -> Any:
            if keys.get("account_id") == {"S": "ACC-0002"} and not written:
                written.append(True)
                backend.put_item("accounts", _account(50))
            return read_item(backend, table_name, keys, *args, **kwargs)

        # When the transaction fails
        with (
            mock.patch.object(DynamoDBBackend, "get_item", read_while_another_writes),
            pytest.raises(client.exceptions.TransactionCanceledException),
        ):
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": "accounts", "Item": _account(60)}},
                {"ConditionCheck": {
                    "TableName": "accounts", "Key": {"account_id": {"S": "ACC-0002"}},
                    "ConditionExpression": "attribute_not_exists(account_id)",
                }},
            ])
        return [
            "Item" in client.get_item(TableName="accounts", Key={"account_id": {"S": f"ACC-{number:04d}"}})
            for number in (50, 60)
        ]

    # Then the other writer's account is there and the transaction's is not (plain moto loses both)
    assert _run(True, scenario) == [True, False]
    assert _run(False, scenario) == [False, False]


def test_a_table_named_by_arn_and_a_backup_end_as_on_plain_moto() -> None:
    # Given a failing transaction that names its table by ARN, and a backup restored after changes
    def scenario(client: Any) -> list[Any]:
        _create_tables(client)
        for number in range(4):
            client.put_item(TableName="accounts", Item=_account(number))
        arn = client.describe_table(TableName="accounts")["Table"]["TableArn"]
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": arn, "Item": _account(70)}},
                {"Delete": {"TableName": arn, "Key": {"account_id": {"S": "ACC-0001"}}}},
                {"ConditionCheck": {
                    "TableName": arn, "Key": {"account_id": {"S": "ACC-0002"}},
                    "ConditionExpression": "attribute_not_exists(account_id)",
                }},
            ])
        after_transaction = sorted(item["account_id"]["S"] for item in client.scan(TableName="accounts")["Items"])
        backup = client.create_backup(TableName="accounts", BackupName="before")["BackupDetails"]["BackupArn"]
        client.delete_item(TableName="accounts", Key={"account_id": {"S": "ACC-0000"}})
        client.put_item(TableName="accounts", Item=_account(80))
        client.restore_table_from_backup(TargetTableName="restored", BackupArn=backup)
        restored = sorted(item["account_id"]["S"] for item in client.scan(TableName="restored")["Items"])
        return [after_transaction, restored]

    # When run with the speed-ups, Then the transaction is wholly undone (plain moto snapshots tables by
    # name only, so there it leaves its first two writes), and the backup restores the table as it was
    # when taken, not as it is now, as on plain moto
    fast, plain = _run(True, scenario), _run(False, scenario)
    assert fast[0] == fast[1] == ["ACC-0000", "ACC-0001", "ACC-0002", "ACC-0003"]
    assert plain[1] == plain[0]


def test_a_search_by_status_passes_over_an_execution_that_has_not_started():
    from moto.stepfunctions.parser.backend.execution import ExecutionStatus
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    class NotStarted:  # as moto lists an execution before it sets its status
        exec_status = None

        @property
        def status(self) -> str:
            return self.exec_status.value

    class Running:
        exec_status = ExecutionStatus.RUNNING
        status = ExecutionStatus.RUNNING

    class Backend:
        state_machines = [type("Machine", (), {"executions": [NotStarted(), Running()]})()]

    with ExitStack() as stack:
        moto_speedups.skip_executions_not_yet_running(stack)
        # When executions are searched by status, Then the one not started is passed over, not read
        running = StepFunctionsParserBackend._get_executions(Backend(), ExecutionStatus.RUNNING)
        everything = StepFunctionsParserBackend._get_executions(Backend())
    assert [type(execution).__name__ for execution in running] == ["Running"]
    assert len(everything) == 2
    # And without the speed-up, moto's own search trips over it
    with pytest.raises(AttributeError):
        StepFunctionsParserBackend._get_executions(Backend(), ExecutionStatus.RUNNING)
