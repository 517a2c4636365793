"""Durable delivery: outbox claims, processes, channel leases, unreachable chats

Outbox rows gain the process that claimed them (status "sending"), when a reminder was due
(to note lateness) and when it stops making sense (to drop it); an index keeps one chat's
messages in order across dispatchers. New tables: running bot processes (status, last tick),
channel leases (one poller per inbound channel), and chats a platform refused for good.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 01:47:19.734043
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Durable delivery: outbox claims, processes, channel leases, unreachable chats"""
    op.create_table(
        "bot_process",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_tick_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("stopped_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_process")),
    )
    op.create_table(
        "channel_lease",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_lease")),
    )
    op.create_table(
        "unreachable_chat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("since", storage.types.UTCDateTime(), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unreachable_chat")),
        sa.UniqueConstraint("platform", "chat_id", name=op.f("uq_unreachable_chat_platform")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("due_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index(
            "ix_outbox_chat_status", ["platform", "chat_id", "status"], unique=False
        )


def downgrade() -> None:
    """Reverts: Durable delivery: outbox claims, processes, channel leases, unreachable chats"""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat_status")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("claimed_by")

    op.drop_table("unreachable_chat")
    op.drop_table("channel_lease")
    op.drop_table("bot_process")
