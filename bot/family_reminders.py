"""Due-sources of the families' side: meeting reminders and the shared picture's reminder.

Both read only rows (meetings, pictures, answers) and give notices with dedup keys, so a tick
that runs twice, late, or in two processes enqueues each reminder once. Reminders carry no
case free text: a time, a version number and a button.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import ReminderConfig
from bot.scheduler import DueSource
from flows import meeting_info
from flows.domain import Role
from flows.engine import Notice
from flows.picture_loop import reminder_notices
from flows.replies import Choice, say, to_family
from storage import models as m
from storage.access import Purpose
from storage.families_repository import PICTURE_ROLES
from storage.unit_of_work import UnitOfWork

MEETING_ROLES = tuple(Role)


@dataclass(slots=True)
class MeetingReminders:
    """Reminds every member of a meeting `before` it starts (e.g. two days and two hours).

    In a family group chat the group gets one reminder; members not seen in a group get it
    privately. When the bot was down past an earlier reminder, only the latest due one is sent,
    so nobody gets "in two days" and "in two hours" at once.
    """

    before: Sequence[timedelta] = (timedelta(days=2), timedelta(hours=2))
    name: str = "meeting_reminders"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """The reminders due at `now`."""
        if not self.before:
            return
        horizon = now + max(self.before)
        due: list[tuple[m.Meeting, timedelta]] = []
        for meeting in uow.families.meetings_between(now, horizon):
            passed = [b for b in self.before if meeting.starts_at - b <= now]
            if passed:
                due.append((meeting, min(passed)))
        # Everyone to remind of every meeting due, in a few queries (not three per meeting).
        reach = uow.families.recipients_of(
            {meeting.case_id for meeting, _ in due}, MEETING_ROLES, group_first=True
        )
        for meeting, offset in due:
            # The start time is in the key: a meeting moved to a new time is reminded again.
            key = f"meeting-reminder:{meeting.id}:{meeting.starts_at.isoformat()}:{offset}"
            # Only when: fine for the family group too.
            reply = to_family(
                say(
                    "meeting.reminder",
                    Choice(meeting_info.OPEN_CHOICE, "menu.meeting"),
                    starts_at=meeting.starts_at,
                )
            )
            targets = reach[meeting.case_id]
            for person_id in targets.person_ids:
                yield Notice(reply, person_id=person_id, dedup_key=f"{key}:{person_id}")
            for chat in targets.group_chats:
                yield Notice(reply, chat=chat, dedup_key=f"{key}:group")


@dataclass(slots=True)
class PictureReminders:
    """Reminds whoever has not answered the newest shared picture, at most `max_reminders`.

    Reminder n falls due `after` × n from publishing; each has its own dedup key, so there are
    never more than `max_reminders` per person and version, whatever the ticks do. A reminder
    that could only be sent more than `after` late (the bot was down) is not sent: nobody is
    asked about a picture weeks after the meeting it was for. That bound is also what keeps a
    tick's work the window's pictures, not every picture ever published.
    """

    after: timedelta = timedelta(days=3)
    max_reminders: int = 1
    name: str = "picture_reminders"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """The reminders due at `now`."""
        if self.max_reminders <= 0:
            return
        unanswered = uow.families.unanswered_pictures(
            uow.gate.for_system(Purpose.PICTURE_REMINDER),
            published_after=now - self.after * (self.max_reminders + 1),
            published_before=now - self.after,
        )
        # A case has one newest picture, so its waiting members narrow its recipients.
        reach = uow.families.recipients_of(
            [case_id for _, case_id, _ in unanswered],
            PICTURE_ROLES,
            group_first=False,
            only={case_id: frozenset(waiting) for _, case_id, waiting in unanswered},
        )
        for picture, case_id, _ in unanswered:
            number = min(int((now - picture.published_at) / self.after), self.max_reminders)
            targets = reach[case_id]
            yield from reminder_notices(picture, targets.person_ids, targets.group_chats, number)


def family_due_sources(config: ReminderConfig) -> list[DueSource]:
    """The families' due-sources as the deployment configured them."""
    return [
        MeetingReminders(tuple(timedelta(hours=h) for h in config.meeting_hours_before)),
        PictureReminders(timedelta(hours=config.picture_after_hours), config.picture_max_reminders),
    ]
