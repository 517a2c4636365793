"""Every reminder kind the running bot ticks, built from its configuration.

One list, so `samverkan run` (and the terminal demo) and the whole-cycle tests tick the same
kinds: a kind added to one side only would be a reminder that works in tests and never runs.
"""

from __future__ import annotations

from bot.config import Config
from bot.family_reminders import family_due_sources
from bot.family_reports import family_report_sources
from bot.nudges import coordinator_sources
from flows.reminders import ReminderKind


def reminder_kinds(config: Config) -> list[ReminderKind]:
    """The coordinator side's, the family's reminders and the family's reports, in tick order."""
    return [
        *coordinator_sources(config.nudges, config.reports, config.timezone),
        *family_due_sources(config.reminders),
        *family_report_sources(config.nudges, config.reports, config.privacy, config.timezone),
    ]
