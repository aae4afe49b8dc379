"""The short fault harness in `make test`: the lab takes over the test session's stack for one
module at a time (each module may run on its own test process, with its own stack)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.processes import Stack
from tests.faults import report
from tests.faults.lab import Lab

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def lab(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Lab]:
    """The lab on the session's stack; the module's tallies land in test-artifacts/."""
    with Lab(stack, tmp_path_factory.mktemp("faults")) as running:
        yield running
    name = f"faults-ci-{request.module.__name__.rsplit('.', 1)[-1].removeprefix('test_')}"
    report.write_json(running.tallies, ARTIFACTS / f"{name}.json")
    (ARTIFACTS / f"{name}.md").write_text(report.table(running.tallies) + "\n")
