"""`samverkan run --config` with a [matrix] section starts the bot against a real Synapse."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalogue import Catalogue, TextFormat
from storage.crypto import DataKey
from tests.matrix_people import (
    PICKLE_KEY,
    Person,
    run,
    synapse_server,  # noqa: F401  (fixture "hs": the module's Synapse)
    unique,
)
from tests.support.synapse import Homeserver

pytestmark = pytest.mark.slow

BOT_PASSWORD = "a-bot-password-nobody-guesses"
STOP_TIMEOUT_S = 30


def write_config(path: Path, hs: Homeserver, user_id: str, tmp_path: Path) -> None:
    """An operator's config file: SQLite, no console, Matrix on."""
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "bot.sqlite3"}"

[console]
enabled = false

[matrix]
enabled = true
homeserver = "{hs.url}"
user_id = "{user_id}"
store_path = "{tmp_path / "matrix-store"}"
sync_timeout_seconds = 1
""",
        encoding="utf-8",
    )


def samverkan(*args: str) -> list[str]:
    """The command line of the installed `samverkan` command, run by this interpreter."""
    return [sys.executable, "-m", "bot.cli", *args]


def test_samverkan_run_with_matrix_settings_starts_the_bot(
    hs: Homeserver, tmp_path: Path, catalogue: Catalogue
) -> None:
    bot_user = hs.register(unique("samverkan"), BOT_PASSWORD)
    config = tmp_path / "config.toml"
    write_config(config, hs, bot_user.user_id, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    env |= {"SAMVERKAN_MATRIX_PASSWORD": BOT_PASSWORD, "SAMVERKAN_MATRIX_PICKLE_KEY": PICKLE_KEY}
    env["SAMVERKAN_DATA_KEY"] = DataKey.generate("cli").encode()  # `run` refuses without one
    upgrade = subprocess.run(
        samverkan("db", "upgrade", "--config", str(config)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr

    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        bot = subprocess.Popen(
            samverkan("run", "--config", str(config)),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        async def scenario() -> None:
            alex = await Person.start(hs, "alex", tmp_path)
            try:
                dm = await alex.open_dm(bot_user.user_id)
                (greeting,) = await alex.next_from(bot_user.user_id, dm)
                need_code = catalogue.render("onboarding.need_code", {}, "sv", TextFormat.PLAIN)
                assert greeting.body == need_code
                assert greeting.decrypted
            finally:
                await alex.stop()

        run(hs, scenario())
    finally:
        bot.terminate()
        code = bot.wait(timeout=STOP_TIMEOUT_S)
    output = log.read_text(encoding="utf-8")
    assert code == 0, output
    assert "matrix: device" in output and "ed25519 fingerprint" in output
    # Secrets and message content never reach the log.
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        (token,) = db.execute("SELECT access_token FROM matrix_account").fetchone()
    for secret in (BOT_PASSWORD, PICKLE_KEY, token, "Hej!"):
        assert secret not in output
    print(output)
