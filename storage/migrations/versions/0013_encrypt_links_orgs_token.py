"""More of what is typed is encrypted at rest: meeting.remote_link, organisation.name,
organisation.description and matrix_account.access_token hold ciphertext (storage/crypto.py)

A meeting link can let anyone into a family's video meeting; an organisation's name is typed
in chat by the coordinator and can say more than it should; the Matrix access token lets
whoever reads it act as the bot. The columns that were VARCHAR become TEXT, which ciphertext
needs (description already was TEXT; only its model type changes).

Existing values are left as they are: the columns read legacy plaintext as it is
(storage/types.py EncryptedText), and `samverkan keys rotate` encrypts them in place, in small
batches while the bot runs. This migration deliberately does not encrypt: migrations run
without the data key (`samverkan db upgrade` needs none, so the person who changes the schema
need not hold the key that opens what people wrote), exactly as migrations 0005 and 0008 did.
`samverkan db upgrade` says when plaintext is left to encrypt.

Revision ID: 0013
Revises: 0012, 0003
Create Date: 2026-12-06 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
# Also follows 0003, the Matrix branch that made matrix_account: this merges that branch in
# (a depends_on would leave 0003 a head that the database no longer records).
down_revision: str | Sequence[str] | None = ("0012", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, old length, nullable): values that now hold ciphertext, longer than before.
_WIDENED = [
    ("meeting", "remote_link", 500, True),
    ("organisation", "name", 120, False),
    ("matrix_account", "access_token", 1024, True),
]


def upgrade() -> None:
    """Widens the columns to TEXT, which ciphertext needs."""
    for table, column, length, nullable in _WIDENED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=length),
                type_=sa.Text(),
                existing_nullable=nullable,
                postgresql_using=f"{column}::text",
            )


def downgrade() -> None:
    """Back to the old lengths; ciphertext stays ciphertext (decrypt before downgrading)."""
    for table, column, length, nullable in _WIDENED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.Text(),
                type_=sa.String(length=length),
                existing_nullable=nullable,
            )
