"""Services for the conversation domain: moto's DynamoDB for the tables, a fake of Step Functions.

Step Functions is faked rather than run: these tests are about what the domain records and which
journey it resumes with what, not about the state machine (tests/integration covers that). The
tables are made once per module (each table's client costs a few hundred milliseconds to build)
and emptied after every test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conversation_helpers import NOW, FakeStepFunctions, FixedClock
from rapport_tables import rapport_tables

from rapport.runtime import Services
from rapport.settings import Settings
from rapport.store.models import ALL_MODELS
from rapport.store.repositories import Repositories
from rapport.strategy.config import load_client_config
from rapport_infra.catalogue import CLIENTS_DIR

PREFIX = "unit-conversations"


@pytest.fixture(scope="module")
def tables() -> Iterator[None]:
    with rapport_tables(PREFIX):
        yield


@pytest.fixture
def services(tables: None) -> Iterator[Services]:
    """Empty tables, the acme-za client, a fixed clock and the fake Step Functions."""
    path = CLIENTS_DIR / "acme-za.toml"
    settings = Settings(client_id="acme-za", client_config_path=path, table_prefix=PREFIX)
    yield Services(
        settings=settings,
        client=load_client_config(path),
        clock=FixedClock(NOW),
        repos=Repositories(),
        senders={},
        renderer=None,
        payments=None,
        analyser=None,
        stepfunctions=FakeStepFunctions(),
    )
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
