"""Coordinators: case profiles, case organisations, meeting series, invite guessing,
family owners of actions, nudge bookkeeping

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-23 01:50:43.126048
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds the coordinator side's tables."""
    op.create_table(
        "invite_guessing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("locked_until", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_guessing")),
        sa.UniqueConstraint("platform", "chat_id", name=op.f("uq_invite_guessing_platform")),
    )
    op.create_table(
        "case_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_case_organisation_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_case_organisation_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_organisation")),
        sa.UniqueConstraint(
            "case_id", "organisation_id", name=op.f("uq_case_organisation_case_id")
        ),
    )
    op.create_table(
        "case_profile",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("youth_name", sa.String(length=80), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_case_profile_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["person.id"],
            name=op.f("fk_case_profile_opened_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_profile")),
    )
    op.create_table(
        "coordinator",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("may_open_cases", sa.Boolean(), nullable=False),
        sa.Column("current_case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_case_id"],
            ["case_file.id"],
            name=op.f("fk_coordinator_current_case_id_case_file"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_coordinator_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_coordinator")),
    )
    op.create_table(
        "coordinator_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("used_by_person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["used_by_person_id"],
            ["person.id"],
            name=op.f("fk_coordinator_invite_used_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinator_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_coordinator_invite_code_hash")),
    )
    op.create_table(
        "meeting_series",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("interval_weeks", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_meeting_series_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_series")),
    )
    op.create_table(
        "action_owner_family",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["plan_action.id"],
            name=op.f("fk_action_owner_family_action_id_plan_action"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_action_owner_family")),
    )
    op.create_table(
        "nudge_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["plan_action.id"],
            name=op.f("fk_nudge_sent_action_id_plan_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_nudge_sent_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_sent")),
        sa.UniqueConstraint(
            "action_id", "person_id", "due_date", "stage", name=op.f("uq_nudge_sent_action_id")
        ),
    )


def downgrade() -> None:
    """Drops the coordinator side's tables."""
    op.drop_table("nudge_sent")
    op.drop_table("action_owner_family")
    op.drop_table("meeting_series")
    op.drop_table("coordinator_invite")
    op.drop_table("coordinator")
    op.drop_table("case_profile")
    op.drop_table("case_organisation")
    op.drop_table("invite_guessing")
