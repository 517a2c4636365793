"""Sharing per reader: readers per shared item, consent to information exchange per organisation

Each question, view, participation wish and family item gets `readers` (who may read it once
shared: the coordinator only, everyone in the meeting, or chosen organisations; NULL keeps the
owner's first-contact answer as the default, so existing rows read as before for the
coordinator). `organisation_consent` records the family's samtycke till informationsutbyte
per organisation of a case; the newest row for a (person, organisation) counts.

Revision ID: 0021
Revises: 0020, 0006
Create Date: 2026-12-06 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0021"
# family_item and organisation come from 0006, a branch of its own off 0001: merged here.
down_revision: str | tuple[str, ...] | None = ("0020", "0006")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ITEM_TABLES = ("question", "view", "preference", "family_item")


def upgrade() -> None:
    """Adds readers to the item tables and the per-organisation consent table."""
    for table in ITEM_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("readers", sa.String(length=255), nullable=True))
    op.create_table(
        "organisation_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_organisation_consent_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_consent_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_organisation_consent_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_consent")),
    )
    op.create_index(
        "ix_organisation_consent_case_person",
        "organisation_consent",
        ["case_id", "person_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drops the per-organisation consents and the readers columns."""
    op.drop_index("ix_organisation_consent_case_person", table_name="organisation_consent")
    op.drop_table("organisation_consent")
    for table in reversed(ITEM_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("readers")
