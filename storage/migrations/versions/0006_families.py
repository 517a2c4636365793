"""Families: what caregivers write down (family list), and the family group chats

family_item holds caregivers' and network persons' questions, views, wishes and what they would
rather not raise in front of the child; group_chat_member records who was seen in which group
chat of a case, so a meeting reminder goes to the group once.

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23 01:48:25.479871
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Families: family list items and group chat members"""
    op.create_table(
        "family_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "question",
                "our_view",
                "wish",
                "not_with_child",
                name="family_item_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("in_family_list", sa.Boolean(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
            name=op.f("fk_family_item_author_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_family_item_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_item")),
    )
    with op.batch_alter_table("family_item", schema=None) as batch_op:
        batch_op.create_index("ix_family_item_case_author", ["case_id", "author_id"], unique=False)

    op.create_table(
        "group_chat_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_group_chat_member_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_group_chat_member_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_chat_member")),
        sa.UniqueConstraint(
            "case_id", "person_id", "platform", "chat_id", name=op.f("uq_group_chat_member_case_id")
        ),
    )
    with op.batch_alter_table("group_chat_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_chat_member_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    """Reverts: Families: family list items and group chat members"""
    with op.batch_alter_table("group_chat_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_chat_member_person_id"))

    op.drop_table("group_chat_member")
    with op.batch_alter_table("family_item", schema=None) as batch_op:
        batch_op.drop_index("ix_family_item_case_author")

    op.drop_table("family_item")
