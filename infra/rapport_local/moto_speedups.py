"""Narrow patches that let moto carry a whole portfolio's journeys in one process.

moto is built to answer a test's handful of calls. A local campaign makes hundreds of thousands,
from hundreds of journey threads at once, against tables of tens of thousands of items. Each patch
below removes one cost that grows with that load and changes no answer moto gives; each says why
it exists and when it can go. :func:`install` enters them all on an ``ExitStack``; leaving the
stack restores moto.

Measured on the 1,000-row slice (234 journeys), CPU time of the whole run: 151 s with none of
these, 69 s with the parser, lock and serialiser patches; see the README for the full run.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import threading
from contextlib import ExitStack
from typing import Any
from unittest import mock

# DynamoDB operations whose results carry only items, keys, counts and capacity.
DYNAMODB_ITEM_OPERATIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
})


def install(stack: ExitStack) -> None:
    """Enter every speed-up on ``stack`` (inside ``mock_aws``)."""
    memoise_asl_parser(stack)
    memoise_json_paths(stack)
    find_backends_without_lock(stack)
    answer_item_operations_as_json(stack)
    read_only_what_a_query_needs(stack)
    roll_back_transactions_item_by_item(stack)
    keep_no_list_of_interpreter_threads(stack)
    write_each_item_atomically(stack)
    skip_executions_not_yet_running(stack)


def memoise_asl_parser(stack: ExitStack) -> None:
    # NOTE: moto parses the state machine's ASL again for every execution. A parsed definition
    # holds no execution state, so one parse per definition is enough. Drop if moto caches it.
    from moto.stepfunctions.parser.asl.parse import asl_parser

    parse = functools.lru_cache(maxsize=16)(asl_parser.AmazonStateLanguageParser.parse)
    stack.enter_context(mock.patch.object(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(parse)))


def memoise_json_paths(stack: ExitStack) -> None:
    # NOTE: moto's interpreter compiles every JSONPath ("$.account_id", "$.attempt") again on each
    # use, and jsonpath-ng builds a new LALR parser for each compile: the largest single cost of a
    # local journey. A compiled path holds no per-execution state, so one compile per distinct path
    # is enough. Drop this if moto caches compiled paths.
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        stack.enter_context(mock.patch.object(module, "parse", functools.lru_cache(maxsize=1024)(module.parse)))


def find_backends_without_lock(stack: ExitStack) -> None:
    # NOTE: every moto request looks up its service backend under one process-wide lock, even when
    # the backend exists. With hundreds of journeys in flight that lock, not the work, set the
    # pace: threads queued on it in nine samples out of ten. A backend that exists is found
    # without the lock here; creating one still takes it. Drop if moto adds the fast path.
    from moto.core.base_backend import BackendDict

    create = BackendDict._create_account_specific_backend

    def find_or_create(backends: BackendDict, account_id: str) -> None:
        if dict.__contains__(backends, account_id):
            return
        create(backends, account_id)

    stack.enter_context(mock.patch.object(BackendDict, "_create_account_specific_backend", find_or_create))


def answer_item_operations_as_json(stack: ExitStack) -> None:
    # NOTE: moto answers every DynamoDB call by walking the result against the botocore shape,
    # attribute by attribute: a large account item costs more to serialise than to find. Item
    # operations' results are already in DynamoDB's wire format (moto converts them before
    # serialising), so for those operations plain JSON is the same answer; a test compares both.
    # Control-plane calls and errors still take moto's path. Drop if moto's serialiser gets faster.
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(result: DynamoResult, context: Any) -> Any:
        if context.operation_model.name not in DYNAMODB_ITEM_OPERATIONS or not isinstance(result.result, dict):
            return original(result, context)
        body = json.dumps({key: value for key, value in result.result.items() if value is not None})
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    stack.enter_context(mock.patch.object(DynamoResult, "execute_result", execute_result))


class _IndexBuckets:
    """Items of one table by the hash key of one global secondary index, kept up to date.

    Built on the first query of that index, then maintained on every put, update and delete.
    Candidates are only a pre-selection: moto still checks every key condition on them, so a
    bucket that holds an item it no longer should costs time, never a wrong answer.
    """

    def __init__(self, table: Any, attribute: str) -> None:
        self.table = table
        self.attribute = attribute
        self.by_value: dict[Any, dict[Any, Any]] = {}
        self.value_of: dict[Any, Any] = {}
        self.lock = threading.Lock()
        for bucket in list(table.items.values()):
            for item in list(bucket.values()) if table.range_key_attr else [bucket]:
                self.place(item)

    @staticmethod
    def _hashable(typed: Any) -> Any:
        """A moto DynamoType as a dict key: its type and value (lists and maps as sorted JSON)."""
        value = typed.value
        return (typed.type, value if isinstance(value, str | bool) else json.dumps(value, sort_keys=True))

    def _value(self, item: Any, attribute: str) -> Any:
        typed = item.attrs.get(attribute)
        return None if typed is None else self._hashable(typed)

    def _key(self, item: Any) -> Any:
        return (item.hash_key.value, item.range_key.value if item.range_key is not None else None)

    def place(self, item: Any) -> None:
        key, value = self._key(item), self._value(item, self.attribute)
        with self.lock:
            old = self.value_of.get(key)
            if old is not None:
                self.by_value.get(old, {}).pop(key, None)
            if value is None:
                self.value_of.pop(key, None)
                return
            self.by_value.setdefault(value, {})[key] = item
            self.value_of[key] = value

    def remove(self, item: Any) -> None:
        key = self._key(item)
        with self.lock:
            old = self.value_of.pop(key, None)
            if old is not None:
                self.by_value.get(old, {}).pop(key, None)

    def candidates(self, hash_value: Any, key_attributes: tuple[str, ...]) -> list[Any]:
        """The items holding ``hash_value``, each as a copy of its attributes taken now.

        A writer in another thread may change an item between this pre-selection and moto's key
        checks, even drop the index's key from it (a sparse index: an account leaves arrears); moto
        then reads a key that is gone. So each candidate is a shallow copy whose attributes are a
        snapshot, and an item that no longer holds every key attribute of the index is left out, as
        DynamoDB leaves it out of the index.
        """
        with self.lock:
            held = list(self.by_value.get(self._hashable(hash_value), {}).values())
        snapshots = []
        for item in held:
            attributes = dict(item.attrs)
            if all(name in attributes for name in key_attributes):
                snapshot = copy.copy(item)
                snapshot.attrs = attributes
                snapshots.append(snapshot)
        return snapshots


def read_only_what_a_query_needs(stack: ExitStack) -> None:
    # NOTE: moto answers every Query by sorting every item of the table and filtering, so each query
    # costs O(table) and a long run slows as the tables fill (a reply's lookup by phone took 0.3 s
    # with 30,000 accounts); its loop over the table can also fail while another thread writes.
    # Here a query on the table key reads only its partition, as DynamoDB does, and a query on a
    # global index's hash key reads only the items holding that value, from buckets kept on every
    # write. Every read takes a snapshot. Drop this if moto indexes partitions and indexes itself.
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    chosen = threading.local()
    indexes: dict[tuple[int, str], _IndexBuckets] = {}
    original_query = Table.query
    original_put = Table.put_item
    original_delete = Table.delete_item
    original_update = DynamoDBBackend.update_item

    def all_items(table: Table) -> list[Any]:
        preselected = getattr(chosen, "items", None)
        if preselected is not None and preselected[0] is table:
            items = preselected[1]
        else:
            items = []
            for bucket in list(table.items.values()):
                # One C-level copy per bucket: a writer in another thread cannot break it.
                items.extend(list(bucket.values()) if table.range_key_attr else [bucket])
        return sorted(items, key=lambda item: (item.hash_key, item.range_key) if item.range_key else item.hash_key)

    def buckets_for(table: Table, index_name: str) -> _IndexBuckets | None:
        index = next((i for i in table.global_indexes if i.name == index_name), None)
        if index is None:
            return None
        hash_attributes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
        if len(hash_attributes) != 1:
            return None
        found = indexes.get((id(table), index_name))
        if found is None or found.table is not table:
            found = indexes[(id(table), index_name)] = _IndexBuckets(table, hash_attributes[0])
        return found

    def indexed(table: Table) -> list[_IndexBuckets]:
        return [b for (table_id, _), b in list(indexes.items()) if table_id == id(table) and b.table is table]

    index_position = list(inspect.signature(original_query).parameters).index("index_name") - 2

    def query(table: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[index_position] if len(args) > index_position else kwargs.get("index_name")
        if hash_key is None:
            return original_query(table, hash_key, *args, **kwargs)
        if index_name:
            buckets = buckets_for(table, index_name)
            if buckets is None:
                return original_query(table, hash_key, *args, **kwargs)
            index = next(i for i in table.global_indexes if i.name == index_name)
            candidates = buckets.candidates(hash_key, tuple(key["AttributeName"] for key in index.schema))
        else:
            bucket = table.items.get(hash_key)
            candidates = [] if bucket is None else (list(bucket.values()) if table.range_key_attr else [bucket])
        chosen.items = (table, candidates)
        try:
            return original_query(table, hash_key, *args, **kwargs)
        finally:
            chosen.items = None

    def put_item(table: Table, *args: Any, **kwargs: Any) -> Any:
        item = original_put(table, *args, **kwargs)
        for buckets in indexed(table):
            buckets.place(item)
        return item

    def delete_item(table: Table, *args: Any, **kwargs: Any) -> Any:
        item = original_delete(table, *args, **kwargs)
        if item is not None:
            for buckets in indexed(table):
                buckets.remove(item)
        return item

    def update_item(backend: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = original_update(backend, table_name, *args, **kwargs)
        table = backend.tables.get(table_name)
        if table is not None and item is not None:
            for buckets in indexed(table):
                buckets.place(item)
        return item

    stack.enter_context(mock.patch.object(Table, "all_items", all_items))
    stack.enter_context(mock.patch.object(Table, "query", query))
    stack.enter_context(mock.patch.object(Table, "put_item", put_item))
    stack.enter_context(mock.patch.object(Table, "delete_item", delete_item))
    stack.enter_context(mock.patch.object(DynamoDBBackend, "update_item", update_item))


# Every module of moto's Step Functions interpreter that appends its threads to the shared list.
_MODULES_LISTING_THREADS = (
    "moto.stepfunctions.parser.asl.component.program.program",
    "moto.stepfunctions.parser.asl.component.test_state.program.test_state_program",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.backend.execution_worker",
)


class _ThreadsNotKept(list):
    """A list that keeps nothing appended to it."""

    def append(self, thread: Any) -> None:
        return None


def keep_no_list_of_interpreter_threads(stack: ExitStack) -> None:
    # NOTE: moto's interpreter appends every thread it starts (one per execution and one per state
    # with a timeout) to a module-level list that nothing reads or trims: 3,500 journeys leave some
    # 40,000 finished threads, with their locks and events, for every garbage collection to walk.
    # Running threads are held by the threading module anyway. Drop if moto stops keeping the list.
    import importlib

    not_kept = _ThreadsNotKept()
    for name in _MODULES_LISTING_THREADS:
        module = importlib.import_module(name)
        if hasattr(module, "TMP_THREADS"):
            stack.enter_context(mock.patch.object(module, "TMP_THREADS", not_kept))


def write_each_item_atomically(stack: ExitStack) -> None:
    # NOTE: moto checks a write's condition, reads the item and writes it back as separate steps, so two
    # threads writing one item can interleave (DynamoDB makes each item write atomic): a conditional put
    # of a new item and an update creating it meanwhile lost one's fields about once in 7,000 journeys
    # (a journey record without its campaign). Here the writes to one table take turns. Reads do not
    # wait. Drop this if moto makes item writes atomic.
    from moto.dynamodb.models import DynamoDBBackend

    locks: dict[str, threading.RLock] = {}
    making_locks = threading.Lock()

    def lock_for(table_name: str) -> threading.RLock:
        with making_locks:
            return locks.setdefault(table_name, threading.RLock())

    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def in_turn(backend: Any, table_name: str, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock_for(table_name):
                return __original(backend, table_name, *args, **kwargs)

        stack.enter_context(mock.patch.object(DynamoDBBackend, name, in_turn))


def skip_executions_not_yet_running(stack: ExitStack) -> None:
    # NOTE: moto lists an execution before it has started (no status, no worker yet), and every search
    # of executions by status reads the status of each: a callback that arrived while another journey
    # was starting failed with AttributeError (once in a full run). An execution that has not started
    # holds no callback and matches no status, so the search leaves it out. Drop this if moto sets the
    # status before it lists the execution.
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def get_executions(backend: Any, execution_status: Any = None) -> list[Any]:
        return [
            execution
            for state_machine in list(backend.state_machines)
            for execution in list(state_machine.executions)
            if execution_status is None
            or (getattr(execution, "exec_status", None) is not None and execution.status == execution_status)
        ]

    stack.enter_context(mock.patch.object(StepFunctionsParserBackend, "_get_executions", get_executions))


def roll_back_transactions_item_by_item(stack: ExitStack) -> None:
    """A failed TransactWriteItems puts back the items it touched, and only those.

    NOTE: moto keeps a deep copy of every table a transaction touches and, when the transaction
    fails, puts the copy in the table's place. The copy costs O(table) for every payment, so a
    full run slowed as the tables filled (a fifth of all CPU at 3,000 journeys); and the swap also
    threw away every write other threads made while the transaction ran. Here moto's copy, while
    a transaction runs, is the table itself (the swap is then a no-op; a backup still gets a real
    copy), the items the transaction names (by table name or ARN) are saved before it runs, and a
    failure writes those back through the table's own put and delete, so index buckets follow.
    Transactions run one at a time, as DynamoDB isolates them; a plain write from another thread to
    an item a failing transaction touched can still be overwritten by the restore, a far smaller
    window than before. Drop this if moto rolls back per item.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_transact = DynamoDBBackend.transact_write_items
    one_at_a_time = threading.Lock()

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with one_at_a_time:
            saved = _items_named_by(backend, transact_items)
            _IN_TRANSACTION.active = True
            try:
                original_transact(backend, transact_items)
            except Exception:
                for (table, hash_key, range_key), attributes in saved.items():
                    if attributes is None:
                        table.delete_item(hash_key, range_key)
                    else:
                        table.put_item(attributes, overwrite=True)
                raise
            finally:
                _IN_TRANSACTION.active = False

    stack.enter_context(mock.patch.object(Table, "__deepcopy__", _the_table_itself, create=True))
    stack.enter_context(mock.patch.object(DynamoDBBackend, "transact_write_items", transact_write_items))


