"""The attacks' common ground: the workbench over HTTP (Starlette's TestClient over the real
app, a real case database and SMTP server), its two offices' staff signed in as each test says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.workbench import open_workbench


@pytest.fixture
def client(fresh_db: object, smtp_server: list) -> Iterator[Any]:
    with open_workbench() as test_client:
        yield test_client
