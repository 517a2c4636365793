"""Logs hold no token, invite code, message text or bound parameter, at any level.

The scenario runs `samverkan run` as an operator starts it, with `[logging] level = "DEBUG"`
and its log written to a file, against the Telegram emulator: a young person joins with an
invite code and writes a private question. Then the log file is read as an attacker would.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import apscheduler.schedulers.base
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.log_safety import (
    PAYLOAD_LOGGERS,
    SafeFormatter,
    configure_logging,
    register_secret,
)
from flows.domain import Role
from flows.replies import say
from storage.db import make_engine, session_factory
from storage.invite_codes import new_code
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.support.telegram_driver import RunningBot
from tests.support.telegram_emulator import (
    REPO_ROOT,
    EmulatedUser,
    EmulatorClient,
    running_emulator,
)

ALEX = EmulatedUser(id=7101, first_name="Alex", language_code="sv")
TOKEN_ENV = "SAMVERKAN_TELEGRAM_TOKEN"
# A token shaped as BotFather makes them: the bot's id, a colon, 35 characters.
TOKEN = "7012345678:AAHc9f3Kq2LmZ0pXwVbN8rT1sYdE4uJ6gHo"
# A private question nobody but the young person may read: found anywhere else, it leaked.
CANARY = "Kanariefågeln9QX sjunger om skolan"


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    """The Bot API emulator, answering to a real-looking token."""
    with running_emulator(token=TOKEN) as client:
        yield client


def bot_config(tmp_path: Path, emulator: EmulatorClient) -> tuple[Path, str]:
    """A config at DEBUG with only Telegram enabled; an invite code for a young person."""
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with UnitOfWork(session_factory(engine)) as uow:
        case = uow.cases.create_case(datetime.now(UTC))
        code = uow.cases.create_invite(case.id, Role.YOUTH, "Alex", datetime.now(UTC))
        uow.commit()
    engine.dispose()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[logging]\nlevel = "DEBUG"\n\n'
        f"[console]\nenabled = false\n\n"
        f'[telegram]\nenabled = true\napi_base_url = "{emulator.bot_api_base_url}"\n',
        encoding="utf-8",
    )
    return config, code


@pytest.mark.slow
def test_a_full_scenario_at_debug_leaves_no_token_code_or_message_text_in_the_log_file(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    config, code = bot_config(tmp_path, emulator)
    log_file = tmp_path / "samverkan.log"
    with log_file.open("w", encoding="utf-8") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
            cwd=REPO_ROOT,
            env={**os.environ, TOKEN_ENV: TOKEN},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
            try:
                asyncio.run(young_person_joins_and_asks(emulator, engine, code))
            finally:
                engine.dispose()
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=30)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    assert bot.returncode == 0, log_file.read_text(encoding="utf-8")
    written = log_file.read_text(encoding="utf-8")
    assert " DEBUG " in written, "the log was written at DEBUG"
    assert "Telegram bot stopped" in written
    assert TOKEN not in written
    assert TOKEN.split(":")[1] not in written, "not even the secret half of the token"
    assert code not in written and code.replace("-", "") not in written
    assert "Kanariefågeln9QX" not in written, "no message text"
    assert "Alex" not in written, "no names"


async def young_person_joins_and_asks(emulator: EmulatorClient, engine: Engine, code: str) -> None:
    """Alex opens the invite link, says yes, and writes a private question."""
    # The driver's waiting needs only the emulator and the database, not the service.
    bot = RunningBot(
        cast(Any, None), emulator, cast(Any, None), session_factory(engine), int(TOKEN[:10])
    )
    alex = bot.user(ALEX)
    await started(alex, code)
    assert "Välkommen, Alex! Nu är du med." in alex.text()
    await alex.says_yes()
    await alex.tap("Mina frågor")
    await alex.tap("Skriv en ny fråga")
    await alex.say(CANARY)
    assert "Sparat!" in alex.text()
    assert CANARY in alex.text()


async def started(alex: Any, code: str) -> None:
    """Sends `/start CODE` once the bot polls (it may still be starting)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            await alex.command("/start", code)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_a_failing_statement_at_info_does_not_print_its_bound_parameters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    log = logging.getLogger("samverkan")
    now = datetime.now(UTC)
    try:
        with caplog.at_level(logging.INFO):
            # A lone surrogate in a command name (a broken client) reaches the outbox as a
            # parameter of "unknown command" and cannot be encoded.
            with UnitOfWork(sessions) as uow, pytest.raises(SQLAlchemyError) as surrogate:
                reply = say("common.unknown_command", name="\ud800" + CANARY)
                uow.outbox.enqueue("telegram", "7101", (reply,), "sv", now)
            log.error("update could not be handled", exc_info=surrogate.value)
            # The same text twice where it must be unique: an integrity error.
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE note (body TEXT NOT NULL UNIQUE)"))
                connection.execute(text("INSERT INTO note VALUES (:body)"), {"body": CANARY})
                with pytest.raises(SQLAlchemyError) as duplicate:
                    connection.execute(text("INSERT INTO note VALUES (:body)"), {"body": CANARY})
            log.error("insert failed", exc_info=duplicate.value)
    finally:
        engine.dispose()
    assert "update could not be handled" in caplog.text
    assert "insert failed" in caplog.text
    assert "UNIQUE constraint failed" in caplog.text, "the error itself is still told"
    assert "Kanariefågeln9QX" not in str(surrogate.value)
    assert "Kanariefågeln9QX" not in str(duplicate.value)
    assert "Kanariefågeln9QX" not in caplog.text


