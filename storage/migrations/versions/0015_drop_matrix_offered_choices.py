"""Drops matrix_offered_choices: a typed number or label is read in one place (issue 20)

The Matrix adapter kept its own copy of the choices last shown in each direct chat (hashed
labels and numbers) to read a typed label. Every platform now reads a typed number or label
the same way (flows/choice_reading.py) against the newest sent message with choices, which
the outbox already holds, so this table is no longer written or read. Nothing in it is needed:
it was only the newest buttons per chat. Downgrade recreates the empty table as 0003 made it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drops matrix_offered_choices."""
    op.drop_table("matrix_offered_choices")


def downgrade() -> None:
    """Recreates matrix_offered_choices (empty), as revision 0003 made it."""
    op.create_table(
        "matrix_offered_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matrix_offered_choices")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_matrix_offered_choices_chat_id")),
    )
