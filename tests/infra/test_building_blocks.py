"""The pure parts of the infrastructure: layer assembly, table schemas, options, client selection."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

import pytest
from pynamodb.attributes import TTLAttribute

from rapport.store.models import ALL_MODELS
from rapport.strategy.config import load_client_config
from rapport_infra import catalogue, layer, tables, waf_logs
from rapport_infra.application import UnknownClientError, client_files
from rapport_infra.options import OptionsError, StackOptions

pytestmark = pytest.mark.infra

ACME = catalogue.CLIENTS_DIR / "acme-za.toml"


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> layer.LayerContents:
    return layer.build_layer_folder(load_client_config(ACME), tmp_path_factory.mktemp("layer") / "acme-za")


def test_layer_carries_the_validated_client_configuration(built_layer):
    # Given the layer assembled for acme-za
    config_file = built_layer.folder / "rapport-client" / "acme-za.json"
    # Then the JSON it ships loads back to the same configuration, at the path functions are given
    assert load_client_config(config_file) == load_client_config(ACME)
    assert built_layer.client_config_path == "/opt/rapport-client/acme-za.json"


def test_layer_carries_our_package_and_pure_python_dependencies_only(built_layer):
    python = built_layer.folder / "python"
    # Then the domain package is there with its data files
    assert (python / "rapport" / "settings.py").is_file()
    assert list((python / "rapport").rglob("*.toml"))
    # And the copied dependencies carry no compiled code (the virtualenv is not arm64 Linux)
    assert not [path for path in python.rglob("*") if path.suffix in (".so", ".pyd", ".c", ".pyc")]
    shipped = {entry.split("==")[0].lower() for entry in built_layer.distributions}
    assert {"pynamodb", "jinja2", "holidays", "svix", "tzdata", "python-dateutil"} <= shipped
    # And nothing the runtime or the managed Powertools layer already provides
    provided = layer.PROVIDED_BY_RUNTIME | layer.PROVIDED_BY_POWERTOOLS_LAYER
    assert not shipped & {name.lower() for name in provided}


def test_markupsafe_works_without_its_speedups(built_layer):
    # Given MarkupSafe copied without its C extension
    package = built_layer.folder / "python" / "markupsafe"
    # Then its pure-Python fallback is present for the import to fall back to
    assert (package / "_native.py").is_file()
    assert not list(package.glob("_speedups*.so"))


def test_a_compiled_dependency_without_fallback_stops_the_build(tmp_path, monkeypatch):
    # Given a build that may no longer rely on MarkupSafe's pure-Python fallback
    monkeypatch.setattr(layer, "PURE_PYTHON_FALLBACK", frozenset())
    # When the layer is assembled
    with pytest.raises(layer.LayerBuildError, match="MarkupSafe is compiled"):
        layer.build_layer_folder(load_client_config(ACME), tmp_path / "layer")


def test_a_missing_dependency_stops_the_build():
    with pytest.raises(layer.LayerBuildError, match="not-a-real-package"):
        layer.resolve_distributions(["not-a-real-package==1.0"])


def test_powertools_layer_is_the_pinned_version_for_our_runtime():
    version = importlib.metadata.version("aws-lambda-powertools")
    assert StackOptions().powertools_version == version
    parameter = layer.powertools_layer_parameter(version)
    assert parameter == f"/aws/service/powertools/python/arm64/python3.14/{version}"


def test_table_schemas_come_from_the_models():
    schemas = {schema.short_name: schema for schema in tables.table_schemas()}
    assert list(schemas) == list(catalogue.TABLES)
    assert {model.short_name for model in ALL_MODELS} | {"idempotency"} == set(schemas)
    accounts = schemas["accounts"]
    assert accounts.hash_key == tables.KeyAttribute("account_id", "S") and accounts.range_key is None
    arrears = next(index for index in accounts.indexes if index.name == "arrears-index")
    assert arrears.range_key == tables.KeyAttribute("days_past_due", "N")
    assert schemas["idempotency"].ttl_attribute == "expiration"
    expiring = {model.short_name for model in ALL_MODELS if model._ttl_attribute() is not None} | {"idempotency"}
    assert {schema.short_name for schema in schemas.values() if schema.ttl_attribute} == expiring


def test_a_model_ttl_attribute_switches_ttl_on_for_its_table(monkeypatch):
    # Given the links model given a TTL attribute, as a model that lets its records expire would be
    links = next(model for model in ALL_MODELS if model.short_name == "links")

    class ExpiringLinks(links):  # type: ignore[misc, valid-type]
        purge_at = TTLAttribute(null=True)

    monkeypatch.setattr(tables, "ALL_MODELS", tuple(ExpiringLinks if m is links else m for m in ALL_MODELS))
    # When the table schemas are read from the models
    schemas = {schema.short_name: schema for schema in tables.table_schemas()}
    # Then that table expires on the model's attribute, beside the idempotency table
    assert schemas["links"].ttl_attribute == "purge_at"
    assert {name for name, schema in schemas.items() if schema.ttl_attribute} == {"links", "idempotency"}


def _provider_signature_headers() -> set[str]:
    """The signature headers our payment adapters read, found in their source."""
    patterns = (
        re.compile(r'SIGNATURE_HEADER\s*=\s*"([^"]+)"'),
        re.compile(r'require_signature_header\(\s*headers,\s*"([^"]+)"'),
    )
    found = set()
    for path in (catalogue.LAYER_DIR / "rapport" / "payments").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(name.lower() for pattern in patterns for name in pattern.findall(text))
    return {name for name in found if "signature" in name}


def test_waf_redacts_every_signature_header_a_provider_adapter_reads():
    # Given the signature headers the payment adapters verify (a new adapter adds to these)
    headers = _provider_signature_headers()
    assert {"svix-signature", "x-paystack-signature"} <= headers
    # Then WAF's request log redacts each of them, and the Authorization header
    assert headers | {"authorization"} <= set(waf_logs.REDACTED_HEADERS)
    assert all(header == header.lower() for header in waf_logs.REDACTED_HEADERS)


def test_table_list_drift_is_refused(monkeypatch):
    # Given a catalogue that lists a table no model declares
    monkeypatch.setattr(catalogue, "TABLES", (*catalogue.TABLES, "ghosts"))
    # Then building the schemas fails and names the difference
    with pytest.raises(tables.TableCatalogueError, match="ghosts"):
        tables.table_schemas()


def test_options_come_from_context_and_name_the_bad_key():
    options = StackOptions.from_context({"rapport:logRetentionDays": 30, "region": "af-south-1", "other": 1})
    assert options.log_retention_days == 30 and options.region == "af-south-1"
    with pytest.raises(OptionsError, match=r"rapport:logRetentionDays"):
        StackOptions.from_context({"rapport:logRetentionDays": 31})
    with pytest.raises(OptionsError, match=r"account"):
        StackOptions.from_context({"account": "not-an-account"})


def test_cdk_json_context_is_valid_and_points_at_the_app():
    settings = json.loads((catalogue.PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))
    assert settings["app"].endswith("infra/app.py")
    assert StackOptions.from_context(settings["context"]).log_retention_days == 90


def test_client_selection(tmp_path: Path):
    every_client = sorted(path.stem for path in catalogue.CLIENTS_DIR.glob("*.toml"))
    assert [path.stem for path in client_files()] == every_client
    assert client_files("acme-za") == [ACME]
    with pytest.raises(UnknownClientError):
        client_files("nobody", clients_dir=tmp_path)


def test_the_installed_cloud_assembly_schema_is_the_one_aws_cdk_lib_speaks():
    # Given aws-cdk-lib and aws-cdk.cloud-assembly-schema, which both ship
    # aws_cdk/cloud_assembly_schema/__init__.py (aws/aws-cdk#38482; `make setup` reinstalls aws-cdk-lib last)
    from aws_cdk import cloud_assembly_schema

    # Then the copy on disk names its types as aws-cdk-lib does, so synth messages can be read back
    assert cloud_assembly_schema.MetadataEntry.__jsii_type__ == "aws-cdk-lib.cloud_assembly_schema.MetadataEntry", (
        "the virtualenv holds aws-cdk.cloud-assembly-schema's copy of aws_cdk/cloud_assembly_schema; run `make setup`"
    )