_IN_TRANSACTION = threading.local()


def _the_table_itself(table: Any, memo: dict[int, Any]) -> Any:
    """moto's rollback snapshot inside our transactions; a real deep copy anywhere else (a backup)."""
    if getattr(_IN_TRANSACTION, "active", False):
        return table
    reductor = table.__reduce_ex__(4)
    return copy._reconstruct(table, memo, *reductor)  # what deepcopy does for a class without __deepcopy__


def _items_named_by(backend: Any, transact_items: list[dict[str, Any]]) -> dict[tuple[Any, Any, Any], Any]:
    """(table, hash key, range key) -> a copy of the item's attributes, or None where there is none."""
    from moto.dynamodb.exceptions import ResourceNotFoundException
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: dict[tuple[Any, Any, Any], Any] = {}
    for operation in transact_items:
        kind, request = next(iter(operation.items()))
        try:
            table = backend.get_table(request.get("TableName"))  # by name or by ARN
        except ResourceNotFoundException:
            continue  # moto refuses this operation before writing anything
        key = request.get("Item") if kind == "Put" else request.get("Key")
        if not isinstance(key, dict) or table.hash_key_attr not in key:
            continue  # moto refuses this operation before writing anything
        if table.range_key_attr is not None and table.range_key_attr not in key:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
        current = table.get_item(hash_key, range_key)
        attributes = None if current is None else copy.deepcopy(current.to_json()["Attributes"])
        saved[(table, hash_key, range_key)] = attributes
    return saved
