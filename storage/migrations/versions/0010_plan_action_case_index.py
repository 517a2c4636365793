"""An index on plan_action (case_id, due_date), for reading one case's plan

A case's plan is read for every agenda and follow-up report, the coordinator's and the
professionals' plan views and "my actions"; with no index on case_id, SQLite scanned every
plan action of every case each time (bench: an agenda cost 8 ms at 200 cases and 22 ms at
20,000, 100,000 plan actions). Adding an index changes no data; downgrade drops it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_plan_action_case_due", "plan_action", ["case_id", "due_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_plan_action_case_due", table_name="plan_action")
