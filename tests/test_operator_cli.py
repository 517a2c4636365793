"""What an operator sees and does: one process per SQLite file, `samverkan status`,
`samverkan outbox list --failed` and `samverkan outbox retry`."""

from __future__ import annotations

import io
import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.cli import EXIT_BUSY, main
from bot.instance import AnotherProcessRunning, SqliteProcessLock
from bot.status import print_status
from flows.replies import say
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

FORK = multiprocessing.get_context("fork")


def hold_lock(database: str, ready: multiprocessing.synchronize.Event) -> None:
    """A bot process that holds the SQLite lock until it is killed."""
    lock = SqliteProcessLock(Path(database))
    lock.acquire()
    ready.set()
    multiprocessing.Event().wait()


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite file."""
    path = tmp_path / "bot.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


def test_a_second_process_on_one_sqlite_file_is_refused_with_a_clear_message(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ready = FORK.Event()
    other = FORK.Process(target=hold_lock, args=(database, ready), daemon=True)
    other.start()
    assert ready.wait(30)
    try:
        with pytest.raises(AnotherProcessRunning) as refused:
            SqliteProcessLock(Path(database)).acquire()
        assert f"(pid {other.pid}) is already running on the SQLite database" in str(refused.value)
        assert "use PostgreSQL to run several" in str(refused.value)

        assert main(["run", "--db", f"sqlite:///{database}"]) == EXIT_BUSY
        assert "already running" in capsys.readouterr().err
    finally:
        other.kill()
        other.join()
    # The kernel dropped the dead process's lock: no stale lock file blocks a restart.
    lock = SqliteProcessLock(Path(database))
    lock.acquire()
    lock.release()


def test_the_lock_is_on_the_database_file_so_a_hard_link_or_symlink_is_refused_too(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    hard = elsewhere / "same.sqlite3"
    hard.hardlink_to(database)
    soft = elsewhere / "pointer.sqlite3"
    soft.symlink_to(database)
    ready = FORK.Event()
    other = FORK.Process(target=hold_lock, args=(database, ready), daemon=True)
    other.start()
    assert ready.wait(30)
    try:
        for name in (hard, soft):
            with pytest.raises(AnotherProcessRunning) as refused:
                SqliteProcessLock(name).acquire()
            assert "is already running on the SQLite database" in str(refused.value)
            assert main(["run", "--db", f"sqlite:///{name}"]) == EXIT_BUSY
            assert "use PostgreSQL to run several" in capsys.readouterr().err
    finally:
        other.kill()
        other.join()
    lock = SqliteProcessLock(hard)
    lock.acquire()
    lock.release()


def seed_outbox(engine: Engine, clock: FakeClock) -> None:
    """Three messages waiting (the oldest 7 minutes), one failed, a channel held, a tick."""
    sessions = session_factory(engine)
    with UnitOfWork(sessions) as uow:
        uow.outbox.enqueue("telegram", "42", (say("common.paused"),), "sv", clock.now)
        failed = uow.outbox.enqueue("matrix", "!room", (say("join.used"),), "sv", clock.now)
        uow.outbox.mark_failed(failed[0], "PermanentSendError")
        clock.advance(minutes=7)
        uow.outbox.enqueue("telegram", "43", (say("common.paused"),) * 2, "sv", clock.now)
        uow.processes.register("host-a:17:ab", "host-a", 17, clock.now)
        uow.processes.record_tick("host-a:17:ab", clock.now)
        uow.leases.acquire("telegram", "host-a:17:ab", clock.now, timedelta(seconds=30))
        uow.commit()


def test_status_shows_the_outbox_the_last_tick_and_who_polls_which_channel(
    engine: Engine, clock: FakeClock
) -> None:
    seed_outbox(engine, clock)
    clock.advance(seconds=12)
    out = io.StringIO()
    print_status(engine, clock.now, out)
    assert out.getvalue().splitlines() == [
        "outbox: 3 pending, 0 sending, 1 failed (see `samverkan outbox list --failed`)",
        "oldest pending: 7 min",
        "last tick: 2026-11-23 10:07:00 UTC (12 s ago)",
        "processes:",
        "  host-a:17:ab  pid 17 on host-a, alive, heartbeat 12 s ago, started 2026-11-23 10:07 UTC",
        "channels:",
        "  telegram: held by host-a:17:ab (lease 18 s left)",
    ]


def test_failed_messages_are_listed_without_content_and_retried_on_request(
    database: str, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(f"sqlite:///{database}")
    seed_outbox(engine, clock)
    assert main(["outbox", "list", "--failed", "--db", f"sqlite:///{database}"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line == (
        "2  2026-11-23 10:00 UTC  matrix:!room  join.used  attempts 0  PermanentSendError"
    )
    assert main(["outbox", "retry", "--id", "99", "--db", f"sqlite:///{database}"]) != 0
    assert main(["outbox", "retry", "--all", "--db", f"sqlite:///{database}"]) == 0
    assert "1 message(s) will be sent again" in capsys.readouterr().out
    with UnitOfWork(session_factory(engine)) as uow:
        assert (uow.outbox.counts().pending, uow.outbox.counts().failed) == (4, 0)
    engine.dispose()
