"""Alembic migrations, run from code: upgrade, current revision, and the start-up check.

The start-up check (`require_current`) and the revisions it compares never import Alembic:
the running bot reads the database's alembic_version row and compares it with HEAD_REVISIONS,
a constant. Alembic (about 0.07 s to import and 11 MiB, bench/startup.py, bench/memory.py)
is imported only by the commands that migrate or walk the migration scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Alembic's table of the revisions a database is at (its default name; env.py keeps it).
VERSION_TABLE = "alembic_version"
# The newest migrations this code needs (two early branches were never merged: three heads).
# A new migration changes it too:
# tests/test_schema.py checks it against the heads of the migration scripts.
HEAD_REVISIONS: frozenset[str] = frozenset({"0004", "0005", "0025"})


class SchemaOutOfDate(RuntimeError):
    """The database is not at the newest migration; the bot must not start on it."""


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs our migrations on this engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Applies migrations up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def head_revisions(engine: Engine) -> frozenset[str]:
    """The newest migrations this code knows (features may branch off; all heads count)."""
    return HEAD_REVISIONS


def script_heads() -> frozenset[str]:
    """The heads of the migration scripts, as Alembic reads them (what HEAD_REVISIONS names)."""
    from alembic.script import ScriptDirectory

    # The script directory needs no database; the engine attribute is never read here.
    scripts = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    return frozenset(scripts.get_heads())


def current_revisions(engine: Engine) -> frozenset[str]:
    """The migrations the database is at; empty for an empty database."""
    # What Alembic's MigrationContext.get_current_heads reads, without importing Alembic.
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return frozenset()
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return frozenset(str(row[0]) for row in rows)


def describe(revisions: frozenset[str]) -> str:
    """Revisions for a message: sorted, comma separated, or "nothing"."""
    return ", ".join(sorted(revisions)) or "nothing"


def require_current(engine: Engine) -> None:
    """Refuses to go on unless the database is at the newest migrations."""
    current, heads = current_revisions(engine), head_revisions(engine)
    if current != heads:
        raise SchemaOutOfDate(
            f"The database schema is at {describe(current)}, this version needs "
            f"{describe(heads)}. Run `samverkan db upgrade` (with the same --config or --db) "
            "and start again."
        )
