"""outbox_about: whom an outbox row quotes, so /glommig removes it at once (issue 19, finding 4)

A notice to a coordinator quotes a young person ("Alex svarade: …", a meeting request's
reason); it lies in the coordinator's chat, where erasure, which looks at the person's own
chats, could not find it. Each such row now names the people it quotes here, and erasure
deletes the outbox rows by it in the same transaction. The link goes with its outbox row
(ON DELETE CASCADE), so retention's removal of old rows needs no change. Rows written before
this migration name nobody; downgrade drops the table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_about",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_about_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_outbox_about_person_id_person")
        ),
        sa.PrimaryKeyConstraint("outbox_id", "person_id", name=op.f("pk_outbox_about")),
    )
    op.create_index(op.f("ix_outbox_about_person_id"), "outbox_about", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_about_person_id"), table_name="outbox_about")
    op.drop_table("outbox_about")
