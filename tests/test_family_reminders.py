"""Reminders: before the meeting (the group once), and one kind reminder about the picture."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import ReminderConfig
from bot.family_reminders import (
    MEETING_ROLES,
    MeetingReminders,
    PictureReminders,
    family_due_sources,
)
from bot.scheduler import tick
from flows.consent import TEXT_VERSION
from flows.conversation import ConversationRef
from flows.domain import ConsentScope, Role
from flows.family_domain import Recipients
from storage import models as m
from storage.families_repository import PICTURE_ROLES
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import SARA, FamilyCase, publish, received, seed_family_case
from tests.seed import add_youth, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")
FAMILY = ConversationRef(PLATFORM, "family", "robin")
ROBIN = ConversationRef(PLATFORM, "robin", "robin")
TWO_DAYS_TWO_HOURS = MeetingReminders((timedelta(days=2), timedelta(hours=2)))


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting in seven days."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def joined(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> dict[str, Chat]:
    """Alex, Kim and Robin joined privately; Robin and Kim also write in the family group."""
    chats = {
        "alex": Chat(sessions, catalogue, clock, ALEX),
        "kim": Chat(sessions, catalogue, clock, KIM),
        "robin": Chat(sessions, catalogue, clock, FAMILY),
    }
    chats["alex"].send(f"/start {case.youth_code}")
    chats["kim"].send(f"/start {case.caregiver_codes[0]}")
    Chat.for_user(sessions, catalogue, clock, user="robin").send(
        f"/start {case.caregiver_codes[1]}"
    )
    chats["robin"].send("/meny")
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
    joined["alex"].receive()
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
    # Alex and Robin privately (answering is personal); Kim answered already.
    assert len(sent) == 2
    assert len(reminders(sessions, catalogue, ALEX, "picture.reminder")) == 1
    assert len(reminders(sessions, catalogue, ROBIN, "picture.reminder")) == 1
    assert reminders(sessions, catalogue, FAMILY, "picture.reminder") == []
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


def test_a_picture_reminder_more_than_its_delay_late_is_not_sent(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    joined: dict[str, Chat],
) -> None:
    # The bot was down from the day the picture was published until a week after it.
    source = PictureReminders(after=timedelta(hours=72), max_reminders=1)
    published_at = clock.now
    publish(sessions, case, "Alex vill ha hjälp med sömnen.", published_at)
    clock.now = published_at + timedelta(hours=72 * 2 + 1)
    assert tick(sessions, [source], clock.now) == []
    assert reminders(sessions, catalogue, ALEX, "picture.reminder") == []
    # Up to one delay late it still goes out: here, at five days.
    publish(sessions, case, "Version två.", clock.now)
    clock.now += timedelta(days=5)
    # Alex, Kim and Robin privately: nobody has answered.
    assert len(tick(sessions, [source], clock.now)) == 3
    assert len(reminders(sessions, catalogue, ALEX, "picture.reminder")) == 1


def test_the_picture_reminder_reads_its_window_not_every_picture(
    sessions: sessionmaker[Session],
    engine: Engine,
    clock: FakeClock,
    case: FamilyCase,
    joined: dict[str, Chat],
) -> None:
    # Many versions over half a year, statistics taken then.
    for days in range(60, 0, -3):
        publish(sessions, case, f"Version från dag {days}.", clock.now - timedelta(days=days))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM shared_picture" in statement:
            seen.append((statement, parameters))

    source = PictureReminders(after=timedelta(hours=72), max_reminders=1)
    with UnitOfWork(sessions) as uow:
        event.listen(engine, "before_cursor_execute", record)
        try:
            notices = list(source.due(uow, clock.now))
        finally:
            event.remove(engine, "before_cursor_execute", record)
    # The newest version (three days old) is the one reminded of, to everyone in the family.
    assert {n.params["version"] for n in notices} == {20}
    if engine.dialect.name != "sqlite":
        return
    statement, parameters = seen[0]
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        plan = " ".join(str(row[-1]) for row in rows)
    assert "ix_shared_picture_published (published_at>? AND published_at<?)" in plan, plan
    assert "SCAN" not in plan and "BLOOM FILTER" not in plan, plan


def _case_with_a_group(sessions: sessionmaker[Session], now: datetime) -> tuple[int, int, int]:
    """Another case with its meeting in a week: Noor privately, Lo (caregiver) only in a
    group chat, and Mo, who left the case but is still seen in that group."""
    case = seed_case(sessions, now)
    noor = add_youth(sessions, case.case_id, ConversationRef(PLATFORM, "noor", "noor"), "Noor", now)
    with UnitOfWork(sessions) as uow:
        lo = uow.cases.add_person("Lo", "sv", now).id
        uow.cases.add_member(case.case_id, lo, Role.CAREGIVER, now)
        # Reminders reach only people with consent in effect.
        uow.privacy.record_consent(lo, case.case_id, ConsentScope.BOT, True, TEXT_VERSION, now)
        mo = uow.cases.add_person("Mo", "sv", now).id
        uow.cases.add_member(case.case_id, mo, Role.CAREGIVER, now)
        for membership in uow.session.scalars(
            select(m.Membership).where(m.Membership.person_id == mo)
        ):
            membership.active = False
        for who, user in ((mo, "mo"), (lo, "lo")):
            uow.session.add(
                m.GroupChatMember(
                    case_id=case.case_id,
                    person_id=who,
                    platform=PLATFORM,
                    chat_id="lo-family",
                    user_id=user,
                    seen_at=now,
                )
            )
        uow.commit()
    return case.case_id, noor, lo


def test_the_recipients_of_many_cases_are_each_case_s_own(
    sessions: sessionmaker[Session], clock: FakeClock, case: FamilyCase, joined: dict[str, Chat]
) -> None:
    other, noor, lo = _case_with_a_group(sessions, clock.now)
    with UnitOfWork(sessions) as uow:
        alex = uow.session.scalar(
            select(m.ChatIdentity.person_id).where(m.ChatIdentity.external_user_id == "alex")
        )
        for group_first in (True, False):
            alone = {
                c: uow.families.recipients(c, MEETING_ROLES, group_first=group_first)
                for c in (case.case_id, other)
            }
            together = uow.families.recipients_of(
                [other, case.case_id, other, 999], MEETING_ROLES, group_first=group_first
            )
            assert together == {**alone, 999: Recipients((), ())}
        reach = uow.families.recipients_of([case.case_id, other], MEETING_ROLES, group_first=True)
        # Alex and Sara privately, Kim and Robin through their group (named by who was first
        # seen there); Lo through the other family's group, which Mo's leaving does not change.
        assert reach[case.case_id].person_ids == tuple(sorted((alex, case.coordinator_id)))
        assert reach[case.case_id].group_chats == (ConversationRef(PLATFORM, "family", "robin"),)
        assert reach[other].person_ids == (noor,)
        assert reach[other].group_chats == (ConversationRef(PLATFORM, "lo-family", "lo"),)
        # Narrowed per case: a case left out of `only` has nobody.
        narrowed = uow.families.recipients_of(
            [case.case_id, other], PICTURE_ROLES, group_first=False, only={other: frozenset({lo})}
        )
        assert narrowed == {
            case.case_id: Recipients((), ()),
            other: Recipients((), (ConversationRef(PLATFORM, "lo-family", "lo"),)),
        }


def test_meeting_reminders_find_their_recipients_in_as_many_queries_for_any_number_of_meetings(
    sessions: sessionmaker[Session], engine: Engine, clock: FakeClock
) -> None:
    def statements_of_a_tick(cases: int) -> tuple[int, int]:
        """(statements, notices) of MeetingReminders.due with `cases` more meetings in a week."""
        for n in range(cases):
            seeded = seed_case(sessions, clock.now)
            ref = ConversationRef(PLATFORM, f"u{cases}-{n}", f"u{cases}-{n}")
            add_youth(sessions, seeded.case_id, ref, "Ung", clock.now)
        seen: list[str] = []

        def count(*_args: object) -> None:
            seen.append("statement")

        at = clock.now + timedelta(days=5, minutes=1)
        with UnitOfWork(sessions) as uow:
            event.listen(engine, "before_cursor_execute", count)
            try:
                notices = list(TWO_DAYS_TWO_HOURS.due(uow, at))
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return len(seen), len(notices)

    one, reminded = statements_of_a_tick(1)
    six, reminded_more = statements_of_a_tick(5)
    assert (reminded, reminded_more) == (1, 6)
    assert six == one  # not three more per meeting
