"""Sends outbox messages to Matrix rooms, encrypted where the room is.

The outbox row's idempotency key is the Matrix transaction id, so a message resent after a
crash (sent, but not yet marked sent) is recognised by the homeserver and not shown twice.
Synapse remembers transaction ids per device, which is one more reason the device is kept.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from nio import (
    AsyncClient,
    ErrorResponse,
    LocalProtocolError,
    RoomSendError,
    SendRetryError,
    UploadError,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import RenderedFile, RenderedMessage, TextFormat
from bot.connector import Capabilities
from bot.delivery import PermanentSendError, RetryAfter
from bot.matrix import PLATFORM
from bot.matrix.content import file_content, message_content
from bot.matrix.rooms import is_user_id
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Errors after which sending to this room can never work.
PERMANENT_ERRORS = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN", "M_TOO_LARGE"})
DEFAULT_RETRY_AFTER_S = 5.0


# What Matrix clients show: HTML, choices as numbered lines (no buttons every client shows),
# files; 65 KB per event, so a long text is one message. Synapse's rate limits are the
# homeserver's own settings: a refusal (M_LIMIT_EXCEEDED) says how long to wait, and the
# outbox waits that long (bot/delivery.py RetryAfter).
CAPABILITIES = Capabilities(
    text_format=TextFormat.HTML,
    buttons=False,
    files=True,
    max_text_length=30_000,
    max_buttons=100,
)


class MatrixSendFailed(RuntimeError):
    """A send failed in a way that may pass: the outbox tries again later."""


class MatrixTransport:
    """The sending half of the Matrix connector (bot/matrix/adapter.py)."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(self, client: AsyncClient, sessions: sessionmaker[Session]) -> None:
        self._client = client
        self._sessions = sessions

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Sends the text, then the file if there is one, each with its own txn id."""
        room_id = self._room_for(chat_id)
        if room_id not in self._client.rooms:
            # Joined, but the first sync with the room's state (is it encrypted?) has not
            # come yet: wait for it rather than risk sending in the clear.
            raise MatrixSendFailed("room state not synced yet")
        await self._send_event(room_id, message_content(message), idempotency_key)
        if message.file is not None:
            content = await self._upload(room_id, message.file)
            await self._send_event(room_id, content, f"{idempotency_key}-file")

    def _room_for(self, chat_id: str) -> str:
        """The room of a chat id: a room id as is, a user id as their latest direct room."""
        with UnitOfWork(self._sessions) as uow:
            if is_user_id(chat_id):
                room_id = uow.matrix.direct_room_for(chat_id)
                if room_id is None:
                    raise PermanentSendError("no direct room with this person")
                return room_id
            room = uow.matrix.room(chat_id)
        if room is not None and not room.active:
            raise PermanentSendError("the bot has left this room")
        return chat_id

    async def _send_event(self, room_id: str, content: dict[str, Any], txn_id: str) -> None:
        """One m.room.message; nio encrypts it when the room is encrypted."""
        try:
            # Trust policy (docs/matrix.md): encrypt for every device of the room's members
            # that is not blacklisted, verified or not, as Element does by default.
            response = await self._client.room_send(
                room_id, "m.room.message", content, tx_id=txn_id, ignore_unverified_devices=True
            )
        except (LocalProtocolError, SendRetryError) as exc:
            raise MatrixSendFailed(type(exc).__name__) from exc
        if isinstance(response, RoomSendError):
            _raise_for(response)

    async def _upload(self, room_id: str, file: RenderedFile) -> dict[str, Any]:
        """Uploads a file, encrypted when the room is, and returns the event content."""
        encrypted = self._client.rooms[room_id].encrypted
        response, keys = await self._client.upload(
            io.BytesIO(file.data),
            content_type=file.media_type,
            filename=file.filename,
            encrypt=encrypted,
            filesize=len(file.data),
        )
        if isinstance(response, UploadError):
            _raise_for(response)
        return file_content(file, response.content_uri, keys if encrypted else None)


def _raise_for(response: ErrorResponse) -> None:
    """Turns a Matrix error into what the outbox understands."""
    code = response.status_code
    if code == "M_LIMIT_EXCEEDED":
        retry_ms = response.retry_after_ms
        raise RetryAfter(retry_ms / 1000 if retry_ms else DEFAULT_RETRY_AFTER_S)
    if code in PERMANENT_ERRORS:
        raise PermanentSendError(code)
    log.info("matrix send failed: %s", code)
    raise MatrixSendFailed(str(code))
