"""An index on meeting.starts_at, for the due-sources' "meetings starting within the lead time"

The agenda, follow-up report and meeting reminder sources ask it across all cases on every
tick; ix_meeting_case_starts (case_id first) cannot answer it, so it scanned every meeting
(bench/scale.py: 40,000 at 20,000 cases). With this index the query reads only the meetings
in the window. Adding an index changes no data; downgrade drops it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 06:02:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_meeting_starts", "meeting", ["starts_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_meeting_starts", table_name="meeting")
