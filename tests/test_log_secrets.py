"""Logs hold no token, invite code, message text or bound parameter, at any level.

The scenario runs `samverkan run` as an operator starts it, with `[logging] level = "DEBUG"`
and its log written to a file, against the Telegram emulator: a young person joins with an
invite code and writes a private question. Then the log file is read as an attacker would.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from flows.replies import say
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork

# A private question nobody but the young person may read: found anywhere else, it leaked.
CANARY = "Kanariefågeln9QX sjunger om skolan"


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
