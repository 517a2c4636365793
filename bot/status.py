"""`samverkan status`: how delivery stands, for an operator at a terminal."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TextIO

from sqlalchemy import Engine

from storage.db import session_factory
from storage.unit_of_work import UnitOfWork

# A process whose heartbeat is older than this is shown as silent (probably dead).
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
    out.write("processes:\n" if processes else "processes: none running\n")
    for p in processes:
        state = "alive" if now - p.heartbeat_at <= ALIVE_WITHIN else "SILENT"
        out.write(
            f"  {p.id}  pid {p.pid} on {p.host}, {state}, heartbeat {age(p.heartbeat_at, now)}"
            f" ago, started {p.started_at:%Y-%m-%d %H:%M} UTC\n"
        )
    out.write("channels:\n" if leases else "channels: none polled\n")
    for lease in leases:
        if lease.expires_at > now:
            left = age(now, lease.expires_at)
            out.write(f"  {lease.channel}: held by {lease.holder} (lease {left} left)\n")
        else:
            out.write(
                f"  {lease.channel}: free (last held by {lease.holder}, lapsed"
                f" {age(lease.expires_at, now)} ago)\n"
            )


def _when(at: datetime | None, now: datetime) -> str:
    """A time with its age, or "never"."""
    return f"{at:%Y-%m-%d %H:%M:%S} UTC ({age(at, now)} ago)" if at else "never"
