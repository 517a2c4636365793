"""Running bot processes and the leases on inbound channels; they never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import models as m
from storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """A bot process as `samverkan status` shows it."""

    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    last_tick_at: datetime | None


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """Who holds an inbound channel, until when."""

    channel: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


class ProcessRepository:
    """The registry of bot processes: started, alive (heartbeat), ticking, stopped."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def register(self, process_id: str, host: str, pid: int, now: datetime) -> None:
        """Records a process that starts now."""
        self._s.add(
            m.BotProcess(id=process_id, host=host, pid=pid, started_at=now, heartbeat_at=now)
        )
        self._s.flush()

    def heartbeat(self, process_id: str, now: datetime) -> None:
        """Records that the process is alive."""
        self._s.execute(
            update(m.BotProcess).where(m.BotProcess.id == process_id).values(heartbeat_at=now)
        )

    def record_tick(self, process_id: str, now: datetime) -> None:
        """Records a finished scheduler tick."""
        self._s.execute(
            update(m.BotProcess)
            .where(m.BotProcess.id == process_id)
            .values(last_tick_at=now, heartbeat_at=now)
        )

    def stopped(self, process_id: str, now: datetime) -> None:
        """Records a clean stop."""
        self._s.execute(
            update(m.BotProcess).where(m.BotProcess.id == process_id).values(stopped_at=now)
        )

    def alive(self, now: datetime, within: timedelta) -> list[ProcessInfo]:
        """Processes not stopped whose heartbeat is recent."""
        rows = self._s.scalars(
            select(m.BotProcess)
            .where(m.BotProcess.stopped_at.is_(None), m.BotProcess.heartbeat_at >= now - within)
            .order_by(m.BotProcess.started_at)
        )
        return [
            ProcessInfo(r.id, r.host, r.pid, r.started_at, r.heartbeat_at, r.last_tick_at)
            for r in rows
        ]

    def last_tick(self) -> datetime | None:
        """When any process last finished a tick."""
        return self._s.scalar(select(func.max(m.BotProcess.last_tick_at)))

    def forget_before(self, before: datetime) -> int:
        """Deletes processes not heard of since `before` (keeps the registry small)."""
        doomed = self._s.scalars(
            select(m.BotProcess).where(m.BotProcess.heartbeat_at < before)
        ).all()
        for row in doomed:
            self._s.delete(row)
        self._s.flush()
        return len(doomed)


class LeaseRepository:
    """Leases on inbound channels: one holder at a time, taken over when it lapses."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def acquire(
        self, channel: str, holder: str, now: datetime, ttl: timedelta, *, sole: bool = False
    ) -> bool:
        """Takes or renews the lease; True if `holder` holds it until `now + ttl`.

        The conditional UPDATE is atomic on both databases: of two processes racing for a
        lapsed lease, the second re-checks the row after the first commits and finds it held.
        `sole` says the caller has proof that no other process uses this database (the SQLite
        lock): any other holder is then dead, and its lease is taken without waiting.
        """
        takeable = [m.ChannelLease.channel == channel]
        if not sole:
            takeable.append((m.ChannelLease.holder == holder) | (m.ChannelLease.expires_at <= now))
        renewed = self._s.execute(
            update(m.ChannelLease)
            .where(*takeable)
            .values(
                holder=holder,
                expires_at=now + ttl,
                # acquired_at stays on renewal and is `now` when the lease changes hands.
                acquired_at=case(
                    (m.ChannelLease.holder == holder, m.ChannelLease.acquired_at),
                    else_=literal(now, UTCDateTime()),
                ),
            )
        )
        if renewed.rowcount:  # type: ignore[attr-defined]
            return True
        if self._s.get(m.ChannelLease, channel) is not None:
            return False
        try:
            with self._s.begin_nested():
                self._s.add(
                    m.ChannelLease(
                        channel=channel, holder=holder, acquired_at=now, expires_at=now + ttl
                    )
                )
        except IntegrityError:
            return False  # another process created it first
        return True

    def release(self, channel: str, holder: str, now: datetime) -> None:
        """Gives the lease up at once, so another process need not wait for it to lapse."""
        self._s.execute(
            update(m.ChannelLease)
            .where(m.ChannelLease.channel == channel, m.ChannelLease.holder == holder)
            .values(expires_at=now)
        )

    def holders(self) -> list[LeaseInfo]:
        """Every channel lease."""
        rows = self._s.scalars(select(m.ChannelLease).order_by(m.ChannelLease.channel))
        return [LeaseInfo(r.channel, r.holder, r.acquired_at, r.expires_at) for r in rows]
