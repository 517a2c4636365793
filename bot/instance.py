"""Who this process is, and the rule that only one process may use an SQLite database."""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import socket
from pathlib import Path

from sqlalchemy import Engine


def new_process_id() -> str:
    """A unique name for this process: host, pid and a random part (pids get reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class AnotherProcessRunning(RuntimeError):
    """A second bot process tried to use the same SQLite database."""


class SqliteProcessLock:
    """An exclusive lock file beside the SQLite database, held while the bot runs.

    SQLite serves one bot process: two would both think they are alone (claims, the
    channels they poll). The kernel releases the lock when the process ends, even by kill -9,
    so a crash never leaves a stale lock behind.
    """

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> SqliteProcessLock | None:
        """The lock for an SQLite file database; None for PostgreSQL or an in-memory one."""
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        return cls(Path(database).resolve())

    def acquire(self) -> None:
        """Takes the lock, or explains who has it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise AnotherProcessRunning(
                f"another samverkan process (pid {holder}) is already running on the SQLite "
                f"database {self.database}. SQLite allows one bot process: stop the other one "
                "first, or use PostgreSQL to run several."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Lets go of the lock."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
