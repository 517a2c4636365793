"""Matrix adapter: the bot's stored session (device, token, sync position) and its rooms

matrix_account keeps the bot's device across restarts and the sync token it resumes from;
matrix_room says which rooms are direct rooms with one person and which are group rooms;
matrix_offered_choices keeps hashed choice labels so a person can type a label, not a number.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 01:51:12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds matrix_account, matrix_room and matrix_offered_choices."""
    op.create_table(
        "matrix_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.String(length=1024), nullable=True),
        sa.Column("sync_token", sa.String(length=255), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matrix_account")),
        sa.UniqueConstraint("user_id", name=op.f("uq_matrix_account_user_id")),
    )
    op.create_table(
        "matrix_room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("direct_user_id", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("joined_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matrix_room")),
        sa.UniqueConstraint("room_id", name=op.f("uq_matrix_room_room_id")),
    )
    op.create_index(
        "ix_matrix_room_direct_user", "matrix_room", ["direct_user_id", "updated_at"], unique=False
    )
    op.create_table(
        "matrix_offered_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matrix_offered_choices")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_matrix_offered_choices_chat_id")),
    )


def downgrade() -> None:
    """Drops matrix_offered_choices, matrix_room and matrix_account."""
    op.drop_table("matrix_offered_choices")
    op.drop_index("ix_matrix_room_direct_user", table_name="matrix_room")
    op.drop_table("matrix_room")
    op.drop_table("matrix_account")
