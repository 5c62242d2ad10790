"""CDK entry point: one ``Rapport-<client_id>`` stack per file in ``clients/``.

Run it directly (``python infra/app.py`` synthesizes every client into ``cdk.out/``, offline) or
through the CDK CLI, which reads ``cdk.json`` (``npx aws-cdk@2 deploy Rapport-acme-za``). Choose
one client with ``-c client=<id>``. The process exits non-zero when any stack carries an error
annotation: an unsuppressed cdk-nag finding or a broken state machine definition.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

# Set before aws_cdk is imported: jsii reads it when its Node process starts.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from aws_cdk import App
from aws_cdk.cx_api import SynthesisMessageLevel

from rapport_infra.application import build_app
from rapport_infra.catalogue import PROJECT_ROOT


def main() -> int:
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {})
    # The CLI passes its own output folder; run directly, the app writes to the repository's cdk.out.
    outdir = None if os.environ.get("CDK_OUTDIR") else str(PROJECT_ROOT / "cdk.out")
    app = App(outdir=outdir, context=context)
    with tempfile.TemporaryDirectory(prefix="rapport-layer-") as build_dir:
        build_app(app, build_dir=Path(build_dir), client_id=app.node.try_get_context("client"))
        assembly = app.synth()
    errors = [
        f"{stack.stack_name} {message.id}: {message.entry.data}"
        for stack in assembly.stacks
        for message in stack.messages
        if message.level == SynthesisMessageLevel.ERROR
    ]
    for error in errors:
        print(error, file=sys.stderr)
    print(f"synthesized {', '.join(stack.stack_name for stack in assembly.stacks)} into {assembly.directory}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
