"""meeting.sequence, meeting_series.booked_until and stopped_at: meetings that change, series
that go on until stopped (issue 23)

A meeting that is moved or cancelled sends everyone an updated calendar file with the same UID
and a higher SEQUENCE, so calendars update the event instead of adding a second one:
`meeting.sequence` counts the changes (0 when booked). A series ("varannan tisdag 13.00") is
kept a few meetings ahead by the tick until the coordinator stops it: `booked_until` is the
day of the last occurrence booked (moves of single meetings do not shift the series), and
`stopped_at` says when it was stopped. Series made before this migration have no booked_until:
the tick goes on from their latest meeting. An index on (series_id, starts_at) keeps that
count cheap. Downgrade drops the index and the columns.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(
            sa.Column("sequence", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("meeting_series") as batch:
        batch.add_column(sa.Column("booked_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("stopped_at", storage.types.UTCDateTime(), nullable=True))
    # The tick counts each running series' meetings ahead on every pass.
    op.create_index("ix_meeting_series_starts", "meeting", ["series_id", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_meeting_series_starts", table_name="meeting")
    with op.batch_alter_table("meeting_series") as batch:
        batch.drop_column("stopped_at")
        batch.drop_column("booked_until")
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("sequence")
