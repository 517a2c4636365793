"""The tick turns due reminders into outbox rows, once each however often it runs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler import tick
from flows.conversation import ConversationRef
from flows.engine import Notice
from flows.replies import say
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.seed import add_youth, seed_case


class EveryoneIsDue:
    """A due-source that finds the same reminder due on every tick."""

    name = "test"

    def __init__(self, person_id: int) -> None:
        self.person_id = person_id

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        yield Notice(say("common.paused"), person_id=self.person_id, dedup_key="same-reminder")


def test_a_reminder_found_due_twice_is_enqueued_once(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ConversationRef("test", "a", "a"), "Alex", clock.now)
    source = EveryoneIsDue(alex)
    assert len(tick(sessions, [source], clock.now)) == 1
    clock.advance(minutes=5)
    assert tick(sessions, [source], clock.now) == []
