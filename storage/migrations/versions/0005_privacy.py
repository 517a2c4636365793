"""Privacy: encrypted free text, age statements, consent given by a caregiver, audit pseudonyms

Free text columns become TEXT holding ciphertext (storage/crypto.py). Values written before
this migration stay readable as plaintext until `samverkan keys rotate` encrypts them.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23 02:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, old type, nullable): short strings and JSON that now hold ciphertext.
_TO_TEXT: list[tuple[str, str, sa.types.TypeEngine[Any], bool]] = [
    ("person", "display_name", sa.String(length=80), False),
    ("invite", "display_name", sa.String(length=80), False),
    ("meeting", "place", sa.String(length=200), True),
    ("outbox", "params", sa.JSON(), False),
    ("outbox", "choices", sa.JSON(), False),
    ("conversation_state", "data", sa.JSON(), False),
]


def upgrade() -> None:
    """Privacy: encrypted free text, age statements, caregiver consent, audit pseudonyms"""
    op.create_table(
        "age_statement",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("under_limit", sa.Boolean(), nullable=False),
        sa.Column("age_limit", sa.Integer(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_age_statement_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_age_statement")),
    )
    for table, column, old, nullable in _TO_TEXT:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=old,
                type_=sa.Text(),
                existing_nullable=nullable,
                postgresql_using=f"{column}::text",
            )
    with op.batch_alter_table("consent") as batch_op:
        batch_op.add_column(sa.Column("given_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_consent_given_by_id_person"),
            "person",
            ["given_by_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("actor_pseudonym", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Drops the privacy additions; ciphertext stays ciphertext (decrypt before downgrading)."""
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("actor_pseudonym")
    with op.batch_alter_table("consent") as batch_op:
        batch_op.drop_constraint(op.f("fk_consent_given_by_id_person"), type_="foreignkey")
        batch_op.drop_column("given_by_id")
    for table, column, old, nullable in reversed(_TO_TEXT):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.Text(),
                type_=old,
                existing_nullable=nullable,
                postgresql_using=f"{column}::{'json' if isinstance(old, sa.JSON) else 'text'}",
            )
    op.drop_table("age_statement")
