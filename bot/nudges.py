"""Due-sources of the coordinator side: nudges, escalations, agendas, reports, failed reports.

Each returns notices with dedup keys; the nudge and escalation stages are also written down
(nudge_sent) in the tick's transaction, so a stage is sent once even when the outbox row is
long gone. One person gets one digest per run, whatever number of actions fell due.

They read case data only through the access gate's system path, each with its own purpose
(storage/access.py): nudges get open actions with their admitted owners, escalations open
overdue actions with the case's coordinators, agendas and follow-up reports one open case's
plan. A stage marked sent is audited (who was told is in nudge_sent; never content).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select

from bot.nudge_config import NudgeConfig, NudgeContent, ReportConfig
from flows.coordinator import agenda_reply, followup_reply_set
from flows.domain import MeetingKind, Role
from flows.engine import Notice
from flows.professional import NOTICE_ACTIONS
from flows.replies import Choice, ParamValue, Reply
from storage import models as m
from storage.access import DueAction, Purpose, SystemGrant
from storage.db import in_chunks
from storage.outbox_repository import _dedup_key as outbox_key
from storage.unit_of_work import UnitOfWork

# The coordinator's messages that carry a report; if one of them finally fails, they are told.
REPORT_MESSAGES = ("coord.agenda", "coord.report", "coord.report_timeline")
# Failed reports older than this are history, not news: nobody is told about them any more.
FAILED_REPORT_HORIZON = timedelta(days=14)
ESCALATED = "escalated"
# followup_reply_set's replies: the summary with its document, and the timeline picture.
_REPORT_PARTS = 2


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


def _key(*parts: object) -> str:
    """A short, stable dedup key from its parts."""
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class _Due:
    """One action at one stage for one person."""

    action: DueAction
    stage: str


def _open_actions(uow: UnitOfWork, grant: SystemGrant, due_by: date) -> list[DueAction]:
    """Actions not done or cancelled, in open cases, due by `due_by`, with whom to tell.

    The date bound matters: actions due later can have no stage yet, and without it every
    tick loaded every open action of every case (bench/scale.py: 0.9 s at 5,000 cases).
    """
    return uow.coordination.due_actions(grant, due_by)


def _sent_stages(uow: UnitOfWork, actions: Sequence[DueAction]) -> set[tuple[int, int, date, str]]:
    """(action, person, due date, stage) already written down for these actions.

    One query per chunk of actions on nudge_sent's unique (action_id, ...) index, instead of
    one per action and person: at 20,000 cases a tick finds thousands of overdue actions.
    """
    ids = sorted({a.id for a in actions})
    sent: set[tuple[int, int, date, str]] = set()
    for chunk in in_chunks(ids):
        rows = uow.session.execute(
            select(
                m.NudgeSent.action_id,
                m.NudgeSent.person_id,
                m.NudgeSent.due_date,
                m.NudgeSent.stage,
            ).where(m.NudgeSent.action_id.in_(chunk))
        )
        sent.update((a, p, d, s) for a, p, d, s in rows)
    return sent


def _mark(
    uow: UnitOfWork,
    grant: SystemGrant,
    action: DueAction,
    person_id: int,
    stage: str,
    now: datetime,
) -> None:
    """Writes down that a stage was sent, and audits what the purpose disclosed."""
    uow.gate.audit_system(grant, now, action.case_id, "plan_action", action.id)
    uow.session.add(
        m.NudgeSent(
            action_id=action.id,
            person_id=person_id,
            due_date=action.due_date,
            stage=stage,
            sent_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class NudgeSource:
    """Reminds each owner of their actions before, on and after the due date, as one digest."""

    # Its marks and its notices commit together (bot/scheduler.py).
    marks_what_it_sends: ClassVar[bool] = True
    config: NudgeConfig = field(default_factory=NudgeConfig)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    name: str = "nudges"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """One digest per person with every action that reached a new stage."""
        local = now.astimezone(self.timezone)
        if not self.config.enabled or is_quiet(local, self.config):
            return []
        today = local.date()
        grant = uow.gate.for_system(Purpose.NUDGE)
        by_person: dict[int, list[_Due]] = defaultdict(list)
        # stage_of gives no stage to an action due more than days_before days from today.
        due_by = today + timedelta(days=self.config.days_before)
        actions = _open_actions(uow, grant, due_by)
        sent = _sent_stages(uow, actions)
        for action in actions:
            stage = stage_of(action.due_date, today, self.config)
            if stage is None:
                continue
            for person_id in action.recipients:
                if (action.id, person_id, action.due_date, stage) not in sent:
                    by_person[person_id].append(_Due(action, stage))
        notices = []
        for person_id, items in sorted(by_person.items()):
            for item in items:
                _mark(uow, grant, item.action, person_id, item.stage, now)
            notices.append(self._digest(person_id, items, today))
        uow.session.flush()
        return notices

    def _digest(self, person_id: int, items: list[_Due], today: date) -> Notice:
        """The one message a person gets in this run."""
        show = Choice(NOTICE_ACTIONS, "nudge.show")
        if self.config.content is NudgeContent.FULL:
            actions: list[ParamValue] = [
                {
                    "case": i.action.reference,
                    "text": i.action.description,
                    "due": i.action.due_date,
                    "stage": i.stage.partition(":")[0],
                }
                for i in items
            ]
            reply = Reply("nudge.digest_full", {"actions": actions}, (show,))
        else:
            # No case free text: only references and counts, details behind the button.
            cases: list[ParamValue] = list(dict.fromkeys(i.action.reference for i in items))
            reply = Reply(
                "nudge.digest",
                {
                    "count": len(items),
                    "cases": cases,
                    "overdue": sum(1 for i in items if i.stage.startswith("overdue")),
                    "due_today": sum(1 for i in items if i.stage == "on"),
                    "due_soon": sum(1 for i in items if i.stage == "before"),
                },
                (show,),
            )
        stages = sorted(f"{i.action.id}:{i.action.due_date}:{i.stage}" for i in items)
        return Notice(reply, person_id=person_id, dedup_key=_key("nudge", person_id, *stages))


@dataclass(frozen=True, slots=True)
class EscalationSource:
    """Tells a case's coordinators, once, about actions overdue past the threshold."""

    # Its marks and its notices commit together (bot/scheduler.py).
    marks_what_it_sends: ClassVar[bool] = True
    config: NudgeConfig = field(default_factory=NudgeConfig)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    name: str = "escalations"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """One message per coordinator per case with the newly late actions counted."""
        local = now.astimezone(self.timezone)
        if not self.config.enabled or is_quiet(local, self.config):
            return []
        limit = local.date() - timedelta(days=self.config.escalate_after_days)
        grant = uow.gate.for_system(Purpose.ESCALATION)
        late: dict[tuple[int, int, str], list[DueAction]] = defaultdict(list)
        actions = _open_actions(uow, grant, limit)
        sent = _sent_stages(uow, actions)
        for action in actions:
            for person_id in action.recipients:
                if (action.id, person_id, action.due_date, ESCALATED) not in sent:
                    late[(person_id, action.case_id, action.reference)].append(action)
        notices = []
        for (person_id, case_id, reference), actions in sorted(late.items()):
            for action in actions:
                _mark(uow, grant, action, person_id, ESCALATED, now)
            reply = Reply(
                "nudge.escalation",
                {"count": len(actions), "case": reference, "days": self.config.escalate_after_days},
                (Choice(f"n:plan:{case_id}", "nudge.show_plan"),),
            )
            ids = sorted(f"{a.id}:{a.due_date}" for a in actions)
            notices.append(
                Notice(reply, person_id=person_id, dedup_key=_key("escalate", person_id, *ids))
            )
        uow.session.flush()
        return notices


