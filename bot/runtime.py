"""One bot process: registers itself, catches up after downtime, then ticks and dispatches.

On start it sends what is due (reminders that fell due while it was down go out once, late
but not lost) in the background, beside the chat channels rather than before them: with many
cases the catch-up takes seconds, and nobody should wait for an answer meanwhile. Then the
ticker takes the periodic work, with the daily retention job (bot/retention_job.py) when it
is given one. On SQLite it holds the lock
file, so it knows it is alone and may take back every claim a crashed predecessor left.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import DEFAULT_LEASES, ChannelKeeper, InboundChannel, LeaseSettings
from bot.clock import Clock, system_clock
from bot.delivery_loop import DeliveryLoop
from bot.instance import SqliteProcessLock
from bot.metrics import Metrics
from bot.retention_job import JOB_RETENTION, MISFIRE_GRACE, RetentionJob, RetentionSchedule
from bot.scheduler import DEFAULT_TICKER, Ticker, TickerSettings, tick
from flows.reminders import ReminderKind
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Processes silent for this long are left out of `samverkan status` and, a day on, forgotten.
PROCESS_FORGOTTEN_AFTER = timedelta(days=1)


class Runtime:
    """Start, periodic work and stop of one bot process."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        delivery: DeliveryLoop,
        process_id: str,
        sources: Sequence[ReminderKind] = (),
        channels: Sequence[InboundChannel] = (),
        *,
        default_locale: str = "sv",
        ticker: TickerSettings = DEFAULT_TICKER,
        leases: LeaseSettings = DEFAULT_LEASES,
        retention: RetentionSchedule | None = None,
        clock: Clock = system_clock,
        metrics: Metrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._delivery = delivery
        self._sources = list(sources)
        self._default_locale = default_locale
        self._clock = clock
        self.process_id = process_id
        self.lock = SqliteProcessLock.for_engine(engine)
        self.keeper = ChannelKeeper(sessions, channels, process_id, leases, clock)
        self.ticker = Ticker(ticker, self.tick_once, self.dispatch_once, self.keep_once)
        self.retention = (
            RetentionJob(engine, sessions, retention, process_id, clock)
            if retention is not None
            else None
        )
        self._catch_up: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Takes the SQLite lock, registers, and starts the catch-up (then the ticker) behind.

        Raises AnotherProcessRunning when a second process opens the same SQLite file.
        """
        if self.lock is not None:
            self.lock.acquire()
            # Alone on this database: a lease someone else holds was left by a dead process.
            self.keeper.sole_process = True
        now = self._clock()
        with UnitOfWork(self._sessions) as uow:
            uow.processes.forget_before(now - PROCESS_FORGOTTEN_AFTER)
            uow.processes.register(self.process_id, socket.gethostname(), os.getpid(), now)
            if self.lock is not None:
                # Alone on this database: whatever is "sending" was left by a dead process.
                released = uow.outbox.release_all_claims(now)
                if released:
                    log.info("took back %d messages a stopped process was sending", released)
            uow.commit()
        log.info("process %s started", self.process_id)
        await self.keep_once()
        # What start-up made (modules, the catalogue, the platforms' apps) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it. Set off
        # by a tick's allocations, one took ~100 ms holding the GIL, and the event loop stood
        # still meanwhile (bench/scale.py). Start-up leaves a few dozen cyclic objects, which
        # stay; a collection first would stall the loop just as long, now.
        gc.freeze()
        self._catch_up = asyncio.create_task(self._catch_up_then_tick())

    async def _catch_up_then_tick(self) -> None:
        """The first tick after start, then the ticker (in that order, as before: a periodic
        send never runs beside the catch-up's, so stop() leaves no send half done)."""
        try:
            await self.tick_once()
        except Exception as exc:  # the ticker tries again; the process stays up
            log.error("catch-up after start failed: %s", type(exc).__name__)
        self.ticker.start()
        if self.retention is not None:
            schedule = self.retention.schedule
            self.ticker.add_daily(
                JOB_RETENTION,
                self.retention.run_once,
                schedule.at,
                schedule.timezone,
                MISFIRE_GRACE,
            )

    async def caught_up(self) -> None:
        """Waits until the catch-up after start is done and the ticker runs."""
        if self._catch_up is not None:
            await asyncio.shield(self._catch_up)

    async def tick_once(self) -> None:
        """Turns what has fallen due into outbox rows and sends them, then what else is due."""
        started = time.perf_counter()
        try:
            await self._tick()
        finally:
            if self._metrics is not None:
                self._metrics.tick(time.perf_counter() - started)

    async def _tick(self) -> None:
        """One tick (tick_once, timed)."""
        now = self._clock()
        # The due-sources query the database: in a worker thread, so the event loop keeps
        # answering people while a large tick runs.
        ids = await asyncio.to_thread(
            tick, self._sessions, self._sources, now, self._default_locale
        )
        if ids is not None:
            with UnitOfWork(self._sessions) as uow:
                uow.processes.record_tick(self.process_id, now)
                uow.commit()
            await self._delivery.deliver(ids)
        await self.dispatch_once()

    async def dispatch_once(self) -> int:
        """Sends what is still pending for the attached connectors (the delivery loop's
        sweep); returns how many were sent."""
        return await self._delivery.sweep()

    async def keep_once(self) -> None:
        """Heartbeat, and the channel leases (their writes in a worker thread, as the tick's)."""
        await asyncio.to_thread(self._heartbeat, self._clock())
        await self.keeper.keep()

    def _heartbeat(self, now: datetime) -> None:
        """Notes that this process is alive."""
        with UnitOfWork(self._sessions) as uow:
            uow.processes.heartbeat(self.process_id, now)
            uow.commit()

    async def stop(self) -> None:
        """Finishes the catch-up, stops the ticker and the channels, gives the leases back."""
        await self.caught_up()  # the work in hand is finished, never cut in half
        self.ticker.shutdown()
        await self.keeper.release_all()
        with UnitOfWork(self._sessions) as uow:
            uow.processes.stopped(self.process_id, self._clock())
            uow.commit()
        if self.lock is not None:
            self.keeper.sole_process = False
            self.lock.release()
        gc.unfreeze()  # the collector's again, should the process go on (a test's does)
        log.info("process %s stopped", self.process_id)
