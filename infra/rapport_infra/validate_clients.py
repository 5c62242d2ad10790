"""Check client files before a deploy: ``make validate-clients`` (or ``python -m rapport_infra.validate_clients``).

For every ``clients/*.toml`` (or the files named on the command line): the configuration validates,
its ``client_id`` is the file's name (the stack, its tables and its secrets are named after it), and
the journey tree it uses, ours or its own, keeps the journey contract. Exit 1 naming every problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rapport.strategy.config import ClientConfigError, load_client_config
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_infra.trees import JourneyDefinitionError, load_journey_definition


def problems_in(path: Path) -> list[str]:
    """Every problem of one client file; empty when it may be deployed."""
    try:
        client = load_client_config(path)
    except ClientConfigError as error:
        return [str(error)]
    found = []
    if client.client_id != path.stem:
        found.append(f"{path}: client_id {client.client_id!r} must be the file's name, {path.stem!r}")
    try:
        load_journey_definition(client, path, schema=True)
    except JourneyDefinitionError as error:
        found.append(str(error))
    return found


def main(argv: list[str] | None = None) -> int:
    paths = [Path(name) for name in (argv if argv is not None else sys.argv[1:])]
    paths = paths or sorted(CLIENTS_DIR.glob("*.toml"))
    failed = False
    for path in paths:
        found = problems_in(path)
        failed = failed or bool(found)
        print(f"{path}: ok" if not found else "\n".join(found))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
