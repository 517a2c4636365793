"""The families' reminder kinds (meeting reminders, the shared picture's reminder) as the
deployment configured them; the kinds themselves are in flows/reminders.py.

Both read only rows (meetings, pictures, answers) and give events with dedup keys, so a tick
that runs twice, late, or in two processes enqueues each reminder once. Reminders carry no
case free text: a time, a version number and a button.
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import ReminderConfig
from flows.checkin import CheckinReminders
from flows.reminders import MEETING_ROLES, MeetingReminders, PictureReminders, ReminderKind

__all__ = ["MEETING_ROLES", "MeetingReminders", "PictureReminders", "family_due_sources"]


def family_due_sources(config: ReminderConfig) -> list[ReminderKind]:
    """The families' due-sources as the deployment configured them."""
    return [
        MeetingReminders(tuple(timedelta(hours=h) for h in config.meeting_hours_before)),
        PictureReminders(timedelta(hours=config.picture_after_hours), config.picture_max_reminders),
        # The day after each meeting: how was it? (issue 22)
        CheckinReminders(),
    ]
