"""The nonces of answer links already used (bot/email/links.py): each link answers once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import UTCDateTime


class UsedLinkNonce(Base):
    """A link's nonce, recorded in the transaction that applied its answer.

    Only the random nonce is kept, never the person, the action or the token: the row says
    that some link was used, nothing about whom. It can go once the link has expired (a
    link past `expires_at` is refused before its nonce is looked at).
    """

    __tablename__ = "used_link_nonce"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
