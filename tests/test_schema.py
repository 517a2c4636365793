"""Migrations build exactly the models' schema, and an old schema stops the bot from starting."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage.db import make_engine
from storage.models import Base
from storage.schema import SchemaOutOfDate, head_revisions, require_current, upgrade


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_every_model_table_exists_after_upgrade(engine: Engine) -> None:
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_an_empty_database_is_refused_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with pytest.raises(SchemaOutOfDate, match="samverkan db upgrade"):
        require_current(engine)


def test_an_old_schema_is_refused_and_upgrade_fixes_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine)
    with engine.begin() as connection:
        # Pretend the database was left at a revision older than this code.
        # With several migration branches there is one row per head: age just one of them.
        connection.execute(
            text(
                "UPDATE alembic_version SET version_num = 'older' "
                "WHERE version_num = (SELECT MIN(version_num) FROM alembic_version)"
            )
        )
    with pytest.raises(SchemaOutOfDate, match="needs"):
        require_current(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
        for head in sorted(head_revisions(engine)):
            connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    require_current(engine)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
