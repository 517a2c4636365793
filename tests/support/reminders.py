"""A due-source for tests: a reminder to every member of a case some time before a meeting.

It keeps the contract of bot/scheduler.py: `due_at` says when the reminder was meant to go,
`expires_at` (the end of the meeting) when it stops making sense, and a meeting that is over
yields nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from flows.conversation import ReminderDue
from flows.domain import MeetingKind, Role
from flows.replies import Reply, say
from storage import models as m
from storage.unit_of_work import UnitOfWork

PLATFORM = "test"


@dataclass(frozen=True, slots=True)
class MeetingReminders:
    """Reminds every active member `lead` before each meeting, until the meeting ends (a
    reminder kind, flows/reminders.py)."""

    lead: timedelta = timedelta(hours=2)
    name: str = "test-meeting-reminders"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterator[ReminderDue]:
        """Members of meetings that start within `lead` and have not ended."""
        rows = uow.session.execute(
            select(m.Meeting, m.Membership.person_id)
            .join(m.Membership, m.Membership.case_id == m.Meeting.case_id)
            .where(
                m.Meeting.starts_at <= now + self.lead,
                m.Meeting.starts_at > now - timedelta(hours=6),
                m.Membership.active.is_(True),
            )
            .order_by(m.Meeting.id, m.Membership.person_id)
        ).all()
        for meeting, person_id in rows:
            ends_at = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
            if ends_at <= now:
                continue
            yield ReminderDue(
                self.name,
                f"test-reminder:{meeting.id}:{person_id}",
                person_id=person_id,
                params={"case": meeting.case_id, "meeting_at": meeting.starts_at},
                due_at=meeting.starts_at - self.lead,
                expires_at=ends_at,
            )

    def compose(self, due: ReminderDue, ports: UnitOfWork, now: datetime) -> Reply:
        """Any text with the person and the meeting in it will do for these tests."""
        return say("member.home", name=f"p{due.person_id}", **due.params)


def seed_meetings(
    sessions: sessionmaker[Session], starts: list[datetime], now: datetime, duration: int = 60
) -> list[str]:
    """One case per start time, each with one person (a private chat) and one meeting.

    Returns the chat ids, in the order of `starts`.
    """
    chats: list[str] = []
    with UnitOfWork(sessions) as uow:
        s = uow.session
        for n, starts_at in enumerate(starts):
            case = m.Case(reference=f"T-{n}", status="open", created_at=now)
            person = m.Person(display_name=f"P{n}", locale="sv", created_at=now)
            s.add_all([case, person])
            s.flush()
            chat = f"chat-{n}"
            s.add_all(
                [
                    m.ChatIdentity(
                        person_id=person.id,
                        platform=PLATFORM,
                        external_user_id=chat,
                        private_chat_id=chat,
                    ),
                    m.Membership(
                        case_id=case.id, person_id=person.id, role=Role.YOUTH, joined_at=now
                    ),
                    m.Meeting(
                        case_id=case.id,
                        kind=MeetingKind.FIRST,
                        starts_at=starts_at,
                        duration_minutes=duration,
                    ),
                ]
            )
            chats.append(chat)
        uow.commit()
    return chats
