"""`samverkan run --config` starts the Telegram bot, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.domain import Role
from storage import models as m
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.support.strict_bot_api import Fault, running_strict_api
from tests.support.telegram_emulator import (
    REPO_ROOT,
    EmulatedUser,
    EmulatorClient,
    running_emulator,
)

pytestmark = pytest.mark.slow

ALEX = EmulatedUser(id=7001, first_name="Alex")
TOKEN_ENV = "SAMVERKAN_TELEGRAM_TOKEN"


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with running_emulator() as client:
        yield client


def write_config(
    tmp_path: Path, emulator: EmulatorClient, api_base_url: str | None = None
) -> tuple[Path, str]:
    """A config with only Telegram enabled, pointing at the emulator; an invite code."""
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with UnitOfWork(session_factory(engine)) as uow:
        from datetime import UTC, datetime

        case = uow.cases.create_case(datetime.now(UTC))
        code = uow.cases.create_invite(case.id, Role.YOUTH, "Alex", datetime.now(UTC))
        uow.commit()
    engine.dispose()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[console]\nenabled = false\n\n'
        f"[telegram]\nenabled = true\n"
        f'api_base_url = "{api_base_url or emulator.bot_api_base_url}"\n',
        encoding="utf-8",
    )
    return config, code


def start_bot(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`samverkan run --config …` as an operator would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def inbox_count(tmp_path: Path) -> int:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(m.InboxEvent)) or 0)
    finally:
        engine.dispose()


def test_run_with_a_token_serves_telegram_and_stops_cleanly_on_sigterm(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    config, code = write_config(tmp_path, emulator)
    env = {**os.environ, TOKEN_ENV: emulator.token}
    bot = start_bot(config, env)
    try:
        asyncio.run(emulator.send_command(ALEX.id, ALEX, "start", code))
        # Stop as soon as the update has taken effect: its replies are still in hand
        # (the pacer spaces them a second apart) and must go out before the exit.
        deadline = time.monotonic() + 60
        while inbox_count(tmp_path) == 0:
            assert bot.poll() is None, bot.communicate()[1]
            assert time.monotonic() < deadline, "the bot never handled /start"
            time.sleep(0.05)
        bot.send_signal(signal.SIGTERM)
        _, stderr = bot.communicate(timeout=30)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.communicate()
    assert bot.returncode == 0, stderr
    assert "Telegram bot stopped" in stderr
    messages = asyncio.run(emulator.bot_messages(ALEX.id))
    # The welcome and first contact's consent, as one message (bot/one_message.py).
    [welcome] = messages
    assert welcome["text"].startswith("Välkommen, Alex!")
    assert "Innan vi börjar vill jag berätta vad jag är." in welcome["text"]
    assert code not in stderr, "no invite codes (or any message content) in the log"
    assert emulator.token.split(":")[1] not in stderr, "the token never appears in the log"


def test_telegram_failing_at_start_is_tried_again_and_the_bot_then_serves(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    with running_strict_api(emulator.base_url) as strict:
        config, code = write_config(tmp_path, emulator, api_base_url=strict.base_url)
        # Telegram's gateway fails once at getMe and once when polling starts (1 s each).
        strict.state.fail_next("getMe", Fault("502"))
        strict.state.fail_next("deleteWebhook", Fault("503"))
        bot = start_bot(config, {**os.environ, TOKEN_ENV: emulator.token})
        try:
            asyncio.run(emulator.send_command(ALEX.id, ALEX, "start", code))
            deadline = time.monotonic() + 60
            while inbox_count(tmp_path) == 0:
                assert bot.poll() is None, bot.communicate()[1]
                assert time.monotonic() < deadline, "the bot never handled /start"
                time.sleep(0.05)
            bot.send_signal(signal.SIGTERM)
            _, stderr = bot.communicate(timeout=30)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.communicate()
    assert bot.returncode == 0, stderr
    assert "Telegram not reachable at start (getMe: NetworkError); trying again in 1 s" in stderr
    assert "(deleteWebhook: NetworkError); trying again in 1 s" in stderr
    assert "Traceback" not in stderr
    assert emulator.token.split(":")[1] not in stderr, "the token never appears in the log"


def test_a_token_telegram_refuses_is_named_without_a_traceback(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    with running_strict_api(emulator.base_url) as strict:
        config, _ = write_config(tmp_path, emulator, api_base_url=strict.base_url)
        strict.state.fail_next("getMe", Fault("401"))
        bot = start_bot(config, {**os.environ, TOKEN_ENV: emulator.token})
        _, stderr = bot.communicate(timeout=60)
    assert bot.returncode == 2
    assert f"Telegram refused the bot token in {TOKEN_ENV}" in stderr
    assert "Traceback" not in stderr


def test_run_without_the_token_says_which_variable_is_missing(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    config, _ = write_config(tmp_path, emulator)
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    bot = start_bot(config, env)
    _, stderr = bot.communicate(timeout=30)
    assert bot.returncode == 2
    assert TOKEN_ENV in stderr


def test_after_kill_9_the_restarted_bot_answers_within_ten_seconds(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    config, code = write_config(tmp_path, emulator)
    env = {**os.environ, TOKEN_ENV: emulator.token}
    first = start_bot(config, env)
    try:
        asyncio.run(emulator.send_command(ALEX.id, ALEX, "start", code))
        welcomed = asyncio.run(emulator.wait_for_bot_messages(ALEX.id, 1, timeout=60))
    finally:
        first.kill()  # SIGKILL: no clean stop, its lease on telegram is left behind
        first.communicate()
    status = subprocess.run(
        [sys.executable, "-m", "bot.cli", "status", "--config", str(config)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert f"pid {first.pid} on " in status and ", dead (no heartbeat for " in status
    assert "telegram: nobody polls: held by " in status
    second = start_bot(config, env)
    try:
        sent_at = time.monotonic()
        asyncio.run(emulator.send_message(ALEX.id, ALEX, "hej"))
        # Alone on the SQLite file (its lock proves it), the new process polls at once
        # rather than waiting out the dead one's lease (90 s by default).
        asyncio.run(emulator.wait_for_bot_messages(ALEX.id, len(welcomed) + 1, timeout=10))
        answered_in = time.monotonic() - sent_at
    finally:
        second.kill()
        _, stderr = second.communicate()
    assert answered_in <= 10, stderr
