"""The highest id ever given out, for tables whose ids must never be given out again."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base

__all__ = ["IdHighWater"]


class IdHighWater(Base):
    """One row per table: the highest id it has ever had (SQLite reuses a deleted top id)."""

    __tablename__ = "id_high_water"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)
