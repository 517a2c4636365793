"""What the notes from a meeting and the questions answered read and write: their domain
types and the port storage/meeting_notes_repository.py implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from flows.domain import MeetingInfo
from flows.ports import Ports
from flows.reminder_ports import ReminderPorts, ReportMeeting


class QuestionStatus(StrEnum):
    """How a shared question came out of a meeting."""

    ANSWERED = "answered"
    # Still open: it is carried over to the next meeting's agenda, marked so.
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class QuestionToMark:
    """A shared question the coordinator marks after a meeting, with whose it is."""

    id: int
    author: str
    text: str
    status: QuestionStatus | None


@dataclass(frozen=True, slots=True)
class OwnQuestion:
    """One of the reader's own shared questions, as the meeting left it."""

    id: int
    text: str
    status: QuestionStatus | None
    # She said "jag fick inget svar" about it.
    no_answer: bool


@dataclass(frozen=True, slots=True)
class MeetingNotes:
    """The newest notes of a case as one family member reads them."""

    meeting_at: datetime
    # The young person's own version when the coordinator wrote one, else the notes.
    text: str
    questions: tuple[OwnQuestion, ...]


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """A young person said she got no answer: which case, and her question."""

    case_id: int
    reference: str
    text: str
    coordinators: tuple[int, ...]


class MeetingNotesPort(Protocol):
    """Notes per meeting and each shared question's mark, behind the access gate."""

    def last_meeting(self, case_id: int, person_id: int, now: datetime) -> MeetingInfo | None:
        """The newest meeting of the case that has ended, for its coordinator."""
        ...

    def questions_to_mark(self, case_id: int, person_id: int) -> Sequence[QuestionToMark]:
        """The questions shared with the meeting, for its coordinator to mark."""
        ...

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
        """Stores the notes and the marks (audited); the family members to tell: the young
        person and the caregivers whose consent is in effect."""
        ...

    def notes_for(self, case_id: int, person_id: int) -> MeetingNotes | None:
        """The newest notes as this family member reads them, with her own questions."""
        ...

    def no_answer(self, question_id: int, person_id: int, now: datetime) -> NoAnswer | None:
        """Records that the author of an answered question got no answer; None when it is
        not hers or not marked answered."""
        ...

    def meetings_without_notes(
        self, ended_after: datetime, now: datetime
    ) -> Sequence[ReportMeeting]:
        """Meetings of open cases that ended in the window and have no notes yet."""
        ...


def notes_port(ports: Ports | ReminderPorts) -> MeetingNotesPort:
    """The meeting notes port of this transaction's ports (a step's or a tick's)."""
    return ports.meeting_notes
