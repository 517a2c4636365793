"""The [matrix] config section: documented keys, secrets only from the environment."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from bot.cli import EXIT_USAGE, main
from bot.config import ConfigError, MatrixConfig, check_matrix_secrets, load_config
from storage.crypto import DataKey

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"
SECRETS = {
    "SAMVERKAN_MATRIX_PASSWORD": "bot-password",
    "SAMVERKAN_MATRIX_PICKLE_KEY": "0123456789abcdef0123456789abcdef",
}


def config_file(tmp_path: Path, matrix: str) -> Path:
    """A config file with the given [matrix] section."""
    path = tmp_path / "config.toml"
    path.write_text(f"[matrix]\n{matrix}\n", encoding="utf-8")
    return path


ENABLED = """enabled = true
homeserver = "https://matrix.example.org"
user_id = "@samverkan:example.org"
store_path = "/var/lib/samverkansboten/matrix-store"
"""


def test_the_example_documents_every_matrix_key_and_loads_when_enabled(tmp_path: Path) -> None:
    example = EXAMPLE.read_text(encoding="utf-8")
    assert set(tomllib.loads(example)["matrix"]) == set(MatrixConfig.__dataclass_fields__)
    for key in MatrixConfig.__dataclass_fields__:
        # Each key has a comment above it (maubot's habit).
        before = example.split(f"\n{key} =", 1)[0].rstrip().splitlines()[-1]
        assert before.startswith("#"), key
    path = tmp_path / "config.toml"
    path.write_text(example.replace("enabled = false", "enabled = true"), encoding="utf-8")
    config = load_config(path, SECRETS)
    assert config.matrix.enabled
    assert config.matrix.user_id == "@samverkan:example.org"
    assert config.matrix.pickle_key_env == "SAMVERKAN_MATRIX_PICKLE_KEY"


def test_a_disabled_section_needs_no_secrets(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, "enabled = false"), {})
    assert not config.matrix.enabled


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"SAMVERKAN_MATRIX_PASSWORD": "x"}, "SAMVERKAN_MATRIX_PICKLE_KEY"),
        ({**SECRETS, "SAMVERKAN_MATRIX_PICKLE_KEY": "DEFAULT_KEY"}, "at least 16"),
        ({**SECRETS, "SAMVERKAN_MATRIX_PICKLE_KEY": "short"}, "at least 16"),
        ({"SAMVERKAN_MATRIX_PICKLE_KEY": SECRETS["SAMVERKAN_MATRIX_PICKLE_KEY"]}, "password"),
    ],
)
def test_missing_or_weak_secrets_are_refused_with_the_variable_named(
    tmp_path: Path, environment: dict[str, str], complaint: str
) -> None:
    # Reading the config needs no secrets; starting Matrix does (tests/test_operator_setup.py).
    config = load_config(config_file(tmp_path, ENABLED), environment)
    with pytest.raises(ConfigError, match=complaint):
        check_matrix_secrets(config.matrix, environment)


def test_an_access_token_can_stand_in_for_the_password(tmp_path: Path) -> None:
    environment = {
        "SAMVERKAN_MATRIX_ACCESS_TOKEN": "syt_token",
        "SAMVERKAN_MATRIX_PICKLE_KEY": SECRETS["SAMVERKAN_MATRIX_PICKLE_KEY"],
    }
    config = load_config(config_file(tmp_path, ENABLED), environment)
    check_matrix_secrets(config.matrix, environment)


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        (ENABLED.replace("@samverkan:example.org", "samverkan"), "user_id"),
        (ENABLED.replace("https://matrix.example.org", "matrix.example.org"), "homeserver"),
        (ENABLED + "password = 'hunter2'\n", "unknown key"),
        (ENABLED + "sync_timeout_seconds = '30'\n", "sync_timeout_seconds must be a int"),
    ],
)
def test_wrong_values_are_named(tmp_path: Path, section: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        load_config(config_file(tmp_path, section), SECRETS)


def test_samverkan_run_explains_a_missing_pickle_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SAMVERKAN_MATRIX_PICKLE_KEY", raising=False)
    monkeypatch.setenv("SAMVERKAN_MATRIX_PASSWORD", "bot-password")
    code = main(["run", "--config", str(config_file(tmp_path, ENABLED))])
    assert code == EXIT_USAGE
    assert "SAMVERKAN_MATRIX_PICKLE_KEY" in capsys.readouterr().err


def test_samverkan_run_waits_for_an_unreachable_homeserver_and_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SAMVERKAN_DATA_KEY", DataKey.generate("cfg").encode())
    monkeypatch.delenv("SAMVERKAN_DATABASE_URL", raising=False)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    section = ENABLED.replace("https://matrix.example.org", f"http://127.0.0.1:{port}").replace(
        "/var/lib/samverkansboten/matrix-store", str(tmp_path / "store")
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n\n[console]\n'
        f"enabled = false\n\n[matrix]\n{section}",
        encoding="utf-8",
    )
    assert main(["db", "upgrade", "--config", str(path)]) == 0
    # The homeserver may come up later: `run` says so and asks again, it does not end.
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    watchdog = threading.Timer(60, bot.kill)  # a test that never sees the line still ends
    watchdog.start()
    try:
        assert bot.stdout is not None
        for line in bot.stdout:
            seen.append(line)
            if "trying again in 2 s" in line:
                break
    finally:
        bot.terminate()
        rest, _ = bot.communicate(timeout=60)
        watchdog.cancel()
    output = "".join(seen) + rest
    assert bot.returncode == 0, output
    waiting = "matrix: the homeserver is not reachable (ClientConnectorError); trying again"
    assert f"{waiting} in 1 s" in output
    assert "Traceback" not in output
