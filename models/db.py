"""Engine, sessions and schema migrations for the case database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from casework.settings import get_settings
from models.read_only import READ_ONLY

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@lru_cache
def engine_for(url: str) -> Engine:
    """One engine per database URL.

    SQLite gets WAL, a busy timeout, and BEGIN IMMEDIATE for every transaction: pysqlite would
    otherwise run a transaction's reads outside it and take the write lock only at the first
    write, so two answers read the same state and both write. With IMMEDIATE the second waits
    for the first to commit and then reads what it wrote. On PostgreSQL, writers lock the case
    row instead (models.lookups.get_case(lock=True)). Statement parameters (letter bodies,
    names) stay out of error messages, which tasks log to Prefect.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event starts them
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection):  # type: ignore[no-untyped-def]
            if connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN")  # a snapshot: no write lock (read_scope)
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def get_engine() -> Engine:
    settings = get_settings()
    if settings.db_url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
    return engine_for(settings.db_url)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


_migrated: set[str] = set()


def newest_revision() -> str:
    """The newest migration's revision: each file in versions/ is named after its revision."""
    return max(path.name.split("_")[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))


def _schema_revision(engine: Engine) -> str | None:
    """The revision the database says it is at (None: not migrated yet)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def migrate() -> None:
    """Bring the case database schema up to the newest migration (once per process).

    A database already at the newest revision is left alone without loading Alembic: every
    command and every flow-run process starts here, and Alembic's import and its reading of
    the migration scripts cost more than the command itself.
    """
    url = get_settings().db_url
    if url in _migrated:
        return
    engine = get_engine()
    if _schema_revision(engine) != newest_revision():
        from alembic import command

        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    _migrated.add(url)
    _store_edited_case_type_files(engine)


def _store_edited_case_type_files(engine: Engine) -> None:
    """Each case type file edited since it was last stored becomes its type's next version.
    Read first: the write lock is taken only when a file did change (every process starts here)."""
    from casework.clock import now
    from models import case_types

    with Session(engine.execution_options(**{READ_ONLY: True})) as session:
        if not case_types.files_changed(session):
            return
    with Session(engine) as session:
        case_types.sync_files(session, now())
        session.commit()


@contextmanager
def session_scope(*, durable: bool = True) -> Iterator[Session]:
    """A session whose work is committed together at the end, or rolled back on any error.

    `durable=False` is for records that can be rebuilt if lost (the outbox's sent marks: a mark
    lost re-sends its email once, flagged, as after a relay killed before marking): its commits
    survive a killed process but not a power cut (SQLite's synchronous=NORMAL under WAL,
    PostgreSQL's synchronous_commit=off), and cost no disk flush each.
    """
    migrate()
    if durable:
        with Session(get_engine(), expire_on_commit=False) as session:
            yield from _committed(session)
        return
    engine = get_engine()
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        assert raw is not None
        if sqlite:  # not allowed inside a transaction, so before the session begins one
            raw.execute("PRAGMA synchronous=NORMAL")
        else:
            connection.exec_driver_sql("SET synchronous_commit TO OFF")
            connection.commit()
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                yield from _committed(session)
        finally:  # the pool hands this connection out again
            if sqlite:
                raw.execute("PRAGMA synchronous=FULL")
            else:
                connection.rollback()
                connection.exec_driver_sql("RESET synchronous_commit")
                connection.commit()


@contextmanager
def read_scope() -> Iterator[Session]:
    """A session that only reads, and sees one consistent snapshot.

    On SQLite its transaction begins DEFERRED: it neither takes nor waits for the write lock
    that every other transaction takes at BEGIN, so lists, pages and a run's planning do not
    queue behind writers (fifty runs and fifty readers at once made a reader wait out the 30 s
    busy timeout); WAL gives it one snapshot from its first read. On PostgreSQL it is a
    REPEATABLE READ, READ ONLY transaction: under the default READ COMMITTED each statement
    sees what was committed before it, so a case read in several queries could show a
    material still with the agency that had just forwarded it and that agency's request
    already answered, and the run sent the agency its request a second time. Nothing is
    committed; whatever it decides is written by a transaction that checks again (dedupe
    keys, conditional updates).
    """
    migrate()
    engine = get_engine()
    options: dict[str, object] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        # A read-only transaction never fails to serialise, so REPEATABLE READ costs nothing.
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    # Closing ends the transaction; what was read stays loaded on the objects.
    with Session(engine.execution_options(**options)) as session:
        yield session


def _committed(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def forget_cached_state() -> None:
    """Forget cached settings, engines, migrations, playbooks, templates and keys, so the next
    use reads the environment again (the tests and the benchmark switch homes and databases)."""
    from casework.crypto import _ciphers
    from casework.playbook import _load_all
    from casework.templating import _environment

    get_settings.cache_clear()
    engine_for.cache_clear()
    _migrated.clear()
    _load_all.cache_clear()
    _environment.cache_clear()
    _ciphers.cache_clear()
    from models import case_types  # the versions this process has read, by database

    case_types.forget()
