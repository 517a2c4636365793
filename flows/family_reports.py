"""Reports to the family, and the closing notices: reminder kinds (flows/reminders.py says what
a kind is).

- `FamilyFollowups`: before every follow-up meeting, at the time the coordinator gets the
  follow-up report (`ReportConfig.followup_lead_hours`), the young person (with consent in
  effect) and each caregiver get, privately, a short plain follow-up of the plan: how many
  actions are done, how many are late, what comes next, and a button to the plan. By default
  it names no action (`[nudges] content = "minimal"`, as the nudges): a chat platform is not a
  care journal; "full" lists the actions' texts and dates, never anyone's notes.
- `FailedFamilyReports`: a follow-up that could not be delivered after every retry (the
  delivery loop's retries, as for the coordinator's report) is told to the case's
  coordinators, once, who can reach the family another way.
- `ClosingNotices`: when a case is closed (in the coordinator's chat, or in any other way that
  sets it closed), each member of the family is told privately that it is closed and on which
  day what they wrote is erased (`[privacy] closed_case_days`, the retention job's time); the
  professionals are told that it is closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.conversation import ReminderDue
from flows.coordination import ActionItem, ActionStatus
from flows.coordinator_reminders import (
    FAILED_REPORT_HORIZON,
    NudgeContent,
    ReportConfig,
    reminder_key,
)
from flows.domain import Role
from flows.family_news import SHOW_PLAN
from flows.reminder_ports import ReminderPorts
from flows.replies import ParamValue, Reply

# Closing notices are looked for among cases closed this recently: a tick runs every half
# minute, and the outbox keeps even sent rows at least a day ([privacy] outbox_days >= 1), so
# its dedup keys still hold every notice already sent while the case is looked at.
CLOSING_HORIZON = timedelta(days=1)
# In "full" content, at most this many actions per part: the plan itself is behind the button.
MAX_LISTED = 5


def _int(due: ReminderDue, name: str) -> int:
    """An id the event carries."""
    value = due.params[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int")
    return value


def _stockholm() -> ZoneInfo:
    """The default [bot] timezone."""
    return ZoneInfo("Europe/Stockholm")


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """The plan as the family's follow-up tells it: done, late, next."""

    done: tuple[ActionItem, ...]
    late: tuple[ActionItem, ...]
    next: tuple[ActionItem, ...]


def summarise(plan: Iterable[ActionItem], today: date) -> PlanSummary:
    """Done actions, open ones past their date, and open ones still to come (soonest first)."""
    actions = sorted(plan, key=lambda a: (a.due, a.id))
    return PlanSummary(
        done=tuple(a for a in actions if a.status is ActionStatus.DONE),
        late=tuple(a for a in actions if not a.status.is_closed and a.due < today),
        next=tuple(a for a in actions if not a.status.is_closed and a.due >= today),
    )


def _listed(actions: tuple[ActionItem, ...]) -> list[ParamValue]:
    """The actions' texts and dates, for "full" content."""
    return [{"text": a.description, "due": a.due} for a in actions[:MAX_LISTED]]