@contextmanager
def logging_to(path: Path, level: str) -> Iterator[Path]:
    """The CLI's logging setup writing to a file at `level`; logging as it was afterwards."""
    root = logging.getLogger()
    levels = {
        name: logging.getLogger(name).level for name in (*PAYLOAD_LOGGERS, "alembic", "apscheduler")
    }
    scheduler = logging.getLogger("apscheduler.scheduler")
    filters = list(scheduler.filters)
    saved = (root.level, sys.excepthook, threading.excepthook, warnings.showwarning)
    handler = logging.FileHandler(path, encoding="utf-8")
    configure_logging(level, handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        sys.excepthook, threading.excepthook, warnings.showwarning = saved[1:]
        logging.captureWarnings(False)
        for name, old_level in levels.items():
            logging.getLogger(name).setLevel(old_level)
        scheduler.filters[:] = filters


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The CLI's logging setup writing to a file at DEBUG."""
    with logging_to(tmp_path / "samverkan.log", "DEBUG") as path:
        yield path


def test_a_job_still_running_at_its_next_run_is_no_warning_for_the_operator(
    tmp_path: Path,
) -> None:
    # The dispatch sending a backlog outlasts its 5 s interval: APScheduler warned every 5 s.
    # The message as APScheduler's scheduler logs it (its source splits it over two lines).
    assert "skipped: maximum number of running" in inspect.getsource(apscheduler.schedulers.base)
    template = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'
    with logging_to(tmp_path / "samverkan.log", "INFO") as path:
        scheduler = logging.getLogger("apscheduler.scheduler")
        scheduler.warning(template, "samverkan-dispatch", 1)
        scheduler.warning("Run time of job %s was missed by %s", "samverkan-tick", "0:01:00")
        written = path.read_text(encoding="utf-8")
    assert "skipped" not in written
    assert "was missed by 0:01:00" in written  # other scheduler warnings still speak


def test_tokens_codes_and_registered_secrets_are_redacted_in_every_line(log_file: Path) -> None:
    code = new_code()
    register_secret("123456789:samverkansboten-test-token")  # shorter than BotFather's
    log = logging.getLogger("bot.telegram.service")
    log.debug("POST http://127.0.0.1:8081/bot%s/getUpdates", TOKEN)
    log.debug("joined with %s, typed as %s", code, code.replace("-", "").lower())
    log.debug("the emulator's token: 123456789:samverkansboten-test-token")
    log.info("matrix GET /sync?access_token=syt_c2Ft_RbNqPzUuXkW_3KxQ0d&since=s72")
    log.info("Authorization: Bearer MDAxOGxvY2F0aW9uIGV4YW1wbGUub3JnCjAwMTNp")
    log.info('login body {"password": "hemligt-lösen-123"}')
    log.info("database postgresql+psycopg://samverkan:S3cret-pw@db.example/samverkan")

    written = log_file.read_text(encoding="utf-8")
    assert written.count("[redacted]") == 8, written
    for secret in (
        TOKEN.split(":")[1],
        code,
        code.replace("-", "").lower(),
        "samverkansboten-test-token",
        "RbNqPzUuXkW",
        "MDAxOGxvY2F0aW9u",
        "hemligt-lösen",
        "S3cret-pw",
    ):
        assert secret not in written
    assert "/getUpdates" in written and "db.example/samverkan" in written, "the rest is kept"


def test_libraries_are_not_heard_below_warning_even_at_debug(log_file: Path) -> None:
    # Even a library whose level someone lowered again, and one we have never heard of.
    logging.getLogger("telegram.ext.ExtBot").setLevel(logging.DEBUG)
    logging.getLogger("telegram.ext.ExtBot").debug("sendMessage with text %s", CANARY)
    logging.getLogger("nio.rooms").info("message from @kim:example.org: %s", CANARY)
    logging.getLogger("some_new_library").debug("payload %s", CANARY)
    logging.getLogger("httpx").warning("server error at /getUpdates")
    logging.getLogger("bot.handler").debug("handled TextMessage event on telegram")

    written = log_file.read_text(encoding="utf-8")
    assert "Kanariefågeln9QX" not in written
    assert "WARNING httpx: server error at /getUpdates" in written
    assert "DEBUG bot.handler: handled TextMessage event" in written


def test_a_logged_exception_keeps_its_traceback_but_not_its_text(log_file: Path) -> None:
    def check_question(text: str) -> None:
        raise ValueError(f"cannot store {text!r}")

    try:
        try:
            check_question(CANARY)
        except ValueError as exc:
            raise RuntimeError(f"handling failed: {exc}") from exc
    except RuntimeError as exc:
        # Also when our own line repeats the exception's text.
        logging.getLogger("bot.telegram.service").exception("update 7 failed: %s", exc)

    written = log_file.read_text(encoding="utf-8")
    assert "Kanariefågeln9QX" not in written, written
    assert "ERROR bot.telegram.service: update 7 failed: [text withheld]" in written
    assert "in check_question" in written, "the traceback is still there"
    assert "ValueError: [text withheld]" in written
    assert "RuntimeError: [text withheld]" in written
    assert "direct cause" in written


def test_an_uncaught_exception_is_logged_without_its_text(tmp_path: Path) -> None:
    crash = (
        "from bot.log_safety import configure_logging\n"
        "configure_logging('INFO')\n"
        f"raise KeyError({CANARY!r})\n"
    )
    ended = subprocess.run(
        [sys.executable, "-c", crash], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert ended.returncode == 1
    assert "CRITICAL samverkan: uncaught KeyError" in ended.stderr
    assert "Kanariefågeln9QX" not in ended.stderr


def test_a_line_that_cannot_be_written_as_it_is_never_reports_its_arguments(
    log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("bot.handler").debug("a lone surrogate from a broken client: %s", "\ud800")
    # A call whose arguments do not fit (logging would print them, in its own error report).
    wrong = logging.LogRecord(
        "bot.handler", logging.DEBUG, __file__, 1, "one placeholder: %s", (CANARY, CANARY), None
    )
    line = SafeFormatter().format(wrong)

    assert "a broken client: \\ud800" in log_file.read_text(encoding="utf-8")
    assert "one placeholder: %s [arguments withheld" in line
    assert "Kanariefågeln9QX" not in line + capsys.readouterr().err
