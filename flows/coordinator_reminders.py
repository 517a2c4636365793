"""The coordinator side's reminder kinds: nudges, escalations, agendas, follow-up reports and
failed reports (flows/reminders.py says what a kind is).

Their events carry ids (a digest's actions in `ReminderDue.ids`), counts and times only; what
is said (an action's text, a case's reference, an agenda) is read back in `compose` through
the port, which answers from what the same transaction already read while finding what was
due: a tick of thousands of nudges makes no query per recipient
(storage/coordinator_reminders_repository.py).

Nudges and escalations write their stages down (nudge_sent) while finding them due, so a
stage is sent once even when the outbox row is long gone; `marks_what_it_sends` makes the tick
commit those marks with the notices (bot/scheduler.py). One person gets one digest per run,
whatever number of actions fell due.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from flows.conversation import ReminderDue
from flows.coordinator import agenda_reply, followup_reply_set
from flows.professional import NOTICE_ACTIONS
from flows.reminder_ports import ActionToRemind, ReminderPorts
from flows.replies import Choice, ParamValue, Reply

# --- settings (read from the config by bot/nudge_config.py) ---------------------------------


class NudgeContent(StrEnum):
    """How much a reminder says: a neutral reference (default) or the actions' texts."""

    MINIMAL = "minimal"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class NudgeConfig:
    """When owners are reminded, what the reminder says, and when nobody is disturbed."""

    enabled: bool = True
    days_before: int = 2
    on_due_date: bool = True
    overdue_every_days: int = 3
    escalate_after_days: int = 7
    content: NudgeContent = NudgeContent.MINIMAL
    quiet_start: time = time(20, 0)
    quiet_end: time = time(8, 0)
    weekends: bool = False


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """How long before a meeting the coordinator gets the agenda and the follow-up report."""

    agenda_lead_hours: int = 48
    followup_lead_hours: int = 48
    # Working days (weekends skipped) before an unanswered meeting request reminds the
    # coordinator (flows/convening_reminders.py); 0 never reminds.
    request_reminder_working_days: int = 2


# Failed reports older than this are history, not news: nobody is told about them any more.
FAILED_REPORT_HORIZON = timedelta(days=14)
ESCALATED = "escalated"
# followup_reply_set's replies: the summary with its document, and the timeline picture.
REPORT_PARTS = 2


def _stockholm() -> ZoneInfo:
    """The default [bot] timezone."""
    return ZoneInfo("Europe/Stockholm")


def is_quiet(local: datetime, config: NudgeConfig) -> bool:
    """True in quiet hours, and on weekends unless weekends are allowed."""
    if not config.weekends and local.weekday() >= 5:
        return True
    now, start, end = local.time(), config.quiet_start, config.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def stage_of(due: date, today: date, config: NudgeConfig) -> str | None:
    """Which reminder an action is at today: before, on, overdue:<n>, or none."""
    days = (due - today).days
    if days < 0:
        # Overdue reminders repeat: stage overdue:0 on the first day late, overdue:1 after
        # `overdue_every_days` more days, and so on.
        return f"overdue:{(-days - 1) // config.overdue_every_days}"
    if days == 0:
        return "on" if config.on_due_date else None
    if config.days_before and days <= config.days_before:
        return "before"
    return None


def reminder_key(*parts: object) -> str:
    """A short, stable dedup key from its parts."""
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:40]


def _int(due: ReminderDue, name: str) -> int:
    """An id or count the event carries."""
    value = due.params[name]
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    return value


def _datetime(due: ReminderDue, name: str) -> datetime:
    """A time the event carries."""
    value = due.params[name]
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    return value