def meetings_starting(now: datetime, lead: timedelta) -> Select[m.Meeting]:
    """Meetings of open cases starting within the lead time, soonest first (on
    ix_meeting_starts; bench/scale.py shows the plan)."""
    return (
        select(m.Meeting)
        .join(m.Case, m.Case.id == m.Meeting.case_id)
        .where(
            m.Case.status == "open",
            m.Meeting.starts_at > now,
            m.Meeting.starts_at <= now + lead,
        )
        .order_by(m.Meeting.starts_at)
    )


def _meetings_within(uow: UnitOfWork, now: datetime, lead: timedelta) -> list[m.Meeting]:
    """Meetings of open cases starting within the lead time."""
    return list(uow.session.scalars(meetings_starting(now, lead)))


def _coordinators_of(uow: UnitOfWork, case_ids: Sequence[int]) -> dict[int, list[int]]:
    """The active coordinators of each of these cases, in one query per chunk."""
    found: dict[int, list[int]] = defaultdict(list)
    for chunk in in_chunks(sorted(set(case_ids))):
        for case_id, person_id in uow.session.execute(
            select(m.Membership.case_id, m.Membership.person_id).where(
                m.Membership.case_id.in_(chunk),
                m.Membership.role == Role.COORDINATOR,
                m.Membership.active.is_(True),
            )
        ):
            found[case_id].append(person_id)
    return found


