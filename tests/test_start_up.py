"""`samverkan run` gets to its first poll with only what polling needs (issue 26, target 5).

Alembic never enters the running process (the schema check reads the version row itself),
and the conversations are built after the first poll has started: a message that was
waiting when the bot started is still answered, as the first thing it does.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.telegram_emulator import REPO_ROOT, running_emulator
from tests.test_telegram_cli import ALEX, TOKEN_ENV, write_config

pytestmark = pytest.mark.slow

# `samverkan run` as the installed script runs it, telling at exit (on stderr) which of the
# modules we keep out of its start it ever imported, and whether its garbage collector runs.
RUN_AND_TELL_MODULES = (
    "import atexit, runpy, sys\n"
    "def tell():\n"
    "    print('imported alembic:', 'alembic' in sys.modules, file=sys.stderr, flush=True)\n"
    "    print('collector on:', __import__('gc').isenabled(), file=sys.stderr, flush=True)\n"
    "atexit.register(tell)\n"
    "sys.argv[0] = 'samverkan'\n"
    "runpy.run_module('bot.cli', run_name='__main__', alter_sys=True)\n"
)


def test_a_message_waiting_at_start_is_answered_and_alembic_is_never_imported(
    tmp_path: Path,
) -> None:
    with running_emulator() as emulator:
        config, code = write_config(tmp_path, emulator)
        # Alex wrote while the bot was down: the update waits at Telegram for the first poll.
        asyncio.run(emulator.send_command(ALEX.id, ALEX, "start", code))
        bot = subprocess.Popen(
            [sys.executable, "-c", RUN_AND_TELL_MODULES, "run", "--config", str(config)],
            cwd=REPO_ROOT,
            env={**os.environ, TOKEN_ENV: emulator.token},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            [welcome] = asyncio.run(emulator.wait_for_bot_messages(ALEX.id, 1, timeout=60))
            bot.send_signal(signal.SIGTERM)
            _, stderr = bot.communicate(timeout=30)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.communicate()
    assert bot.returncode == 0, stderr
    assert welcome["text"].startswith("Välkommen, Alex!")
    assert "imported alembic: False" in stderr  # the schema was checked all the same
    # Off while start-up made what lives as long as the process, then on again.
    assert "collector on: True" in stderr
    assert "Traceback" not in stderr


def test_httpcore_asking_for_the_missing_sniffio_fails_at_once() -> None:
    if importlib.util.find_spec("sniffio") is not None:
        pytest.skip("sniffio is installed here: nothing to remember as missing")
    import bot.telegram  # noqa: F401

    # Remembered as missing: `import sniffio` (httpcore, several times a Bot API request)
    # raises at once instead of searching sys.path each time.
    with pytest.raises(ImportError, match=r"halted; None in sys\.modules"):
        import sniffio  # noqa: F401
