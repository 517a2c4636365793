"""checkin_answer and comment_answer: how the meeting was, and the coordinator's answers to
picture comments (issue 22, items 4 and 5)

checkin_answer holds, per meeting and person, the two answers of the check-in the day after a
meeting (how it was; felt listened to) with optional words (encrypted), or that the person
skipped it. comment_answer holds a coordinator's answer (encrypted) to a "stämmer inte /
delvis" comment on the shared picture; it goes with the comment it answers. Both are new
tables; downgrade drops them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates checkin_answer and comment_answer."""
    op.create_table(
        "checkin_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("felt", sa.String(length=16), nullable=True),
        sa.Column("heard", sa.String(length=16), nullable=True),
        sa.Column("words", sa.Text(), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_checkin_answer_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_checkin_answer_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_answer")),
        sa.UniqueConstraint("meeting_id", "person_id", name=op.f("uq_checkin_answer_meeting_id")),
    )
    op.create_table(
        "comment_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
            name=op.f("fk_comment_answer_author_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["picture_response.id"],
            name=op.f("fk_comment_answer_response_id_picture_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_answer")),
    )
    with op.batch_alter_table("comment_answer") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comment_answer_response_id"), ["response_id"], unique=False
        )


def downgrade() -> None:
    """Drops both tables."""
    with op.batch_alter_table("comment_answer") as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_answer_response_id"))
    op.drop_table("comment_answer")
    op.drop_table("checkin_answer")
