"""Terminal chat adapter: numbered choices, works interactively and with piped input.

A reminder (a nudge, say) is printed between the person's own messages, with its own
numbered choices. What a typed "1" or a typed label means is decided where it is for every
platform (flows/choice_reading.py, given the newest shown choices by bot/handler.py).
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.catalogue import RenderedMessage, TextFormat
from bot.delivery import Deliverer
from bot.handler import EventHandler
from flows.conversation import ConversationRef, Inbound, Resume, parse_text

PLATFORM = "console"
LOCAL_USER = ConversationRef(PLATFORM, "local", "local")


class ConsoleTransport:
    """Prints messages to a terminal, with the choices numbered."""

    platform = PLATFORM
    text_format = TextFormat.PLAIN

    def __init__(self, out: TextIO) -> None:
        self._out = out

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Prints one message and its numbered choices."""
        lines = [message.text]
        lines += [f"  {n}) {choice.label}" for n, choice in enumerate(message.choices, start=1)]
        if message.file is not None:
            # A terminal cannot show a file; say what came, so nothing passes silently.
            lines.append(f"  [{message.file.filename}, {len(message.file.data)} bytes]")
        self._out.write("\n".join(lines) + "\n\n")
        self._out.flush()


async def run_console(
    handler: EventHandler,
    deliverer: Deliverer,
    stdin: TextIO,
    stdout: TextIO,
    ref: ConversationRef = LOCAL_USER,
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
        await deliverer.deliver(handler.handle(Inbound(ref, parse_text(text))))
