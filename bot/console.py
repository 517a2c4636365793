"""The terminal connector: one person types lines, the bot prints numbered choices.

It is the smallest connector, and the worked example in docs/development.md: it translates
a typed line into an event, prints a rendered message, and says what a terminal can show.
Everything between (order, the handler, delivery) is the pipeline's (bot/pipeline.py). A
reminder printed between the person's own messages has its own numbered choices; what a
typed "1" or a typed label means is decided where it is for every platform
(flows/choice_reading.py, given the newest shown choices by bot/handler.py).
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.catalogue import RenderedMessage
from bot.connector import PLAIN_TEXT, Translated
from bot.pipeline import Pipeline
from flows.conversation import ConversationRef, Inbound, Resume, parse_text

PLATFORM = "console"
LOCAL_USER = ConversationRef(PLATFORM, "local", "local")

# Plain text, choices as numbered lines, files named but not shown; nobody to rate-limit.
CAPABILITIES = PLAIN_TEXT


class ConsoleConnector:
    """Prints messages to a terminal, with the choices numbered; reads typed lines."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(self, out: TextIO, ref: ConversationRef = LOCAL_USER) -> None:
        self._out = out
        self.ref = ref

    def translate(self, update: str) -> Translated:
        """A typed line is a command, a code or text (a number is read by the pipeline);
        an empty line is nothing."""
        if not update.strip():
            return None
        return Inbound(self.ref, parse_text(update))

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
    pipeline: Pipeline, connector: ConsoleConnector, stdin: TextIO, stdout: TextIO
) -> None:
    """Reads lines until end of input; each line is one event, answered before the next."""
    interactive = stdin.isatty()
    pipeline.delivery.attach(connector)
    try:
        await pipeline.submit(Inbound(connector.ref, Resume()))
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            translated = connector.translate(text)
            if translated is None:
                continue
            if not interactive:
                # Echo piped input so a scripted session reads like a transcript.
                stdout.write(f"> {text}\n")
            await pipeline.submit(translated)
    finally:
        pipeline.delivery.detach(connector.platform)
