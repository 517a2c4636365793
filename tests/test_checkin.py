"""How was the meeting? The day after, the young person and the caregivers are asked two short
questions in private; they can skip; the coordinator sees the answers, and so does the report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.followup_report import (
    build_followup,
    checkin_marks,
    render_followup,
    render_followup_timeline,
)
from bot.reports import DocumentFormat
from bot.scheduler import tick
from flows.checkin import CheckinReminders
from flows.conversation import ConversationRef
from storage import models as m
from storage.access import Purpose
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import SARA, FamilyCase, received, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")
WORDS = "Det var skönt att få prata själv."


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting in seven days, coordinator Sara."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def chats(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> dict[str, Chat]:
    """Alex (young) and Kim (caregiver) joined privately, and Sara's chat."""
    joined = {
        "alex": Chat(sessions, catalogue, clock, ALEX),
        "kim": Chat(sessions, catalogue, clock, KIM),
        "sara": Chat(sessions, catalogue, clock, SARA),
    }
    joined["alex"].send(f"/start {case.youth_code}")
    joined["kim"].send(f"/start {case.caregiver_codes[0]}")
    return joined


def day_after(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    """The meeting was yesterday; the tick runs."""
    with UnitOfWork(sessions) as uow:
        starts_at = uow.session.scalars(select(m.Meeting.starts_at)).one()
    clock.now = starts_at + timedelta(days=1, hours=1)
    tick(sessions, [CheckinReminders()], clock.now)


def test_nothing_is_asked_before_the_meeting_and_only_once_after(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, chats: dict[str, Chat]
) -> None:
    clock.advance(days=7, hours=2)  # the meeting is over, but it is still the same day
    assert tick(sessions, [CheckinReminders()], clock.now) == []
    day_after(sessions, clock)
    assert tick(sessions, [CheckinReminders()], clock.now) == []
    asked = [r for r in received(sessions, catalogue, ALEX) if r.reply.message.endswith("ask")]
    assert [r.reply.message for r in asked] == ["meeting.checkin.ask"]


def test_the_day_after_both_are_asked_privately_and_the_coordinator_sees_the_answers(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    chats: dict[str, Chat],
) -> None:
    alex, kim, sara = chats["alex"], chats["kim"], chats["sara"]
    day_after(sessions, clock)
    alex.receive()
    assert alex.ids() == ["meeting.checkin.ask"]
    assert "Hur var mötet" in alex.text()
    kim.receive()
    assert kim.ids() == ["meeting.checkin.ask"]
    # The coordinator and the professionals are not asked.
    assert all(
        r.reply.message != "meeting.checkin.ask" for r in received(sessions, catalogue, SARA)
    )

    alex.tap("checkin:open")
    assert alex.ids() == ["meeting.checkin.felt"]
    alex.choose("Både och")
    assert alex.ids() == ["meeting.checkin.heard"]
    alex.choose("Ja")
    assert alex.ids() == ["meeting.checkin.words"]
    alex.send(WORDS)
    assert alex.ids()[0] == "meeting.checkin.thanks"

    sara.receive()
    assert sara.ids() == ["alert.checkin"]
    assert "Alex" in sara.text() and "Både och" in sara.text() and WORDS in sara.text()

    # The words are stored encrypted, like all free text.
    with UnitOfWork(sessions) as uow:
        raw = uow.session.execute(text("SELECT words FROM checkin_answer")).scalars().all()
    assert raw and all(WORDS not in str(value) for value in raw)

    # The follow-up report shows each meeting's answers (and the timeline reads them).
    with UnitOfWork(sessions) as uow:
        report = build_followup(uow, case.case_id, clock.now, uow.gate.for_system(Purpose.REPORT))
    assert [(c.name, c.felt, c.heard, c.words) for c in report.checkins] == [
        ("Alex", "mixed", "yes", WORDS)
    ]
    html = render_followup(report, catalogue, "sv", DocumentFormat.HTML)
    assert "Hur mötena var" in html and "Både och" in html and WORDS in html
    marks = checkin_marks(report.checkins, catalogue, "sv")
    assert [label for _, label in marks] == ["1 Både och"]
    png = render_followup_timeline(report, catalogue, "sv", clock.now.date())
    assert png.startswith(b"\x89PNG")


def test_both_questions_can_be_skipped(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, chats: dict[str, Chat]
) -> None:
    kim, sara = chats["kim"], chats["sara"]
    day_after(sessions, clock)
    kim.receive()
    kim.tap("checkin:open")
    kim.choose("Hoppa över")
    kim.choose("Hoppa över")
    kim.choose("Nej tack")
    assert kim.ids()[0] == "meeting.checkin.skipped"
    # Nothing to tell: the coordinator gets no message, and Kim is not asked again.
    sara.receive()
    assert sara.ids() == []
    kim.tap("checkin:open")
    assert kim.ids()[0] == "meeting.checkin.none"
    with UnitOfWork(sessions) as uow:
        skipped = uow.session.scalars(select(m.CheckinAnswer.skipped)).all()
    assert skipped == [True]
