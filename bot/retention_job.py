"""The daily retention job: closed cases past the retention period are erased by the running
bot once a day, at a local time the operator chooses ([privacy] retention_at).

Several bot processes may share one database, and each has the job on its ticker; the one
that takes the job's lease runs it. The lease is held for `HOLD` and never given back, so a
process whose ticker fires a little later (another process, clock skew, a restart) finds it
held and does nothing; by the next day it has lapsed. A run that dies half way is simply
done again the next day: retention looks at dates, so a missed day loses nothing, it only
erases a day later. `samverkan retention run` still runs it at once, by hand or from cron.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from storage.retention import RetentionPolicy, RetentionReport, run_retention
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

JOB_RETENTION = "samverkan-retention"
# The lease's name, beside the channels' leases (`samverkan status` lists it with them).
RETENTION_LEASE = "daily-retention"
# Long enough that no other process runs the job again the same day; shorter than a day,
# so the next day's run is free to go.
HOLD = timedelta(hours=12)
# A run the ticker could not start on time (the event loop was busy, the machine slept) may
# still start this much later; after that it waits for the next day.
MISFIRE_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class RetentionSchedule:
    """When the daily job runs (local time in `timezone`) and what it keeps how long."""

    policy: RetentionPolicy
    at: time
    timezone: ZoneInfo


class RetentionJob:
    """Runs retention once a day in exactly one of the processes sharing the database."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        schedule: RetentionSchedule,
        holder: str,
        clock: Clock = system_clock,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self.schedule = schedule
        self._holder = holder
        self._clock = clock

    async def run_once(self) -> RetentionReport | None:
        """Takes the day's lease and runs retention; None when another process has it."""
        now = self._clock()
        with UnitOfWork(self._sessions) as uow:
            held = uow.leases.acquire(RETENTION_LEASE, self._holder, now, HOLD)
            uow.commit()
        if not held:
            log.info("retention: already run today by another process")
            return None
        return run_retention(self._engine, self.schedule.policy, now)
