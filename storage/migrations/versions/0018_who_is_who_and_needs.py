"""Who is who and meeting needs (issue 23): a case's organisation gets its own description and
a contact person; each family member can say what they need at the meeting

case_organisation gains four encrypted, nullable columns (description, contact_name,
contact_role, contact_reach): the coordinator writes them in the chat for this case. A new
table meeting_need holds, per member of a case, whether an interpreter is needed (and the
language) and any other need in their own words; the coordinator reads it on the agenda.
Nothing existing is rewritten. Downgrade drops the table and the columns (their texts are lost).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTACT_COLUMNS = ("description", "contact_name", "contact_role", "contact_reach")


def upgrade() -> None:
    """Adds the case organisation's own texts and the meeting_need table."""
    with op.batch_alter_table("case_organisation", schema=None) as batch_op:
        for column in _CONTACT_COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=True))
    op.create_table(
        "meeting_need",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("interpreter", sa.Boolean(), nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("other", sa.Text(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_meeting_need_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_meeting_need_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_need")),
        sa.UniqueConstraint("case_id", "person_id", name=op.f("uq_meeting_need_case_id")),
    )


def downgrade() -> None:
    """Drops meeting_need and the case organisation's own texts."""
    op.drop_table("meeting_need")
    with op.batch_alter_table("case_organisation", schema=None) as batch_op:
        for column in reversed(_CONTACT_COLUMNS):
            batch_op.drop_column(column)
