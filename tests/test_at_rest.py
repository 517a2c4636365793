"""At rest: the files the bot makes are its user's only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.crypto import DATA_KEY_ENV
from storage.db import make_engine
from storage.schema import upgrade
from tests.cli import run


def mode(path: Path) -> int:
    """The permission bits of a file or folder."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a user (022): what the bot must not rely on being tighter."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("usual_umask")
def test_the_database_its_wal_and_the_folders_made_for_it_are_the_bot_users_only(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "var" / "samverkan"
    engine = make_engine(f"sqlite:///{folder / 'bot.sqlite3'}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM person"))
        files = {p.name: mode(p) for p in folder.iterdir()}
    engine.dispose()
    assert files == {"bot.sqlite3": 0o600, "bot.sqlite3-wal": 0o600, "bot.sqlite3-shm": 0o600}
    assert mode(folder) == 0o700 and mode(tmp_path / "var") == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_the_demos_folder_key_and_an_exported_report_are_the_users_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_KEY_ENV)  # the demo then makes its own key file
    demo = run(["demo"], tmp_path, "/hjälp\n")
    assert demo.returncode == 0, demo.stderr
    data = tmp_path / "data" / "samverkansboten"
    assert mode(tmp_path / "data") == 0o700 and mode(data) == 0o700
    assert {p.name: mode(p) for p in data.iterdir()} == {
        "samverkan.sqlite3": 0o600,
        "samverkan.sqlite3.key": 0o600,
    }
    db = f"sqlite:///{data / 'samverkan.sqlite3'}"
    report = tmp_path / "uppfoljning.md"
    exported = run(
        ["report", "followup", "--case", "K-1", "--output", str(report), "--db", db], tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    assert mode(report) == 0o600
