"""Models of what happens after a meeting: the coordinator's notes, and each shared question
marked answered or to follow up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import EncryptedText, UTCDateTime


class MeetingNote(Base):
    """The notes of one meeting: decisions, what was agreed; maybe a version for the youth."""

    __tablename__ = "meeting_note"
    __table_args__ = (Index("ix_meeting_note_case", "case_id", "written_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    # One set of notes per meeting: writing them again replaces them.
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), unique=True
    )
    # Who wrote them; forgotten (NULL) when that coordinator is erased: the notes are the case's.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(EncryptedText())  # free text: encrypted at rest
    # The young person's own version in plainer words; None: she reads `text`.
    youth_text: Mapped[str | None] = mapped_column(EncryptedText())
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QuestionMark(Base):
    """A shared question as the coordinator marked it after a meeting, and whether its author
    said she got no answer."""

    __tablename__ = "question_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Goes with the question: erasing its author erases her questions, and so their marks.
    question_id: Mapped[int] = mapped_column(
        ForeignKey("question.id", ondelete="CASCADE"), unique=True
    )
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    # flows.meeting_notes_ports.QuestionStatus: "answered" or "follow_up".
    status: Mapped[str] = mapped_column(String(16))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the author said "jag fick inget svar" (the coordinator was told).
    no_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
