"""Prefect's server on the embedded stack waits seconds, not a minute, for a locked SQLite file,
its transactions take the write lock when they begin, so none is refused halfway, and it stores
each event it receives once, whatever comes back."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from prefect.client.orchestration import get_client
from prefect.server.database.configurations import AioSqliteConfiguration
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from stack.prefect_server import (
    SQLITE_LOCK_WAIT_MS,
    BoundedWaitSqliteConfiguration,
    mend_prefects_server,
    store_each_event_once,
)
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


@pytest.mark.unit
def test_the_stacks_server_is_mended_before_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.server.api import server
    from prefect.server.database.dependencies import MODELS_DEPENDENCIES
    from prefect.server.events.storage import database
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    monkeypatch.setitem(MODELS_DEPENDENCIES, "database_config", None)
    monkeypatch.setattr(server, "RequestLimitMiddleware", server.RequestLimitMiddleware)
    prefects_writer = database._write_sqlite_events
    monkeypatch.setattr(database, "_write_sqlite_events", prefects_writer)
    # Prefect reads its settings once at import: the environment set now would not reach them.
    url = f"sqlite+aiosqlite:///{tmp_path}/p.db"
    with temporary_settings({PREFECT_API_DATABASE_CONNECTION_URL: url}):
        mend_prefects_server()
    assert isinstance(MODELS_DEPENDENCIES["database_config"], BoundedWaitSqliteConfiguration)
    assert server.RequestLimitMiddleware.__name__ == "HttpRequestLimit"
    assert database._write_sqlite_events is not prefects_writer  # the one tested below


def _read_then_write_with_a_write_between(config: AioSqliteConfiguration, database: Path) -> str:
    """A server transaction reads; another connection tries to write; the transaction writes.
    What became of the other connection's write ("written" or SQLite's error)."""
    import sqlalchemy as sa

    setup = sqlite3.connect(database)
    setup.execute("CREATE TABLE runs (id INTEGER)")
    setup.close()

    async def scenario() -> str:
        engine = await config.engine()
        try:
            session = await config.session(engine)
            async with session, config.begin_transaction(session):
                await session.execute(sa.text("SELECT count(*) FROM runs"))
                other = sqlite3.connect(database, timeout=0.2, isolation_level=None)
                try:
                    other.execute("INSERT INTO runs VALUES (2)")
                    between = "written"
                except sqlite3.OperationalError as exc:
                    between = str(exc)
                finally:
                    other.close()
                await session.execute(sa.text("INSERT INTO runs VALUES (1)"))
        finally:
            await engine.dispose()
        return between

    return asyncio.run(scenario())


@pytest.mark.unit
def test_prefects_own_transaction_is_refused_at_once_after_a_write_between(tmp_path: Path) -> None:
    # What a manager met in the UI: Prefect's deferred transaction cannot write any more.
    config = AioSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    started = time.monotonic()
    with pytest.raises(Exception, match="database is locked"):
        _read_then_write_with_a_write_between(config, tmp_path / "p.db")
    assert time.monotonic() - started < 5  # refused, not waited for: no wait would help


@pytest.mark.unit
def test_the_stacks_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    config = BoundedWaitSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    # The other writer waits (here 0.2 s, then gives up); the transaction's own write goes in.
    assert _read_then_write_with_a_write_between(config, tmp_path / "p.db") == "database is locked"
    written = sqlite3.connect(tmp_path / "p.db").execute("SELECT id FROM runs").fetchall()
    assert written == [(1,)]


def _flushes(database: Path, flushes: list[list[int]]) -> tuple[list[str], list[str], list[str]]:
    """Store events in a new Prefect database as its event persister does, a transaction a
    flush, each event named by a number (the same number, the same event); what each flush came
    to ("stored" or its error), the events then stored, and their resources."""
    import sqlalchemy as sa
    from prefect.server.database import provide_database_interface
    from prefect.server.database.dependencies import temporary_database_config
    from prefect.server.events.schemas.events import ReceivedEvent
    from prefect.server.events.storage.database import write_events
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = f"sqlite+aiosqlite:///{database}"
    events = {
        n: ReceivedEvent(
            id=uuid4(),
            occurred=datetime.now(UTC),
            event=f"casework.test.{n}",
            resource={"prefect.resource.id": f"casework.case.HC-{n}"},
        )
        for flush in flushes
        for n in flush
    }

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        db = provide_database_interface()
        await db.create_db()
        outcomes = []
        for flush in flushes:
            try:
                async with db.session_context(begin_transaction=True) as session:
                    await write_events(session, [events[n] for n in flush])
                outcomes.append("stored")
            except Exception as exc:
                outcomes.append(str(exc).splitlines()[0])
        async with db.session_context() as session:
            stored = (await session.scalars(sa.select(db.Event.event))).all()
            resources = (await session.scalars(sa.select(db.EventResource.resource_id))).all()
        await (await db.engine()).dispose()
        return outcomes, sorted(stored), sorted(resources)

    with (
        temporary_settings({PREFECT_API_DATABASE_CONNECTION_URL: url}),
        temporary_database_config(AioSqliteConfiguration(connection_url=url)),
    ):
        return asyncio.run(scenario())


@pytest.mark.unit
def test_prefects_own_writer_fails_a_flush_of_events_it_has_stored(tmp_path: Path) -> None:
    # What the bench met: the flush failed five times and was dropped, new events with it.
    outcomes, stored, _ = _flushes(tmp_path / "p.db", [[1, 2], [1, 2], [3, 3]])
    assert outcomes[0] == "stored"
    assert "NOT NULL constraint failed: events.occurred" in outcomes[1]
    assert "UNIQUE constraint failed: events.id" in outcomes[2]
    assert stored == ["casework.test.1", "casework.test.2"]


@pytest.mark.unit
def test_the_stacks_server_stores_each_event_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.server.events.storage import database

    monkeypatch.setattr(database, "_write_sqlite_events", database._write_sqlite_events)
    store_each_event_once()
    outcomes, stored, resources = _flushes(
        tmp_path / "p.db", [[1, 2], [1, 2], [3, 3], [2, 4, 1, 5, 4]]
    )
    assert outcomes == ["stored"] * 4
    assert stored == [f"casework.test.{n}" for n in (1, 2, 3, 4, 5)]
    assert resources == [f"casework.case.HC-{n}" for n in (1, 2, 3, 4, 5)]


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


@pytest.mark.integration
def test_open_websockets_never_hold_back_the_servers_requests(stack: Stack) -> None:
    # Every case run keeps an events websocket open, and the worker one more per run it watches:
    # fifty runs at once filled Prefect's 100 request slots with websockets, and every HTTP
    # request behind them waited for ever (the bench's fifty cases stood still).
    from contextlib import AsyncExitStack

    from prefect.events.clients import PrefectEventsClient

    async def health_with_sockets_open(count: int) -> float:
        async with AsyncExitStack() as sockets:
            for _ in range(count):  # as many as that many case runs hold
                await sockets.enter_async_context(PrefectEventsClient())
            started = time.monotonic()
            async with get_client() as client:
                answer = await client._client.get("/health", timeout=30)
            assert answer.status_code == 200, answer.text
            return time.monotonic() - started

    assert asyncio.run(health_with_sockets_open(110)) < 10


def test_the_server_looks_for_timed_out_pauses_hourly_not_every_five_seconds(stack: Stack) -> None:
    # Prefect's default reads every paused run every 5 s: with 10,000 cases waiting on agencies
    # an idle server kept a core 55% busy (the bench's reconciler round took 22-65 s beside
    # it). No case run's suspension has a timeout for it to find.
    with get_client(sync_client=True) as client:
        answer = client._client.get("/admin/settings")
    assert answer.status_code == 200, answer.text
    assert answer.json()["server"]["services"]["pause_expirations"]["loop_seconds"] == 3600


@pytest.mark.unit
def test_prefect_clients_on_the_plain_http_api_load_one_certificate_not_certifis_bundle(
    tmp_path: Path,
) -> None:
    import ssl

    from casework.prefect_env import prefect_env
    from casework.settings import Settings

    env = prefect_env(Settings(home=tmp_path))
    assert env["PREFECT_API_URL"].startswith("http://")
    cafile = env["PREFECT_API_SSL_CERT_FILE"]
    with temporary_settings(updates={"PREFECT_API_SSL_CERT_FILE": cafile}):
        client = get_client(sync_client=True)
    context = client._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    assert context.cert_store_stats()["x509_ca"] == 1  # certifi's bundle holds ~150
    assert context.verify_mode == ssl.CERT_REQUIRED  # still verifying: it trusts nothing known


@pytest.mark.unit
def test_an_api_behind_tls_keeps_its_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from casework.prefect_env import apply_prefect_env
    from casework.settings import Settings

    monkeypatch.delenv("PREFECT_API_SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("PREFECT_API_URL", "https://prefect.district.example/api")
    apply_prefect_env(Settings(home=tmp_path))
    assert "PREFECT_API_SSL_CERT_FILE" not in os.environ
    monkeypatch.delenv("PREFECT_API_URL")
    apply_prefect_env(Settings(home=tmp_path))
    assert os.environ["PREFECT_API_SSL_CERT_FILE"].endswith("plain_http_api.pem")


@pytest.mark.unit
@pytest.mark.parametrize(("seconds", "spelt"), [(1.0, "1"), (0.25, "0.25"), (2.5, "2.5")])
def test_the_stacks_workers_ask_for_runs_as_often_as_the_office_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: float, spelt: str
) -> None:
    from casework.settings import Settings

    # Left in the environment by something else: the office's setting is what the workers get.
    monkeypatch.setenv("PREFECT_WORKER_QUERY_SECONDS", "7")
    environment = Stack(Settings(home=tmp_path, worker_poll_seconds=seconds))._env()
    assert environment["PREFECT_WORKER_QUERY_SECONDS"] == spelt
