"""Inbound channels (a Telegram long-poll, a Matrix sync) and the lease that lets exactly one
process poll each.

A process polls a channel only while it holds the channel's lease. The holder renews every
`renew_every`; if it dies, the lease lapses after `ttl` and another process takes over, so
takeover is bounded by `ttl + renew_every`. A holder that cannot renew (database gone) stops
its channel `margin` before its lease runs out, so two pollers never overlap. Adapters
therefore ask `may_poll()` before each poll, keep one poll shorter than `margin` (e.g. a
long-poll timeout of 10 s for a margin of 15 s), and stop promptly when asked.

A holder whose renewal came late but went through (nobody took the lease meanwhile) starts
its stopped channel again. Leases are read and written in a worker thread: SQLite's write
lock may be busy for seconds, and the event loop answers people meanwhile.

A process that holds the SQLite lock (bot/instance.py) is the only one on its database, so
a lease held by anyone else was left by a dead process (kill -9, a crash): it is `sole` and
takes such leases at once rather than waiting for them to lapse. Nobody can take its own
lease over either, so a late renewal does not stop its channels (health still reports it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class InboundChannel(Protocol):
    """A source of inbound updates that only one process may poll at a time."""

    # Stable over restarts and the same in every process, e.g. "telegram" or "matrix".
    name: str

    async def start(self, may_poll: Callable[[], bool]) -> None:
        """Starts polling in the background and returns.

        The poller asks `may_poll()` before every poll and skips the poll when it says no:
        a process whose event loop was held up cannot renew its lease in time, and must not
        poll on once another process may have taken the channel over.
        """
        ...

    async def stop(self) -> None:
        """Stops polling; returns when no poll is in flight any more."""
        ...

    def stopped_itself(self) -> bool:
        """True once the poller stopped on its own because `may_poll()` said no (a late
        renewal): the keeper starts it again when it renews the lease."""
        ...


@dataclass(frozen=True, slots=True)
class LeaseSettings:
    """How long a lease lasts, how often it is renewed, how early a holder gives up."""

    ttl: timedelta = timedelta(seconds=30)
    renew_every: timedelta = timedelta(seconds=10)
    margin: timedelta = timedelta(seconds=15)

    def __post_init__(self) -> None:
        if not self.renew_every < self.margin < self.ttl:
            raise ValueError("leases need renew_every < margin < ttl")


DEFAULT_LEASES = LeaseSettings()


class ChannelKeeper:
    """Takes, renews and gives up the leases of this process's channels, starting and
    stopping each channel to match."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Sequence[InboundChannel],
        holder: str,
        settings: LeaseSettings = DEFAULT_LEASES,
        clock: Clock = system_clock,
    ) -> None:
        self._sessions = sessions
        self._channels = list(channels)
        self._holder = holder
        self._settings = settings
        self._clock = clock
        self._held_until: dict[str, datetime] = {}
        # Set once this process holds proof that it is alone on the database (the SQLite lock).
        self.sole_process = False

    def holds(self, name: str) -> bool:
        """True while this process may poll the channel."""
        if self.sole_process and name in self._held_until:
            # Nobody else can run on this database, so nobody can take the lease over: a late
            # renewal (a busy minute, a catch-up holding the database) is no reason to stop.
            return True
        return self.renewed_in_time(name)

    def renewed_in_time(self, name: str) -> bool:
        """True while this process holds the channel's lease and renews it in time (health:
        a renewal this late means the process is held up, even where it may poll on)."""
        until = self._held_until.get(name)
        return until is not None and self._clock() < until - self._settings.margin

    async def keep(self) -> None:
        """One round: take or renew each lease; start what we got, stop what we lost."""
        for channel in self._channels:
            now = self._clock()
            try:
                # In a worker thread: on SQLite the write lock may be busy for seconds (a
                # catch-up queueing thousands of messages), and the event loop answers people.
                held = await asyncio.to_thread(self._acquire, channel.name, now)
            except Exception as exc:  # the database may be away; decide by the old lease
                log.warning("lease on %s not renewed: %s", channel.name, type(exc).__name__)
                if channel.name in self._held_until and not self.holds(channel.name):
                    await self._stop(channel)
                continue
            running = channel.name in self._held_until
            if held:
                self._held_until[channel.name] = now + self._settings.ttl
                if not running:
                    log.info("took the lease on channel %s; polling", channel.name)
                    await channel.start(functools.partial(self.holds, channel.name))
                elif channel.stopped_itself():
                    # Renewed after all, and nobody took it meanwhile: poll again. (Left
                    # stopped, the bot never read another message until it was restarted.)
                    log.info("renewed the lease on channel %s; polling again", channel.name)
                    await channel.start(functools.partial(self.holds, channel.name))
            elif running:
                await self._stop(channel)

    def _acquire(self, name: str, now: datetime) -> bool:
        """Takes or renews one lease in a transaction of its own."""
        with UnitOfWork(self._sessions) as uow:
            held = uow.leases.acquire(
                name, self._holder, now, self._settings.ttl, sole=self.sole_process
            )
            uow.commit()
        return held

    async def release_all(self) -> None:
        """Stops every channel and gives its lease up, for a clean shutdown."""
        for channel in self._channels:
            if channel.name in self._held_until:
                await self._stop(channel)
                with UnitOfWork(self._sessions) as uow:
                    uow.leases.release(channel.name, self._holder, self._clock())
                    uow.commit()

    async def _stop(self, channel: InboundChannel) -> None:
        """Stops polling a channel we no longer (surely) hold."""
        log.info("stopping channel %s: lease lost or given up", channel.name)
        self._held_until.pop(channel.name, None)
        await channel.stop()


