"""SQLAlchemy 2 models for the domain words of DESIGN.md §3 and the bot's own bookkeeping."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flows.domain import MeetingKind, Participation, Role, ViewAspect
from storage.types import EncryptedJSON, EncryptedText, UTCDateTime

# Named constraints so Alembic migrations can alter them on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[Any], name: str) -> Enum:
    """Stores an enum by its value as a plain string, so adding a value needs no type change."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    """Base of all models."""

    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    """Someone who uses the bot; known by a first name or pseudonym only."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Encrypted like all free text: a name is personal data (storage/crypto.py).
    display_name: Mapped[str] = mapped_column(EncryptedText())
    locale: Mapped[str] = mapped_column(String(16), default="sv")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatIdentity(Base):
    """A person's account on one chat platform (opaque platform user id)."""

    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("platform", "external_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_user_id: Mapped[str] = mapped_column(String(255))
    # Where to reach the person privately (a DM room on Matrix, the user id on Telegram).
    private_chat_id: Mapped[str | None] = mapped_column(String(255))


class Organisation(Base):
    """A verksamhet taking part in cases: BUP, socialtjänst, skola, …"""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Encrypted: a coordinator types the name in chat, and it can say more than it should.
    # Hence no lookup or sort by name in SQL: the few organisations are compared in Python.
    name: Mapped[str] = mapped_column(EncryptedText())
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(EncryptedText())


class Case(Base):
    """An ärende, centred on one young person."""

    __tablename__ = "case_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Membership(Base):
    """A person's part in a case (deltagare), with a role."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("case_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Meeting(Base):
    """A möte of a case."""

    __tablename__ = "meeting"
    # ix_meeting_starts: the due-sources ask "which meetings start within the lead time"
    # across all cases on every tick (bot/nudges.py, bot/family_reminders.py).
    __table_args__ = (
        Index("ix_meeting_case_starts", "case_id", "starts_at"),
        Index("ix_meeting_starts", "starts_at"),
        # The tick counts each running series' meetings ahead (flows/meeting_changes.py).
        Index("ix_meeting_series_starts", "series_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    kind: Mapped[MeetingKind] = mapped_column(_enum(MeetingKind, "meeting_kind"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    place: Mapped[str | None] = mapped_column(EncryptedText())
    # Encrypted: the link lets whoever has it into the family's video meeting.
    remote_link: Mapped[str | None] = mapped_column(EncryptedText())
    series_id: Mapped[str | None] = mapped_column(String(64))
    # Counts the changes (moves) since booking: the calendar file's SEQUENCE, so a calendar
    # updates its event rather than adding a second one.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class Question(Base):
    """A question someone wants to bring up; private until shared."""

    __tablename__ = "question"
    __table_args__ = (Index("ix_question_case_author", "case_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(EncryptedText())
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who reads it once shared (flows.sharing.Readers.encode); NULL: the owner's default.
    readers: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class View(Base):
    """One part of someone's own picture (min bild); private until shared."""

    __tablename__ = "view"
    __table_args__ = (UniqueConstraint("case_id", "author_id", "aspect"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    aspect: Mapped[ViewAspect] = mapped_column(_enum(ViewAspect, "view_aspect"))
    text: Mapped[str] = mapped_column(EncryptedText())
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who reads it once shared (flows.sharing.Readers.encode); NULL: the owner's default.
    readers: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Preference(Base):
    """How someone wants to take part in the meeting; private until shared."""

    __tablename__ = "preference"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    participation: Mapped[Participation] = mapped_column(_enum(Participation, "participation"))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who reads it once shared (flows.sharing.Readers.encode); NULL: the owner's default.
    readers: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SharedPicture(Base):
    """A version of the gemensam bild the coordinator published."""

    __tablename__ = "shared_picture"
    __table_args__ = (
        UniqueConstraint("case_id", "version"),
        # The picture reminder reads the pictures published in its window, not all of them.
        Index("ix_shared_picture_published", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(EncryptedText())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PictureResponse(Base):
    """Someone's answer to a shared picture: stämmer / delvis / inte, with a comment."""

    __tablename__ = "picture_response"
    __table_args__ = (UniqueConstraint("picture_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    picture_id: Mapped[int] = mapped_column(ForeignKey("shared_picture.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(EncryptedText())
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlanAction(Base):
    """An åtgärd of the plan: what, who, by when."""

    __tablename__ = "plan_action"
    __table_args__ = (
        Index("ix_plan_action_status_due", "status", "due_date"),
        # A case's plan, soonest first: agendas, reports, the plan views, "my actions".
        Index("ix_plan_action_case_due", "case_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    owner_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    owner_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    description: Mapped[str] = mapped_column(EncryptedText())
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionUpdate(Base):
    """A lägesrapport on a plan action; the history is never rewritten."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("plan_action.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(EncryptedText())
    new_due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingRequest(Base):
    """A young person's or caregiver's request for a new meeting, tracked until answered."""

    __tablename__ = "meeting_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(EncryptedText())


class Consent(Base):
    """A samtycke: given or declined, for a scope, against a text version; can be revoked."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(32))
    text_version: Mapped[str] = mapped_column(String(32))
    given: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who gave it, when not the person it is about (a caregiver for a child under the age limit).
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invite(Base):
    """An inbjudan: a single-use code (stored hashed) bound to a case and a role."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    display_name: Mapped[str] = mapped_column(EncryptedText())
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )


class ConversationState(Base):
    """Where one conversation is in its flow; survives restarts."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    offered: Mapped[list[str]] = mapped_column(JSON)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on every save: two processes handling the same chat cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Outbox(Base):
    """An outgoing message, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # Keeps one chat's messages in order when several dispatchers claim rows.
        Index("ix_outbox_chat_status", "platform", "chat_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    # Message id + parameters, rendered at send time in the recipient's language and the
    # platform's format; parameters may hold user text, so they are case data.
    message_id: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    choices: Mapped[list[Any]] = mapped_column(EncryptedJSON())
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Durable delivery (migration 0004): status is pending → sending → sent / failed / dropped.
    # While "sending", next_attempt_at is when the claim runs out and the row may be taken again.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # When a reminder was meant to go out (to note lateness) and after when it makes no sense.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When this message's own sends began to fail (migration 0014): it is parked (failed) once
    # it has failed this long, so its chat's later messages go on. Rate limits do not count.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The platform's id of the message a tap was on, when this reply may replace it in place
    # (migration 0025; bot/edit_in_place.py): the connector decides at send time whether it
    # can, and otherwise sends a new message. Not case data: a platform's message number.
    edits_message: Mapped[str | None] = mapped_column(String(64))


class OutboxAbout(Base):
    """Whom an outbox row quotes (their words or name): /glommig removes those rows by it.

    A notice to a coordinator ("Alex answered the picture: …") lies in someone else's chat, so
    erasure cannot find it by the person's chats; this row says whom it is about, and goes
    with its outbox row (ON DELETE CASCADE), whether retention or erasure removes it.
    """

    __tablename__ = "outbox_about"

    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)


class InboxEvent(Base):
    """An inbound platform update, recorded by its platform id before it takes effect."""

    __tablename__ = "inbox_event"
    __table_args__ = (UniqueConstraint("platform", "platform_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_event_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Who read or changed what, when; never the content."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_person_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    # Set when the case is purged: actor_person_id is cleared and only this keyed pseudonym
    # remains, so the audit trail still shows "the same person did these" without who.
    actor_pseudonym: Mapped[str | None] = mapped_column(String(32))
