"""An index on shared_picture (published_at), for the picture reminder's window

Every tick the picture reminder looked for the unanswered newest picture of every open case:
it grouped all pictures by case, a scan that grew with the number of cases. It now reads the
pictures published in its window (from `after` × (reminders + 1) ago until `after` ago)
through this index. Adding an index changes no data; downgrade drops it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_shared_picture_published", "shared_picture", ["published_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shared_picture_published", table_name="shared_picture")
