"""Models of the coordinator side: coordinators, case profiles, invite guessing, nudges."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import EncryptedText, UTCDateTime


class Coordinator(Base):
    """A person who may run cases from the chat; the case they are working on now."""

    __tablename__ = "coordinator"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    # Operators create coordinators who may open cases; co-coordinators only run theirs.
    may_open_cases: Mapped[bool] = mapped_column(Boolean, default=False)
    current_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_file.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CoordinatorInvite(Base):
    """A one-time code an operator hands to a new coordinator; stored hashed."""

    __tablename__ = "coordinator_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A person's name is free text: encrypted at rest like everything people write.
    display_name: Mapped[str] = mapped_column(EncryptedText())
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )


class CaseProfile(Base):
    """What the coordinator calls the young person of a case: a first name or pseudonym."""

    __tablename__ = "case_profile"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True
    )
    # The young person's name (or pseudonym): encrypted at rest, like every other name.
    youth_name: Mapped[str] = mapped_column(EncryptedText())
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class CaseOrganisation(Base):
    """An organisation (verksamhet) taking part in a case."""

    __tablename__ = "case_organisation"
    __table_args__ = (UniqueConstraint("case_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    # Who is who (flows/who_is_who.py), set by the coordinator for this case: the plain
    # description (none: the operator's text or the catalogue's default for the kind) and the
    # contact person between meetings. Encrypted: typed in chat, and a name is a name.
    description: Mapped[str | None] = mapped_column(EncryptedText())
    contact_name: Mapped[str | None] = mapped_column(EncryptedText())
    contact_role: Mapped[str | None] = mapped_column(EncryptedText())
    contact_reach: Mapped[str | None] = mapped_column(EncryptedText())


class MeetingSeries(Base):
    """A recurring fixed slot ("varannan tisdag 13.00"); its meetings carry its id."""

    __tablename__ = "meeting_series"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    interval_weeks: Mapped[int] = mapped_column(Integer)
    local_time: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The day of the last occurrence booked: the tick books on from there (None: from the
    # series' latest meeting, for series made before migration 0016).
    booked_until: Mapped[date | None] = mapped_column(Date)
    # The coordinator stopped the series: no more meetings are booked ahead.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InviteGuessing(Base):
    """Wrong invite codes per chat, so guessing is slowed down to nothing."""

    __tablename__ = "invite_guessing"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ActionOwnerFamily(Base):
    """Marks a plan action as owned by the family (not a member or an organisation)."""

    __tablename__ = "action_owner_family"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("plan_action.id", ondelete="CASCADE"), primary_key=True
    )


class NudgeSent(Base):
    """One reminder stage of one action for one person, so a stage is never sent twice."""

    __tablename__ = "nudge_sent"
    __table_args__ = (UniqueConstraint("action_id", "person_id", "due_date", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("plan_action.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # The due date the stage belonged to: a new date starts the reminders over.
    due_date: Mapped[date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(24))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