def _coordinators_to_tell(
    uow: UnitOfWork,
    meetings: Sequence[m.Meeting],
    keys: Callable[[int, int], tuple[str, ...]],
) -> list[tuple[m.Meeting, list[int]]]:
    """Each meeting with those of its case's coordinators still to be sent its notices (their
    keys: `keys(meeting id, person id)`); a meeting with nobody left is left out, so its
    report or agenda is not built again."""
    coordinators = _coordinators_of(uow, [mt.case_id for mt in meetings])
    todo = _unsent(
        uow, {(mt.id, p): keys(mt.id, p) for mt in meetings for p in coordinators[mt.case_id]}
    )
    to_tell: list[tuple[m.Meeting, list[int]]] = []
    for meeting in meetings:
        people = [p for p in coordinators[meeting.case_id] if (meeting.id, p) in todo]
        if people:
            to_tell.append((meeting, people))
    return to_tell


def _unsent(
    uow: UnitOfWork, wanted: dict[tuple[int, int], tuple[str, ...]]
) -> set[tuple[int, int]]:
    """Of (meeting, person) → notice keys, those the outbox does not hold yet in every one of
    the person's private chats.

    The outbox's idempotency keys are what makes a report go out once (enqueue_notices); asking
    them first, in bulk, means a tick builds only the reports still to send, instead of every
    report of the lead window on every tick (at 20,000 cases, hundreds of agendas each 30 s).
    A person with no private chat gets nothing either way, so they are never "unsent".
    """
    people = sorted({person for _, person in wanted})
    chats: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in in_chunks(people):
        for person_id, platform, chat in uow.session.execute(
            select(
                m.ChatIdentity.person_id, m.ChatIdentity.platform, m.ChatIdentity.private_chat_id
            ).where(
                m.ChatIdentity.person_id.in_(chunk), m.ChatIdentity.private_chat_id.is_not(None)
            )
        ):
            chats[person_id].append((platform, str(chat)))
    # The same per-chat key as the outbox derives from a notice's dedup key.
    full = {
        pair: [outbox_key(k, platform, chat) for k in keys for platform, chat in chats[pair[1]]]
        for pair, keys in wanted.items()
    }
    existing: set[str] = set()
    for batch in in_chunks(sorted({k for ks in full.values() for k in ks})):
        existing.update(
            uow.session.scalars(
                select(m.Outbox.idempotency_key).where(m.Outbox.idempotency_key.in_(batch))
            )
        )
    return {pair for pair, ks in full.items() if any(k not in existing for k in ks)}


def _timed(reply: Reply, meeting: m.Meeting, lead_hours: int) -> Reply:
    """Adds when a report was meant to go out, and that it is useless once the meeting began
    (the `due_at`/`expires_at` contract of the scheduler's delivery)."""
    timing: dict[str, ParamValue] = {
        "due_at": meeting.starts_at - timedelta(hours=lead_hours),
        "expires_at": meeting.starts_at,
    }
    return replace(reply, params={**reply.params, **timing})


@dataclass(frozen=True, slots=True)
class AgendaSource:
    """Sends each coordinator the agenda of a meeting, the configured hours before it."""

    config: ReportConfig = field(default_factory=ReportConfig)
    name: str = "agendas"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """The agenda of every meeting coming up within the lead time, once per meeting."""
        notices = []
        grant = uow.gate.for_system(Purpose.REPORT)
        meetings = _meetings_within(uow, now, timedelta(hours=self.config.agenda_lead_hours))
        to_tell = _coordinators_to_tell(uow, meetings, lambda mt, p: (_key("agenda", mt, p),))
        for meeting, people in to_tell:
            agenda = uow.coordination.agenda(
                meeting.case_id, meeting.starts_at - timedelta(seconds=1)
            )
            reply = _timed(
                agenda_reply(
                    meeting.case_id, agenda, uow.coordination.actions(meeting.case_id, grant)
                ),
                meeting,
                self.config.agenda_lead_hours,
            )
            # The agenda quotes what each contributor shared: erasing one of them removes it
            # (and the next tick in the lead window makes it again without them).
            quoted = tuple(c.person_id for c in agenda.contributions)
            for person_id in people:
                key = _key("agenda", meeting.id, person_id)
                notices.append(Notice(reply, person_id=person_id, dedup_key=key, about=quoted))
        return notices


