"""Models of closing the loop after a meeting: check-in answers and answers to comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import EncryptedText, UTCDateTime


class CheckinAnswer(Base):
    """How a meeting was for one young person or adult, the day after; or that they skipped."""

    __tablename__ = "checkin_answer"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # "good" / "mixed" / "hard"; None when the question was skipped.
    felt: Mapped[str | None] = mapped_column(String(16))
    # "yes" / "partly" / "no"; None when skipped.
    heard: Mapped[str | None] = mapped_column(String(16))
    words: Mapped[str | None] = mapped_column(EncryptedText())  # free text: encrypted at rest
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommentAnswer(Base):
    """A coordinator's answer to someone's "stämmer inte / delvis" comment on the picture."""

    __tablename__ = "comment_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("picture_response.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(EncryptedText())  # free text: encrypted at rest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
