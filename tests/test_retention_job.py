"""The daily retention job: the running bot erases closed cases past the period at the
configured local time, leaves open cases alone, keeps the audit pseudonymised, and of two
processes on one database only one runs it each day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import PrivacyConfig, load_config
from bot.delivery_loop import DeliveryLoop
from bot.retention_job import (
    HOLD,
    JOB_RETENTION,
    MISFIRE_GRACE,
    RetentionJob,
    RetentionSchedule,
)
from bot.runtime import Runtime
from flows.conversation import ConversationRef
from storage import models as m
from storage.crypto import Keyring
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import seed_case

STOCKHOLM = ZoneInfo("Europe/Stockholm")
POLICY = PrivacyConfig(closed_case_days=30)
SCHEDULE = RetentionSchedule(POLICY, time(3, 30), STOCKHOLM)
ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")


def _two_cases(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> tuple[int, int, int]:
    """Alex writes a question in a case that is then closed; Kim is in an open case.
    Returns (closed case, open case, Alex's person id)."""
    closed = seed_case(sessions, clock.now)
    still_open = seed_case(sessions, clock.now)
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {closed.youth_code}")
    alex.choose("Mina frågor")
    alex.send("Varför byter jag skola?")
    Chat(sessions, catalogue, clock, KIM).send(f"/start {still_open.youth_code}")
    with UnitOfWork(sessions) as uow:
        alex_id = uow.members.actor_for(ALEX).person_id  # type: ignore[union-attr]
        case = uow.session.get_one(m.Case, closed.case_id)
        case.status, case.closed_at = "closed", clock.now
        uow.commit()
    return closed.case_id, still_open.case_id, alex_id


def test_the_job_runs_daily_at_the_configured_local_time_coalesced_with_a_fixed_id(
    engine: Engine,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[privacy]\nretention_at = "02:15"\n')
    assert load_config(path, environ={}).privacy.retention_at == time(2, 15)
    assert PrivacyConfig().retention_at == time(3, 30)

    deliverer = DeliveryLoop(sessions, catalogue, clock=clock, process_id="p1")
    runtime = Runtime(engine, sessions, deliverer, "p1", retention=SCHEDULE, clock=clock)

    async def scenario() -> None:
        await runtime.start()
        await runtime.caught_up()  # the ticker starts after the catch-up
        job = runtime.ticker.scheduler.get_job(JOB_RETENTION)
        assert job is not None
        # Registering again replaces the job by its fixed id, never duplicates it.
        runtime.ticker.add_daily(JOB_RETENTION, job.func, time(3, 30), STOCKHOLM, MISFIRE_GRACE)
        ids = [j.id for j in runtime.ticker.scheduler.get_jobs()]
        await runtime.stop()
        assert ids.count(JOB_RETENTION) == 1
        job = next(j for j in runtime.ticker.scheduler.get_jobs() if j.id == JOB_RETENTION)
        assert job is not None and job.coalesce and job.max_instances == 1
        assert job.misfire_grace_time == 3600
        trigger = job.trigger
        assert isinstance(trigger, CronTrigger)
        # Monday 23 November 10.00 UTC: the next run is Tuesday 03.30 in Stockholm (02.30 UTC),
        # and in summer time 03.30 is still 03.30 on the wall clock.
        assert trigger.get_next_fire_time(None, clock.now) == datetime(
            2026, 11, 24, 3, 30, tzinfo=STOCKHOLM
        )
        summer = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
        fires = trigger.get_next_fire_time(None, summer)
        assert fires is not None and fires.astimezone(UTC) == datetime(
            2027, 6, 2, 1, 30, tzinfo=UTC
        )

    asyncio.run(scenario())


def test_the_daily_run_erases_closed_cases_past_the_period_and_only_once_a_day(
    engine: Engine,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    data_keyring: Keyring,
) -> None:
    closed_id, open_id, alex_id = _two_cases(sessions, catalogue, clock)
    first = RetentionJob(engine, sessions, SCHEDULE, "process-1", clock)
    second = RetentionJob(engine, sessions, SCHEDULE, "process-2", clock)

    # Day 29 after closing: nothing is old enough yet.
    clock.advance(days=29)
    report = asyncio.run(first.run_once())
    assert report is not None and report.cases == 0

    # Day 31 (24 h later, the lease has lapsed): the other process runs it this time.
    clock.advance(days=2)
    report = asyncio.run(second.run_once())
    assert report is not None and report.cases == 1
    # The first process's ticker fires a minute later the same night: it does nothing.
    clock.advance(minutes=1)
    assert asyncio.run(first.run_once()) is None
    clock.advance(hours=HOLD.total_seconds() / 3600 - 1)
    assert asyncio.run(first.run_once()) is None  # still the same day's run

    with UnitOfWork(sessions) as uow:
        assert uow.session.get(m.Case, closed_id) is None
        assert uow.session.get(m.Person, alex_id) is None
        assert uow.session.scalars(select(m.Question)).all() == []
        # The open case is untouched.
        assert uow.session.get_one(m.Case, open_id).status == "open"
        assert uow.members.actor_for(KIM) is not None
        # The audit of the erased case is kept, with Alex replaced by a pseudonym.
        trail = uow.session.scalars(
            select(m.AuditEvent).where(m.AuditEvent.case_id == closed_id)
        ).all()
        assert trail and all(a.actor_person_id is None for a in trail)
        assert data_keyring.pseudonym("person", alex_id) in {a.actor_pseudonym for a in trail}
        assert any(a.action == "case_purged" for a in trail)
        purges = uow.session.scalars(
            select(m.AuditEvent).where(m.AuditEvent.action == "case_purged")
        ).all()
        assert len(purges) == 1  # one run did the work

    # The next night either process may run it again (nothing left to do).
    clock.advance(hours=13)
    report = asyncio.run(first.run_once())
    assert report is not None and report.cases == 0
