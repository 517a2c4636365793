"""What the coordinator side's reminder kinds read and mark (CoordinatorRemindersPort).

System reads through the access gate, each for its own purpose: nudges read open actions with
their admitted owners, escalations open overdue actions with the case's coordinators, agendas
and follow-up reports one open case's plan. A stage marked sent is audited (who was told is in
nudge_sent; never content).

One object per transaction (the unit of work's): what `due` read (actions, references, agendas,
plans, failed reports) is kept for it, so `compose`, once per event, reads nothing again; what
was not read yet is read many ids at a time, in one query per chunk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from flows.coordination import ActionItem
from flows.domain import Agenda, MeetingKind, Role
from flows.reminder_ports import ActionText, ActionToRemind, ReportMeeting
from storage import models as m
from storage.access import AccessGate, DueAction, Purpose, SystemGrant
from storage.coordinators_repository import CoordinationRepository
from storage.db import in_chunks
from storage.outbox_repository import _dedup_key as outbox_key

# The coordinator's messages that carry a report; if one of them finally fails, they are told.
REPORT_MESSAGES = ("coord.agenda", "coord.report", "coord.report_timeline")


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


class CoordinatorReminderReads:
    """The coordinator side's reminder reads and marks, kept for one transaction."""

    def __init__(
        self, session: Session, gate: AccessGate, coordination: CoordinationRepository
    ) -> None:
        self._s = session
        self._gate = gate
        self._coordination = coordination
        self._texts: dict[int, ActionText] = {}
        self._references: dict[int, str] = {}
        self._agendas: dict[tuple[int, datetime], Agenda] = {}
        self._plans: dict[int, Sequence[ActionItem]] = {}
        self._failed_cases: dict[int, str] = {}

    # --- nudges and escalations ---------------------------------------------------------------

    def _due(self, purpose: Purpose, due_by: date) -> list[ActionToRemind]:
        """Open actions due by a date with whom the purpose tells; their texts kept."""
        actions: list[DueAction] = self._coordination.due_actions(
            self._gate.for_system(purpose), due_by
        )
        for a in actions:
            self._texts[a.id] = ActionText(a.reference, a.description, a.due_date)
            self._references[a.case_id] = a.reference
        return [ActionToRemind(a.id, a.case_id, a.due_date, a.recipients) for a in actions]

    def actions_to_nudge(self, due_by: date) -> list[ActionToRemind]:
        """Open actions of open cases due by `due_by`, with their admitted owners.

        The date bound matters: actions due later can have no stage yet, and without it every
        tick loaded every open action of every case (bench/scale.py: 0.9 s at 5,000 cases).
        """
        return self._due(Purpose.NUDGE, due_by)

    def actions_to_escalate(self, due_by: date) -> list[ActionToRemind]:
        """Open actions of open cases due by `due_by`, with their cases' coordinators."""
        return self._due(Purpose.ESCALATION, due_by)

    def stages_sent(self, action_ids: Iterable[int]) -> set[tuple[int, int, date, str]]:
        """(action, person, due date, stage) already written down for these actions.

        One query per chunk of actions on nudge_sent's unique (action_id, ...) index, instead
        of one per action and person: at 20,000 cases a tick finds thousands of overdue actions.
        """
        sent: set[tuple[int, int, date, str]] = set()
        for chunk in in_chunks(sorted(set(action_ids))):
            rows = self._s.execute(
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
        self, grant: SystemGrant, marks: Iterable[tuple[ActionToRemind, int, str]], now: datetime
    ) -> None:
        """Writes down that stages were sent, and audits what the purpose disclosed."""
        for action, person_id, stage in marks:
            self._gate.audit_system(grant, now, action.case_id, "plan_action", action.id)
            self._s.add(
                m.NudgeSent(
                    action_id=action.id,
                    person_id=person_id,
                    due_date=action.due_date,
                    stage=stage,
                    sent_at=now,
                )
            )
        self._s.flush()

    def mark_nudged(self, marks: Iterable[tuple[ActionToRemind, int, str]], now: datetime) -> None:
        """Marks (action, person, stage) sent as nudges, in the tick's transaction."""
        self._mark(self._gate.for_system(Purpose.NUDGE), marks, now)

    def mark_escalated(
        self, marks: Iterable[tuple[ActionToRemind, int, str]], now: datetime
    ) -> None:
        """Marks (action, person, stage) sent as escalations, in the tick's transaction."""
        self._mark(self._gate.for_system(Purpose.ESCALATION), marks, now)

    def action_texts(self, action_ids: Iterable[int]) -> dict[int, ActionText]:
        """What nudges say about these actions of open cases: kept from `due`, else one query
        per chunk."""
        ids = list(action_ids)
        missing = sorted({i for i in ids if i not in self._texts})
        if missing:
            # Read for the nudge purpose, as `due` reads them: open cases only.
            self._gate.require_purpose(self._gate.for_system(Purpose.NUDGE), Purpose.NUDGE)
        for chunk in in_chunks(missing):
            rows = self._s.execute(
                select(
                    m.PlanAction.id,
                    m.Case.reference,
                    m.PlanAction.description,
                    m.PlanAction.due_date,
                )
                .join(m.Case, m.Case.id == m.PlanAction.case_id)
                .where(m.PlanAction.id.in_(chunk), m.Case.status == "open")
            )
            for action_id, reference, description, due_date in rows:
                self._texts[action_id] = ActionText(reference, description, due_date)
        # An action of a case closed meanwhile is not read: it is left out.
        return {i: self._texts[i] for i in ids if i in self._texts}

    def case_references(self, case_ids: Iterable[int]) -> dict[int, str]:
        """The references (K-7) of these cases: kept, else one query per chunk."""
        ids = list(case_ids)
        missing = sorted({i for i in ids if i not in self._references})
        for chunk in in_chunks(missing):
            rows = self._s.execute(select(m.Case.id, m.Case.reference).where(m.Case.id.in_(chunk)))
            self._references.update((case_id, reference) for case_id, reference in rows)
        return {i: self._references[i] for i in ids}

    # --- agendas and reports --------------------------------------------------------------------

    def meetings_starting(self, now: datetime, lead: timedelta) -> list[ReportMeeting]:
        """Meetings of open cases starting within the lead time, soonest first."""
        return [
            ReportMeeting(mt.id, mt.case_id, mt.starts_at, mt.kind is MeetingKind.FOLLOW_UP)
            for mt in self._s.scalars(meetings_starting(now, lead))
        ]

    def coordinators_of(
        self, case_ids: Iterable[int], role: Role = Role.COORDINATOR
    ) -> dict[int, list[int]]:
        """The active coordinators (or another role) of each of these cases, by chunks."""
        found: dict[int, list[int]] = defaultdict(list)
        for chunk in in_chunks(sorted(set(case_ids))):
            for case_id, person_id in self._s.execute(
                select(m.Membership.case_id, m.Membership.person_id).where(
                    m.Membership.case_id.in_(chunk),
                    m.Membership.role == role,
                    m.Membership.active.is_(True),
                )
            ):
                found[case_id].append(person_id)
        return found

    def coordinators_to_tell(
        self, meetings: Sequence[ReportMeeting], keys: Callable[[int, int], tuple[str, ...]]
    ) -> list[tuple[ReportMeeting, list[int]]]:
        """Each meeting with those of its case's coordinators still to be sent its notices
        (their keys: `keys(meeting id, person id)`); a meeting with nobody left is left out,
        so its report or agenda is not built again."""
        coordinators = self.coordinators_of(mt.case_id for mt in meetings)
        return self.people_to_tell(meetings, coordinators, keys)

    def people_to_tell(
        self,
        meetings: Sequence[ReportMeeting],
        people: Mapping[int, Sequence[int]],
        keys: Callable[[int, int], tuple[str, ...]],
    ) -> list[tuple[ReportMeeting, list[int]]]:
        """Each meeting with those of its case's `people` (by case id) still to be sent its
        notices (their keys: `keys(meeting id, person id)`); a meeting with nobody left is
        left out."""
        todo = self._unsent(
            {(mt.id, p): keys(mt.id, p) for mt in meetings for p in people.get(mt.case_id, ())}
        )
        to_tell: list[tuple[ReportMeeting, list[int]]] = []
        for meeting in meetings:
            who = [p for p in people.get(meeting.case_id, ()) if (meeting.id, p) in todo]
            if who:
                to_tell.append((meeting, who))
        return to_tell

    def professionals_to_tell(
        self, meetings: Sequence[ReportMeeting], keys: Callable[[int, int], tuple[str, ...]]
    ) -> list[tuple[ReportMeeting, list[int]]]:
        """Each meeting with its case's professionals not yet sent their agenda (as
        `coordinators_to_tell`); a meeting with nobody left is left out."""
        professionals = self.coordinators_of((mt.case_id for mt in meetings), Role.PROFESSIONAL)
        todo = self._unsent(
            {(mt.id, p): keys(mt.id, p) for mt in meetings for p in professionals[mt.case_id]}
        )
        return [
            (meeting, people)
            for meeting in meetings
            if (people := [p for p in professionals[meeting.case_id] if (meeting.id, p) in todo])
        ]

    def agenda_for_reader(self, case_id: int, person_id: int, at: datetime) -> Agenda:
        """The agenda of the meeting after `at` as one professional may read it (the gate)."""
        # Imported here: the sharing module reads memberships through storage.repositories.
        from storage.sharing_repository import SharingRepository

        return SharingRepository(self._s, self._gate).agenda(case_id, at, person_id)

    def _unsent(self, wanted: dict[tuple[int, int], tuple[str, ...]]) -> set[tuple[int, int]]:
        """Of (meeting, person) → notice keys, those the outbox does not hold yet in every one
        of the person's private chats.

        The outbox's idempotency keys are what makes a report go out once (enqueue_notices);
        asking them first, in bulk, means a tick builds only the reports still to send, instead
        of every report of the lead window on every tick (at 20,000 cases, hundreds of agendas
        each 30 s). A person with no private chat gets nothing either way, so they are never
        "unsent".
        """
        people = sorted({person for _, person in wanted})
        chats: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for chunk in in_chunks(people):
            for person_id, platform, chat in self._s.execute(
                select(
                    m.ChatIdentity.person_id,
                    m.ChatIdentity.platform,
                    m.ChatIdentity.private_chat_id,
                ).where(
                    m.ChatIdentity.person_id.in_(chunk),
                    m.ChatIdentity.private_chat_id.is_not(None),
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
                self._s.scalars(
                    select(m.Outbox.idempotency_key).where(m.Outbox.idempotency_key.in_(batch))
                )
            )
        return {pair for pair, ks in full.items() if any(k not in existing for k in ks)}

    def agenda_before(self, case_id: int, at: datetime) -> Agenda:
        """What is shared with the meeting of a case that follows `at`, read once."""
        key = (case_id, at)
        if key not in self._agendas:
            self._agendas[key] = self._coordination.agenda(case_id, at)
        return self._agendas[key]

    def plan_of(self, case_id: int) -> Sequence[ActionItem]:
        """A case's plan as reports show it (the REPORT purpose), read once."""
        if case_id not in self._plans:
            grant = self._gate.for_system(Purpose.REPORT)
            self._plans[case_id] = self._coordination.actions(case_id, grant)
        return self._plans[case_id]

    # --- failed reports -------------------------------------------------------------------------

    def failed_reports(self, since: datetime) -> list[tuple[int, int]]:
        """(outbox id, person) of reports created after `since` that finally failed, in two
        queries; each one's case reference kept."""
        found = []
        for outbox_id, person_id, params in self.failed_rows(since, REPORT_MESSAGES):
            self._failed_cases[outbox_id] = str(params.get("case", ""))
            found.append((outbox_id, person_id))
        return found

    def failed_rows(
        self, since: datetime, message_ids: Sequence[str]
    ) -> list[tuple[int, int, dict[str, object]]]:
        """(outbox id, the person whose private chat it was for, its stored params) of the
        messages with these ids created after `since` that finally failed, in two queries."""
        failed: ColumnElement[bool] = m.Outbox.status == "failed"
        if self._s.get_bind().dialect.name == "sqlite":
            # SQLite's statistics say nearly every row has the same status (sent), so it would
            # scan the whole outbox (bench/scale.py: 40 ms at 20,000 cases) instead of reading
            # the few failed rows from ix_outbox_status_next; unlikely() says they are few.
            failed = func.unlikely(failed)
        rows = self._s.execute(
            select(m.Outbox.id, m.Outbox.platform, m.Outbox.chat_id, m.Outbox.params).where(
                failed,
                m.Outbox.message_id.in_(message_ids),
                m.Outbox.created_at > since,
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
            for platform, chat_id, person_id in self._s.execute(identities):
                owner.setdefault((platform, chat_id), person_id)
        found = []
        for outbox_id, platform, chat_id, params in rows:
            person_id = owner.get((platform, chat_id))
            if person_id is not None:
                found.append((outbox_id, person_id, dict(params)))
        return found

    def failed_report_cases(self, outbox_ids: Iterable[int]) -> dict[int, str]:
        """The case reference each failed report named: kept, else one query per chunk."""
        ids = list(outbox_ids)
        missing = sorted({i for i in ids if i not in self._failed_cases})
        for chunk in in_chunks(missing):
            rows = self._s.execute(
                select(m.Outbox.id, m.Outbox.params).where(m.Outbox.id.in_(chunk))
            )
            self._failed_cases.update(
                (outbox_id, str(params.get("case", ""))) for outbox_id, params in rows
            )
        return {i: self._failed_cases[i] for i in ids}
