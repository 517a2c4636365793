"""What an operator sees when the database cannot be used: one plain line, never a traceback.

Each case runs the real `samverkan` command in a subprocess, as an operator would type it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from storage.crypto import DATA_KEY_ENV, DataKey
from storage.db import make_engine
from storage.schema import upgrade
from tests.cli import samverkan_env

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "hemligt-losenord-123"

# A launcher that runs `samverkan` with SQLite limited to a few pages: SQLite then fails
# exactly as on a full disk (SQLITE_FULL, "database or disk is full").
FULL_DISK_LAUNCHER = """
import runpy, sys
from sqlalchemy import Engine, event

@event.listens_for(Engine, "connect")
def _small(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA max_page_count=20")

sys.argv = ["samverkan", *sys.argv[1:]]
runpy.run_module("bot.cli", run_name="__main__")
"""

# A launcher that lets files grow to a few kilobytes only (as a full disk or quota would):
# the write fails in the kernel, not in SQLite.
FILE_SIZE_LAUNCHER = """
import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
sys.argv = ["samverkan", *sys.argv[1:]]
runpy.run_module("bot.cli", run_name="__main__")
"""


def samverkan(
    args: list[str], home: Path, launcher: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs `samverkan ARGS` (through a launcher script if given) with a data key set."""
    env = samverkan_env(home)
    env[DATA_KEY_ENV] = DataKey.generate().encode()
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "bot.cli"]
    if launcher is not None:
        script = home / "launcher.py"
        script.write_text(launcher, encoding="utf-8")
        command = [sys.executable, str(script)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=home,
        check=False,
    )


def one_plain_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command; fails on a traceback or a zero exit."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("samverkan: ")
    assert result.returncode != 0
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def corrupt_file(tmp_path: Path) -> Path:
    """A file of random bytes where the SQLite database should be."""
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(os.urandom(64 * 1024))
    return path


@pytest.fixture
def truncated_file(tmp_path: Path) -> Path:
    """A migrated database cut short, as a copy interrupted half-way leaves it."""
    path = tmp_path / "truncated.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 7)
    return path


def test_a_database_url_that_is_no_url_is_one_line(tmp_path: Path) -> None:
    line = one_plain_line(samverkan(["db", "current", "--db", "notaurl"], tmp_path))
    assert "not a database URL" in line
    assert "sqlite:////" in line  # an example of the right shape


def test_mysql_is_refused_naming_what_is_supported_without_the_password(tmp_path: Path) -> None:
    url = f"mysql://samverkan:{PASSWORD}@127.0.0.1/samverkan"
    line = one_plain_line(samverkan(["status", "--db", url], tmp_path))
    assert "sqlite" in line and "postgresql" in line
    assert PASSWORD not in line


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://samverkan:{PASSWORD}@127.0.0.1:{closed_port()}/samverkan"
    for command in (["db", "upgrade"], ["status"], ["run"]):
        line = one_plain_line(samverkan([*command, "--db", url], tmp_path))
        assert "cannot connect" in line and "127.0.0.1" in line
        assert PASSWORD not in line


def test_a_corrupt_sqlite_file_is_one_line(tmp_path: Path, corrupt_file: Path) -> None:
    url = f"sqlite:///{corrupt_file}"
    for command in (["db", "current"], ["status"], ["run"], ["demo"]):
        line = one_plain_line(samverkan([*command, "--db", url], tmp_path))
        assert "is not an SQLite database or is damaged" in line
        assert str(corrupt_file) in line
        assert "backup" in line


def test_a_truncated_sqlite_file_is_one_line(tmp_path: Path, truncated_file: Path) -> None:
    url = f"sqlite:///{truncated_file}"
    for command in (["db", "upgrade"], ["status"]):
        line = one_plain_line(samverkan([*command, "--db", url], tmp_path))
        assert "is not an SQLite database or is damaged" in line


def test_a_full_disk_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    line = one_plain_line(samverkan(["db", "upgrade", "--db", url], tmp_path, FULL_DISK_LAUNCHER))
    assert "full" in line and "free" in line


def test_a_file_that_may_not_grow_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    line = one_plain_line(samverkan(["db", "upgrade", "--db", url], tmp_path, FILE_SIZE_LAUNCHER))
    assert "cannot write" in line and "free" in line


def test_the_example_config_puts_the_database_at_an_absolute_path() -> None:
    config = load_config(ROOT / "config.example.toml", environ={})
    assert config.database_url == "sqlite:////var/lib/samverkansboten/samverkan.sqlite3"


def test_a_relative_sqlite_path_in_a_config_file_is_refused(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('[database]\nurl = "sqlite:///var/lib/bot.sqlite3"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="relative"):
        load_config(config_file, environ={})
    line = one_plain_line(samverkan(["db", "current", "--config", str(config_file)], tmp_path))
    assert "sqlite:////" in line
    assert not (tmp_path / "var").exists()
