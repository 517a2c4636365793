"""Notes from the meeting and questions answered (issue 22)

meeting_note holds a meeting's notes as the coordinator wrote them (and an optional plainer
version for the young person), encrypted like all free text; question_mark holds each shared
question's mark after a meeting (answered, or to follow up and so carried over to the next
agenda) and when its author said she got no answer.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates meeting_note and question_mark."""
    op.create_table(
        "meeting_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("youth_text", sa.Text(), nullable=True),
        sa.Column("written_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
            name=op.f("fk_meeting_note_author_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_meeting_note_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_note_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_note")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_meeting_note_meeting_id")),
    )
    op.create_index("ix_meeting_note_case", "meeting_note", ["case_id", "written_at"])
    op.create_table(
        "question_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("marked_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("no_answer_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_question_mark_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_question_mark_question_id_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_mark")),
        sa.UniqueConstraint("question_id", name=op.f("uq_question_mark_question_id")),
    )


def downgrade() -> None:
    """Drops question_mark and meeting_note."""
    op.drop_table("question_mark")
    op.drop_index("ix_meeting_note_case", table_name="meeting_note")
    op.drop_table("meeting_note")
