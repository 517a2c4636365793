"""suggested_person: someone who matters to the young person, suggested by the family (issue 23)

The young person and caregivers can name someone who matters to them (a first name and what
they are to her: "mormor", "tränaren"); the coordinator says yes, which makes a network invite
with the usual invite code, or no, and the one who suggested is told either way. The name and
relation are encrypted at rest; a row goes with the person who suggested it when they are
erased. Downgrade drops the table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-11 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates suggested_person."""
    op.create_table(
        "suggested_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("suggested_by_id", sa.Integer(), nullable=True),
        sa.Column("name", storage.types.EncryptedText(), nullable=False),
        sa.Column("relation", storage.types.EncryptedText(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_suggested_person_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggested_by_id"],
            ["person.id"],
            name=op.f("fk_suggested_person_suggested_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggested_person")),
    )
    with op.batch_alter_table("suggested_person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suggested_person_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    """Drops suggested_person."""
    with op.batch_alter_table("suggested_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggested_person_case_id"))
    op.drop_table("suggested_person")
