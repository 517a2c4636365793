"""E-mail addresses: where a person (or an invited professional, before joining) gets e-mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import EncryptedText, UTCDateTime

__all__ = ["EmailAddress"]


class EmailAddress(Base):
    """One e-mail address, behind an opaque chat key (the outbox's chat id on "email").

    The address is personal data: encrypted like free text (storage/crypto.py), and never
    the chat id, so the outbox, the logs and the unreachable list only ever see the key.
    """

    __tablename__ = "email_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random and opaque: the chat id and user id of the person's "email" chat identity.
    chat_key: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(EncryptedText())
    # Whose address it is; None until an invited professional joins by the link.
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    # The hash of the invite code sent to this address (storage/invite_codes.py), so the
    # join link's invite finds the address it was sent to.
    invite_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
