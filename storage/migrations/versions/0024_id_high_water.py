"""id_high_water: the highest meeting id ever given out, so SQLite never gives it out again

A meeting's id is its calendar UID and part of its notices' keys; SQLite would give a
cancelled (deleted) newest meeting's id to the next one booked. Seeded with today's highest
meeting id. Downgrade drops the table (ids could then be reused again on SQLite).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 21:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates id_high_water with the meeting table's highest id so far."""
    op.create_table(
        "id_high_water",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_id_high_water")),
    )
    op.execute(
        "INSERT INTO id_high_water (table_name, value) "
        "SELECT 'meeting', COALESCE(MAX(id), 0) FROM meeting"
    )


def downgrade() -> None:
    """Drops id_high_water."""
    op.drop_table("id_high_water")
