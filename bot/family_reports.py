"""The family's follow-up, its failed-delivery notice and the closing notices, as the
deployment configured them; the kinds themselves are in flows/family_reports.py, their reads
in storage/family_reports_repository.py.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.config import PrivacyConfig
from bot.nudge_config import NudgeConfig, ReportConfig
from flows.family_reports import ClosingNotices, FailedFamilyReports, FamilyFollowups
from flows.reminders import ReminderKind


def family_report_sources(
    nudges: NudgeConfig, reports: ReportConfig, privacy: PrivacyConfig, timezone: str
) -> list[ReminderKind]:
    """The family's follow-up at the report's lead time ([reports]) with the nudges' content
    setting, its failed-delivery notice, and the closing notices with the retention period
    ([privacy]); [bot] timezone for the calendar days."""
    zone = ZoneInfo(timezone)
    return [
        FamilyFollowups(reports, nudges.content, zone),
        FailedFamilyReports(),
        ClosingNotices(privacy.closed_case_days, privacy.retention_at, zone),
    ]