@dataclass(frozen=True, slots=True)
class FollowupReportSource:
    """Sends each coordinator the follow-up report before every follow-up meeting."""

    config: ReportConfig = field(default_factory=ReportConfig)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    name: str = "followup_reports"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """The report (summary + document, and the timeline) once per follow-up meeting."""
        notices = []
        lead = timedelta(hours=self.config.followup_lead_hours)
        today = now.astimezone(self.timezone).date()
        grant = uow.gate.for_system(Purpose.REPORT)
        meetings = [
            mt for mt in _meetings_within(uow, now, lead) if mt.kind is MeetingKind.FOLLOW_UP
        ]
        to_tell = _coordinators_to_tell(
            uow,
            meetings,
            lambda mt, p: tuple(_key("followup", mt, p, n) for n in range(_REPORT_PARTS)),
        )
        for meeting, people in to_tell:
            reference = uow.cases.reference_of(meeting.case_id)
            replies = followup_reply_set(
                meeting.case_id, reference, uow.coordination.actions(meeting.case_id, grant), today
            )
            for person_id in people:
                for n, untimed in enumerate(replies):
                    reply = _timed(untimed, meeting, self.config.followup_lead_hours)
                    key = _key("followup", meeting.id, person_id, n)
                    notices.append(Notice(reply, person_id=person_id, dedup_key=key))
        return notices


@dataclass(frozen=True, slots=True)
class FailedReportSource:
    """A report that could not be delivered after every retry: the coordinator is told."""

    name: str = "failed_reports"

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """One plain message per failed report row (it has no file, so it can get through)."""
        failed: ColumnElement[bool] = m.Outbox.status == "failed"
        if uow.session.get_bind().dialect.name == "sqlite":
            # SQLite's statistics say nearly every row has the same status (sent), so it would
            # scan the whole outbox (bench/scale.py: 40 ms at 20,000 cases) instead of reading
            # the few failed rows from ix_outbox_status_next; unlikely() says they are few.
            failed = func.unlikely(failed)
        rows = uow.session.execute(
            select(m.Outbox.id, m.Outbox.platform, m.Outbox.chat_id, m.Outbox.params).where(
                failed,
                m.Outbox.message_id.in_(REPORT_MESSAGES),
                m.Outbox.created_at > now - FAILED_REPORT_HORIZON,
            )
        ).all()
        # Whose private chat each row went to, in one query per chunk (not one per row).
        owner: dict[tuple[str, str], int] = {}
        for chunk in in_chunks(sorted({chat_id for _, _, chat_id, _ in rows})):
            identities = (
                select(m.ChatIdentity.platform, m.ChatIdentity.private_chat_id)
                .add_columns(m.ChatIdentity.person_id)
                .where(m.ChatIdentity.private_chat_id.in_(chunk))
                .order_by(m.ChatIdentity.id)
            )
            for platform, chat_id, person_id in uow.session.execute(identities):
                owner.setdefault((platform, chat_id), person_id)
        notices = []
        for outbox_id, platform, chat_id, params in rows:
            person_id = owner.get((platform, chat_id))
            if person_id is None:
                continue
            reply = Reply("coord.report_failed", {"case": str(params.get("case", ""))})
            key = _key("report-failed", outbox_id)
            notices.append(Notice(reply, person_id=person_id, dedup_key=key))
        return notices


def coordinator_sources(
    nudges: NudgeConfig, reports: ReportConfig, timezone: str
) -> list[
    NudgeSource | EscalationSource | AgendaSource | FollowupReportSource | FailedReportSource
]:
    """Every due-source of the coordinator side, configured."""
    zone = ZoneInfo(timezone)
    return [
        NudgeSource(nudges, zone),
        EscalationSource(nudges, zone),
        AgendaSource(reports),
        FollowupReportSource(reports, zone),
        FailedReportSource(),
    ]
