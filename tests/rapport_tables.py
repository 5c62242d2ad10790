"""moto with every Rapport table, for tests that call handlers and repositories directly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws

from rapport.store.models import ALL_MODELS, bind_tables


@contextmanager
def rapport_tables(prefix: str, region: str = "af-south-1") -> Iterator[None]:
    """moto in-process, with every table of ``rapport.store.models`` created under ``prefix``."""
    with mock_aws():
        bind_tables(prefix, region)
        for model in ALL_MODELS:
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=False)
        yield
