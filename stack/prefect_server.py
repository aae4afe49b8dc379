"""Prefect's server for the embedded stack, with its SQLite lock waits bounded to a few seconds.

Prefect gives every SQLite connection of its server a 60 s ``busy_timeout`` (hard-coded in
``prefect/server/database/configurations.py``). On the embedded stack the server now and then
stands still for that whole minute: the long fault run saw the scheduler, the worker and every
case run wait 58–61 s twelve times in 38 minutes, each stop ending in "database is locked" from
several of the server's services at once (the lock's holder was not found; it behaves as a
wait the timeout alone ends). With a short wait the waiting request fails in seconds instead;
every Prefect client of the stack retries the server's 500 for it
(``PREFECT_CLIENT_RETRY_EXTRA_CODES``), so nothing is lost and nothing waits a minute.

Every transaction the server opens itself also takes SQLite's write lock when it begins
(``BEGIN IMMEDIATE``), as Prefect already does for a run's state change. Prefect begins the
others deferred: such a transaction reads, and if another connection writes before its own
first write, SQLite refuses that write at once ("database is locked" in milliseconds: a stale
snapshot cannot be upgraded, so no wait can help). A manager resuming a run in Prefect's UI met
exactly that whenever a run or service wrote in between, and the UI does not retry ("Failed to
resume flow run"). Taken up front, the lock is waited for, as any other.

On SQLite Prefect also lets at most 100 requests in at once (its ``RequestLimitMiddleware``),
and counts a websocket as a request for as long as it stays open. Every case run keeps one open
(its events) and the worker another per run it watches (cancellations): with some fifty runs
moving at once every slot was a websocket, each HTTP request queued behind them for ever, and
the whole stack stood still with an idle server (the bench's fifty cases at once, 2026-12-05).
The limit now counts HTTP requests only, which is what it is there for (SQLite's writers).

Prefect's server stores the events it receives in flushes of a queue (its event persister). On
SQLite it leaves out the events of a flush it has stored already, but a batch made only of such
events becomes ``INSERT INTO events DEFAULT VALUES`` ("NOT NULL constraint failed:
events.occurred"), and an event twice in one flush fails on its key; either fails the whole
flush, which is tried five times and then dropped, new events with it. The bench's fifty cases
at once met it (2026-12-06: 24 events dropped, the server's SQLite busy a moment before). Each
event is now stored once and a flush of stored events writes nothing. Prefect 3.9.1, the newest
on the package registry, writes events the same way.

Run as ``python -m stack.prefect_server --host … --port …`` (the arguments of ``prefect server
start``). On PostgreSQL nothing changes.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from prefect.server.database.configurations import AioSqliteConfiguration

# Long enough for any single write of the server to finish; far below Prefect's minute.
SQLITE_LOCK_WAIT_MS = 5000


class BoundedWaitSqliteConfiguration(AioSqliteConfiguration):
    """Prefect's SQLite configuration, its connections waiting at most SQLITE_LOCK_WAIT_MS, its
    transactions taking the write lock when they begin."""

    def setup_sqlite(self, conn: Any, record: Any) -> None:
        super().setup_sqlite(conn, record)
        cursor = conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_LOCK_WAIT_MS};")
        cursor.close()

    @asynccontextmanager
    async def begin_transaction(
        self, session: Any, with_for_update: bool = False
    ) -> AsyncGenerator[Any, None]:
        # Prefect opens a transaction to write (its reads mostly go without one), so each may as
        # well queue for the lock at BEGIN rather than be refused halfway.
        async with super().begin_transaction(session, with_for_update=True) as transaction:
            yield transaction


def limit_http_requests_only() -> None:
    """Make Prefect's SQLite request limit (applied when its app is built) let websockets by."""
    from prefect.server.api import server

    class HttpRequestLimit(server.RequestLimitMiddleware):
        """Prefect's limit on concurrent requests, for HTTP requests: a websocket stays open for
        a run's whole life and must not hold a slot the run's own requests wait for."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                await super().__call__(scope, receive, send)
            else:
                await self.app(scope, receive, send)

    # Prefect adds the middleware by this module-level name when it builds its app.
    server.RequestLimitMiddleware = HttpRequestLimit  # type: ignore[misc]


def store_each_event_once() -> None:
    """Make Prefect's SQLite event writer skip the events of a flush it has stored already, or
    that come twice in it, instead of failing the flush (PostgreSQL's writer already does)."""
    import sqlalchemy as sa
    from prefect.server.database import PrefectDBInterface, db_injector
    from prefect.server.events.storage import database

    @db_injector
    async def write_sqlite_events(db: PrefectDBInterface, session: Any, events: list[Any]) -> None:
        unique = list({event.id: event for event in events}.values())
        for batch in database._in_safe_batches(unique):
            stored = set(
                await session.scalars(
                    sa.select(db.Event.id).where(db.Event.id.in_([e.id for e in batch]))
                )
            )
            new = [event for event in batch if event.id not in stored]
            if not new:
                continue  # Prefect's writer runs an INSERT with no rows here
            await session.execute(
                db.queries.insert(db.Event).values([event.as_database_row() for event in new])
            )
            resources = [row for event in new for row in event.as_database_resource_rows()]
            if resources:
                await session.execute(db.queries.insert(db.EventResource).values(resources))

    # Prefect's write_events picks its SQLite writer by this module-level name at each call.
    database._write_sqlite_events = write_sqlite_events


def use_bounded_sqlite_waits() -> None:
    """Make this process's Prefect server use bounded SQLite waits (on SQLite only)."""
    from prefect.server.database.dependencies import MODELS_DEPENDENCIES
    from prefect.server.utilities.database import get_dialect
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = PREFECT_API_DATABASE_CONNECTION_URL.value()
    if get_dialect(url).name == "sqlite":
        # Prefect's own seam for its database configuration (as `temporary_database_config`).
        MODELS_DEPENDENCIES["database_config"] = BoundedWaitSqliteConfiguration(connection_url=url)


def mend_prefects_server() -> None:
    """Everything above, in this process, before Prefect's server is built."""
    use_bounded_sqlite_waits()
    limit_http_requests_only()
    store_each_event_once()


def main(argv: list[str]) -> None:
    from prefect.cli import app

    mend_prefects_server()
    # Prefect's entry point reads sys.argv, as `prefect server start …` would give it.
    sys.argv = ["prefect", "server", "start", *argv]
    app()


if __name__ == "__main__":
    main(sys.argv[1:])
