"""An attack on a district's database (issue 37): the PostgreSQL helper ran `trust`, so any
local user connected as `casework` (a superuser) and read every password hash. Its clusters
now ask every connection, socket or TCP, for a generated password kept 0600 in their folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from stack.ports import free_port
from stack.postgres import PostgresServer

pytestmark = pytest.mark.flow


def test_a_local_user_without_the_password_does_not_connect() -> None:
    # A folder the server's own user can reach (pytest's tmp_path is root's alone).
    folder = Path(tempfile.mkdtemp(prefix="casework-pg-auth-")) / "postgres"
    folder.parent.chmod(0o755)
    server = PostgresServer.start(free_port(), folder)
    try:
        assert server.password and server.password in server.url
        kept = folder / "casework.password"
        assert kept.read_text() == server.password and os.stat(kept).st_mode & 0o077 == 0
        for url in (
            f"postgresql+psycopg://casework@127.0.0.1:{server.port}/postgres",
            f"postgresql+psycopg://casework:guess@127.0.0.1:{server.port}/postgres",
            f"postgresql+psycopg://casework@/postgres?host={folder}&port={server.port}",
        ):
            engine = sa.create_engine(url)
            with pytest.raises(sa.exc.OperationalError):
                engine.connect().close()
            engine.dispose()
        database = server.ensure_database("casework")
        engine = sa.create_engine(database)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        engine.dispose()
        # Started again, the cluster is opened with the password it was made with.
        server.stop()
        server = PostgresServer.start(server.port, folder)
        assert server.password == kept.read_text()
        engine = sa.create_engine(server.ensure_database("casework"))
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(folder.parent, ignore_errors=True)
