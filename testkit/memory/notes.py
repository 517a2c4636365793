"""MeetingNotesPort in memory: notes per meeting and the marks of shared questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flows.domain import FAMILY_ROLES, ItemKind, MeetingInfo, Role
from flows.meeting_notes_ports import (
    MeetingNotes,
    NoAnswer,
    OwnQuestion,
    QuestionStatus,
    QuestionToMark,
)
from flows.reminder_ports import ReportMeeting
from testkit.memory.access import MemoryAccessRefused, require, roles
from testkit.memory.preparation import MemoryPreparation, OwnItem
from testkit.memory.world import World

# Who is told that notes are written: the young person and the caregivers.
TOLD_ROLES = frozenset({Role.YOUTH, Role.CAREGIVER})


@dataclass(frozen=True)
class Note:
    """The notes of one meeting, and the young person's own version."""

    case_id: int
    meeting_id: int
    text: str
    youth_text: str | None


@dataclass
class Mark:
    """How a shared question came out of a meeting, and whether its author got no answer."""

    meeting_id: int
    status: QuestionStatus
    no_answer: bool = False


@dataclass
class MemoryMeetingNotes:
    """Notes and marks on the World (storage/meeting_notes_repository.py)."""

    world: World
    preparation: MemoryPreparation
    notes: dict[int, Note] = field(default_factory=dict)
    marks: dict[int, Mark] = field(default_factory=dict)

    def last_meeting(self, case_id: int, person_id: int, now: datetime) -> MeetingInfo | None:
        """The newest meeting of the case that has ended, for its coordinator."""
        self._coordinator(person_id, case_id)
        ended = [m for m in self.world.meetings_of(case_id) if m.ends_at <= now]
        return ended[-1].info() if ended else None

    def questions_to_mark(self, case_id: int, person_id: int) -> Sequence[QuestionToMark]:
        """The questions shared with the meeting, for its coordinator to mark."""
        self._coordinator(person_id, case_id)
        return [
            QuestionToMark(
                q.id,
                self.world.name(q.owner, case_id),
                q.text,
                self.marks[q.id].status if q.id in self.marks else None,
            )
            for q in self._shared_questions(case_id)
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
        """Stores the notes and the marks; the family members to tell."""
        self._coordinator(person_id, case_id)
        meeting = self.world.meetings.get(meeting_id)
        if meeting is None or meeting.case_id != case_id:
            raise LookupError("no such meeting in this case")
        self.notes[meeting_id] = Note(case_id, meeting_id, text, youth_text)
        shared = {q.id for q in self._shared_questions(case_id)}
        for question_id, status in marks:
            if question_id in shared:
                self.marks[question_id] = Mark(meeting_id, status)
        told = {m.person_id for m in self.world.members(case_id, TOLD_ROLES)}
        return tuple(sorted(p for p in told if self.world.admitted(p, case_id)))

    def notes_for(self, case_id: int, person_id: int) -> MeetingNotes | None:
        """The newest notes as this family member reads them, with her own questions."""
        require(self.world, person_id, case_id)
        if not roles(self.world, person_id, case_id) & FAMILY_ROLES:
            raise MemoryAccessRefused("the family's notes")
        written = [
            (self.world.meetings[n.meeting_id].starts_at, n)
            for n in self.notes.values()
            if n.case_id == case_id
        ]
        if not written:
            return None
        starts_at, note = max(written, key=lambda w: w[0])
        youth = Role.YOUTH in roles(self.world, person_id, case_id)
        text = note.youth_text if youth and note.youth_text else note.text
        own = [
            q
            for q in self.preparation.items.values()
            if (q.case_id, q.owner, q.kind) == (case_id, person_id, ItemKind.QUESTION)
            and q.shared
            and q.id in self.marks
        ]
        questions = tuple(
            OwnQuestion(q.id, q.text, self.marks[q.id].status, self.marks[q.id].no_answer)
            for q in own
        )
        return MeetingNotes(starts_at, text, questions)

    def no_answer(self, question_id: int, person_id: int, now: datetime) -> NoAnswer | None:
        """Records that the author of an answered question got no answer."""
        question = self.preparation.items.get(question_id)
        if question is None or question.owner != person_id:
            return None
        require(self.world, person_id, question.case_id)
        mark = self.marks.get(question_id)
        if mark is None or mark.status is not QuestionStatus.ANSWERED:
            return None
        mark.no_answer = True
        coordinators = self.world.members(question.case_id, frozenset({Role.COORDINATOR}))
        return NoAnswer(
            question.case_id,
            self.world.cases[question.case_id].reference,
            question.text,
            tuple(sorted(m.person_id for m in coordinators)),
        )

    def meetings_without_notes(
        self, ended_after: datetime, now: datetime
    ) -> Sequence[ReportMeeting]:
        """Meetings of open cases that ended in the window and have no notes yet."""
        return [
            ReportMeeting(m.id, m.case_id, m.starts_at, False)
            for m in sorted(self.world.meetings.values(), key=lambda m: m.starts_at)
            if not m.cancelled
            and not self.world.cases[m.case_id].closed
            and ended_after < m.ends_at <= now
            and m.id not in self.notes
        ]

    def _shared_questions(self, case_id: int) -> list[OwnItem]:
        """Questions shared with the meeting by admitted members, oldest first."""
        return [
            q
            for q in self.preparation.items.values()
            if q.case_id == case_id
            and q.kind is ItemKind.QUESTION
            and q.shared
            and self.world.admitted(q.owner, case_id)
        ]

    def _coordinator(self, person_id: int, case_id: int) -> None:
        """Only the case's coordinator writes and marks."""
        require(self.world, person_id, case_id)
        if Role.COORDINATOR not in roles(self.world, person_id, case_id):
            raise MemoryAccessRefused("only the case's coordinator")
