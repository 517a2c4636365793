"""Drives the real Telegram adapter end to end: emulator + strict front + database.

    async with running_bot(sessions, catalogue) as bot:
        alex = bot.user(ALEX)
        await alex.command("/start", code)
        await alex.tap("Mina frågor")
        assert "Dina frågor" in alex.text()

Each action waits until the update is recorded in the inbox and every reply in that chat
has left the outbox, so tests never sleep for a guessed time. Give `running_bot` the test's
clock when the scheduler's rows matter: the handler, the outbox sweeper and the tick then
agree on what "now" is.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.clock import Clock, system_clock
from bot.config import TelegramConfig, TelegramMode
from bot.files import FileMaker
from bot.handler import EventHandler
from bot.telegram.pacer import Pacer
from bot.telegram.service import TelegramService
from flows.wiring import default_engine
from storage import models as m
from tests.support.strict_bot_api import StrictBotApi, parse_telegram_html, running_strict_api
from tests.support.telegram_emulator import (
    BotMessage,
    ChatType,
    EmulatedUser,
    EmulatorClient,
    SentUpdate,
    running_emulator,
)

SETTLE_TIMEOUT = 20.0


@contextlib.contextmanager
def emulated_telegram() -> Iterator[tuple[EmulatorClient, StrictBotApi]]:
    """The emulator with the strict front before it (what the bot talks to)."""
    with running_emulator() as emulator, running_strict_api(emulator.base_url) as strict:
        yield emulator, strict


@dataclass
class RunningBot:
    """The adapter under test and what it talks to."""

    service: TelegramService
    emulator: EmulatorClient
    strict: StrictBotApi
    sessions: sessionmaker[Session]
    bot_id: int
    # Newest bot message id seen per chat: what came after it is the next turn.
    seen: dict[int, int] = field(default_factory=dict)
    # What each bot message showed when last read, per chat: a message the bot edited since
    # (an answer in place of the tapped message, bot/edit_in_place.py) is part of the turn.
    shown: dict[int, dict[int, str]] = field(default_factory=dict)

    def user(
        self,
        user: EmulatedUser,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
    ) -> TelegramUser:
        """A person in a chat (their private chat unless a group id is given)."""
        return TelegramUser(self, user, chat_id if chat_id is not None else user.id, chat_type)

    async def settle(self, update: SentUpdate, chat_id: int) -> None:
        """Waits until the update took effect and its replies in the chat were sent."""
        key = f"{self.bot_id}:{update.update_id}"
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            if await asyncio.to_thread(self._settled, key, str(chat_id)):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"update {key} not settled in {SETTLE_TIMEOUT} s")
            await asyncio.sleep(0.05)

    def _settled(self, key: str, chat_id: str) -> bool:
        with self.sessions() as session:
            seen = session.scalar(
                select(func.count())
                .select_from(m.InboxEvent)
                .where(m.InboxEvent.platform_event_id == key)
            )
        return bool(seen) and self.all_sent(chat_id)

    def all_sent(self, chat_id: str) -> bool:
        """True when no message to the chat is still waiting in the outbox."""
        with self.sessions() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(m.Outbox)
                .where(
                    m.Outbox.platform == "telegram",
                    m.Outbox.chat_id == chat_id,
                    m.Outbox.status.in_(("pending", "sending")),  # not yet sent
                )
            )
        return not pending


@dataclass
class TelegramUser:
    """One person in one chat, acting through the emulator's client API."""

    bot: RunningBot
    user: EmulatedUser
    chat_id: int
    chat_type: ChatType
    turn: list[BotMessage] = field(default_factory=list)
    # The messages of the turn that were already in the chat: edited in place.
    edits: list[BotMessage] = field(default_factory=list)

    async def command(self, command: str, args: str = "") -> list[BotMessage]:
        """Sends a command (as Telegram marks it: a bot_command entity)."""
        return await self._act(
            self.bot.emulator.send_command(self.chat_id, self.user, command, args, self.chat_type)
        )

    async def say(self, text: str) -> list[BotMessage]:
        """Sends a text message."""
        return await self._act(
            self.bot.emulator.send_message(self.chat_id, self.user, text, self.chat_type)
        )

    async def says_yes(self, *, youth: bool = True) -> list[BotMessage]:
        """First contact: yes to the bot, (a young person's) age 15, yes to SIP sharing."""
        await self.tap("Ja, det är okej")
        if youth:
            await self.say("15")
        return await self.tap("Ja, alla får se")

    async def receive(self) -> list[BotMessage]:
        """Waits for what the bot sends on its own (a nudge from the sweeper) and reads it."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            messages = await self.bot.emulator.bot_messages(self.chat_id)
            seen = self.bot.seen.get(self.chat_id, 0)
            new = [m for m in messages if int(m["message_id"]) > seen]
            if new and await asyncio.to_thread(self.bot.all_sent, str(self.chat_id)):
                return self._read(messages)
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing arrived in chat {self.chat_id}")
            await asyncio.sleep(0.05)

    async def tap(self, label: str) -> list[BotMessage]:
        """Presses the button whose label contains `label` on the newest keyboard."""
        message, data = await self.button(label)
        return await self.press(message["message_id"], data)

    async def press(self, message_id: int, data: str) -> list[BotMessage]:
        """Presses a button by its data on a given message (also an old one)."""
        return await self._act(
            self.bot.emulator.send_callback(self.chat_id, self.user, message_id, data)
        )

    async def button(self, label: str) -> tuple[BotMessage, str]:
        """The newest message with a keyboard, and the data of its button matching `label`."""
        for message in reversed(await self.bot.emulator.bot_messages(self.chat_id)):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if rows:
                matches = [b for row in rows for b in row if label in b["text"]]
                labels = [b["text"] for row in rows for b in row]
                assert len(matches) == 1, f"{label!r} matches {len(matches)} of {labels}"
                return message, matches[0]["callback_data"]
        raise AssertionError("no message with buttons in this chat")

    def text(self) -> str:
        """Everything the bot said in its last turn, as the person reads it."""
        return "\n".join(visible(m) for m in self.turn)

    def labels(self) -> list[str]:
        """Labels of the buttons under the last message of the turn."""
        rows = self.turn[-1].get("reply_markup", {}).get("inline_keyboard", []) if self.turn else []
        return [b["text"] for row in rows for b in row]

    async def _act(self, action: Any) -> list[BotMessage]:
        sent: SentUpdate = await action
        await self.bot.settle(sent, self.chat_id)
        return self._read(await self.bot.emulator.bot_messages(self.chat_id))

    def _read(self, messages: list[BotMessage]) -> list[BotMessage]:
        """Makes the messages after the last turn, and those edited since, this turn.

        Taking the pressed buttons away is an edit too, but no answer: a message whose text
        stayed and whose buttons went is not part of the turn.
        """
        seen = self.bot.seen.get(self.chat_id, 0)
        shown = self.bot.shown.setdefault(self.chat_id, {})
        self.turn = []
        self.edits = []
        for message in messages:
            number = int(message["message_id"])
            before, now = shown.get(number), _showing(message)
            if number > seen:
                self.turn.append(message)
            elif (
                before is not None
                and before != now
                and (before.split("\0")[0] != visible(message) or _labels(message))
            ):
                self.turn.append(message)
                self.edits.append(message)
            shown[number] = now
        if messages:
            self.bot.seen[self.chat_id] = max(seen, *(int(m["message_id"]) for m in messages))
        return self.turn


def _labels(message: BotMessage) -> list[str]:
    """The labels of a message's buttons."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def _showing(message: BotMessage) -> str:
    """What a message shows: its text and button labels."""
    return "\0".join([visible(message), *_labels(message)])


