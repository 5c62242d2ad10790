"""Build the CDK app: one ``Rapport-<client_id>`` stack per client file, cdk-nag on every one."""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from rapport.strategy.config import load_client_config
from rapport_infra import catalogue
from rapport_infra.options import CONTEXT_KEYS, StackOptions
from rapport_infra.stack import RapportStack, stack_name


class UnknownClientError(Exception):
    """``-c client=<id>`` names no file in ``clients/``."""


def client_files(client_id: str | None = None, clients_dir: Path = catalogue.CLIENTS_DIR) -> list[Path]:
    files = sorted(clients_dir.glob("*.toml"))
    if client_id is None:
        return files
    chosen = [path for path in files if path.stem == client_id]
    if not chosen:
        raise UnknownClientError(f"no {client_id}.toml in {clients_dir}")
    return chosen


def environment(options: StackOptions) -> Environment | None:
    """Account and region from context, else the CLI's defaults, else an environment-agnostic stack."""
    account = options.account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = options.region or os.environ.get("CDK_DEFAULT_REGION")
    if account is None and region is None:
        return None
    return Environment(account=account, region=region)


def build_app(
    app: App, *, build_dir: Path, client_id: str | None = None, clients_dir: Path = catalogue.CLIENTS_DIR,
    with_nag: bool = True,
) -> list[RapportStack]:
    """Add the client stacks to ``app``; ``build_dir`` must outlive ``app.synth()``."""
    options = StackOptions.from_context({key: app.node.try_get_context(key) for key in CONTEXT_KEYS.values()})
    stacks = []
    for path in client_files(client_id, clients_dir):
        client = load_client_config(path)
        stacks.append(RapportStack(
            app, stack_name(client.client_id),
            client=client, client_file=path, options=options, build_dir=build_dir, env=environment(options),
        ))
    if with_nag:
        Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stacks
