"""Privacy bookkeeping: what we must know to ask for the right consent, and nothing more."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import UTCDateTime


class AgeStatement(Base):
    """Whether a young person said they are under the consent age; the age itself is not kept.

    The limit in force is stored beside the answer, so changing the configured age later
    does not silently change what an old answer meant.
    """

    __tablename__ = "age_statement"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    under_limit: Mapped[bool] = mapped_column(Boolean)
    age_limit: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
