"""Prefect's server on the embedded stack waits seconds, not a minute, for a locked SQLite file."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from stack.prefect_server import SQLITE_LOCK_WAIT_MS, BoundedWaitSqliteConfiguration
from stack.processes import Stack


@pytest.mark.unit
def test_each_connection_of_the_server_waits_at_most_the_bound(tmp_path: Path) -> None:
    config = BoundedWaitSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    conn = sqlite3.connect(tmp_path / "p.db")
    config.setup_sqlite(conn, None)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (SQLITE_LOCK_WAIT_MS,)
    # Prefect's own settings stay as they were (WAL, foreign keys).
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    conn.close()


@pytest.mark.integration
def test_a_write_behind_a_held_lock_is_answered_within_seconds(stack: Stack) -> None:
    held_for = 20.0
    database = stack.settings.home / "prefect" / "prefect.db"
    assert database.exists(), database
    locked = threading.Event()

    def hold_the_write_lock() -> None:
        holder = sqlite3.connect(database, timeout=30, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(held_for)
        holder.execute("ROLLBACK")
        holder.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert locked.wait(30)
        started = time.monotonic()
        # No retries: the server's own answer is timed, not the client's patience.
        with (
            temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}),
            get_client(sync_client=True) as client,
            pytest.raises(Exception, match=r"500|503") as refused,
        ):
            client.create_flow_from_name("lock-probe")
        waited = time.monotonic() - started
    finally:
        holder.join()
    # Prefect's own 60 s wait would have held the request until the lock was let go (20 s)
    # and then answered it; bounded, the server refuses it and its client retries.
    assert SQLITE_LOCK_WAIT_MS / 1000 - 1 < waited < held_for - 5, (waited, refused.value)
    with get_client(sync_client=True) as client:
        assert client.create_flow_from_name("lock-probe")
