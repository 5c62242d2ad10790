"""The client's DynamoDB tables, their keys taken from the pynamodb models themselves.

:func:`table_schemas` reads each model's own schema (the one pynamodb's ``create_table`` uses,
and so the one the local cloud creates), so a key or index added to a model reaches the stack
without a second declaration. A model's ``TTLAttribute`` becomes its table's TTL, so records the
domain lets expire are deleted by DynamoDB. The idempotency table follows Powertools' defaults:
hash key ``id`` and the TTL attribute ``expiration``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from rapport.store.models import ALL_MODELS, IDEMPOTENCY_TABLE
from rapport_infra import catalogue

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


class TableCatalogueError(Exception):
    """The pynamodb models and the catalogue's table list disagree."""


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str  # "S", "N" or "B"


@dataclass(frozen=True)
class IndexSchema:
    name: str
    hash_key: KeyAttribute
    range_key: KeyAttribute | None
    projection: str
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    short_name: str
    hash_key: KeyAttribute
    range_key: KeyAttribute | None = None
    indexes: tuple[IndexSchema, ...] = ()
    ttl_attribute: str | None = None


def _keys(
    key_schema: list[dict[str, str]], types: dict[str, str]
) -> tuple[KeyAttribute, KeyAttribute | None]:
    by_role = {key["KeyType"]: key["AttributeName"] for key in key_schema}
    range_name = by_role.get("RANGE")
    hash_key = KeyAttribute(by_role["HASH"], types[by_role["HASH"]])
    return hash_key, KeyAttribute(range_name, types[range_name]) if range_name else None


def table_schemas() -> tuple[TableSchema, ...]:
    """One schema per table of the catalogue, in the catalogue's order."""
    schemas: dict[str, TableSchema] = {}
    for model in ALL_MODELS:
        # pynamodb's own description of the table (what Model.create_table sends).
        schema = model._get_schema()
        types = {item["AttributeName"]: item["AttributeType"] for item in schema["attribute_definitions"]}
        hash_key, range_key = _keys(schema["key_schema"], types)
        indexes = tuple(
            IndexSchema(
                name=index["index_name"],
                hash_key=_keys(index["key_schema"], types)[0],
                range_key=_keys(index["key_schema"], types)[1],
                projection=index["projection"]["ProjectionType"],
                non_key_attributes=tuple(index["projection"].get("NonKeyAttributes", ())),
            )
            for index in schema.get("global_secondary_indexes", [])
        )
        if schema.get("local_secondary_indexes"):
            raise TableCatalogueError(f"{model.short_name}: local secondary indexes are not supported")
        ttl = model._ttl_attribute()
        schemas[model.short_name] = TableSchema(
            model.short_name, hash_key, range_key, indexes, ttl_attribute=ttl.attr_name if ttl else None
        )
    schemas[IDEMPOTENCY_TABLE] = TableSchema(
        IDEMPOTENCY_TABLE, KeyAttribute("id", "S"), ttl_attribute="expiration"
    )
    if set(schemas) != set(catalogue.TABLES):
        raise TableCatalogueError(
            f"models declare {sorted(schemas)} but the catalogue lists {sorted(catalogue.TABLES)}"
        )
    return tuple(schemas[name] for name in catalogue.TABLES)


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class Tables(Construct):
    """Every table of the client: on demand, PITR, the client's KMS key, retained on teardown."""

    def __init__(self, scope: Construct, construct_id: str, *, table_prefix: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.schemas = {schema.short_name: schema for schema in table_schemas()}
        self.by_name: dict[str, dynamodb.Table] = {}
        for schema in self.schemas.values():
            table = dynamodb.Table(
                self, schema.short_name.capitalize(),
                table_name=f"{table_prefix}-{schema.short_name}",
                partition_key=_attribute(schema.hash_key),
                sort_key=_attribute(schema.range_key) if schema.range_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=schema.ttl_attribute,
                deletion_protection=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for index in schema.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(index.hash_key),
                    sort_key=_attribute(index.range_key) if index.range_key else None,
                    projection_type=_PROJECTIONS[index.projection],
                    non_key_attributes=list(index.non_key_attributes) or None,
                )
            self.by_name[schema.short_name] = table

    def index_names(self, short_name: str) -> tuple[str, ...]:
        return tuple(index.name for index in self.schemas[short_name].indexes)