@dataclass(frozen=True, slots=True)
class FamilyFollowups:
    """Sends the young person and each caregiver the plan's follow-up before a follow-up
    meeting, when the coordinator gets the report."""

    config: ReportConfig = field(default_factory=ReportConfig)
    content: NudgeContent = NudgeContent.MINIMAL
    timezone: ZoneInfo = field(default_factory=_stockholm)
    name: str = "family_followups"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """One follow-up per reachable family member and follow-up meeting."""
        lead = timedelta(hours=self.config.followup_lead_hours)
        meetings = [
            mt for mt in ports.coordinator_reminders.meetings_starting(now, lead) if mt.follow_up
        ]
        to_tell = ports.family_reports.family_to_tell(
            meetings, lambda mt, p: (reminder_key("family-followup", mt, p),)
        )
        for meeting, people in to_tell:
            for person_id in people:
                yield ReminderDue(
                    self.name,
                    reminder_key("family-followup", meeting.id, person_id),
                    person_id=person_id,
                    params={"case": meeting.case_id, "starts_at": meeting.starts_at},
                    due_at=meeting.starts_at - lead,
                    expires_at=meeting.starts_at,
                )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """Counts of done, late and next (or, configured "full", the actions), the meeting's
        time and a button to the plan."""
        case_id = _int(due, "case")
        today = now.astimezone(self.timezone).date()
        summary = summarise(ports.coordinator_reminders.plan_of(case_id), today)
        full = self.content is NudgeContent.FULL
        params: dict[str, ParamValue] = {
            # The case's id (never shown) lets a failed delivery be told to its coordinators.
            "case_id": case_id,
            "starts_at": due.params["starts_at"],
            "done": len(summary.done),
            "late": len(summary.late),
            "next": len(summary.next),
            "full": full,
            "done_items": _listed(summary.done) if full else [],
            "late_items": _listed(summary.late) if full else [],
            "next_items": _listed(summary.next) if full else [],
        }
        return Reply("family_report.followup", params, (SHOW_PLAN,))


@dataclass(frozen=True, slots=True)
class FailedFamilyReports:
    """A family follow-up that could not be delivered after every retry: the case's
    coordinators are told, once each."""

    name: str = "failed_family_reports"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """One event per failed follow-up and coordinator of its case."""
        for failed in ports.family_reports.failed_family_reports(now - FAILED_REPORT_HORIZON):
            yield ReminderDue(
                self.name,
                reminder_key("family-report-failed", failed.outbox_id, failed.coordinator_id),
                person_id=failed.coordinator_id,
                params={"case": failed.case_id, "to_youth": failed.role is Role.YOUTH},
            )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """Names the case and whether it was the young person's or a caregiver's."""
        case_id = _int(due, "case")
        reference = ports.coordinator_reminders.case_references([case_id])[case_id]
        return Reply(
            "family_report_staff.failed",
            {"case": reference, "to_youth": bool(due.params["to_youth"])},
        )


def erasure_day(
    closed_at: datetime, closed_case_days: int, retention_at: time, timezone: ZoneInfo
) -> date:
    """The local day the retention job erases a case closed at `closed_at`: its first daily
    run at `retention_at` once `closed_case_days` have passed (storage/retention.py)."""
    due = (closed_at + timedelta(days=closed_case_days)).astimezone(timezone)
    return due.date() if due.time() <= retention_at else due.date() + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ClosingNotices:
    """Tells the family, privately, that the case is closed and when their data is erased;
    tells the professionals that it is closed."""

    closed_case_days: int = 365
    retention_at: time = time(3, 30)
    timezone: ZoneInfo = field(default_factory=_stockholm)
    name: str = "closing_notices"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """One notice per member of each case closed within the horizon."""
        for case in ports.family_reports.closed_since(now - CLOSING_HORIZON):
            erase_on = erasure_day(
                case.closed_at, self.closed_case_days, self.retention_at, self.timezone
            )
            for person_id, role in case.members:
                yield ReminderDue(
                    self.name,
                    reminder_key("case-closed", case.case_id, person_id),
                    person_id=person_id,
                    params={
                        "case": case.case_id,
                        "staff": role is Role.PROFESSIONAL,
                        "erase_on": erase_on,
                        # A year on, the day needs its year ("onsdag 24 november 2027").
                        "erase_year": erase_on.year,
                    },
                )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """The family's notice with the day of erasure, or the professionals' with the case."""
        case_id = _int(due, "case")
        when: dict[str, ParamValue] = {
            "erase_on": due.params["erase_on"],
            "erase_year": _int(due, "erase_year"),
        }
        if due.params["staff"]:
            reference = ports.coordinator_reminders.case_references([case_id])[case_id]
            return Reply(
                "family_report_staff.closed",
                {"case": reference, **when},
            )
        return Reply("family_report.closed", when)
