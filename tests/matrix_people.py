"""People and a bot on a real Synapse: matrix-nio clients that read like the chat they have.

person = await Person.start(hs, "alex", tmp_path)
room = await person.open_dm(bot.user_id)
greeting = await person.next_from(bot.user_id, room)
await person.choose(room, "Mina frågor")
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    JoinError,
    KeysUploadError,
    MatrixRoom,
    MegolmEvent,
    RoomCreateError,
    RoomEncryptedMedia,
    RoomMessageMedia,
    RoomMessageText,
    RoomPreset,
    RoomSendError,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.clock import Clock, system_clock
from bot.config import MatrixConfig
from bot.delivery_loop import DeliveryLoop
from bot.handler import EventHandler
from bot.matrix.adapter import TIMELINE_LIMIT, MatrixAdapter
from bot.matrix.login import MatrixSecrets, log_in, new_client
from bot.matrix.transport import MatrixTransport
from bot.pipeline import Pipeline
from flows.wiring import default_engine
from tests.support.synapse import Homeserver, RegisteredUser, running_synapse

WAIT_S = 45.0
LONG_POLL_MS = 300
MEGOLM = "m.megolm.v1.aes-sha2"
PICKLE_KEY = "test-pickle-key-not-nios-default"
_CHOICE_LINE = re.compile(r"^(\d+)\) (.*)$")
_names = itertools.count(1)


def unique(localpart: str) -> str:
    """A localpart no other test on this homeserver uses."""
    return f"{localpart}{next(_names)}"


def encryption_state() -> dict[str, Any]:
    """The initial state event that makes a new room end-to-end encrypted."""
    return {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}


@dataclass
class Person:
    """A human's Matrix client: syncs in the background and keeps every message it saw."""

    user: RegisteredUser
    client: AsyncClient
    seen: list[tuple[str, Event]] = field(default_factory=list)
    read: dict[tuple[str, str], int] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, hs: Homeserver, localpart: str, tmp: Path) -> Person:
        """Registers a user and starts their encryption-enabled client."""
        user = hs.register(unique(localpart), "secret-password")
        store = tmp / f"{user.user_id[1:].split(':')[0]}-store"
        store.mkdir()
        client = AsyncClient(
            hs.url,
            user.user_id,
            device_id=user.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        client.restore_login(user.user_id, user.device_id, user.access_token)
        uploaded = await client.keys_upload()
        assert not isinstance(uploaded, KeysUploadError), uploaded
        person = cls(user, client)
        client.add_event_callback(
            person._on_event, (RoomMessageText, RoomMessageMedia, RoomEncryptedMedia, MegolmEvent)
        )
        person.task = asyncio.create_task(client.sync_forever(timeout=LONG_POLL_MS))
        return person

    @property
    def user_id(self) -> str:
        """The person's Matrix id."""
        return self.user.user_id

    async def stop(self) -> None:
        """Stops syncing and closes the client."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()

    async def _on_event(self, room: MatrixRoom, event: Event) -> None:
        """Keeps the event and wakes whoever waits for one."""
        async with self.changed:
            self.seen.append((room.room_id, event))
            self.changed.notify_all()

    async def wait_until(self, done: Callable[[], bool], what: str) -> None:
        """Waits (bounded) until `done()` holds after some sync."""

        async def check() -> None:
            async with self.changed:
                await self.changed.wait_for(done)

        async def poke() -> None:
            # Client state (rooms, devices) changes without a message; re-check per sync.
            while True:
                await self.client.synced.wait()
                async with self.changed:
                    self.changed.notify_all()

        poker = asyncio.create_task(poke())
        try:
            await asyncio.wait_for(check(), WAIT_S)
        except TimeoutError as exc:
            raise AssertionError(f"{self.user_id}: no {what} within {WAIT_S:.0f}s") from exc
        finally:
            poker.cancel()

    def messages_from(self, sender: str, room_id: str) -> list[Event]:
        """Every message `sender` sent in a room, in order."""
        return [e for r, e in self.seen if r == room_id and e.sender == sender]

    async def next_from(self, sender: str, room_id: str, count: int = 1) -> list[Event]:
        """The next `count` messages from `sender` in a room that the test has not read."""
        key = (sender, room_id)
        start = self.read.get(key, 0)
        await self.wait_until(
            lambda: len(self.messages_from(sender, room_id)) >= start + count,
            f"{count} message(s) from {sender}",
        )
        self.read[key] = start + count
        return self.messages_from(sender, room_id)[start : start + count]

    def unread_from(self, sender: str, room_id: str) -> list[Event]:
        """Messages from `sender` the test has not read yet (without waiting)."""
        return self.messages_from(sender, room_id)[self.read.get((sender, room_id), 0) :]

    async def open_dm(self, bot_id: str, encrypted: bool = True) -> str:
        """Starts a direct chat with the bot, as Element does: is_direct, encrypted."""
        created = await self.client.room_create(
            is_direct=True,
            preset=RoomPreset.trusted_private_chat,
            invite=[bot_id],
            initial_state=[encryption_state()] if encrypted else [],
        )
        assert not isinstance(created, RoomCreateError), created
        room_id: str = created.room_id
        return room_id

    async def open_group(self, invite: list[str], name: str) -> str:
        """Creates an encrypted group room (a family room) and invites people into it."""
        created = await self.client.room_create(
            name=name,
            preset=RoomPreset.private_chat,
            invite=invite,
            initial_state=[encryption_state()],
        )
        assert not isinstance(created, RoomCreateError), created
        room_id: str = created.room_id
        return room_id

    async def accept(self, room_id: str) -> None:
        """Joins a room once the invite has arrived."""
        await self.wait_until(lambda: room_id in self.client.invited_rooms, "invite")
        joined = await self.client.join(room_id)
        assert not isinstance(joined, JoinError), joined

    async def knows_devices_of(self, room_id: str, *user_ids: str) -> None:
        """Waits until these users are in the room and their device keys are known."""

        def known() -> bool:
            room = self.client.rooms.get(room_id)
            return (
                room is not None
                and room.encrypted
                and all(
                    u in room.users
                    and u not in room.invited_users
                    and list(self.client.device_store.active_user_devices(u))
                    for u in user_ids
                )
            )

        await self.wait_until(known, "device keys of the room's members")

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        """Sends a text message (encrypted in an encrypted room) and returns its event id."""
        sent = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text, **extra},
            ignore_unverified_devices=True,
        )
        assert not isinstance(sent, RoomSendError), sent
        event_id: str = sent.event_id
        return event_id

    async def choose(self, room_id: str, bot_id: str, label: str) -> str:
        """Replies with the number of the choice whose label contains `label`."""
        number = choice_number(self.messages_from(bot_id, room_id), label)
        return await self.say(room_id, str(number))


def choice_number(messages: list[Event], label: str) -> int:
    """The number of a choice in the newest message that offers choices."""
    for event in reversed(messages):
        choices = [
            m.groups()
            for line in getattr(event, "body", "").splitlines()
            if (m := _CHOICE_LINE.match(line))
        ]
        if choices:
            for number, text in choices:
                if label in text:
                    return int(number)
            raise AssertionError(f"no choice {label!r} in {[t for _, t in choices]}")
    raise AssertionError("the bot offered no choices")


@dataclass
class RunningBot:
    """The bot as `samverkan run` wires it, running as a task on this event loop."""

    user_id: str
    device_id: str
    client: AsyncClient
    adapter: MatrixAdapter
    transport: MatrixTransport
    delivery: DeliveryLoop
    task: asyncio.Task[None]
    resumed_from: str | None

    async def stop(self) -> None:
        """Stops the bot abruptly, as a crash or a kill would, and closes its connection."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()


def bot_config(hs: Homeserver, user_id: str, store: Path) -> MatrixConfig:
    """The [matrix] settings for a test bot."""
    return MatrixConfig(
        enabled=True, homeserver=hs.url, user_id=user_id, store_path=str(store), device_name="bot"
    )


def bot_environment(password: str) -> dict[str, str]:
    """The bot's secrets, as the operator's environment would hold them."""
    return {"SAMVERKAN_MATRIX_PASSWORD": password, "SAMVERKAN_MATRIX_PICKLE_KEY": PICKLE_KEY}


async def start_bot(
    config: MatrixConfig,
    password: str,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    timeline_limit: int = TIMELINE_LIMIT,
    clock: Clock = system_clock,
    handler: EventHandler | None = None,
) -> RunningBot:
    """Logs the bot in (or restores its device) and starts its sync loop.

    One clock for the handler, the outbox and the adapter, as in `samverkan run`: give the
    test's clock to send what a scheduler tick enqueued at the test's time."""
    secrets = MatrixSecrets.from_environment(config, bot_environment(password))
    client = new_client(config, secrets)
    sync_token = await log_in(client, config, secrets, sessions)
    transport = MatrixTransport(client, sessions)
    delivery = DeliveryLoop(sessions, catalogue, clock=clock)
    handler = handler or EventHandler(
        sessions, default_engine(), clock=clock, labels=catalogue.label
    )
    adapter = MatrixAdapter(
        client,
        sessions,
        Pipeline(handler, delivery),
        transport,
        sync_token=sync_token,
        sync_timeout_ms=LONG_POLL_MS,
        timeline_limit=timeline_limit,
        clock=clock,
    )
    task = asyncio.create_task(adapter.run())
    return RunningBot(
        config.user_id, client.device_id, client, adapter, transport, delivery, task, sync_token
    )


@pytest.fixture(scope="module", name="hs")
def synapse_server() -> Iterator[Homeserver]:
    """One throwaway Synapse for a test module; every test registers its own users."""
    with running_synapse() as server:
        yield server


def run(hs: Homeserver, scenario: Coroutine[Any, Any, None]) -> None:
    """Runs an async scenario with an overall bound; prints the server log if it fails."""
    try:
        asyncio.run(asyncio.wait_for(scenario, timeout=240))
    except BaseException:
        print(f"homeserver log tail:\n{hs.log_tail()}")
        raise
