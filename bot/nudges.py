"""The coordinator side's reminder kinds (nudges, escalations, agendas, follow-up reports,
failed reports, unanswered meeting requests) as the deployment configured them; the kinds
themselves are in flows/coordinator_reminders.py (and flows/convening_reminders.py), their
reads and marks in storage/coordinator_reminders_repository.py.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.nudge_config import NudgeConfig, ReportConfig
from flows.agenda_reading import ProfessionalAgendas
from flows.convening_reminders import UnansweredRequests
from flows.coordinator_reminders import (
    ESCALATED,
    FAILED_REPORT_HORIZON,
    Agendas,
    Escalations,
    FailedReports,
    FollowupReports,
    Nudges,
    is_quiet,
    stage_of,
)
from flows.meeting_changes import SeriesBooking
from flows.meeting_notes import NotesRequests
from flows.reminders import ReminderKind
from storage.coordinator_reminders_repository import REPORT_MESSAGES, meetings_starting

__all__ = [
    "ESCALATED",
    "FAILED_REPORT_HORIZON",
    "REPORT_MESSAGES",
    "coordinator_sources",
    "is_quiet",
    "meetings_starting",
    "stage_of",
]


def coordinator_sources(
    nudges: NudgeConfig, reports: ReportConfig, timezone: str
) -> list[ReminderKind]:
    """Every reminder kind of the coordinator side, configured ([bot] timezone for the
    calendar days, quiet hours and weekends)."""
    zone = ZoneInfo(timezone)
    return [
        Nudges(nudges, zone),
        Escalations(nudges, zone),
        Agendas(reports),
        ProfessionalAgendas(reports.agenda_lead_hours),
        FollowupReports(reports, zone),
        FailedReports(),
        # Series go on until stopped: the next meetings are booked as time passes.
        SeriesBooking(zone),
        # After a meeting: the coordinator is asked for the notes (flows/meeting_notes.py).
        NotesRequests(),
        UnansweredRequests(reports.request_reminder_working_days, zone),
    ]
