"""Resident ID and phone numbers are encrypted at rest, findable by a keyed hash, rotatable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from casework.clock import start_of_office_day
from cli.main import app
from cli.stories import synthetic_id_number
from models import applicants, intake
from models.db import alembic_config, session_scope
from models.tables import Applicant
from tests.factories import reset_database, shen_intake

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
ID_NUMBER = synthetic_id_number(date(1950, 3, 8))


def _raw_database(path: Path) -> bytes:
    """What the database stores: the SQLite file and its WAL, or elsewhere (PostgreSQL) every
    row of every table as the server returns it, without Casework's decryption."""
    from casework.settings import get_settings
    from models.db import get_engine

    if get_settings().db_url.startswith("sqlite"):
        data = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        return data + (wal.read_bytes() if wal.exists() else b"")
    tables = sa.MetaData()
    tables.reflect(get_engine())
    with get_engine().connect() as connection:
        rows = [
            repr(tuple(row))
            for table in tables.sorted_tables
            for row in connection.execute(sa.select(table))
        ]
    return "\n".join(rows).encode()


def test_id_and_phone_are_not_stored_in_clear_but_can_be_found(fresh_db: Path) -> None:
    with session_scope() as session:
        number = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=DAY
        ).number
    raw = _raw_database(fresh_db)
    assert ID_NUMBER.encode() not in raw and b"13800001234" not in raw
    assert "沈桂兰".encode() in raw  # names stay searchable at the window
    with session_scope() as session:
        applicant = session.get(Applicant, 1)
        assert applicant is not None
        assert (applicant.id_number, applicant.phone) == (ID_NUMBER, "13800001234")
    result = CliRunner().invoke(app, ["find", "--id-number", ID_NUMBER, "--json"])
    assert result.exit_code == 0 and number in result.stdout
    assert (fresh_db.parent / "secrets" / "data.key").stat().st_mode & 0o777 == 0o600


def test_keys_rotate_without_losing_data(fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("CASEWORK_DATA_KEYS", old)
    monkeypatch.setenv("CASEWORK_LOOKUP_KEY", "lookup-secret")
    reset_database()
    with session_scope() as session:
        intake.open_case(session=session, intake=shen_intake(date(2017, 6, 1)), as_of=DAY)
    monkeypatch.setenv("CASEWORK_DATA_KEYS", f"{new},{old}")
    reset_database()
    result = CliRunner().invoke(app, ["rotate-keys"])
    assert result.exit_code == 0 and "1" in result.stdout
    monkeypatch.setenv("CASEWORK_DATA_KEYS", new)  # the old key is gone now
    reset_database()
    with session_scope() as session:
        applicant = session.get(Applicant, 1)
        assert applicant is not None and applicant.id_number == ID_NUMBER


def test_migration_encrypts_rows_stored_in_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_HOME", str(tmp_path))
    reset_database()
    command.upgrade(alembic_config(url), "0003")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO applicant (name, id_number, phone) VALUES ('沈桂兰', :id, :phone)"
            ),
            {"id": ID_NUMBER, "phone": "13800001234"},
        )
    engine.dispose()
    command.upgrade(alembic_config(url), "head")
    assert ID_NUMBER.encode() not in _raw_database(path)
    with session_scope() as session:
        applicant = session.get(Applicant, 1)
        assert applicant is not None and applicant.phone == "13800001234"
        assert applicants.cases_of_person(session=session, id_number=ID_NUMBER) == []  # no case yet
        from casework.crypto import lookup_hash

        assert applicant.id_number_hash == lookup_hash(ID_NUMBER)
    reset_database()
