"""Settings of reminders and reports: the [nudges] and [reports] sections of the config."""

from __future__ import annotations

from datetime import time
from typing import Any

# The settings themselves are the kinds' (flows/coordinator_reminders.py); read here.
from flows.coordinator_reminders import NudgeConfig, NudgeContent, ReportConfig

__all__ = [
    "NudgeConfig",
    "NudgeContent",
    "ReportConfig",
    "SettingError",
    "nudge_config",
    "report_config",
]


class SettingError(ValueError):
    """A key of [nudges] or [reports] has a wrong value."""


def _typed(table: dict[str, Any], section: str, key: str, kind: type, default: Any) -> Any:
    """One key with its type checked (bool is not accepted as an int)."""
    value = table.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingError(f"[{section}] {key} must be a {kind.__name__}, got {value!r}")
    return value


def _clock_time(section: str, key: str, text: str) -> time:
    """ "20:00" as a time of day."""
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise SettingError(f"[{section}] {key} must be HH:MM, got {text!r}") from exc


def nudge_config(table: dict[str, Any]) -> NudgeConfig:
    """Reads [nudges]."""
    s = "nudges"
    known = set(NudgeConfig.__dataclass_fields__) - {"quiet_start", "quiet_end"}
    unknown = set(table) - known - {"quiet_hours"}
    if unknown:
        raise SettingError(f"[{s}] unknown key(s): {', '.join(sorted(unknown))}")
    content = _typed(table, s, "content", str, "minimal")
    if content not in {c.value for c in NudgeContent}:
        raise SettingError(f"[{s}] content must be 'minimal' or 'full', got {content!r}")
    quiet = _typed(table, s, "quiet_hours", str, "20:00-08:00")
    start, _, end = quiet.partition("-")
    config = NudgeConfig(
        enabled=_typed(table, s, "enabled", bool, True),
        days_before=_typed(table, s, "days_before", int, 2),
        on_due_date=_typed(table, s, "on_due_date", bool, True),
        overdue_every_days=_typed(table, s, "overdue_every_days", int, 3),
        escalate_after_days=_typed(table, s, "escalate_after_days", int, 7),
        content=NudgeContent(content),
        quiet_start=_clock_time(s, "quiet_hours", start),
        quiet_end=_clock_time(s, "quiet_hours", end),
        weekends=_typed(table, s, "weekends", bool, False),
    )
    for key in ("days_before", "overdue_every_days", "escalate_after_days"):
        if getattr(config, key) < (0 if key == "days_before" else 1):
            raise SettingError(f"[{s}] {key} is too small")
    return config


def report_config(table: dict[str, Any]) -> ReportConfig:
    """Reads [reports]."""
    s = "reports"
    unknown = set(table) - set(ReportConfig.__dataclass_fields__)
    if unknown:
        raise SettingError(f"[{s}] unknown key(s): {', '.join(sorted(unknown))}")
    config = ReportConfig(
        agenda_lead_hours=_typed(table, s, "agenda_lead_hours", int, 48),
        followup_lead_hours=_typed(table, s, "followup_lead_hours", int, 48),
        request_reminder_working_days=_typed(table, s, "request_reminder_working_days", int, 2),
    )
    if config.agenda_lead_hours < 1 or config.followup_lead_hours < 1:
        raise SettingError(f"[{s}] lead hours must be at least 1")
    if config.request_reminder_working_days < 0:
        raise SettingError(f"[{s}] request_reminder_working_days cannot be negative")
    return config
