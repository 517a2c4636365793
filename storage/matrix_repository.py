"""The Matrix adapter's bookkeeping: its session, its sync position and its rooms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models.matrix import MatrixAccount, MatrixRoom


class RoomKind(StrEnum):
    """A direct room has the bot and one person; a group room has several people."""

    DIRECT = "direct"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class StoredSession:
    """The bot's stored Matrix login and where its last fully handled sync ended."""

    user_id: str
    device_id: str
    access_token: str | None
    sync_token: str | None


@dataclass(frozen=True, slots=True)
class StoredRoom:
    """What the bot knows about a room it joined."""

    room_id: str
    kind: RoomKind
    direct_user_id: str | None
    active: bool


class MatrixRepository:
    """Reads and writes the Matrix tables on the unit of work's session; never commits."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def session_for(self, user_id: str) -> StoredSession | None:
        """The stored login of this bot account, if it ever logged in."""
        row = self._account(user_id)
        if row is None:
            return None
        return StoredSession(row.user_id, row.device_id, row.access_token, row.sync_token)

    def save_login(
        self, user_id: str, device_id: str, access_token: str | None, now: datetime
    ) -> None:
        """Stores a (new) login; a new device starts its sync from the beginning."""
        row = self._account(user_id)
        if row is None:
            self._s.add(
                MatrixAccount(
                    user_id=user_id,
                    device_id=device_id,
                    access_token=access_token,
                    sync_token=None,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            if row.device_id != device_id:
                row.sync_token = None
            row.device_id, row.access_token, row.updated_at = device_id, access_token, now
        self._s.flush()

    def save_sync_token(self, user_id: str, sync_token: str, now: datetime) -> None:
        """Moves the resume point forward, after every event before it was handled."""
        row = self._account(user_id)
        if row is None:
            raise LookupError("no stored Matrix login to attach a sync token to")
        row.sync_token, row.updated_at = sync_token, now

    def room(self, room_id: str) -> StoredRoom | None:
        """A room the bot joined (or left)."""
        row = self._room(room_id)
        if row is None:
            return None
        return StoredRoom(row.room_id, RoomKind(row.kind), row.direct_user_id, row.active)

    def save_room(
        self, room_id: str, kind: RoomKind, direct_user_id: str | None, now: datetime
    ) -> None:
        """Records a joined room, or changes what kind of room it is."""
        row = self._room(room_id)
        if row is None:
            self._s.add(
                MatrixRoom(
                    room_id=room_id,
                    kind=kind.value,
                    direct_user_id=direct_user_id,
                    active=True,
                    joined_at=now,
                    updated_at=now,
                )
            )
        else:
            row.kind, row.direct_user_id = kind.value, direct_user_id
            row.active, row.updated_at = True, now
        self._s.flush()

    def touch_direct_room(self, room_id: str, now: datetime) -> None:
        """Marks a direct room as the one its person used last: replies go there."""
        row = self._room(room_id)
        if row is not None:
            row.updated_at = now

    def leave_room(self, room_id: str, now: datetime) -> None:
        """Marks a room as left: nothing is sent there any more."""
        row = self._room(room_id)
        if row is not None:
            row.active, row.updated_at = False, now

    def direct_room_for(self, user_id: str) -> str | None:
        """The active direct room this person used most recently."""
        return self._s.scalar(
            select(MatrixRoom.room_id)
            .where(
                MatrixRoom.direct_user_id == user_id,
                MatrixRoom.kind == RoomKind.DIRECT.value,
                MatrixRoom.active.is_(True),
            )
            .order_by(MatrixRoom.updated_at.desc(), MatrixRoom.id.desc())
            .limit(1)
        )

    def _account(self, user_id: str) -> MatrixAccount | None:
        """The account row of a bot user."""
        return self._s.scalar(select(MatrixAccount).where(MatrixAccount.user_id == user_id))

    def _room(self, room_id: str) -> MatrixRoom | None:
        """The row of a room."""
        return self._s.scalar(select(MatrixRoom).where(MatrixRoom.room_id == room_id))
