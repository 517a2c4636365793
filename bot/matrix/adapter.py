"""The Matrix sync loop: accepts invites, turns room events into flow events, keeps E2EE going.

One iteration: sync from the stored token → crypto upkeep (keys, to-device) → (after the
first sync of a start: what an earlier run left pending) → invites →
room events in order (each handled in its own transaction, de-duplicated by event id,
its replies delivered) → store the new sync token → deliver anything else that is due.
The token moves only after every event before it was handled, so a crash replays events
(the inbox drops them) but never skips one. A gap in a room's timeline ("limited") is filled
from /messages before the events after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    JoinError,
    KeysClaimError,
    KeysQueryError,
    KeysUploadError,
    MegolmEvent,
    MessageDirection,
    RoomMemberEvent,
    RoomMessagesError,
    RoomMessageText,
    SyncError,
    SyncResponse,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from bot.delivery import Deliverer
from bot.handler import EventHandler
from bot.matrix import PLATFORM
from bot.matrix.content import incoming_text
from bot.matrix.login import MatrixStartError
from bot.matrix.rooms import conversation_ref, kind_of_invite, read_invite, still_direct
from flows.conversation import (
    ConversationRef,
    Inbound,
    Resume,
    parse_text,
)
from flows.replies import say
from storage.matrix_repository import RoomKind
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

UNDECRYPTABLE = "matrix.undecryptable"
# Events per room in one sync; a longer gap is fetched page by page from /messages.
TIMELINE_LIMIT = 50
BACKFILL_PAGE = 100
SYNC_ERROR_PAUSE_S = 5.0


class MatrixAdapter:
    """Runs one bot account: sync, translate, hand to the flows, deliver."""

    def __init__(
        self,
        client: AsyncClient,
        sessions: sessionmaker[Session],
        handler: EventHandler,
        deliverer: Deliverer,
        *,
        sync_token: str | None,
        sync_timeout_ms: int = 30_000,
        timeline_limit: int = TIMELINE_LIMIT,
        default_locale: str = "sv",
        clock: Clock = system_clock,
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._handler = handler
        self._deliverer = deliverer
        self._token = sync_token
        self._timeout_ms = sync_timeout_ms
        self._filter: dict[str, Any] = {
            "room": {"timeline": {"limit": timeline_limit}},
            "presence": {"not_types": ["*"]},
        }
        self._default_locale = default_locale
        self._clock = clock
        self._first_sync = True

    @property
    def user_id(self) -> str:
        """The bot's own Matrix id."""
        user_id: str = self._client.user_id
        return user_id

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Syncs until `stop` is set (or forever); sync errors are waited out, not fatal."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.sync_once()
            except (TimeoutError, OSError, aiohttp.ClientError) as exc:
                # The homeserver is unreachable: nothing was lost, the token did not move.
                log.warning("matrix sync failed: %s; trying again", type(exc).__name__)
                await wait_or_stop(stop, SYNC_ERROR_PAUSE_S)

    async def sync_once(self) -> None:
        """One sync and everything in it."""
        response = await self._client.sync(
            timeout=self._timeout_ms,
            sync_filter=self._filter,
            since=self._token,
            # After a start nio knows no rooms; full state re-teaches it which are encrypted
            # and who is in them, while the timeline still starts at the stored token.
            full_state=True if self._first_sync else None,
        )
        if isinstance(response, SyncError):
            log.warning("matrix sync error: %s", response.status_code)
            if response.status_code == "M_UNKNOWN_TOKEN":
                # Stop rather than spin; the next start logs in again with the password.
                raise MatrixStartError("the homeserver no longer accepts the bot's access token")
            await asyncio.sleep(SYNC_ERROR_PAUSE_S)
            return
        await self._crypto_upkeep()
        if self._first_sync:
            # Messages left pending by an earlier run (a crash, a reminder queued while the
            # bot was down) go out first, but only now: before the first sync nio knows no
            # room, so each send would fail once and wait for its retry.
            self._first_sync = False
            await self._deliverer.deliver()
        await self._accept_invites(response)
        self._record_left_rooms(response)
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and self._token is not None and info.timeline.prev_batch:
                events = await self._missed_events(room_id, info.timeline.prev_batch) + events
            for event in events:
                await self._on_room_event_safely(room_id, event)
        with UnitOfWork(self._sessions) as uow:
            uow.matrix.save_sync_token(self.user_id, response.next_batch, self._clock())
            uow.commit()
        self._token = response.next_batch
        await self._crypto_upkeep()
        await self._deliverer.deliver()

    async def _crypto_upkeep(self) -> None:
        """What sync_forever would do: keys up, others' keys in, to-device messages out."""
        client = self._client
        if client.should_upload_keys:
            _log_error("keys_upload", await client.keys_upload(), KeysUploadError)
        if client.should_query_keys:
            _log_error("keys_query", await client.keys_query(), KeysQueryError)
        if client.should_claim_keys:
            claimed = await client.keys_claim(client.get_users_for_key_claiming())
            _log_error("keys_claim", claimed, KeysClaimError)
        await client.send_to_device_messages()

    async def _accept_invites(self, response: SyncResponse) -> None:
        """Joins every room the bot is invited to, noting whether it is a direct room."""
        for room_id, info in response.rooms.invite.items():
            invite = read_invite(info.invite_state, self.user_id)
            joined = await self._client.join(room_id)
            if isinstance(joined, JoinError):
                log.warning("matrix: could not join a room: %s", joined.status_code)
                continue
            kind = kind_of_invite(invite)
            person = invite.inviter if kind is RoomKind.DIRECT else None
            with UnitOfWork(self._sessions) as uow:
                uow.matrix.save_room(room_id, kind, person, self._clock())
                uow.commit()
            log.info("matrix: joined a %s room", kind.value)

    def _record_left_rooms(self, response: SyncResponse) -> None:
        """Rooms the bot left or was removed from get no more messages."""
        if not response.rooms.leave:
            return
        with UnitOfWork(self._sessions) as uow:
            for room_id in response.rooms.leave:
                uow.matrix.leave_room(room_id, self._clock())
            uow.commit()

    async def _missed_events(self, room_id: str, prev_batch: str) -> list[Any]:
        """The events between the stored token and a limited timeline, oldest first."""
        missed: list[Any] = []
        start = prev_batch
        while True:
            page = await self._client.room_messages(
                room_id,
                start=start,
                end=self._token,
                direction=MessageDirection.back,
                limit=BACKFILL_PAGE,
            )
            if isinstance(page, RoomMessagesError):
                # Not fatal, but the operator should know: events may have been skipped.
                log.error("matrix: could not fetch missed events: %s", page.status_code)
                break
            missed.extend(page.chunk)
            if not page.chunk or not page.end or page.end == start:
                break
            start = page.end
        missed.reverse()
        log.info("matrix: fetched %d missed events", len(missed))
        return missed

    async def _on_room_event_safely(self, room_id: str, event: Any) -> None:
        """Handles one event; a bug triggered by one event must not stop every other chat.

        A database that is down is different: that error stops the loop before the sync
        token moves, so the event is handled after the restart instead of being skipped.
        """
        try:
            await self._on_room_event(room_id, event)
        except SQLAlchemyError:
            raise
        except Exception as exc:
            # The type and the event id only: an exception's text may quote the message.
            log.error(
                "matrix: event %s could not be handled: %s",
                getattr(event, "event_id", "?"),
                type(exc).__name__,
            )

    async def _on_room_event(self, room_id: str, event: Any) -> None:
        """Routes one timeline event: text to the flows, undecryptable to an honest answer."""
        if isinstance(event, RoomMemberEvent):
            await self._on_membership(room_id, event)
            return
        if event.sender == self.user_id:
            return
        if isinstance(event, RoomMessageText):
            text = incoming_text(event.source.get("content", {}))
            if text is None:
                return
            ref = self._ref(room_id, event.sender)
            await self._handle(Inbound(ref, parse_text(text), event.event_id))
        elif isinstance(event, MegolmEvent):
            self._answer_undecryptable(room_id, event)
            await self._deliverer.deliver()

    async def _on_membership(self, room_id: str, event: RoomMemberEvent) -> None:
        """Greets in a new direct room; leaves a direct room its person has left."""
        with UnitOfWork(self._sessions) as uow:
            room = uow.matrix.room(room_id)
        if room is None or room.kind is not RoomKind.DIRECT or room.direct_user_id is None:
            return
        if event.state_key == self.user_id and event.membership == "join":
            if event.prev_membership != "join":
                # A stranger is asked for their code; a member sees where they were.
                ref = conversation_ref(room_id, room.direct_user_id, direct=True)
                await self._handle(Inbound(ref, Resume(), event.event_id))
        elif event.state_key == room.direct_user_id and event.membership in ("leave", "ban"):
            await self._client.room_leave(room_id)
            with UnitOfWork(self._sessions) as uow:
                uow.matrix.leave_room(room_id, self._clock())
                uow.commit()

    def _ref(self, room_id: str, sender: str) -> ConversationRef:
        """The conversation of a sender in a room; a direct room that grew becomes a group."""
        with UnitOfWork(self._sessions) as uow:
            room = uow.matrix.room(room_id)
            nio_room = self._client.rooms.get(room_id)
            members = nio_room.member_count if nio_room is not None else 0
            if room is None:
                # Joined before this database knew the room (e.g. restored elsewhere).
                uow.matrix.save_room(room_id, RoomKind.GROUP, None, self._clock())
                direct = False
            elif room.kind is RoomKind.DIRECT and not still_direct(room, sender, members):
                uow.matrix.save_room(room_id, RoomKind.GROUP, None, self._clock())
                log.info("matrix: a direct room got more members; now a group room")
                direct = False
            else:
                direct = room.kind is RoomKind.DIRECT
                if direct:
                    uow.matrix.touch_direct_room(room_id, self._clock())
            uow.commit()
        return conversation_ref(room_id, sender, direct)

    async def _handle(self, inbound: Inbound) -> None:
        """Hands one event to the flows and sends what they answered."""
        # The flows' step waits on the database: in a worker thread, so the ticker and the
        # other channels of the process go on meanwhile. Events stay in order: each is
        # awaited before the next.
        ids = await asyncio.to_thread(self._handler.handle, inbound)
        if ids:
            await self._deliverer.deliver(ids)

    def _answer_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        """Says honestly that a message could not be read, once per event."""
        ref = self._ref(room_id, event.sender)
        now = self._clock()
        with UnitOfWork(self._sessions) as uow:
            if not uow.inbox.record(PLATFORM, event.event_id, now):
                return
            actor = uow.members.actor_for(ref)
            locale = actor.locale if actor is not None else self._default_locale
            uow.outbox.enqueue(PLATFORM, ref.chat_id, (say(UNDECRYPTABLE),), locale, now)
            uow.commit()
        log.warning("matrix: an event could not be decrypted (session %s)", event.session_id)


def _log_error(what: str, response: object, error_type: type) -> None:
    """Crypto upkeep failures are logged and retried on the next sync."""
    if isinstance(response, error_type):
        log.warning("matrix %s failed: %s", what, getattr(response, "status_code", "?"))


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Waits before retrying, but wakes at once when asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
