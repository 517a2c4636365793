"""The tick turns due reminders into outbox rows, once each however often it runs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler import ENQUEUE_BATCH, tick
from flows.conversation import ConversationRef, ReminderDue
from flows.engine import Notice
from flows.reminder_ports import ReminderPorts
from flows.replies import Reply, say
from storage.models import Outbox
from storage.outbox_repository import OutboxRepository
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.seed import add_youth, seed_case


class Paused:
    """The reminder kinds below all say the same plain text."""

    name = "test"

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """Nothing about anyone."""
        return say("common.paused")


class EveryoneIsDue(Paused):
    """A reminder kind that finds the same reminder due on every tick."""

    def __init__(self, person_id: int) -> None:
        self.person_id = person_id

    def due(self, ports: ReminderPorts, now: datetime) -> Iterable[ReminderDue]:
        """The one reminder."""
        yield ReminderDue(self.name, "same-reminder", person_id=self.person_id)


def test_a_reminder_found_due_twice_is_enqueued_once(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ConversationRef("test", "a", "a"), "Alex", clock.now)
    source = EveryoneIsDue(alex)
    assert len(tick(sessions, [source], clock.now)) == 1
    clock.advance(minutes=5)
    assert tick(sessions, [source], clock.now) == []


class ManyDue(Paused):
    """A reminder kind finding `count` reminders for one person (a catch-up after downtime)."""

    name = "many"

    def __init__(self, person_id: int, count: int) -> None:
        self.person_id = person_id
        self.count = count

    def due(self, ports: ReminderPorts, now: datetime) -> Iterable[ReminderDue]:
        """`count` reminders, each its own."""
        return [
            ReminderDue(self.name, f"{self.name}:{n}", person_id=self.person_id)
            for n in range(self.count)
        ]


class MarkingSource(ManyDue):
    """The same, but it also writes marks of its own (as nudges do)."""

    name = "marking"
    marks_what_it_sends = True


def _enqueue_fails_on_second_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies while enqueueing the second batch of a tick."""
    real = OutboxRepository.enqueue_notices
    calls = []

    def enqueue(self: OutboxRepository, *args: object, **kwargs: object) -> list[int]:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(OutboxRepository, "enqueue_notices", enqueue)


def _outbox_rows(sessions: sessionmaker[Session]) -> int:
    with UnitOfWork(sessions) as uow:
        return len(uow.session.scalars(select(Outbox.id)).all())


def test_a_large_catch_up_commits_in_batches_and_a_crash_between_them_loses_nothing(
    sessions: sessionmaker[Session], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ConversationRef("test", "a", "a"), "Alex", clock.now)
    source = ManyDue(alex, 2 * ENQUEUE_BATCH + 50)
    with monkeypatch.context() as crash:
        _enqueue_fails_on_second_call(crash)
        with pytest.raises(RuntimeError):
            tick(sessions, [source], clock.now)
    # The first batch was committed on its own (the write lock was let go in between)...
    assert _outbox_rows(sessions) == ENQUEUE_BATCH
    # ...and the next tick enqueues the rest, each reminder once.
    assert len(tick(sessions, [source], clock.now) or []) == ENQUEUE_BATCH + 50
    assert _outbox_rows(sessions) == 2 * ENQUEUE_BATCH + 50


def test_a_source_with_marks_commits_its_notices_all_together(
    sessions: sessionmaker[Session], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ConversationRef("test", "a", "a"), "Alex", clock.now)
    real = OutboxRepository.enqueue_notices
    batches: list[int] = []

    def enqueue(self: OutboxRepository, notices: list[Notice], *args: object) -> list[int]:
        batches.append(len(notices))
        return real(self, notices, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(OutboxRepository, "enqueue_notices", enqueue)
    sources = [ManyDue(alex, ENQUEUE_BATCH + 1), MarkingSource(alex, 2 * ENQUEUE_BATCH)]
    tick(sessions, sources, clock.now)
    # Its marks and notices are one transaction: a crash can never leave marks without
    # their messages. The other source goes in batches.
    assert batches == [ENQUEUE_BATCH, 1, 2 * ENQUEUE_BATCH]


class WritesMeanwhile(Paused):
    """A slow reminder kind during which someone writes to the database (a message arrives)."""

    name = "reads-while-someone-writes"

    def __init__(self, sessions: sessionmaker[Session], person_id: int) -> None:
        self.sessions = sessions
        self.person_id = person_id

    def due(self, ports: ReminderPorts, now: datetime) -> Iterable[ReminderDue]:
        """Nothing due, after a read during which another transaction writes."""
        assert isinstance(ports, UnitOfWork)  # the tick's transaction
        ports.session.scalars(select(Outbox.id)).all()  # the kind has begun reading
        with UnitOfWork(self.sessions) as other:  # e.g. the handler, answering someone
            notice = Notice(say("common.paused"), person_id=self.person_id, dedup_key="meanwhile")
            other.outbox.enqueue_notices([notice], now, "sv")
            other.commit()
        return []


def test_a_reading_source_never_holds_the_write_lock(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ConversationRef("test", "a", "a"), "Alex", clock.now)
    # On SQLite a tick holding the one write lock would make that write wait and fail with
    # "database is locked"; the due-source reads in a transaction of its own without it.
    assert tick(sessions, [WritesMeanwhile(sessions, alex)], clock.now) == []
    assert _outbox_rows(sessions) == 1
