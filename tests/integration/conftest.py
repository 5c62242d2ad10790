"""The local cloud for integration tests: moto in-process, real handlers, real ASL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from journey_helpers import MONDAY_MORNING, Waits

from rapport.clock import SimulatedClock
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_local.cloud import LocalCloud


@pytest.fixture
def make_cloud() -> Iterator[Any]:
    """Factory: a local cloud for a client file and clock; closed after the test."""
    opened: list[LocalCloud] = []

    def build(client: str = "acme-za", clock: SimulatedClock | None = None) -> tuple[LocalCloud, Waits]:
        cloud = LocalCloud(CLIENTS_DIR / f"{client}.toml", clock or SimulatedClock(MONDAY_MORNING, scale=60))
        cloud.__enter__()
        opened.append(cloud)
        waits = Waits()
        cloud.on_invoke(waits.observe)
        return cloud, waits

    yield build
    for cloud in opened:
        cloud.__exit__(None, None, None)
