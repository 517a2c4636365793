"""Migrations build exactly the models' schema, and an old schema stops the bot from starting."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage.db import make_engine
from storage.models import Base
from storage.schema import (
    HEAD_REVISIONS,
    SchemaOutOfDate,
    current_revisions,
    head_revisions,
    require_current,
    script_heads,
    upgrade,
)


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


def test_the_head_revision_constant_is_the_newest_migration_script() -> None:
    # The start-up check compares with the constant (no Alembic in the running bot): a new
    # migration must update it, or the bot would refuse every upgraded database.
    assert script_heads() == HEAD_REVISIONS == head_revisions(make_engine("sqlite://"))


def test_the_revisions_read_without_alembic_are_the_ones_alembic_reads(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    def alembic_reads() -> frozenset[str]:
        with engine.connect() as connection:
            return frozenset(MigrationContext.configure(connection).get_current_heads())

    assert current_revisions(engine) == alembic_reads() == frozenset()  # no table yet
    upgrade(engine, "0023")
    assert current_revisions(engine) == alembic_reads() == {"0023"}
    upgrade(engine)
    assert current_revisions(engine) == alembic_reads() == HEAD_REVISIONS


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
