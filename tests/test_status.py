"""`samverkan status` tells a dead process (and the channel it seemed to hold) from a live one."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.instance import SqliteProcessLock
from bot.status import print_status
from storage.db import session_factory
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

HOST = socket.gethostname()
LEASE = timedelta(seconds=90)


@pytest.fixture
def running(engine: Engine) -> Iterator[int]:
    """This test process plays the running bot: on SQLite it holds the database's lock."""
    lock = SqliteProcessLock.for_engine(engine)
    if lock is not None:
        lock.acquire()
    yield os.getpid()
    if lock is not None:
        lock.release()


def a_dead_pid() -> int:
    """The pid of a process on this host that has ended (as after kill -9)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_status_shows_a_killed_process_as_dead_and_its_channel_as_not_polled(
    engine: Engine, clock: FakeClock, running: int
) -> None:
    dead = a_dead_pid()
    with UnitOfWork(session_factory(engine)) as uow:
        # Killed with -9 a moment after its last heartbeat: it never said it stopped.
        uow.processes.register(f"{HOST}:{dead}:aa", HOST, dead, clock.now)
        uow.leases.acquire("telegram", f"{HOST}:{dead}:aa", clock.now, LEASE)
        clock.advance(seconds=20)
        uow.processes.register(f"{HOST}:{running}:bb", HOST, running, clock.now)
        uow.leases.acquire("matrix", f"{HOST}:{running}:bb", clock.now, LEASE)
        uow.commit()
    clock.advance(seconds=10)
    out = io.StringIO()
    print_status(engine, clock.now, out)
    lines = out.getvalue().splitlines()
    assert lines[3:] == [
        "processes:",
        f"  {HOST}:{dead}:aa  pid {dead} on {HOST}, dead (no heartbeat for 30 s),"
        " started 2026-11-23 10:00 UTC",
        f"  {HOST}:{running}:bb  pid {running} on {HOST}, alive, heartbeat 10 s ago,"
        " started 2026-11-23 10:00 UTC",
        "channels:",
        f"  matrix: held by {HOST}:{running}:bb (lease 1 min left)",
        f"  telegram: nobody polls: held by {HOST}:{dead}:aa, which is dead (lease 1 min left)",
    ]


def test_on_sqlite_a_process_that_does_not_hold_the_lock_is_dead_though_its_pid_lives(
    sqlite_engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    # The bot was killed and its pid reused by some other program: the pid lives, but no bot
    # process holds the database's lock.
    reused = os.getppid()
    with UnitOfWork(session_factory(sqlite_engine)) as uow:
        uow.processes.register(f"{HOST}:{reused}:cc", HOST, reused, clock.now)
        uow.commit()
    clock.advance(seconds=5)
    out = io.StringIO()
    print_status(sqlite_engine, clock.now, out)
    assert f"pid {reused} on {HOST}, dead (no heartbeat for 5 s)" in out.getvalue()