# How often a running poller checks that it still may poll, and how long a stop may take
# before the poller is cancelled.
WATCH_EVERY_S = 1.0
STOP_GRACE_S = 10.0


class TaskChannel:
    """An inbound channel whose poller is a coroutine that runs until its stop event is set
    (the Matrix sync loop): started and stopped by the keeper, stopped also as soon as
    `may_poll()` says no. Keep one poll shorter than the lease margin."""

    def __init__(self, name: str, run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        self.name = name
        self._run = run
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures: asyncio.Queue[BaseException] = asyncio.Queue()
        self._lapsed = False

    async def start(self, may_poll: Callable[[], bool]) -> None:
        """Starts the poller and a watch on the lease (after the poller before has ended)."""
        await self.stop()
        self._lapsed = False
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._guarded(self._stop, may_poll))

    async def stop(self) -> None:
        """Asks the poller to stop and waits for it (cancels it after a grace period)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_S)
        except TimeoutError:
            task.cancel()

    def stopped_itself(self) -> bool:
        """True once the watch stopped the poller for a late renewal (not after a failure,
        which ends the process)."""
        return self._lapsed

    async def failure(self) -> None:
        """Returns never, or raises the error that ended the poller (e.g. a bad login)."""
        raise await self._failures.get()

    async def _guarded(self, stop: asyncio.Event, may_poll: Callable[[], bool]) -> None:
        """Runs the poller; reports an error that ends it."""
        watch = asyncio.create_task(self._watch(stop, may_poll))
        try:
            await self._run(stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("channel %s stopped by %s", self.name, type(exc).__name__)
            self._failures.put_nowait(exc)
        finally:
            watch.cancel()

    async def _watch(self, stop: asyncio.Event, may_poll: Callable[[], bool]) -> None:
        """Stops the poller the moment the lease may no longer be ours."""
        while not stop.is_set():
            if not may_poll():
                log.warning("channel %s: lease not renewed in time; stopping", self.name)
                self._lapsed = True
                stop.set()
                return
            await asyncio.sleep(WATCH_EVERY_S)
