"""The shared Lambda layer: our ``rapport`` package, its pure-Python dependencies and the client file.

The folder is assembled in Python before CDK hashes it as an asset, so synth needs neither Docker
nor the network:

* ``python/rapport/``: the domain package from ``layers/rapport``.
* ``python/<dependency>/``: the runtime dependencies declared in ``pyproject.toml`` (and theirs),
  copied from the local virtualenv. Only pure-Python distributions can be copied that way, since
  the virtualenv is not built for arm64 Linux; a compiled distribution that is not known to fall
  back to pure Python stops the build with :class:`LayerBuildError`.
* ``rapport-client/<client_id>.json``: the client's validated configuration, at
  ``/opt/rapport-client/<client_id>.json`` in Lambda (``RAPPORT_CLIENT_CONFIG``).

What is not copied comes from elsewhere: boto3 and botocore from the Lambda runtime, and
Powertools with its compiled companions (pydantic-core, wrapt) from the AWS-managed Powertools
layer for python3.14/arm64, whose ARN CloudFormation reads at deploy time from the public SSM
parameter of the exact Powertools version pinned here.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct
from packaging.requirements import Requirement

from rapport.strategy.config import ClientConfig
from rapport_infra import catalogue

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
CLIENT_CONFIG_DIR = "rapport-client"

# The environment the copied code will run in, for dependency markers.
_TARGET_MARKERS = {
    "python_version": "3.14", "python_full_version": "3.14.0", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
    "platform_machine": "aarch64", "os_name": "posix",
}
# NOTE: the Lambda runtime's boto3 lags the version pinned in pyproject.toml by weeks. Shipping our
# own boto3 and botocore would add about 25 MB to every cold start; revisit if a handler needs an
# API newer than the runtime's SDK.
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
# The AWS-managed Powertools layer is built with the [all] extras for each Python version and
# architecture, so it carries the compiled pydantic-core and wrapt for arm64.
PROVIDED_BY_POWERTOOLS_LAYER = frozenset({
    "aws-lambda-powertools", "aws-xray-sdk", "pydantic", "pydantic-core", "typing-extensions",
    "annotated-types", "typing-inspection", "wrapt",
})
# Compiled distributions whose C extension is an optional speed-up with a pure-Python fallback.
PURE_PYTHON_FALLBACK = frozenset({"markupsafe"})
_SKIPPED_SUFFIXES = (".so", ".pyd", ".c", ".pyc", ".pyo")


class LayerBuildError(Exception):
    """The layer cannot be assembled offline (a missing or compiled-only dependency)."""


@dataclass(frozen=True)
class LayerContents:
    folder: Path
    distributions: tuple[str, ...]  # "name==version" of every third-party copy
    client_config_path: str  # where Lambda sees the client file


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies(pyproject: Path | None = None) -> list[str]:
    """The runtime requirements of ``pyproject.toml``: what the layer must provide."""
    data = tomllib.loads((pyproject or catalogue.PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def resolve_distributions(requirements: list[str]) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions these requirements need on Lambda, transitively."""
    resolved: dict[str, importlib.metadata.Distribution] = {}
    pending = [(Requirement(text), ()) for text in requirements]
    while pending:
        requirement, parent_extras = pending.pop()
        key = _canonical(requirement.name)
        if requirement.marker is not None and not any(
            requirement.marker.evaluate({**_TARGET_MARKERS, "extra": extra}) for extra in (*parent_extras, "")
        ):
            continue
        if key in resolved:
            continue
        try:
            distribution = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError as error:
            raise LayerBuildError(f"{requirement.name} is required but not installed here") from error
        resolved[key] = distribution
        extras = tuple(requirement.extras)
        pending.extend((Requirement(text), extras) for text in distribution.requires or [])
    return resolved


def _is_pure(distribution: importlib.metadata.Distribution) -> bool:
    return "Root-Is-Purelib: true" in (distribution.read_text("WHEEL") or "")


def _copy_distribution(distribution: importlib.metadata.Distribution, destination: Path) -> None:
    for file in distribution.files or []:
        relative = Path(str(file))
        if ".." in relative.parts or "__pycache__" in relative.parts or relative.suffix in _SKIPPED_SUFFIXES:
            continue
        source = Path(str(distribution.locate_file(file)))
        if not source.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def build_layer_folder(client: ClientConfig, destination: Path) -> LayerContents:
    """Assemble the layer for ``client`` in ``destination`` (which must not exist yet)."""
    python = destination / "python"
    shutil.copytree(
        catalogue.LAYER_DIR / "rapport", python / "rapport",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shipped: list[str] = []
    for key, distribution in sorted(resolve_distributions(declared_dependencies()).items()):
        if key in PROVIDED_BY_RUNTIME or key in PROVIDED_BY_POWERTOOLS_LAYER:
            continue
        if not _is_pure(distribution) and key not in PURE_PYTHON_FALLBACK:
            raise LayerBuildError(
                f"{distribution.metadata['Name']} is compiled and cannot be copied for arm64 offline; "
                "take it from a managed layer or build the layer in a Lambda-compatible image"
            )
        _copy_distribution(distribution, python)
        shipped.append(f"{distribution.metadata['Name']}=={distribution.version}")
    config_dir = destination / CLIENT_CONFIG_DIR
    config_dir.mkdir(parents=True)
    config_file = config_dir / f"{client.client_id}.json"
    config_file.write_text(client.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return LayerContents(
        folder=destination,
        distributions=tuple(shipped),
        client_config_path=f"/opt/{CLIENT_CONFIG_DIR}/{config_file.name}",
    )


def powertools_layer_parameter(version: str) -> str:
    """The public SSM parameter that holds the managed Powertools layer ARN for our runtime."""
    return f"/aws/service/powertools/python/arm64/{RUNTIME.name}/{version}"


class SharedLayers(Construct):
    """Our layer for the client plus the managed Powertools layer, in the order Lambda applies them."""

    def __init__(
        self, scope: Construct, construct_id: str, *, client: ClientConfig, build_dir: Path,
        powertools_version: str, powertools_layer_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.contents = build_layer_folder(client, build_dir / f"layer-{client.client_id}")
        self.rapport = lambda_.LayerVersion(
            self, "Rapport",
            code=lambda_.Code.from_asset(str(self.contents.folder)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"rapport package, dependencies and configuration of {client.client_id}",
        )
        # Resolved by CloudFormation at deploy time (an SSM parameter-typed stack parameter), so
        # synth makes no AWS call and the layer always carries the Powertools version we pin.
        # NOTE: Powertools publishes these public parameters in the regions it publishes layers to;
        # in a region without one the deployment fails on the parameter, and the context value
        # rapport:powertoolsLayerArn names the layer explicitly instead.
        arn = powertools_layer_arn or ssm.StringParameter.value_for_string_parameter(
            self, powertools_layer_parameter(powertools_version)
        )
        self.powertools = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", arn)

    @property
    def layers(self) -> list[lambda_.ILayerVersion]:
        return [self.powertools, self.rapport]
