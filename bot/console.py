"""Terminal chat adapter: numbered choices, works interactively and with piped input.

A reminder (a nudge, say) is printed between the person's own messages, with its own
numbered choices. Its "1)" must mean its own first choice, not the first line of the older
menu the conversation offered: the transport remembers the newest message per chat, and a
typed number or label of a reminder's choice is read as that choice (as on Matrix).
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.catalogue import RenderedChoice, RenderedMessage, TextFormat
from bot.delivery import Deliverer
from bot.handler import EventHandler
from flows.conversation import ChoiceMade, ConversationRef, Event, Inbound, Resume, parse_text
from flows.engine import NOTICE_CHOICE_PREFIX
from flows.text_rules import same_label

PLATFORM = "console"
LOCAL_USER = ConversationRef(PLATFORM, "local", "local")


class ConsoleTransport:
    """Prints messages to a terminal, with the choices numbered."""

    platform = PLATFORM
    text_format = TextFormat.PLAIN

    def __init__(self, out: TextIO) -> None:
        self._out = out
        # The choices of the newest message per chat (none if it had none).
        self._newest: dict[str, tuple[RenderedChoice, ...]] = {}

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Prints one message and its numbered choices."""
        self._newest[chat_id] = message.choices
        lines = [message.text]
        lines += [f"  {n}) {choice.label}" for n, choice in enumerate(message.choices, start=1)]
        if message.file is not None:
            # A terminal cannot show a file; say what came, so nothing passes silently.
            lines.append(f"  [{message.file.filename}, {len(message.file.data)} bytes]")
        self._out.write("\n".join(lines) + "\n\n")
        self._out.flush()

    def read(self, chat_id: str, text: str) -> Event:
        """The event a typed line stands for: a reminder's choice if it answers the newest
        message and that message was a reminder; otherwise what the text says."""
        event = parse_text(text)
        typed = same_label(text)
        for number, choice in enumerate(self._newest.get(chat_id, ()), start=1):
            if not choice.id.startswith(NOTICE_CHOICE_PREFIX):
                # The conversation offered this list itself; the engine reads numbers there.
                continue
            if typed in (str(number), same_label(choice.label)):
                return ChoiceMade(choice.id)
        return event


async def run_console(
    handler: EventHandler,
    deliverer: Deliverer,
    stdin: TextIO,
    stdout: TextIO,
    ref: ConversationRef = LOCAL_USER,
    transport: ConsoleTransport | None = None,
) -> None:
    """Reads lines until end of input; each line is one event, answered before the next."""
    interactive = stdin.isatty()
    await deliverer.deliver(handler.handle(Inbound(ref, Resume())))
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        text = line.rstrip("\n")
        if not text.strip():
            continue
        if not interactive:
            # Echo piped input so a scripted session reads like a transcript.
            stdout.write(f"> {text}\n")
        event = transport.read(ref.chat_id, text) if transport is not None else parse_text(text)
        await deliverer.deliver(handler.handle(Inbound(ref, event)))
