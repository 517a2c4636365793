"""The tick, and APScheduler 3 as nothing more than the ticker that runs it.

A reminder kind (flows/reminders.py) looks at rows through its ports (meetings, shared
pictures) and gives `ReminderDue` events with dedup keys; the tick hands each event to the
reminder engine (`Reminders.remind`), where the kind decides what is said, and enqueues the
notices, so a tick that runs twice, or in two processes, still enqueues each reminder once.
The coordinator side's kinds (flows/coordinator_reminders.py) are kinds like the families'.

The scheduler holds no state of its own: its few jobs have fixed ids and live in memory;
every reminder lives in the database, so nothing is lost when the process stops, and a tick
after a downtime finds what fell due meanwhile.

Contract for reminder kinds, so reminders survive downtime sensibly: give the event a
`due_at` (when it was meant to go out; a message sent much later says how late it is) and,
where it stops making sense at some point, an `expires_at` (e.g. the end
of the meeting it announces; it is then dropped with a log line instead of sent). A kind
should also not return reminders whose moment has passed for good.

Each kind runs in a transaction of its own, and a large batch of notices is committed in
parts: on SQLite one transaction holds the only write lock, and a catch-up over thousands of
reminders must not keep people's messages waiting (or failing with "database is locked"). A
kind that writes marks of its own in `due` (`marks_what_it_sends = True`: nudges,
escalations) commits its marks and all its notices together, so a crash never leaves a mark
without its message. Any other kind only reads: it runs in a read transaction (on SQLite
without the write lock), and its notices are committed in parts, which is safe since a tick
after a crash recomputes what is due and the dedup keys skip what was already enqueued.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from flows.engine import Notice
from flows.reminders import ReminderKind, Reminders
from storage.db import READ_ONLY
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

JOB_TICK = "samverkan-tick"
JOB_DISPATCH = "samverkan-dispatch"
JOB_KEEP = "samverkan-keep"

# Any number; PostgreSQL advisory locks are named by integers. One tick at a time over all
# processes: the others skip theirs (the dedup keys would make a second pass harmless, but
# it would be wasted work).
TICK_LOCK_KEY = 7_460_001


# Notices per transaction for sources that write nothing else (see the module docstring).
ENQUEUE_BATCH = 100


def tick(
    sessions: sessionmaker[Session],
    sources: Sequence[ReminderKind],
    now: datetime,
    default_locale: str = "sv",
) -> list[int] | None:
    """One pass over every source; the new outbox ids, or None when another process is
    ticking right now (it held every source's lock)."""
    ids: list[int] = []
    skipped = 0
    reminders = Reminders(sources)
    for source in sources:
        new = _tick_source(sessions, source, reminders, now, default_locale)
        if new is None:
            skipped += 1
            continue
        if new:
            log.info("tick: %s enqueued %d messages", source.name, len(new))
        ids += new
    return None if sources and skipped == len(sources) else ids


def _tick_source(
    sessions: sessionmaker[Session],
    source: ReminderKind,
    reminders: Reminders,
    now: datetime,
    default_locale: str,
) -> list[int] | None:
    """One source: what it found due enqueued, in one transaction or in batches."""
    if getattr(source, "marks_what_it_sends", False):
        with UnitOfWork(sessions) as uow:
            if not _tick_lock(uow, source):
                return None
            notices = _due_notices(uow, source, reminders, now)
            ids = uow.outbox.enqueue_notices(notices, now, default_locale)
            uow.commit()
        return ids
    with UnitOfWork(sessions) as uow:
        # It only reads: on SQLite without the write lock, however long it takes.
        uow.session.connection(execution_options={READ_ONLY: True})
        if not _tick_lock(uow, source):
            return None
        notices = _due_notices(uow, source, reminders, now)
    ids = []
    for start in range(0, len(notices), ENQUEUE_BATCH):
        with UnitOfWork(sessions) as uow:
            batch = notices[start : start + ENQUEUE_BATCH]
            ids += uow.outbox.enqueue_notices(batch, now, default_locale)
            uow.commit()
    return ids


def _due_notices(
    uow: UnitOfWork, source: ReminderKind, reminders: Reminders, now: datetime
) -> list[Notice]:
    """What a kind found due, as notices: its events through the reminder engine, in the
    transaction they were found in (a kind's `compose` reads there too, from what `due` read)."""
    return [n for due in source.due(uow, now) for n in reminders.remind(due, uow, now)]


def _tick_lock(uow: UnitOfWork, source: ReminderKind) -> bool:
    """On PostgreSQL, this transaction's share of the one tick lock; SQLite has one writer."""
    if uow.session.get_bind().dialect.name != "postgresql":
        return True
    got = uow.session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": TICK_LOCK_KEY}
    ).scalar()
    if not got:
        log.debug("tick of %s skipped: another process is ticking", source.name)
    return bool(got)


@dataclass(frozen=True, slots=True)
class TickerSettings:
    """How often each periodic job runs, and how late a run may still start."""

    tick_every: timedelta = timedelta(seconds=30)
    dispatch_every: timedelta = timedelta(seconds=5)
    keep_every: timedelta = timedelta(seconds=10)


DEFAULT_TICKER = TickerSettings()


Job = Callable[[], Awaitable[object]]


class Ticker:
    """Three periodic jobs on an asyncio APScheduler: tick, dispatch, keep (heartbeat and
    channel leases). Coalesced, one instance each: a run that was missed is run once."""

    def __init__(self, settings: TickerSettings, tick: Job, dispatch: Job, keep: Job) -> None:
        self._settings = settings
        self._jobs = {JOB_TICK: tick, JOB_DISPATCH: dispatch, JOB_KEEP: keep}
        self.scheduler = AsyncIOScheduler(timezone=UTC)

    def start(self) -> None:
        """Adds the jobs and starts; must be called from the running event loop."""
        self.add_jobs()
        self.scheduler.start()

    def add_jobs(self) -> None:
        """Adds (or replaces, by their fixed ids) the periodic jobs."""
        every = {
            JOB_TICK: self._settings.tick_every,
            JOB_DISPATCH: self._settings.dispatch_every,
            JOB_KEEP: self._settings.keep_every,
        }
        for job_id, job in self._jobs.items():
            interval = every[job_id]
            self.scheduler.add_job(
                job,
                "interval",
                seconds=interval.total_seconds(),
                id=job_id,
                name=job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                # A run more than one interval late is skipped: the next one does its work,
                # since every job looks at the database afresh.
                misfire_grace_time=max(int(interval.total_seconds()), 1),
            )

    def add_daily(
        self, job_id: str, job: Job, at: time, timezone: tzinfo, misfire_grace: timedelta
    ) -> None:
        """Adds (or replaces, by its fixed id) a job that runs once a day at a local time."""
        self.scheduler.add_job(
            job,
            "cron",
            hour=at.hour,
            minute=at.minute,
            timezone=timezone,
            id=job_id,
            name=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(int(misfire_grace.total_seconds()), 1),
        )

    def shutdown(self) -> None:
        """Stops the jobs without waiting for the next runs."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
