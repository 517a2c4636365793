"""Notes from the meeting and questions answered (flows.meeting_notes_ports.MeetingNotesPort).

Every read and write goes through the access gate: a coordinator of the case writes the notes
and marks the shared questions (audited, never content); the family (rules 1 and 2: an active
member with consent in effect) reads the newest notes, and each author reads the marks of her
own questions; the tick finds meetings without notes for the REPORT purpose, which reads only
meeting times of open cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.domain import FAMILY_ROLES, ItemKind, MeetingInfo, MeetingKind, Role
from flows.meeting_notes_ports import (
    MeetingNotes,
    NoAnswer,
    OwnQuestion,
    QuestionStatus,
    QuestionToMark,
)
from flows.reminder_ports import ReportMeeting
from storage import models as m
from storage.access import AccessGate, Purpose, VisibleItem
from storage.question_marks import marks_of
from storage.repositories import _meeting_info

COORDINATORS = frozenset({Role.COORDINATOR})
# Who the summary is sent to: the young person and the caregivers (each with consent).
TOLD_ROLES = (Role.YOUTH, Role.CAREGIVER)
# A meeting is at most this long when looking back for ones that have ended.
LONGEST_MEETING = timedelta(hours=8)


def _ended(meeting: m.Meeting) -> datetime:
    """When a meeting ends."""
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)


class MeetingNotesRepository:
    """Notes per meeting and the marks of shared questions, behind the gate."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    def last_meeting(self, case_id: int, person_id: int, now: datetime) -> MeetingInfo | None:
        """The newest meeting of the case that has ended, for its coordinator."""
        self._gate.require_role(person_id, case_id, COORDINATORS, "only the case's coordinator")
        rows = self._s.scalars(
            select(m.Meeting)
            .where(m.Meeting.case_id == case_id, m.Meeting.starts_at <= now)
            .order_by(m.Meeting.starts_at.desc())
            .limit(10)
        )
        ended = next((mt for mt in rows if _ended(mt) <= now), None)
        return _meeting_info(ended) if ended is not None else None

    def _shared_questions(self, case_id: int) -> list[VisibleItem]:
        """The questions shared with the meeting (rule 4), oldest first."""
        items = self._gate.shared_with_meeting(case_id)
        return [i for i in items if i.kind is ItemKind.QUESTION]

    def _marks(self, question_ids: Iterable[int]) -> dict[int, m.QuestionMark]:
        """The marks of these questions, by question."""
        return marks_of(self._s, question_ids)

    def questions_to_mark(self, case_id: int, person_id: int) -> list[QuestionToMark]:
        """The questions shared with the meeting, with their authors, for the coordinator."""
        self._gate.require_role(person_id, case_id, COORDINATORS, "only the case's coordinator")
        questions = self._shared_questions(case_id)
        marks = self._marks(q.id for q in questions)
        names = {
            p.id: p.display_name
            for p in self._s.scalars(
                select(m.Person).where(m.Person.id.in_({q.author_id for q in questions}))
            )
        }
        return [
            QuestionToMark(
                q.id,
                names.get(q.author_id, ""),
                q.text,
                QuestionStatus(marks[q.id].status) if q.id in marks else None,
            )
            for q in questions
        ]

    def save_notes(
        self,
        case_id: int,
        meeting_id: int,
        person_id: int,
        text: str,
        youth_text: str | None,
        marks: Sequence[tuple[int, QuestionStatus]],
        now: datetime,
    ) -> tuple[int, ...]:
        """Stores the notes (replacing earlier ones of the meeting) and the marks of shared
        questions of the case; the young person and caregivers to tell."""
        self._gate.require_coordinator(
            person_id, case_id, now, "notes.write", "meeting", meeting_id
        )
        meeting = self._s.get(m.Meeting, meeting_id)
        if meeting is None or meeting.case_id != case_id:
            raise LookupError("no such meeting in this case")
        note = self._s.scalars(
            select(m.MeetingNote).where(m.MeetingNote.meeting_id == meeting_id)
        ).first()
        if note is None:
            note = m.MeetingNote(case_id=case_id, meeting_id=meeting_id)
            self._s.add(note)
        note.author_id, note.text, note.youth_text, note.written_at = (
            person_id,
            text,
            youth_text,
            now,
        )
        # Only questions shared with this case's meeting can be marked.
        shared = {q.id for q in self._shared_questions(case_id)}
        existing = self._marks(q for q, _ in marks)
        for question_id, status in marks:
            if question_id not in shared:
                continue
            mark = existing.get(question_id)
            if mark is None:
                mark = m.QuestionMark(question_id=question_id)
                self._s.add(mark)
            mark.meeting_id, mark.status, mark.marked_at = meeting_id, status.value, now
            mark.no_answer_at = None
            self._gate.audit(now, person_id, case_id, "question.mark", "question", question_id)
        self._s.flush()
        members = self._s.execute(
            select(m.Membership.person_id, m.Membership.role).where(
                m.Membership.case_id == case_id,
                m.Membership.active.is_(True),
                m.Membership.role.in_(TOLD_ROLES),
            )
        ).all()
        # Someone who said no, or a child whose caregiver has not said yes, gets nothing.
        return tuple(sorted({p for p, _ in members if self._gate.admitted(p, case_id)}))

    def notes_for(self, case_id: int, person_id: int) -> MeetingNotes | None:
        """The newest notes as this family member reads them, with her own marked questions."""
        viewer = self._gate.require_role(person_id, case_id, FAMILY_ROLES, "the family's notes")
        row = self._s.execute(
            select(m.MeetingNote, m.Meeting.starts_at)
            .join(m.Meeting, m.Meeting.id == m.MeetingNote.meeting_id)
            .where(m.MeetingNote.case_id == case_id)
            .order_by(m.Meeting.starts_at.desc(), m.MeetingNote.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        note, starts_at = row
        # The young person reads her own version when the coordinator wrote one.
        text = note.youth_text if Role.YOUTH in viewer.roles and note.youth_text else note.text
        own = [
            q
            for q in self._gate.own_items(person_id, case_id)
            if q.kind is ItemKind.QUESTION and q.shared
        ]
        marks = self._marks(q.id for q in own)
        questions = tuple(
            OwnQuestion(
                q.id,
                q.text,
                QuestionStatus(marks[q.id].status),
                marks[q.id].no_answer_at is not None,
            )
            for q in own
            if q.id in marks
        )
        return MeetingNotes(starts_at, text, questions)

    def no_answer(self, question_id: int, person_id: int, now: datetime) -> NoAnswer | None:
        """Records "jag fick inget svar" on the author's own answered question (audited)."""
        question = self._s.get(m.Question, question_id)
        if question is None or question.author_id != person_id:
            return None
        self._gate.require(person_id, question.case_id)
        mark = self._marks([question_id]).get(question_id)
        if mark is None or mark.status != QuestionStatus.ANSWERED.value:
            return None
        mark.no_answer_at = now
        self._gate.audit(
            now, person_id, question.case_id, "question.no_answer", "question", question_id
        )
        case = self._s.get_one(m.Case, question.case_id)
        coordinators = self._s.scalars(
            select(m.Membership.person_id)
            .where(
                m.Membership.case_id == question.case_id,
                m.Membership.active.is_(True),
                m.Membership.role == Role.COORDINATOR,
            )
            .order_by(m.Membership.person_id)
        )
        return NoAnswer(question.case_id, case.reference, question.text, tuple(coordinators))

    def meetings_without_notes(self, ended_after: datetime, now: datetime) -> list[ReportMeeting]:
        """Meetings of open cases that ended after `ended_after` and by `now`, with no notes."""
        self._gate.require_purpose(self._gate.for_system(Purpose.REPORT), Purpose.REPORT)
        rows = self._s.scalars(
            select(m.Meeting)
            .join(m.Case, m.Case.id == m.Meeting.case_id)
            .outerjoin(m.MeetingNote, m.MeetingNote.meeting_id == m.Meeting.id)
            .where(
                m.Case.status == "open",
                m.MeetingNote.id.is_(None),
                m.Meeting.starts_at > ended_after - LONGEST_MEETING,
                m.Meeting.starts_at <= now,
            )
            .order_by(m.Meeting.starts_at)
        )
        return [
            ReportMeeting(mt.id, mt.case_id, mt.starts_at, mt.kind is MeetingKind.FOLLOW_UP)
            for mt in rows
            if ended_after < _ended(mt) <= now
        ]
