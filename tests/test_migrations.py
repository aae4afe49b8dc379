"""The Alembic migrations and the SQLModel tables describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.flow


def test_migrations_build_exactly_the_tables_the_models_describe(fresh_db: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from models.db import get_engine, migrate

    migrate()
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, SQLModel.metadata) == []


@pytest.mark.unit
def test_the_fast_path_knows_the_same_newest_revision_as_alembic() -> None:
    from alembic.script import ScriptDirectory

    from models.db import MIGRATIONS_DIR, alembic_config, newest_revision

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert newest_revision() == scripts.get_current_head()
    for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"):
        assert scripts.get_revision(path.name.split("_")[0]).path == str(path)


def test_a_database_behind_the_newest_revision_is_upgraded(fresh_db: Path) -> None:
    import sqlalchemy as sa
    from alembic import command

    from casework.settings import get_settings
    from models import db

    db.migrate()
    engine = db.get_engine()
    with engine.begin() as connection:
        config = db.alembic_config(get_settings().db_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    assert "ix_contact_occurred_at" not in {
        i["name"] for i in sa.inspect(engine).get_indexes("contact")
    }
    db._migrated.clear()
    db.migrate()
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            db.newest_revision()
        )
    indexes = {index["name"] for index in sa.inspect(engine).get_indexes("contact")}
    assert {"ix_contact_occurred_at", "ix_contact_kind_agency_slug"} <= indexes
