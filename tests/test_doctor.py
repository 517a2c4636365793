"""`samverkan doctor --config FILE`: one line per check, `ok` or `fel` with what to do."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import main
from storage.crypto import DATA_KEY_ENV, DataKey
from storage.db import make_engine
from storage.schema import upgrade
from tests.test_cli_errors import closed_port

TOKEN = "123456:" + "A" * 35
PICKLE_KEY = "pickle-key-0123456789abcdef"
MATRIX_PASSWORD = "matrix-losenord-0123"


class FakeServers(BaseHTTPRequestHandler):
    """Telegram's getMe for TOKEN and a homeserver's /versions, on loopback."""

    def do_GET(self) -> None:
        """Answers getMe (only with the right token) and /_matrix/client/versions."""
        if self.path == f"/bot{TOKEN}/getMe":
            self._answer(200, {"ok": True, "result": {"id": 123456, "is_bot": True}})
        elif self.path.startswith("/bot"):
            self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        elif self.path == "/_matrix/client/versions":
            self._answer(200, {"versions": ["v1.11"]})
        else:
            self._answer(404, {})

    def _answer(self, status: int, body: dict[str, object]) -> None:
        """Sends a JSON answer."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        """Quiet."""


@pytest.fixture
def servers() -> Iterator[str]:
    """The base URL of the loopback fakes."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A migrated SQLite file in a private folder."""
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    path = folder / "bot.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def healthy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every secret the config names, set."""
    monkeypatch.delenv("SAMVERKAN_DATABASE_URL", raising=False)
    monkeypatch.setenv(DATA_KEY_ENV, DataKey.generate().encode())
    monkeypatch.setenv("SAMVERKAN_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("SAMVERKAN_MATRIX_PICKLE_KEY", PICKLE_KEY)
    monkeypatch.setenv("SAMVERKAN_MATRIX_PASSWORD", MATRIX_PASSWORD)


def write_config(tmp_path: Path, database: Path, telegram: str, homeserver: str) -> Path:
    """A config with Telegram and Matrix enabled against the given addresses."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{database}"
[bot]
timezone = "Europe/Stockholm"
[telegram]
enabled = true
api_base_url = "{telegram}/bot"
[matrix]
enabled = true
homeserver = "{homeserver}"
user_id = "@samverkan:example.org"
store_path = "{tmp_path / "store"}"
""",
        encoding="utf-8",
    )
    return path


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Runs `samverkan doctor --config FILE`: its exit code and its lines."""
    code = main(["doctor", "--config", str(config)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    lines = out.out.strip().splitlines()
    secrets = [TOKEN, PICKLE_KEY, MATRIX_PASSWORD, os.environ.get(DATA_KEY_ENV)]
    for secret in filter(None, secrets):
        assert secret not in out.out + out.err
    return code, lines


def line_about(lines: list[str], topic: str) -> str:
    """The one line of a check."""
    found = [line for line in lines if line.split()[1:2] == [f"{topic}:"]]
    assert len(found) == 1, (topic, lines)
    return found[0]


@pytest.mark.usefixtures("healthy_env")
def test_a_healthy_setup_is_all_ok(
    tmp_path: Path, database: Path, servers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = doctor(write_config(tmp_path, database, servers, servers), capsys)
    assert code == 0, lines
    assert all(line.startswith("ok ") for line in lines), lines
    for topic in ("config", "data-key", "database", "files", "telegram", "matrix", "clock"):
        line_about(lines, topic)
    assert "Europe/Stockholm" in line_about(lines, "clock")


@pytest.mark.usefixtures("healthy_env")
def test_each_problem_is_one_fel_line_saying_what_to_do(
    tmp_path: Path,
    database: Path,
    servers: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DATA_KEY_ENV)
    monkeypatch.setenv("SAMVERKAN_TELEGRAM_TOKEN", "999999:" + "B" * 35)  # a revoked token
    database.chmod(0o644)
    homeserver = f"http://127.0.0.1:{closed_port()}"
    code, lines = doctor(write_config(tmp_path, database, servers, homeserver), capsys)
    assert code == 1
    assert line_about(lines, "config").startswith("ok ")
    key = line_about(lines, "data-key")
    assert key.startswith("fel ") and DATA_KEY_ENV in key and "keys new" in key
    files = line_about(lines, "files")
    assert files.startswith("fel ") and "chmod 600" in files
    telegram = line_about(lines, "telegram")
    assert telegram.startswith("fel ") and "SAMVERKAN_TELEGRAM_TOKEN" in telegram
    assert "refused" in telegram
    matrix = line_about(lines, "matrix")
    assert matrix.startswith("fel ") and "cannot reach" in matrix


@pytest.mark.usefixtures("healthy_env")
def test_a_database_behind_the_code_and_a_missing_token(
    tmp_path: Path,
    servers: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SAMVERKAN_TELEGRAM_TOKEN")
    empty = tmp_path / "empty.sqlite3"
    make_engine(f"sqlite:///{empty}").dispose()
    code, lines = doctor(write_config(tmp_path, empty, servers, servers), capsys)
    assert code == 1
    schema = line_about(lines, "database")
    assert schema.startswith("fel ") and "samverkan db upgrade" in schema
    telegram = line_about(lines, "telegram")
    assert telegram.startswith("fel ") and "SAMVERKAN_TELEGRAM_TOKEN" in telegram
    assert "not set" in telegram


@pytest.mark.usefixtures("healthy_env")
def test_a_corrupt_database_and_a_closed_postgresql_port_are_fel_lines(
    tmp_path: Path, servers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(os.urandom(8192))
    code, lines = doctor(write_config(tmp_path, corrupt, servers, servers), capsys)
    assert code == 1
    assert "damaged" in line_about(lines, "database")

    config = tmp_path / "pg.toml"
    url = f"postgresql+psycopg://bot:hemligt-pw-1@127.0.0.1:{closed_port()}/bot"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    code, lines = doctor(config, capsys)
    assert code == 1
    database = line_about(lines, "database")
    assert database.startswith("fel ") and "cannot connect" in database
    assert "hemligt-pw-1" not in "\n".join(lines)


def test_a_config_that_does_not_parse_is_one_fel_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[database\nurl = 1\n", encoding="utf-8")
    code, lines = doctor(config, capsys)
    assert code == 1
    assert lines == [line_about(lines, "config")]
    assert lines[0].startswith("fel ") and "not valid TOML" in lines[0]
