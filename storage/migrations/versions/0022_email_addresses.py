"""E-mail addresses: a person (or an invited professional) reached by e-mail

`email_address` keeps each address encrypted behind an opaque chat key, the chat id of the
"email" platform in the outbox; whether an address is reachable is the outbox's
`unreachable_chat`, as for every platform (a hard bounce marks it).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0022"
down_revision: str | tuple[str, ...] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds the e-mail address table."""
    op.create_table(
        "email_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_key", sa.String(length=64), nullable=False),
        sa.Column("address", storage.types.EncryptedText(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("invite_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_email_address_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_address")),
        sa.UniqueConstraint("chat_key", name=op.f("uq_email_address_chat_key")),
    )
    op.create_index(
        op.f("ix_email_address_person_id"), "email_address", ["person_id"], unique=False
    )
    op.create_index(
        op.f("ix_email_address_invite_hash"), "email_address", ["invite_hash"], unique=False
    )


def downgrade() -> None:
    """Drops the e-mail address table."""
    op.drop_index(op.f("ix_email_address_invite_hash"), table_name="email_address")
    op.drop_index(op.f("ix_email_address_person_id"), table_name="email_address")
    op.drop_table("email_address")
