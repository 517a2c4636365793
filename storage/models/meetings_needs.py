"""Models of who is who and of what people need at the meeting (interpreter, breaks, access)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import EncryptedText, UTCDateTime


class MeetingNeed(Base):
    """What one member of the family needs at the meeting: an interpreter (and the language),
    and any other need in their own words. The coordinator reads it on the agenda."""

    __tablename__ = "meeting_need"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    # Free words (a language may be written any way, a need says something about a person):
    # encrypted at rest like every other free text.
    language: Mapped[str | None] = mapped_column(EncryptedText())
    other: Mapped[str | None] = mapped_column(EncryptedText())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
