"""`samverkan status`: how delivery stands, for an operator at a terminal."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO

from sqlalchemy import Engine

from bot.instance import SqliteProcessLock
from storage.db import session_factory
from storage.delivery_repository import ProcessInfo
from storage.unit_of_work import UnitOfWork

# A process on another host whose heartbeat is older than this is shown as silent (dead or
# hung): from here only its heartbeat can tell.
ALIVE_WITHIN = timedelta(minutes=2)


def age(since: datetime, now: datetime) -> str:
    """A short age: "42 s", "7 min", "3 h", "2 d"."""
    seconds = max(int((now - since).total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def print_status(engine: Engine, now: datetime, out: TextIO) -> None:
    """Prints outbox counts, the oldest waiting message, the last tick and channel holders."""
    with UnitOfWork(session_factory(engine)) as uow:
        counts = uow.outbox.counts()
        last_tick = uow.processes.last_tick()
        processes = uow.processes.alive(now, timedelta(days=1))
        leases = uow.leases.holders()
    oldest = age(counts.oldest_open_at, now) if counts.oldest_open_at else "-"
    out.write(
        f"outbox: {counts.pending} pending, {counts.sending} sending, {counts.failed} failed"
        f" (see `samverkan outbox list --failed`)\n"
        f"oldest pending: {oldest}\n"
        f"last tick: {_when(last_tick, now)}\n"
    )
    here = _Here.look(engine)
    alive = {p.id for p in processes if not here.proves_dead(p)}
    out.write("processes:\n" if processes else "processes: none running\n")
    for p in processes:
        out.write(f"  {p.id}  pid {p.pid} on {p.host}, {_state(p, p.id in alive, now)},")
        out.write(f" started {p.started_at:%Y-%m-%d %H:%M} UTC\n")
    out.write("channels:\n" if leases else "channels: none polled\n")
    for lease in leases:
        if lease.expires_at <= now:
            out.write(
                f"  {lease.channel}: free (last held by {lease.holder}, lapsed"
                f" {age(lease.expires_at, now)} ago)\n"
            )
            continue
        left = age(now, lease.expires_at)
        if lease.holder in alive:
            out.write(f"  {lease.channel}: held by {lease.holder} (lease {left} left)\n")
        else:  # stopped, forgotten or dead: the lease outlived its holder
            out.write(
                f"  {lease.channel}: nobody polls: held by {lease.holder}, which is dead"
                f" (lease {left} left)\n"
            )


def _state(p: ProcessInfo, alive: bool, now: datetime) -> str:
    """How a process stands: alive with its heartbeat, dead, or silent (dead or hung)."""
    since = age(p.heartbeat_at, now)
    if not alive:
        return f"dead (no heartbeat for {since})"
    if now - p.heartbeat_at > ALIVE_WITHIN:
        return f"SILENT (no heartbeat for {since}; dead or hung)"
    return f"alive, heartbeat {since} ago"


@dataclass(frozen=True, slots=True)
class _Here:
    """What this host can prove about the bot processes that ran on it."""

    host: str
    # The pid holding the SQLite lock (None: no process does); unknown for PostgreSQL or
    # where /proc/locks cannot be read.
    lock_holder: int | None
    lock_known: bool

    @classmethod
    def look(cls, engine: Engine) -> _Here:
        """Reads the host name and, on SQLite, who holds the database's lock."""
        lock = SqliteProcessLock.for_engine(engine)
        if lock is None:
            return cls(socket.gethostname(), None, False)
        try:
            return cls(socket.gethostname(), lock.holder(), True)
        except OSError:
            return cls(socket.gethostname(), None, False)

    def proves_dead(self, p: ProcessInfo) -> bool:
        """True when a process of this host is surely gone (a heartbeat can be fresh after
        kill -9): its pid has ended, or on SQLite it does not hold the lock every bot holds
        (its pid was reused). A host name is taken to name one machine."""
        if p.host != self.host:
            return False
        if self.lock_known and self.lock_holder != p.pid:
            return True
        return not _pid_exists(p.pid)


def _pid_exists(pid: int) -> bool:
    """True if a process with this pid runs on this host (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # cannot tell: do not call it dead
    return True


def _when(at: datetime | None, now: datetime) -> str:
    """A time with its age, or "never"."""
    return f"{at:%Y-%m-%d %H:%M:%S} UTC ({age(at, now)} ago)" if at else "never"
