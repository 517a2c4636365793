"""outbox.failing_since: when a message's own sends began to fail, so it is parked after a
bounded time (issue 20)

A message the platform keeps refusing (a document a server answers with a 5xx) held every later
message of its chat for as long as its retries lasted, up to two hours. The deliverer now parks
it (status failed, for `samverkan outbox list --failed`) once it has failed for [delivery]
park_after_seconds, and the chat's later messages go on. This column says since when it fails;
a rate limit or waiting behind an older message does not set it. Rows written before this
migration have none, and count from their next failure. Downgrade drops the column.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("failing_since", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("failing_since")
