"""The terminal connector: one person types lines, the bot prints numbered choices.

It is the smallest connector, and the worked example in docs/development.md: it translates
a typed line into an event, prints a rendered message, and says what a terminal can show.
Everything between (order, the handler, delivery) is the pipeline's (bot/pipeline.py). A
reminder printed between the person's own messages has its own numbered choices; what a
typed "1" or a typed label means is decided where it is for every platform
(flows/choice_reading.py, given the newest shown choices by bot/handler.py).

In the demo every member of the case chats on this platform, so a notice for another member
(Kim, when Alex's age asks for a caregiver's yes) is printed here too: it is labelled as
someone else's, without numbers, since a typed "1" answers the person's own list. Files
(the calendar file, /minadata's export) are written to a folder, and their path printed.
Typed lines are read in a daemon thread, so Ctrl-C ends the terminal at once; at a terminal,
lines that arrive together (a pasted plan) are one message.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from platformdirs import user_data_path

from bot.catalogue import Catalogue, RenderedMessage, TextFormat
from bot.connector import PLAIN_TEXT, Translated
from bot.pipeline import Pipeline
from flows.conversation import ConversationRef, Inbound, Resume, parse_text

PLATFORM = "console"
LOCAL_USER = ConversationRef(PLATFORM, "local", "local")

# Plain text, choices as numbered lines, files saved to a folder; nobody to rate-limit.
CAPABILITIES = PLAIN_TEXT

# Lines of one paste reach the terminal microseconds apart; a person typing needs far longer
# than this between two Enters, so lines closer than this are one message.
PASTE_GAP_SECONDS = 0.05


def default_files_folder() -> Path:
    """Where the terminal saves the files the bot sends: the user's data folder."""
    return user_data_path("samverkansboten") / "filer"


class ConsoleConnector:
    """Prints messages to a terminal, with the choices numbered; reads typed lines."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(
        self,
        out: TextIO,
        ref: ConversationRef = LOCAL_USER,
        *,
        files: Path | None = None,
        catalogue: Catalogue | None = None,
        locale: str | None = None,
    ) -> None:
        self._out = out
        self.ref = ref
        self._files = files or default_files_folder()
        self._catalogue = catalogue or Catalogue()
        # The terminal's own words (labels, saved files) in the person's language.
        self._locale = locale or self._catalogue.default_locale

    def translate(self, update: str) -> Translated:
        """A typed line is a command, a code or text (a number is read by the pipeline);
        an empty line is nothing."""
        if not update.strip():
            return None
        return Inbound(self.ref, parse_text(update))

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Prints one message and its choices: numbered for this person, labelled and not
        numbered when it is someone else's; a file is saved and its path printed."""
        mine = chat_id == self.ref.chat_id
        lines = [] if mine else [self._words("console.for_someone_else", chat=chat_id)]
        lines.append(message.text)
        if mine:
            lines += [f"  {n}) {c.label}" for n, c in enumerate(message.choices, start=1)]
        else:
            lines += [f"  - {choice.label}" for choice in message.choices]
        if message.file is not None:
            path = self._save(message.file.filename, message.file.data)
            lines.append("  " + self._words("console.file_saved", path=str(path)))
        self._out.write("\n".join(lines) + "\n\n")
        self._out.flush()

    def _save(self, filename: str, data: bytes) -> Path:
        """Writes a file into the folder, readable by this user alone (it may be their data)."""
        self._files.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The name is the bot's, but only its last part is used: nothing lands elsewhere.
        path = (self._files / (Path(filename).name or "fil")).resolve()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        path.chmod(0o600)  # an older file of that name may have been made readable by others
        return path

    def _words(self, message_id: str, **params: str) -> str:
        """One of the terminal's own texts from the catalogue."""
        return self._catalogue.render(message_id, params, self._locale, TextFormat.PLAIN)


@dataclass(frozen=True, slots=True)
class TypedLine:
    """One line read from the terminal, and when it came (seconds, monotonic)."""

    text: str
    at: float


def join_pasted(lines: Sequence[TypedLine], gap: float = PASTE_GAP_SECONDS) -> list[str]:
    """The messages in these lines: a line within `gap` of the one before belongs to it."""
    messages: list[list[str]] = []
    previous: float | None = None
    for line in lines:
        if messages and previous is not None and line.at - previous <= gap:
            messages[-1].append(line.text)
        else:
            messages.append([line.text])
        previous = line.at
    return ["\n".join(message) for message in messages]


class LineReader:
    """Reads lines in a daemon thread: a blocked read never holds up the exit (Ctrl-C)."""

    def __init__(self, stdin: TextIO, clock: Callable[[], float]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[TypedLine | None] = asyncio.Queue()
        self._held: TypedLine | None = None
        self._ended = False
        self._stdin, self._clock = stdin, clock
        threading.Thread(target=self._pump, name="console-input", daemon=True).start()

    def _pump(self) -> None:
        """Reads until end of input, handing each line (and the end) to the loop."""
        while True:
            line = self._stdin.readline()
            item = TypedLine(line.rstrip("\n"), self._clock()) if line else None
            with suppress(RuntimeError):  # the loop closed: the terminal is gone
                self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
            if item is None:
                return

    async def next_lines(self, gap: float | None) -> list[TypedLine]:
        """The next line, with (given a gap) the lines that came right after it; [] at the end."""
        first = self._held or (None if self._ended else await self._queue.get())
        self._held = None
        if first is None:
            return []
        lines = [first]
        while gap is not None:
            try:
                # A paste's next line is in the queue already, or comes within the gap.
                following = await asyncio.wait_for(self._queue.get(), gap)
            except TimeoutError:
                break
            if following is None:
                self._ended = True
                break
            if following.at - lines[-1].at > gap:
                self._held = following  # typed later: the next message
                break
            lines.append(following)
        return lines


async def run_console(
    pipeline: Pipeline,
    connector: ConsoleConnector,
    stdin: TextIO,
    stdout: TextIO,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Reads lines until end of input; each message is answered before the next. At a
    terminal, lines pasted together are one message; piped lines are one message each."""
    interactive = stdin.isatty()
    pipeline.delivery.attach(connector)
    try:
        await pipeline.submit(Inbound(connector.ref, Resume()))
        reader = LineReader(stdin, clock)
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            lines = await reader.next_lines(PASTE_GAP_SECONDS if interactive else None)
            if not lines:
                break
            for text in join_pasted(lines) if interactive else [line.text for line in lines]:
                translated = connector.translate(text)
                if translated is None:
                    continue
                if not interactive:
                    # Echo piped input so a scripted session reads like a transcript.
                    stdout.write(f"> {text}\n")
                await pipeline.submit(translated)
    finally:
        pipeline.delivery.detach(connector.platform)
