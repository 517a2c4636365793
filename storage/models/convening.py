"""Models of convening: people the family suggests to the coordinator (issue 23)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import EncryptedText, UTCDateTime


class SuggestedPerson(Base):
    """Someone who matters to the young person (first name and relation), suggested by the
    young person or a caregiver, until the coordinator says yes (an invite) or no."""

    __tablename__ = "suggested_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    suggested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    # A third person's name and what they are to the young person: encrypted at rest.
    name: Mapped[str] = mapped_column(EncryptedText())
    relation: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who decided is in the audit log; here only what was decided (None while open).
    approved: Mapped[bool | None] = mapped_column(Boolean)
