"""`casework status` reads Prefect's log: a locked SQLite file is counted, other errors warn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casework.settings import get_settings
from cli.main import app
from stack.ports import free_port
from stack.processes import logged_errors

pytestmark = pytest.mark.unit

LOG = """\
01:54:29.101 | INFO    | prefect.server - Scheduled 3 runs
01:54:29.578 | ERROR   | prefect.server - Encountered error during state validation
Traceback (most recent call last):
  File "sqlalchemy/engine/base.py", line 1967, in _exec_single_context
sqlite3.OperationalError: database is locked

The above exception was the direct cause of the following exception:
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked
01:55:02.000 | WARNING | prefect.server - database is locked, retrying
01:55:04.373 | ERROR   | prefect.server.services.scheduler - Unexpected error in: scheduler
Traceback (most recent call last):
ValueError: bulk DML with a schedule that has no anchor
01:56:01.616 | ERROR   | prefect.server.utilities.worker_channel - Worker channel heartbeat persistence failed
sqlite3.OperationalError: database is locked"""


def test_each_error_record_is_read_with_its_traceback() -> None:
    found = logged_errors(LOG)
    assert [(e.line[:12], e.locked) for e in found] == [
        ("01:54:29.578", True),
        ("01:55:04.373", False),  # the lock in the WARNING before it is not this record's
        ("01:56:01.616", True),  # the last record ends where the log ends
    ]
    assert found[1].line.endswith("Unexpected error in: scheduler")
    assert logged_errors(LOG.replace("database is locked", "disk I/O error")) == [
        type(e)(e.line, False) for e in found
    ]


def test_status_warns_of_other_errors_and_counts_the_locked_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEWORK_HOME", str(tmp_path))
    monkeypatch.setenv("CASEWORK_PREFECT_PORT", str(free_port()))  # nothing answers there
    get_settings.cache_clear()
    try:
        logs = get_settings().logs_dir
        logs.mkdir(parents=True)
        (logs / "prefect-server.log").write_text(LOG + "\n")
        shown = CliRunner().invoke(app, ["status"])
        as_json = CliRunner().invoke(app, ["status", "--json"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert "⚠ Prefect 服务日志中有 1 条错误，最近一条：01:55:04.373" in shown.output
    assert "Prefect 的 SQLite 数据库近来忙了 2 次" in shown.output
    assert "⚠ Prefect 的 SQLite" not in shown.output
    figures = json.loads(as_json.output)
    assert figures["prefect_database_locked"] == 2
    assert [line[:12] for line in figures["service_errors"]] == ["01:55:04.373"]
