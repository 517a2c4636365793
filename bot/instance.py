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


# One descriptor per database file (device, inode) for the life of the process, never closed:
# closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
# own included (https://sqlite.org/howtocorrupt.html, section 2.2). The process id is part of
# the key because a forked child must open its own: a descriptor inherited across fork shares
# the parent's flock.
_descriptors: dict[tuple[int, int, int], int] = {}
# The files whose lock this process holds: a second runtime in the same process is refused too.
_held: set[tuple[int, int, int]] = set()


class SqliteProcessLock:
    """An exclusive lock on the SQLite database file itself, held while the bot runs.

    SQLite serves one bot process: two would both think they are alone (claims, the
    channels they poll). The lock is a flock on the file (its inode), not on a name beside
    it, so the same file reached through a hard link or a symlink is the same lock. SQLite
    locks with fcntl, which on a local file system never meets flock. The kernel releases
    the lock when the process ends, even by kill -9, so a crash never leaves a stale lock.
    """

    def __init__(self, database: Path) -> None:
        self.database = database
        self._key: tuple[int, int, int] | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> SqliteProcessLock | None:
        """The lock for an SQLite file database; None for PostgreSQL or an in-memory one."""
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        return cls(Path(database).resolve())

    def acquire(self) -> None:
        """Takes the lock, or explains who has it."""
        fd, key = _descriptor(self.database)
        try:
            if key in _held:
                raise BlockingIOError(errno.EWOULDBLOCK, "held by this process")
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            holder = _flock_holder(key) or "unknown"
            raise AnotherProcessRunning(
                f"another samverkan process (pid {holder}) is already running on the SQLite "
                f"database {self.database}. SQLite allows one bot process: stop the other one "
                "first, or use PostgreSQL to run several."
            ) from None
        _held.add(key)
        self._key = key

    def holder(self) -> int | None:
        """The pid that holds the lock now, or None when no process does.

        Reads /proc/locks and takes nothing, so a bot starting meanwhile is never refused.
        Raises OSError where it cannot be known (no /proc/locks, no database file).
        """
        st = os.stat(self.database)
        return _read_flock_holder(st.st_dev, st.st_ino)

    def release(self) -> None:
        """Lets go of the lock (the descriptor stays open; see _descriptors)."""
        if self._key is not None:
            fcntl.flock(_descriptors[self._key], fcntl.LOCK_UN)
            _held.discard(self._key)
            self._key = None


def _descriptor(database: Path) -> tuple[int, tuple[int, int, int]]:
    """This process's one open descriptor of the database file (made 0600 if it is new)."""
    try:
        st = os.stat(database)
        key = (os.getpid(), st.st_dev, st.st_ino)
        if key in _descriptors:
            return _descriptors[key], key
    except FileNotFoundError:
        pass
    fd = os.open(database, os.O_RDONLY | os.O_CREAT, 0o600)
    st = os.fstat(fd)
    key = (os.getpid(), st.st_dev, st.st_ino)
    # Should the file have been swapped for a known one since the stat, this descriptor is
    # left open rather than closed, for the reason above.
    return _descriptors.setdefault(key, fd), key


def _flock_holder(key: tuple[int, int, int]) -> str | None:
    """The pid holding a flock on the file, from /proc/locks on Linux; None where unknown."""
    _pid, dev, ino = key
    try:
        pid = _read_flock_holder(dev, ino)
    except OSError:
        return None
    return None if pid is None else str(pid)


def _read_flock_holder(dev: int, ino: int) -> int | None:
    """The pid holding a flock on the file (device, inode), None if none; OSError if unknown."""
    wanted = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    with open("/proc/locks", encoding="ascii", errors="replace") as locks:
        for line in locks:
            # "1: FLOCK  ADVISORY  WRITE 6590 fe:00:2146515 0 EOF"
            fields = line.split()
            if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == wanted:
                return int(fields[4])
    return None
