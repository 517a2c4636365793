"""Reminders are events: a kind says what is due (a ReminderDue) and what is said; the tick
only carries the events through the reminder engine to the outbox, so a new kind is one object."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import PrivacyConfig, ReminderConfig
from bot.family_reminders import family_due_sources
from bot.family_reports import family_report_sources
from bot.nudge_config import NudgeConfig, NudgeContent, ReportConfig
from bot.nudges import coordinator_sources
from bot.scheduler import tick
from flows.conversation import ConversationRef, ReminderDue
from flows.reminder_ports import ReminderPorts
from flows.reminders import ReminderKind, Reminders
from flows.replies import Reply, say, to_family
from tests.conftest import FakeClock
from tests.family_seed import received
from tests.seed import add_youth, seed_case

ALEX = ConversationRef("test", "alex", "alex")
FAMILY = ConversationRef("test", "family", "kim")


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A kind defined here only: one check-in for one person and their family group, at `at`."""

    person_id: int
    at: datetime
    name: str = "test.check_in"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """Due from `at` on, to the person privately and once to the family group."""
        if now < self.at:
            return
        params = {"starts_at": self.at}
        key = f"check-in:{self.at.isoformat()}"
        yield ReminderDue(
            self.name, f"{key}:{self.person_id}", person_id=self.person_id, params=params
        )
        yield ReminderDue(self.name, f"{key}:group", chat=FAMILY, params=params)

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply | None:
        """Only a time: fine for the family group too."""
        return to_family(say("meeting.reminder", starts_at=due.params["starts_at"]))


def test_a_kind_defined_in_one_object_goes_through_the_engine_to_the_outbox(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ALEX, "Alex", clock.now)
    at = clock.now + timedelta(hours=1)
    kind = CheckIn(alex, at)
    assert tick(sessions, [kind], clock.now) == []  # not yet due
    clock.advance(hours=1)
    assert len(tick(sessions, [kind], clock.now) or []) == 2
    # Alex privately and the family group once, in the kind's words.
    for chat in (ALEX, FAMILY):
        (got,) = received(sessions, catalogue, chat)
        assert got.reply.message == "meeting.reminder"
        assert got.reply.params["starts_at"] == at
    # Due again on the next tick, but enqueued once: the event's dedup key.
    clock.advance(minutes=5)
    assert tick(sessions, [kind], clock.now) == []


def test_the_engine_passes_the_events_timing_on_and_refuses_an_unknown_kind(
    clock: FakeClock,
) -> None:
    kind = CheckIn(7, clock.now)
    engine = Reminders([kind])
    due = ReminderDue(
        kind.name,
        "key",
        person_id=7,
        params={"starts_at": clock.now},
        due_at=clock.now,
        expires_at=clock.now + timedelta(hours=1),
    )
    ports: ReminderPorts = None  # type: ignore[assignment]  # CheckIn reads nothing
    (notice,) = engine.remind(due, ports, clock.now)
    assert notice.person_id == 7 and notice.dedup_key == "key"
    # The scheduler's delivery contract: sent late it says so; past expires_at it is dropped.
    assert notice.reply.params["due_at"] == clock.now
    assert notice.reply.params["expires_at"] == clock.now + timedelta(hours=1)
    with pytest.raises(LookupError):
        engine.remind(ReminderDue("nobody.knows", "k", person_id=7), ports, clock.now)


def test_a_reminder_event_carries_ids_and_times_for_exactly_one_audience() -> None:
    with pytest.raises(ValueError):
        ReminderDue("test.check_in", "k")
    with pytest.raises(ValueError):
        ReminderDue("test.check_in", "k", person_id=1, chat=FAMILY)


def test_every_source_the_product_ticks_is_a_reminder_kind() -> None:
    # What `samverkan run` ticks (bot/cli.py): the coordinator side's and the families'.
    for content in NudgeContent:
        sources = [
            *coordinator_sources(NudgeConfig(content=content), ReportConfig(), "Europe/Helsinki"),
            *family_due_sources(ReminderConfig()),
            *family_report_sources(
                NudgeConfig(content=content), ReportConfig(), PrivacyConfig(), "Europe/Helsinki"
            ),
        ]
        not_kinds = [s.name for s in sources if not isinstance(s, ReminderKind)]
        assert not_kinds == []
        # One engine takes them all: no two kinds share a name.
        Reminders(s for s in sources if isinstance(s, ReminderKind))
