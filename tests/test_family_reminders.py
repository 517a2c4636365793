"""Reminders: before the meeting (the group once), and one kind reminder about the picture."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import ReminderConfig
from bot.family_reminders import MeetingReminders, PictureReminders, family_due_sources
from bot.scheduler import tick
from flows.conversation import ConversationRef
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import SARA, FamilyCase, publish, received, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")
FAMILY = ConversationRef(PLATFORM, "family", "robin")
TWO_DAYS_TWO_HOURS = MeetingReminders((timedelta(days=2), timedelta(hours=2)))


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting in seven days."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def joined(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> dict[str, Chat]:
    """Alex and Kim privately; Robin and Kim also in the family group chat."""
    chats = {
        "alex": Chat(sessions, catalogue, clock, ALEX),
        "kim": Chat(sessions, catalogue, clock, KIM),
        "robin": Chat(sessions, catalogue, clock, FAMILY),
    }
    chats["alex"].send(f"/start {case.youth_code}")
    chats["kim"].send(f"/start {case.caregiver_codes[0]}")
    chats["robin"].send(f"/start {case.caregiver_codes[1]}")
    Chat.for_user(sessions, catalogue, clock, user="kim", chat="family").send("/meny")
    return chats


def reminders(
    sessions: sessionmaker[Session], catalogue: Catalogue, ref: ConversationRef, message: str
) -> list[str]:
    """Texts of the reminders of one kind a chat got."""
    return [r.text for r in received(sessions, catalogue, ref) if r.reply.message == message]


def test_meeting_reminders_two_days_and_two_hours_before_the_group_once(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    joined: dict[str, Chat],
) -> None:
    meeting_at = clock.now + timedelta(days=7)
    clock.now = meeting_at - timedelta(days=2, minutes=1)
    assert tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now) == []
    clock.now = meeting_at - timedelta(days=2) + timedelta(minutes=1)
    first = tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now)
    # Alex and Sara privately; Kim and Robin through the family group, once.
    assert len(first) == 3
    assert reminders(sessions, catalogue, ALEX, "meeting.reminder") == [
        "Påminnelse: mötet är måndag 30 november kl. 11.00. Tryck på knappen för att se var det "
        "är och vilka som kommer."
    ]
    assert len(reminders(sessions, catalogue, FAMILY, "meeting.reminder")) == 1
    assert reminders(sessions, catalogue, KIM, "meeting.reminder") == []
    assert len(reminders(sessions, catalogue, SARA, "meeting.reminder")) == 1
    # A second tick (or a second process) at the same time adds nothing.
    assert tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now) == []

    clock.now = meeting_at - timedelta(hours=2) + timedelta(minutes=1)
    assert len(tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now)) == 3
    assert len(reminders(sessions, catalogue, FAMILY, "meeting.reminder")) == 2
    # The reminder's button opens the meeting info.
    joined["alex"].tap("meeting:open")
    assert joined["alex"].ids() == ["meeting.info"]
    clock.now = meeting_at + timedelta(minutes=1)
    assert tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now) == []


def test_after_downtime_only_the_latest_due_meeting_reminder_is_sent(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    joined: dict[str, Chat],
) -> None:
    clock.now = clock.now + timedelta(days=7) - timedelta(hours=1)
    tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now)
    assert len(reminders(sessions, catalogue, ALEX, "meeting.reminder")) == 1


def test_a_moved_meeting_is_reminded_again(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    joined: dict[str, Chat],
) -> None:
    clock.now = clock.now + timedelta(days=6)
    tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now)
    with UnitOfWork(sessions) as uow:
        meeting = uow.families.meeting(case.meeting_id)
        assert meeting is not None
        meeting.starts_at = meeting.starts_at + timedelta(hours=3)
        uow.commit()
    tick(sessions, [TWO_DAYS_TWO_HOURS], clock.now)
    texts = reminders(sessions, catalogue, ALEX, "meeting.reminder")
    assert len(texts) == 2 and "kl. 14.00" in texts[1]


def test_one_kind_picture_reminder_to_those_who_have_not_answered_never_more(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    joined: dict[str, Chat],
) -> None:
    source = PictureReminders(after=timedelta(hours=72), max_reminders=1)
    published_at = clock.now
    publish(sessions, case, "Alex vill ha hjälp med sömnen.", published_at)
    joined["kim"].tap("picture:open")
    joined["kim"].tap("agree")
    clock.now = published_at + timedelta(hours=71)
    assert tick(sessions, [source], clock.now) == []
    clock.now = published_at + timedelta(hours=73)
    sent = tick(sessions, [source], clock.now)
    # Alex privately; Robin (group only) through the family group; Kim answered already.
    assert len(sent) == 2
    assert len(reminders(sessions, catalogue, ALEX, "picture.reminder")) == 1
    assert len(reminders(sessions, catalogue, FAMILY, "picture.reminder")) == 1
    assert reminders(sessions, catalogue, KIM, "picture.reminder") == []
    for days in (4, 7, 30):
        clock.now = published_at + timedelta(days=days)
        assert tick(sessions, [source], clock.now) == []
    # The reminder carries no case text: only the version and a button.
    assert "sömnen" not in reminders(sessions, catalogue, ALEX, "picture.reminder")[0]


def test_the_number_of_picture_reminders_is_configurable(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    joined: dict[str, Chat],
) -> None:
    config = ReminderConfig(
        meeting_hours_before=(), picture_after_hours=24, picture_max_reminders=2
    )
    sources = family_due_sources(config)
    published_at = clock.now
    publish(sessions, case, "Version ett.", published_at)
    for hours in (25, 26, 49, 50, 200):
        clock.now = published_at + timedelta(hours=hours)
        tick(sessions, sources, clock.now)
    assert len(reminders(sessions, catalogue, ALEX, "picture.reminder")) == 2
    none = ReminderConfig(picture_max_reminders=0)
    clock.now = published_at + timedelta(days=20)
    publish(sessions, case, "Version två.", clock.now)
    clock.now += timedelta(days=10)
    assert tick(sessions, family_due_sources(none)[1:], clock.now) == []