@dataclass(frozen=True, slots=True)
class Nudges:
    """Reminds each owner of their actions before, on and after the due date, as one digest."""

    # Its marks and its notices commit together (bot/scheduler.py).
    marks_what_it_sends: ClassVar[bool] = True
    config: NudgeConfig = field(default_factory=NudgeConfig)
    timezone: ZoneInfo = field(default_factory=_stockholm)
    name: str = "nudges"

    def due(self, ports: ReminderPorts, now: datetime) -> list[ReminderDue]:
        """One digest per person with every action that reached a new stage (marked sent)."""
        local = now.astimezone(self.timezone)
        if not self.config.enabled or is_quiet(local, self.config):
            return []
        today = local.date()
        reads = ports.coordinator_reminders
        # stage_of gives no stage to an action due more than days_before days from today.
        actions = reads.actions_to_nudge(today + timedelta(days=self.config.days_before))
        sent = reads.stages_sent([a.id for a in actions])
        by_person: dict[int, list[tuple[ActionToRemind, str]]] = defaultdict(list)
        for action in actions:
            stage = stage_of(action.due_date, today, self.config)
            if stage is None:
                continue
            for person_id in action.recipients:
                if (action.id, person_id, action.due_date, stage) not in sent:
                    by_person[person_id].append((action, stage))
        events = []
        for person_id, items in sorted(by_person.items()):
            stages = [stage for _, stage in items]
            events.append(
                ReminderDue(
                    self.name,
                    reminder_key(
                        "nudge", person_id, *sorted(f"{a.id}:{a.due_date}:{s}" for a, s in items)
                    ),
                    person_id=person_id,
                    ids=tuple(a.id for a, _ in items),
                    params={
                        "count": len(items),
                        "overdue": sum(1 for s in stages if s.startswith("overdue")),
                        "due_today": sum(1 for s in stages if s == "on"),
                        "due_soon": sum(1 for s in stages if s == "before"),
                    },
                )
            )
        reads.mark_nudged(
            [(a, p, s) for p, items in sorted(by_person.items()) for a, s in items], now
        )
        return events

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply | None:
        """The digest: references and counts, or (configured "full") the actions' texts;
        nothing when none of its actions is in an open case any more."""
        show = Choice(NOTICE_ACTIONS, "nudge.show")
        texts = ports.coordinator_reminders.action_texts(due.ids)
        ids = [i for i in due.ids if i in texts]
        if not ids:
            return None
        if self.config.content is NudgeContent.FULL:
            today = now.astimezone(self.timezone).date()
            # The stage is again the due date's against today: `compose` runs at the `now` of
            # the tick that found it due.
            actions: list[ParamValue] = [
                {
                    "case": texts[i].reference,
                    "text": texts[i].description,
                    "due": texts[i].due_date,
                    "stage": (stage_of(texts[i].due_date, today, self.config) or "").partition(":")[
                        0
                    ],
                }
                for i in ids
            ]
            return Reply("nudge.digest_full", {"actions": actions}, (show,))
        # No case free text: only references and counts, details behind the button.
        cases: list[ParamValue] = list(dict.fromkeys(texts[i].reference for i in ids))
        counts = {k: _int(due, k) for k in ("count", "overdue", "due_today", "due_soon")}
        return Reply("nudge.digest", {**counts, "cases": cases}, (show,))


