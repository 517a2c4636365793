"""Durability is chosen, not hidden: [database] sqlite_synchronous reaches every connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from storage.db import SqliteSynchronous, make_engine

# PRAGMA synchronous reads back as a number: 1 is NORMAL, 2 is FULL.
PRAGMA_VALUE = {SqliteSynchronous.NORMAL: 1, SqliteSynchronous.FULL: 2}


def test_the_default_is_normal_as_the_example_says(tmp_path: Path) -> None:
    assert load_config(None, environ={}).sqlite_synchronous is SqliteSynchronous.NORMAL
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    assert 'sqlite_synchronous = "NORMAL"' in example.read_text()


@pytest.mark.parametrize("choice", list(SqliteSynchronous))
def test_the_chosen_level_is_what_sqlite_runs_with(
    tmp_path: Path, choice: SqliteSynchronous
) -> None:
    config_file = tmp_path / "bot.toml"
    config_file.write_text(f'[database]\nsqlite_synchronous = "{choice.value}"\n')
    config = load_config(config_file, environ={})
    assert config.sqlite_synchronous is choice
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}", config.sqlite_synchronous)
    try:
        # Two connections: the pragma is per connection, so each one of the pool must get it.
        # (Raw connections: a SQLAlchemy one would BEGIN IMMEDIATE, and two would wait on
        # each other's write lock.)
        first, second = engine.raw_connection(), engine.raw_connection()
        try:
            for connection in (first, second):
                cursor = connection.cursor()
                assert cursor.execute("PRAGMA synchronous").fetchone()[0] == PRAGMA_VALUE[choice]
                cursor.close()
        finally:
            first.close()
            second.close()
    finally:
        engine.dispose()


def test_the_cli_opens_the_database_with_the_configured_level(tmp_path: Path) -> None:
    from bot import cli

    config_file = tmp_path / "bot.toml"
    config_file.write_text('[database]\nsqlite_synchronous = "FULL"\n')
    seen: list[SqliteSynchronous] = []
    real = cli.make_engine

    def spy(url: str, synchronous: SqliteSynchronous = SqliteSynchronous.NORMAL) -> object:
        seen.append(synchronous)
        return real(url, synchronous)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "make_engine", spy)
        database = f"sqlite:///{tmp_path / 'x.sqlite3'}"
        cli.main(["db", "upgrade", "--config", str(config_file), "--db", database])
    assert seen == [SqliteSynchronous.FULL]


@pytest.mark.parametrize("value", ['"OFF"', '"normal "', "2", '"EXTRA"'])
def test_other_levels_are_refused_by_name(tmp_path: Path, value: str) -> None:
    config_file = tmp_path / "bot.toml"
    config_file.write_text(f"[database]\nsqlite_synchronous = {value}\n")
    with pytest.raises(
        ConfigError, match=r'\[database\] sqlite_synchronous must be "NORMAL" or "FULL"'
    ):
        load_config(config_file, environ={})
