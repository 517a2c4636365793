"""Bookkeeping of durable delivery: running processes, channel leases, unreachable chats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import UTCDateTime


class BotProcess(Base):
    """A bot process that is (or was) running: for `samverkan status` and outbox claims."""

    __tablename__ = "bot_process"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_tick_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChannelLease(Base):
    """Who may poll one inbound channel (a Telegram long-poll, a Matrix sync), until when.

    A holder renews its lease well before `expires_at`; when it dies, another process takes
    the channel over once the lease has expired, so a channel is never polled by two.
    """

    __tablename__ = "channel_lease"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UnreachableChat(Base):
    """A chat the platform refused for good (bot blocked, room left, chat gone)."""

    __tablename__ = "unreachable_chat"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    # The error class only (e.g. "PermanentSendError"), never what the platform said.
    error: Mapped[str] = mapped_column(String(64))