def neutral_digest(reply: Reply) -> Reply:
    """The neutral form of a full-content digest (references and counts, no action texts),
    for a platform that is not end-to-end encrypted (e-mail); any other reply as it is."""
    if reply.message != "nudge.digest_full":
        return reply
    raw = reply.params.get("actions")
    actions = [a for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []
    stages = [a.get("stage") for a in actions]
    cases: list[ParamValue] = list(dict.fromkeys(a.get("case") for a in actions))
    return Reply(
        "nudge.digest",
        {
            "count": len(actions),
            "overdue": stages.count("overdue"),
            "due_today": stages.count("on"),
            "due_soon": stages.count("before"),
            "cases": cases,
        },
        reply.choices,
    )


@dataclass(frozen=True, slots=True)
class Escalations:
    """Tells a case's coordinators, once, about actions overdue past the threshold."""

    # Its marks and its notices commit together (bot/scheduler.py).
    marks_what_it_sends: ClassVar[bool] = True
    config: NudgeConfig = field(default_factory=NudgeConfig)
    timezone: ZoneInfo = field(default_factory=_stockholm)
    name: str = "escalations"

    def due(self, ports: ReminderPorts, now: datetime) -> list[ReminderDue]:
        """One event per coordinator per case with the newly late actions (marked sent)."""
        local = now.astimezone(self.timezone)
        if not self.config.enabled or is_quiet(local, self.config):
            return []
        reads = ports.coordinator_reminders
        limit = local.date() - timedelta(days=self.config.escalate_after_days)
        actions = reads.actions_to_escalate(limit)
        sent = reads.stages_sent([a.id for a in actions])
        late: dict[tuple[int, int], list[ActionToRemind]] = defaultdict(list)
        for action in actions:
            for person_id in action.recipients:
                if (action.id, person_id, action.due_date, ESCALATED) not in sent:
                    late[(person_id, action.case_id)].append(action)
        events = []
        for (person_id, case_id), group in sorted(late.items()):
            ids = sorted(f"{a.id}:{a.due_date}" for a in group)
            events.append(
                ReminderDue(
                    self.name,
                    reminder_key("escalate", person_id, *ids),
                    person_id=person_id,
                    ids=tuple(a.id for a in group),
                    params={
                        "case": case_id,
                        "count": len(group),
                        "days": self.config.escalate_after_days,
                    },
                )
            )
        reads.mark_escalated(
            [(a, p, ESCALATED) for (p, _), group in sorted(late.items()) for a in group], now
        )
        return events

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """How many actions of which case are late, and a button to its plan."""
        case_id = _int(due, "case")
        reference = ports.coordinator_reminders.case_references([case_id])[case_id]
        return Reply(
            "nudge.escalation",
            {"count": _int(due, "count"), "case": reference, "days": _int(due, "days")},
            (Choice(f"n:plan:{case_id}", "nudge.show_plan"),),
        )


@dataclass(frozen=True, slots=True)
class Agendas:
    """Sends each coordinator the agenda of a meeting, the configured hours before it."""

    config: ReportConfig = field(default_factory=ReportConfig)
    name: str = "agendas"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """The agenda of every meeting coming up within the lead time, once per coordinator."""
        reads = ports.coordinator_reminders
        lead = timedelta(hours=self.config.agenda_lead_hours)
        meetings = reads.meetings_starting(now, lead)
        to_tell = reads.coordinators_to_tell(
            meetings, lambda mt, p: (reminder_key("agenda", mt, p),)
        )
        for meeting, people in to_tell:
            agenda = reads.agenda_before(meeting.case_id, meeting.starts_at - timedelta(seconds=1))
            # The agenda quotes what each contributor shared: erasing one of them removes it
            # (and the next tick in the lead window makes it again without them).
            quoted = tuple(c.person_id for c in agenda.contributions)
            for person_id in people:
                yield ReminderDue(
                    self.name,
                    reminder_key("agenda", meeting.id, person_id),
                    person_id=person_id,
                    params={"case": meeting.case_id, "starts_at": meeting.starts_at},
                    due_at=meeting.starts_at - lead,
                    expires_at=meeting.starts_at,
                    about=quoted,
                )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """The agenda's chat message (read again from what `due` read: no new query)."""
        reads = ports.coordinator_reminders
        case_id = _int(due, "case")
        agenda = reads.agenda_before(case_id, _datetime(due, "starts_at") - timedelta(seconds=1))
        return agenda_reply(case_id, agenda, reads.plan_of(case_id))


@dataclass(frozen=True, slots=True)
class FollowupReports:
    """Sends each coordinator the follow-up report before every follow-up meeting."""

    config: ReportConfig = field(default_factory=ReportConfig)
    timezone: ZoneInfo = field(default_factory=_stockholm)
    name: str = "followup_reports"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """The report's parts (summary + document, the timeline) once per follow-up meeting."""
        reads = ports.coordinator_reminders
        lead = timedelta(hours=self.config.followup_lead_hours)
        meetings = [mt for mt in reads.meetings_starting(now, lead) if mt.follow_up]
        to_tell = reads.coordinators_to_tell(
            meetings,
            lambda mt, p: tuple(reminder_key("followup", mt, p, n) for n in range(REPORT_PARTS)),
        )
        for meeting, people in to_tell:
            for person_id in people:
                for part in range(REPORT_PARTS):
                    yield ReminderDue(
                        self.name,
                        reminder_key("followup", meeting.id, person_id, part),
                        person_id=person_id,
                        params={"case": meeting.case_id, "part": part},
                        due_at=meeting.starts_at - lead,
                        expires_at=meeting.starts_at,
                    )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """One part of the report, on the local calendar's today."""
        reads = ports.coordinator_reminders
        case_id = _int(due, "case")
        reference = reads.case_references([case_id])[case_id]
        today = now.astimezone(self.timezone).date()
        return followup_reply_set(case_id, reference, reads.plan_of(case_id), today)[
            _int(due, "part")
        ]


@dataclass(frozen=True, slots=True)
class FailedReports:
    """A report that could not be delivered after every retry: the coordinator is told."""

    name: str = "failed_reports"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """One event per failed report row whose chat is a known person's."""
        reads = ports.coordinator_reminders
        for outbox_id, person_id in reads.failed_reports(now - FAILED_REPORT_HORIZON):
            yield ReminderDue(
                self.name,
                reminder_key("report-failed", outbox_id),
                person_id=person_id,
                params={"outbox": outbox_id},
            )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """A plain message naming the case (it has no file, so it can get through)."""
        outbox_id = _int(due, "outbox")
        case = ports.coordinator_reminders.failed_report_cases([outbox_id])[outbox_id]
        return Reply("coord.report_failed", {"case": case})
