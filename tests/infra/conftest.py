"""One synthesis of every example client per test session (with cdk-nag), shared by the infra tests."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Set before aws_cdk is imported: jsii reads it when its Node process starts.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from aws_cdk import App
from aws_cdk.cx_api import SynthesisMessageLevel

from rapport.strategy.config import ClientConfig, load_client_config
from rapport_infra.application import build_app, client_files


@dataclass
class SynthesizedClient:
    client: ClientConfig
    template: dict[str, Any]
    errors: list[str] = field(default_factory=list)  # error annotations, cdk-nag's and ours
    warnings: list[str] = field(default_factory=list)
    nag_report: list[dict[str, str]] = field(default_factory=list)
    assets: dict[str, Any] = field(default_factory=dict)  # the stack's asset manifest (files, dockerImages)
    missing_context: list[str] = field(default_factory=list)  # lookups the app would need AWS for

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}


def _messages(stack: Any, level: SynthesisMessageLevel) -> list[str]:
    return [f"{message.id}: {message.entry.data}" for message in stack.messages if message.level == level]


def _synthesize(outdir: Path, build_dir: Path) -> None:
    """Synthesize every client into ``outdir`` and record the annotations beside the templates."""
    started = time.perf_counter()
    app = App(outdir=str(outdir))
    build_app(app, build_dir=build_dir)
    assembly = app.synth()
    print(f"\ninfra: synthesized {len(assembly.stacks)} stacks in {time.perf_counter() - started:.1f} s")
    # Context a construct looked up (a VPC, an AMI...): synth fills in dummies and the CLI calls AWS.
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    missing = [missing["key"] for missing in manifest.get("missing", [])]
    summary = {
        stack.stack_name: {
            "template": stack.template_file,
            "assets": f"{stack.stack_name}.assets.json",
            "errors": _messages(stack, SynthesisMessageLevel.ERROR),
            "warnings": _messages(stack, SynthesisMessageLevel.WARNING),
            "missing_context": missing,
        }
        for stack in assembly.stacks
    }
    (outdir / "rapport-synth.json").write_text(json.dumps(summary), encoding="utf-8")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedClient]:
    """client_id -> what synthesizing its stack produced (template, annotations, nag report).

    Under pytest-xdist the workers share one synthesis: the first to take the lock writes it into the
    session's common temporary folder, the others read it from there.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "rapport-infra"
        shared.mkdir(exist_ok=True)
    else:
        shared = tmp_path_factory.mktemp("rapport-infra")
    outdir = shared / "cdk.out"
    with (shared / "synth.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (outdir / "rapport-synth.json").exists():
            _synthesize(outdir, shared / "layers")
    summary = json.loads((outdir / "rapport-synth.json").read_text(encoding="utf-8"))
    clients = {path.stem: load_client_config(path) for path in client_files()}
    results: dict[str, SynthesizedClient] = {}
    for stack_name, recorded in summary.items():
        client_id = stack_name.removeprefix("Rapport-")
        report = outdir / f"AwsSolutions--{stack_name}-NagReport.csv"
        with report.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        results[client_id] = SynthesizedClient(
            client=clients[client_id],
            template=json.loads((outdir / recorded["template"]).read_text(encoding="utf-8")),
            errors=recorded["errors"],
            warnings=recorded["warnings"],
            nag_report=rows,
            assets=json.loads((outdir / recorded["assets"]).read_text(encoding="utf-8")),
            missing_context=recorded["missing_context"],
        )
    return results


@pytest.fixture(params=[path.stem for path in client_files()])
def stack(request: pytest.FixtureRequest, synthesized: dict[str, SynthesizedClient]) -> SynthesizedClient:
    """Each example client's synthesized stack in turn."""
    return synthesized[request.param]
