"""Channel leases: one process polls a channel; another takes over only once the lease
lapsed; a holder that cannot renew stops polling before anyone else may start."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import channels
from bot.catalogue import Catalogue
from bot.channels import ChannelKeeper, LeaseSettings
from bot.delivery_loop import DeliveryLoop
from bot.instance import new_process_id
from bot.runtime import Runtime
from storage.db import session_factory
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.support.loop_turns import counting_loop_turns

TTL = timedelta(seconds=30)
SETTINGS = LeaseSettings(ttl=TTL, renew_every=timedelta(seconds=10), margin=timedelta(seconds=15))


def acquire(sessions: sessionmaker[Session], holder: str, clock: FakeClock) -> bool:
    """One attempt to take or renew the "telegram" lease."""
    with UnitOfWork(sessions) as uow:
        held = uow.leases.acquire("telegram", holder, clock.now, TTL)
        uow.commit()
    return held


def test_a_lease_has_one_holder_and_passes_on_only_when_it_lapses(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    assert acquire(sessions, "a", clock)
    assert not acquire(sessions, "b", clock)
    clock.advance(seconds=20)
    assert acquire(sessions, "a", clock)  # renewed until 10.00.50
    clock.advance(seconds=29)
    assert not acquire(sessions, "b", clock)
    clock.advance(seconds=1)  # a died: nothing renewed it
    assert acquire(sessions, "b", clock)
    assert not acquire(sessions, "a", clock)  # a comes back: too late, b has it
    with UnitOfWork(sessions) as uow:
        (lease,) = uow.leases.holders()
        uow.leases.release("telegram", "b", clock.now)  # a clean stop hands it on at once
        uow.commit()
    assert (lease.holder, lease.acquired_at, lease.expires_at) == ("b", clock.now, clock.now + TTL)
    assert acquire(sessions, "a", clock)


@dataclass
class FakeChannel:
    """Records when it was started and stopped, and whether it could poll."""

    name: str = "telegram"
    events: list[str] = field(default_factory=list)
    may_poll: Callable[[], bool] | None = None

    async def start(self, may_poll: Callable[[], bool]) -> None:
        """Notes the start."""
        self.events.append("start")
        self.may_poll = may_poll

    async def stop(self) -> None:
        """Notes the stop."""
        self.events.append("stop")

    def stopped_itself(self) -> bool:
        """Never: it polls (or skips polls) until it is stopped."""
        return False


def test_the_channel_runs_while_its_lease_is_held_and_moves_when_the_holder_dies(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    first, second = FakeChannel(), FakeChannel()
    a = ChannelKeeper(sessions, [first], "a", SETTINGS, clock)
    b = ChannelKeeper(sessions, [second], "b", SETTINGS, clock)

    async def scenario() -> None:
        await a.keep()
        await b.keep()
        assert (first.events, second.events) == (["start"], [])
        assert first.may_poll is not None and first.may_poll()

        # a's event loop hangs (or its database is gone): no renewal. It stops polling by
        # itself `margin` before the lease ends, before anyone else may take over.
        clock.advance(seconds=15)
        assert not first.may_poll()
        await b.keep()
        assert second.events == []  # not yet: the lease still runs
        clock.advance(seconds=15)
        await b.keep()
        assert second.events == ["start"]
        await a.keep()  # a wakes up and learns it lost the channel
        assert first.events == ["start", "stop"]

        await b.release_all()
        await a.keep()
        assert (first.events, second.events) == (["start", "stop", "start"], ["start", "stop"])

    asyncio.run(scenario())


def test_a_task_channel_stops_its_poller_when_the_lease_may_have_passed_and_reports_errors(
    sessions: sessionmaker[Session], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channels, "WATCH_EVERY_S", 0.001)
    polls: list[str] = []

    async def sync_loop(stop: asyncio.Event) -> None:
        """A Matrix-like loop: one sync per turn until asked to stop."""
        while not stop.is_set():
            polls.append("sync")
            await asyncio.sleep(0)

    async def broken(stop: asyncio.Event) -> None:
        raise PermissionError("token revoked")

    async def scenario() -> None:
        matrix = channels.TaskChannel("matrix", sync_loop)
        keeper = ChannelKeeper(sessions, [matrix], "a", SETTINGS, clock)
        await keeper.keep()
        while not polls:
            await asyncio.sleep(0)
        clock.advance(seconds=16)  # past the margin, not renewed: the watch stops the loop
        await asyncio.sleep(0.05)
        count = len(polls)
        await asyncio.sleep(0.05)
        assert len(polls) == count > 0

        failing = channels.TaskChannel("telegram", broken)
        await ChannelKeeper(sessions, [failing], "a", SETTINGS, clock).keep()
        with pytest.raises(PermissionError):
            await asyncio.wait_for(failing.failure(), 5)

    asyncio.run(scenario())


def test_a_restarted_process_on_sqlite_polls_at_once_and_on_postgresql_after_the_lease(
    engine: Engine, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    # The process before was killed with -9 a second ago: its lease on telegram still runs.
    assert acquire(sessions, "host:41:dead", clock)
    clock.advance(seconds=1)
    telegram = FakeChannel()
    me = new_process_id()
    deliverer = DeliveryLoop(sessions, catalogue, clock=clock, process_id=me)
    runtime = Runtime(engine, sessions, deliverer, me, channels=[telegram], clock=clock)

    async def restart() -> None:
        await runtime.start()
        if engine.dialect.name == "sqlite":
            # The lock on the database file proves nobody else polls: take over now.
            assert telegram.events == ["start"]
        else:
            # Several processes may share PostgreSQL: wait for the lease to lapse, as before.
            assert telegram.events == []
            clock.advance(seconds=29)
            await runtime.keep_once()
            assert telegram.events == ["start"]
        assert telegram.may_poll is not None and telegram.may_poll()
        await runtime.stop()

    asyncio.run(restart())
    with UnitOfWork(sessions) as uow:
        (lease,) = uow.leases.holders()
    assert lease.holder == me


def polls_of(channel_name: str) -> tuple[list[str], Callable[[asyncio.Event], Any]]:
    """A Matrix- or Telegram-like loop that notes each poll until it is asked to stop."""
    polls: list[str] = []

    async def loop(stop: asyncio.Event) -> None:
        while not stop.is_set():
            polls.append(channel_name)
            await asyncio.sleep(0)

    return polls, loop


async def still_polling(polls: list[str]) -> bool:
    """Whether the loop polls on over a few moments."""
    count = len(polls)
    await asyncio.sleep(0.05)
    return len(polls) > count


def test_a_poller_stopped_by_a_late_renewal_polls_again_once_the_lease_is_renewed(
    sessions: sessionmaker[Session], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bench/memory.py: under the catch-up's load the renewal came late, the watch stopped
    # Telegram's poller, and the next renewal left it stopped: the bot never read again.
    monkeypatch.setattr(channels, "WATCH_EVERY_S", 0.001)
    polls, loop = polls_of("telegram")

    async def scenario() -> None:
        telegram = channels.TaskChannel("telegram", loop)
        keeper = ChannelKeeper(sessions, [telegram], "a", SETTINGS, clock)  # PostgreSQL-like
        await keeper.keep()
        assert await still_polling(polls)
        clock.advance(seconds=16)  # the renewal is late: the watch stops the poller
        await asyncio.sleep(0.05)
        assert not await still_polling(polls)
        await keeper.keep()  # renewed after all (the lease had 14 s left): poll again
        assert await still_polling(polls)
        await keeper.release_all()
        assert not await still_polling(polls)

    asyncio.run(scenario())


def test_alone_on_the_database_a_late_renewal_does_not_stop_the_poller(
    sessions: sessionmaker[Session], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A process holding the SQLite lock is the only one that can poll: nobody can take over.
    monkeypatch.setattr(channels, "WATCH_EVERY_S", 0.001)
    polls, loop = polls_of("telegram")

    async def scenario() -> None:
        telegram = channels.TaskChannel("telegram", loop)
        keeper = ChannelKeeper(sessions, [telegram], "a", SETTINGS, clock)
        keeper.sole_process = True
        await keeper.keep()
        clock.advance(seconds=60)  # a busy minute without a renewal
        await asyncio.sleep(0.05)
        assert await still_polling(polls)
        await keeper.release_all()

    asyncio.run(scenario())


def test_renewing_a_lease_while_another_writer_holds_sqlite_leaves_the_event_loop_free(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    # The catch-up queues thousands of messages in worker threads: SQLite's write lock is
    # busy for moments. The renewal waits for it in a thread, not on the event loop.
    sessions = session_factory(sqlite_engine)
    keeper = ChannelKeeper(sessions, [FakeChannel()], "a", SETTINGS, clock)
    held = threading.Event()
    release = threading.Event()

    def other_writer() -> None:
        with sqlite_engine.connect() as connection:  # BEGIN IMMEDIATE: the write lock
            connection.exec_driver_sql("SELECT 1")
            held.set()
            release.wait(5)
            connection.rollback()

    async def scenario() -> int:
        writer = threading.Thread(target=other_writer)
        writer.start()
        held.wait(5)
        async with counting_loop_turns() as answering_people:
            asyncio.get_running_loop().call_later(0.3, release.set)
            await keeper.keep()
        writer.join()
        return answering_people.count

    turns = asyncio.run(scenario())
    assert turns >= 10  # about 30 turns in the 0.3 s the renewal waited; none when it blocked
    assert keeper.renewed_in_time("telegram")
