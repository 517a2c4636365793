"""used_link_nonce: each one-tap answer link in an e-mail answers once (issue 27)

A link's nonce is recorded in the transaction that applies its answer; a second use finds it
and changes nothing. Only the random nonce and two times are kept (no person, no action).
Downgrade drops the table: links used before could then be answered again until they expire.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates used_link_nonce."""
    op.create_table(
        "used_link_nonce",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_used_link_nonce")),
    )
    with op.batch_alter_table("used_link_nonce", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_used_link_nonce_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Drops used_link_nonce."""
    with op.batch_alter_table("used_link_nonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_link_nonce_expires_at"))
    op.drop_table("used_link_nonce")
