"""Matrix adapter bookkeeping: the bot's login and sync position, and the rooms it is in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import EncryptedText, UTCDateTime


class MatrixAccount(Base):
    """The bot's Matrix session: kept so a restart reuses its device and resumes its sync.

    Whoever reads the access token can act as the bot: it is stored here, encrypted, and
    never in the config file or the logs.
    """

    __tablename__ = "matrix_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), unique=True)
    device_id: Mapped[str] = mapped_column(String(64))
    # Encrypted like free text (storage/crypto.py), so a copy of the database alone does not
    # let anyone act as the bot. None when the operator gives the token through the
    # environment instead.
    access_token: Mapped[str | None] = mapped_column(EncryptedText())
    # `next_batch` of the last sync whose events were all handled; resuming from it
    # can replay events (the inbox drops them) but never skips one.
    sync_token: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MatrixRoom(Base):
    """A room the bot has joined: a direct room with one person, or a group room."""

    __tablename__ = "matrix_room"
    __table_args__ = (Index("ix_matrix_room_direct_user", "direct_user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), unique=True)
    # "direct" or "group" (see bot/matrix/rooms.py for how a room is classified).
    kind: Mapped[str] = mapped_column(String(16))
    # For a direct room: the one person in it besides the bot.
    direct_user_id: Mapped[str | None] = mapped_column(String(255))
    # False once the bot left or was kicked; kept so old outbox rows fail clearly.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
