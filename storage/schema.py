"""Alembic migrations, run from code: upgrade, current revision, and the start-up check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database is not at the newest migration; the bot must not start on it."""


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs our migrations on this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Applies migrations up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def head_revisions(engine: Engine) -> frozenset[str]:
    """The newest migrations this code knows (features may branch off; all heads count)."""
    return frozenset(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def current_revisions(engine: Engine) -> frozenset[str]:
    """The migrations the database is at; empty for an empty database."""
    with engine.connect() as connection:
        return frozenset(MigrationContext.configure(connection).get_current_heads())


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