def visible(message: BotMessage) -> str:
    """The text of a bot message as Telegram shows it (HTML parsed)."""
    text = str(message.get("text") or message.get("caption") or "")
    return parse_telegram_html(text) if message.get("parse_mode") == "HTML" else text


@contextlib.asynccontextmanager
async def running_bot(
    emulator: EmulatorClient,
    strict: StrictBotApi,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    mode: TelegramMode = TelegramMode.POLLING,
    handler: EventHandler | None = None,
    clock: Clock = system_clock,
    file_makers: Mapping[str, FileMaker] | None = None,
    start_pause: Callable[[float], Awaitable[None]] | None = None,
    pacer: Pacer | None = None,
    **settings: Any,
) -> AsyncIterator[RunningBot]:
    """The Telegram service against the strict front, stopped cleanly afterwards.

    `file_makers` are what `samverkan run` registers (exports, calendar files, reports);
    without them a reply with a file fails to send. `start_pause` replaces the service's
    wait between tries to reach Telegram at start, so a test decides when Telegram is back.
    `pacer` replaces the service's own, e.g. one on a virtual clock.
    """
    config = TelegramConfig(enabled=True, mode=mode, api_base_url=strict.base_url, **settings)
    handler = handler or EventHandler(
        sessions, default_engine(), clock=clock, labels=catalogue.label
    )
    service = TelegramService(
        config,
        emulator.token,
        sessions,
        handler,
        catalogue,
        webhook_secret="test-secret_1" if mode is TelegramMode.WEBHOOK else None,
        clock=clock,
        file_makers=file_makers,
        start_pause=start_pause,
        pacer=pacer,
    )
    task = asyncio.create_task(service.run(handle_signals=False))
    ready = asyncio.create_task(service.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what went wrong at start
    assert ready in done, "the Telegram service did not start"
    try:
        yield RunningBot(service, emulator, strict, sessions, int(emulator.token.split(":")[0]))
    finally:
        service.stop()
        await asyncio.wait_for(task, 30)
