"""E-mail addresses behind opaque chat keys: added by an invite or for a member, read to send.

The outbox, the unreachable list and the logs see only the chat key; the address itself is
read here, decrypted, at the moment an e-mail is sent (bot/email/connector.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from storage import models as m
from storage.invite_codes import hash_code

PLATFORM = "email"


@dataclass(frozen=True, slots=True)
class EmailRecipient:
    """Where and in which language one e-mail goes; person_id None before joining."""

    address: str
    person_id: int | None
    locale: str | None


def new_chat_key() -> str:
    """A fresh opaque key: it names an address in the outbox without saying it."""
    return "e" + secrets.token_hex(16)


class EmailRepository:
    """The e-mail addresses of people and of invited professionals."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add_for_invite(self, address: str, code: str, now: datetime) -> str:
        """Keeps the address an invite code goes to; returns its chat key."""
        key = new_chat_key()
        self._s.add(
            m.EmailAddress(
                chat_key=key, address=address, invite_hash=hash_code(code), created_at=now
            )
        )
        self._s.flush()
        return key

    def add_for_person(self, person_id: int, address: str, now: datetime) -> str:
        """Reaches a member by e-mail too (as well as, or instead of, a chat); the chat key."""
        key = new_chat_key()
        self._s.add(
            m.EmailAddress(chat_key=key, address=address, person_id=person_id, created_at=now)
        )
        self._s.add(
            m.ChatIdentity(
                person_id=person_id, platform=PLATFORM, external_user_id=key, private_chat_id=key
            )
        )
        self._s.flush()
        return key

    def key_for_invite(self, code: str) -> str | None:
        """The chat key an invite was e-mailed to (the join link redeems the invite there)."""
        return self._s.scalar(
            select(m.EmailAddress.chat_key)
            .where(m.EmailAddress.invite_hash == hash_code(code))
            .order_by(m.EmailAddress.id.desc())
            .limit(1)
        )

    def key_for_person(self, person_id: int) -> str | None:
        """The chat key of a member's e-mail conversation, if they are reached by e-mail."""
        return self._s.scalar(
            select(m.ChatIdentity.private_chat_id)
            .where(m.ChatIdentity.platform == PLATFORM, m.ChatIdentity.person_id == person_id)
            .order_by(m.ChatIdentity.id.desc())
            .limit(1)
        )

    def remove_for_person(self, person_id: int) -> int:
        """Stops reaching a member by e-mail: their e-mail chats and addresses go (the address
        is personal data, kept no longer than it is used); how many chats went."""
        keys = list(
            self._s.scalars(
                select(m.ChatIdentity.external_user_id).where(
                    m.ChatIdentity.platform == PLATFORM, m.ChatIdentity.person_id == person_id
                )
            )
        )
        # An address a join bound to no person yet is found by its key.
        self._s.execute(
            delete(m.EmailAddress).where(
                or_(m.EmailAddress.person_id == person_id, m.EmailAddress.chat_key.in_(keys))
            )
        )
        self._s.execute(
            delete(m.ChatIdentity).where(
                m.ChatIdentity.platform == PLATFORM, m.ChatIdentity.person_id == person_id
            )
        )
        self._s.flush()
        return len(keys)

    def has_chat(self, person_id: int) -> bool:
        """True when a member is reached in a chat too (a private chat on another platform)."""
        found = self._s.scalar(
            select(m.ChatIdentity.id)
            .where(
                m.ChatIdentity.person_id == person_id,
                m.ChatIdentity.platform != PLATFORM,
                m.ChatIdentity.private_chat_id.is_not(None),
            )
            .limit(1)
        )
        return found is not None

    def recipient(self, chat_key: str) -> EmailRecipient | None:
        """The address behind a chat key, and whose it is once they joined (bound here, the
        first time, so erasing the person erases the address)."""
        row = self._s.scalar(select(m.EmailAddress).where(m.EmailAddress.chat_key == chat_key))
        if row is None:
            return None
        if row.person_id is None:
            joined = self._s.scalar(
                select(m.ChatIdentity.person_id).where(
                    m.ChatIdentity.platform == PLATFORM, m.ChatIdentity.private_chat_id == chat_key
                )
            )
            if joined is not None:
                row.person_id = joined
                # The invite is used: its hash no longer needs to point here.
                row.invite_hash = None
                self._s.flush()
        locale = (
            self._s.scalar(select(m.Person.locale).where(m.Person.id == row.person_id))
            if row.person_id is not None
            else None
        )
        return EmailRecipient(row.address, row.person_id, locale)
