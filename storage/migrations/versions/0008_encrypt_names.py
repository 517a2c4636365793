"""Names on the coordinator side are encrypted at rest: case_profile.youth_name and
coordinator_invite.display_name become TEXT holding ciphertext (storage/crypto.py)

Existing values are left as they are: the columns read legacy plaintext as it is
(storage/types.py EncryptedText), and `samverkan keys rotate` encrypts them in place, in small
batches while the bot runs. This migration deliberately does not encrypt: migrations run
without the data key (`samverkan db upgrade` needs none, so the person who changes the schema
need not hold the key that opens what people wrote), exactly as migration 0005 did for the
first encrypted columns. `samverkan db upgrade` says when plaintext is left to encrypt.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): names that now hold ciphertext, longer than the old String(80).
_NAMES = [("case_profile", "youth_name"), ("coordinator_invite", "display_name")]


def upgrade() -> None:
    """Widens the name columns to TEXT, which ciphertext needs."""
    for table, column in _NAMES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=80),
                type_=sa.Text(),
                existing_nullable=False,
                postgresql_using=f"{column}::text",
            )


def downgrade() -> None:
    """Back to String(80); ciphertext stays ciphertext (decrypt before downgrading)."""
    for table, column in _NAMES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.Text(),
                type_=sa.String(length=80),
                existing_nullable=False,
            )
