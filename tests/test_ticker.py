"""The ticker (APScheduler with fixed jobs) and a downtime that loses nothing: each reminder
that fell due while the bot was down goes out once after restart, late ones say so."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage
from bot.connector import PLAIN_TEXT, Capabilities
from bot.delivery_loop import DeliveryLoop
from bot.instance import new_process_id
from bot.runtime import Runtime
from bot.scheduler import JOB_DISPATCH, JOB_KEEP, JOB_TICK, Ticker, TickerSettings
from flows.conversation import ReminderDue
from flows.replies import Reply
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.support.reminders import PLATFORM, MeetingReminders, seed_meetings


async def nothing() -> None:
    """A job that does nothing."""


def test_the_ticker_has_three_fixed_coalesced_jobs_that_replace_themselves() -> None:
    async def scenario() -> None:
        ticker = Ticker(TickerSettings(), nothing, nothing, nothing)
        ticker.start()
        ticker.add_jobs()  # a second registration replaces, never duplicates
        jobs = {job.id: job for job in ticker.scheduler.get_jobs()}
        ticker.shutdown()
        assert set(jobs) == {JOB_TICK, JOB_DISPATCH, JOB_KEEP}
        assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
        assert jobs[JOB_TICK].trigger.interval == timedelta(seconds=30)
        assert jobs[JOB_TICK].misfire_grace_time == 30
        assert jobs[JOB_DISPATCH].misfire_grace_time == 5

    asyncio.run(scenario())


@dataclass
class Phone:
    """Every chat's screen; one chat's network is down for a while."""

    platform: str = PLATFORM
    capabilities: Capabilities = PLAIN_TEXT
    screens: dict[str, list[str]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Shows the message, unless the chat's network is down."""
        if chat_id in self.down:
            raise ConnectionError
        self.screens.setdefault(chat_id, []).append(message.text)


def test_reminders_due_while_the_bot_was_down_are_sent_once_after_restart(
    engine: Engine,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    t0 = clock.now  # Monday 10.00 UTC; reminders go two hours before each meeting
    hours = [2, 3, 3 + 50 / 60, 4.5, 0.75]
    on_time, down_1h, down_10min, after, over = seed_meetings(
        sessions, [t0 + timedelta(hours=h) for h in hours], t0, duration=30
    )
    phone = Phone(down={over})

    def bot() -> Runtime:
        """A bot process on this database, with the fake clock."""
        me = new_process_id()
        deliverer = DeliveryLoop(
            sessions, catalogue, clock=clock, process_id=me, connectors=[phone]
        )
        return Runtime(engine, sessions, deliverer, me, [MeetingReminders()], clock=clock)

    async def run_for_a_while() -> None:
        runtime = bot()
        await runtime.start()
        await runtime.stop()

    asyncio.run(run_for_a_while())  # 10.00: the first reminder is due; "over" fails to send
    assert list(phone.screens) == [on_time]

    clock.advance(hours=2)  # the bot is down from 10.00 to 12.00; "over" ended at 11.15
    phone.down.clear()
    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        asyncio.run(run_for_a_while())

    assert Counter({chat: len(texts) for chat, texts in phone.screens.items()}) == {
        on_time: 1,
        down_1h: 1,
        down_10min: 1,
    }
    assert phone.screens[down_1h][0].endswith(
        "Förlåt, det här kommer 1 timme för sent. "
        "Det skulle ha kommit måndag 23 november kl. 12.00."
    )
    assert "för sent" not in phone.screens[down_10min][0]  # 10 minutes: no excuse needed
    assert "dropped: no longer relevant" in caplog.text

    clock.now = t0 + timedelta(hours=2.5)  # 12.30: the last one falls due while running
    runtime = bot()

    async def keep_running() -> None:
        await runtime.start()
        clock.advance(seconds=30)
        await runtime.tick_once()
        await runtime.stop()

    asyncio.run(keep_running())
    assert [len(phone.screens[c]) for c in (on_time, down_1h, down_10min, after)] == [1, 1, 1, 1]
    assert over not in phone.screens


@dataclass
class SlowSource:
    """A reminder kind that takes as long as the test says (a tick over very many cases)."""

    inner: MeetingReminders
    go: threading.Event = field(default_factory=threading.Event)

    @property
    def name(self) -> str:
        """The inner kind's name: its events are the inner kind's."""
        return self.inner.name

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[ReminderDue]:
        """Waits for the test, then gives the inner kind's reminders."""
        assert self.go.wait(timeout=30), "the test never let the tick go on"
        return list(self.inner.due(uow, now))

    def compose(self, due: ReminderDue, uow: UnitOfWork, now: datetime) -> Reply:
        """What the inner kind says."""
        return self.inner.compose(due, uow, now)


def test_start_does_not_wait_for_the_catch_up_and_stop_finishes_it(
    engine: Engine, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    [chat] = seed_meetings(sessions, [clock.now + timedelta(hours=2)], clock.now, duration=30)
    phone = Phone()
    slow = SlowSource(MeetingReminders())
    me = new_process_id()
    deliverer = DeliveryLoop(sessions, catalogue, clock=clock, process_id=me, connectors=[phone])
    runtime = Runtime(engine, sessions, deliverer, me, [slow], clock=clock)

    async def scenario() -> None:
        # Ready at once, though the catch-up is still working (the channels start next).
        await asyncio.wait_for(runtime.start(), timeout=10)
        assert phone.screens == {}
        # The event loop is free meanwhile: other coroutines run.
        await asyncio.sleep(0)
        slow.go.set()
        await runtime.stop()  # finishes the catch-up in hand rather than cutting it

    asyncio.run(scenario())
    assert len(phone.screens[chat]) == 1


def test_what_start_up_made_is_kept_out_of_the_collector_until_stop(
    engine: Engine, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    me = new_process_id()
    deliverer = DeliveryLoop(sessions, catalogue, clock=clock, process_id=me, connectors=[Phone()])
    runtime = Runtime(engine, sessions, deliverer, me, [MeetingReminders()], clock=clock)
    made_before = object.__new__(Phone)  # tracked by the collector, like start-up's objects

    async def run() -> tuple[int, bool]:
        await runtime.start()
        frozen = (
            gc.get_freeze_count(),
            gc.is_tracked(made_before) and not any(made_before is o for o in gc.get_objects()),
        )
        await runtime.stop()
        return frozen

    assert gc.get_freeze_count() == 0
    count, out_of_sight = asyncio.run(run())
    # A full collection no longer walks them (one took ~100 ms with the GIL held: a stall).
    assert count > 10_000 and out_of_sight
    assert gc.get_freeze_count() == 0  # after stop, the collector's again
