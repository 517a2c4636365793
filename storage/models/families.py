"""Models of the families' side: what adults write down, and the family group chats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flows.family_domain import FamilyItemKind
from storage.models.core import Base, _enum
from storage.types import EncryptedText, UTCDateTime


class FamilyItem(Base):
    """A caregiver's or network person's question, view, wish or "not in front of the child"."""

    __tablename__ = "family_item"
    __table_args__ = (Index("ix_family_item_case_author", "case_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[FamilyItemKind] = mapped_column(_enum(FamilyItemKind, "family_item_kind"))
    text: Mapped[str] = mapped_column(EncryptedText())  # free text: encrypted at rest
    # Seen by the case's other adults (caregivers, network); never by the young person.
    in_family_list: Mapped[bool] = mapped_column(Boolean, default=False)
    # Shared with the meeting: the coordinator sees it before the meeting.
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who reads it once shared (flows.sharing.Readers.encode); NULL: the owner's default.
    readers: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupChatMember(Base):
    """A member seen in a group chat of a case: reminders go to the group once, not to each."""

    __tablename__ = "group_chat_member"
    __table_args__ = (UniqueConstraint("case_id", "person_id", "platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    # The member's own user id in that chat: the group's messages use their language.
    user_id: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
