"""The terminal connector: numbered choices, and a reminder's "1" means the reminder's own choice.

Sara from BUP uses the terminal chat. Her list of actions is on screen; then a nudge is
printed with "1) Visa mina åtgärder". She types 1 and gets her list, not the first line of
the older list (which would open the action itself). The terminal only translates and
prints: what "1" means is read once, for every platform (flows/choice_reading.py).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedChoice, RenderedFile, RenderedMessage
from bot.console import ConsoleConnector, TypedLine, join_pasted, run_console
from bot.delivery_loop import DeliveryLoop
from bot.handler import EventHandler
from bot.pipeline import Pipeline
from flows.conversation import (
    Command,
    CommandIssued,
    ConversationRef,
    Inbound,
    JoinWithCode,
    TextMessage,
)
from flows.wiring import default_engine
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code, run_tick

SARA = ConversationRef("console", "local", "local")


class Terminal:
    """Sara at the terminal chat, with her case's plan and a nudge on screen."""

    def __init__(
        self, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
    ) -> None:
        maria = chat(sessions, catalogue, clock, "maria")
        maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
        self.code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
        self.out = io.StringIO()
        self.sessions, self.clock = sessions, clock
        handler = EventHandler(sessions, default_engine(), clock=clock, labels=catalogue.label)
        self.terminal = ConsoleConnector(self.out, SARA)
        self.pipeline = Pipeline(handler, DeliveryLoop(sessions, catalogue, clock=clock))

    def printed_after(self, action: Callable[[], Coroutine[Any, Any, object]]) -> str:
        """What the terminal printed while `action` ran."""
        start = len(self.out.getvalue())
        asyncio.run(action())
        return self.out.getvalue()[start:]

    def starts(self) -> str:
        """Sara starts the terminal chat with her invite code."""
        stdin = io.StringIO(f"/start {self.code}\n")
        shown = self.printed_after(
            lambda: run_console(self.pipeline, self.terminal, stdin, self.out)
        )
        # Input ended and the terminal let go; it stays on screen for the rest of the test.
        self.pipeline.delivery.attach(self.terminal)
        return shown

    def nudge(self) -> str:
        """The day before the due date, the nudge is printed."""
        self.clock.advance(days=7)
        return self.printed_after(
            lambda: self.pipeline.delivery.deliver(run_tick(self.sessions, self.clock))
        )

    def types(self, line: str) -> str:
        """Sara types one line into the terminal, translated as the terminal does."""
        translated = self.terminal.translate(line)
        assert translated is not None
        return self.printed_after(lambda: self.pipeline.submit(translated))


def test_a_typed_number_answers_the_newest_reminder_not_the_older_menu(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    sara = Terminal(sessions, catalogue, clock)
    shown = sara.starts()
    assert "Du har 1 öppen åtgärd." in shown
    assert "1) K-1: Skicka remiss" in shown

    nudge = sara.nudge()
    assert "Du har 1 åtgärd i ärende K-1, 1 förfaller snart." in nudge
    assert "1) Visa mina åtgärder" in nudge

    reply = sara.types("1")
    assert "Hej Sara! Du har 1 öppen åtgärd." in reply, reply
    assert "Hur går det?" not in reply, "the older list's first line was opened instead"
    # Now the conversation's own list is the newest: "1" opens its first line.
    assert "Skicka remiss (ärende K-1)" in sara.types("1")


def test_a_reminders_button_typed_by_its_words_answers_the_reminder(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    sara = Terminal(sessions, catalogue, clock)
    sara.starts()
    sara.nudge()
    # "2" is no line of the reminder she sees: text, not the older list's second line.
    assert sara.types("2").startswith("Det förstod jag inte."), "read as the older list's 2"
    sara.nudge()  # overdue now: the next nudge
    reply = sara.types("  visa MINA åtgärder ")
    assert reply.startswith("Hej Sara! Du har 1 öppen åtgärd."), reply


def test_the_words_of_her_own_lists_line_still_answer_it_after_a_reminder_came_between(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    # The reminder is printed while she reads her list; she types the line's words she sees
    # above it. Words are no number: they answer her list, not "Det förstod jag inte".
    sara = Terminal(sessions, catalogue, clock)
    sara.starts()
    sara.nudge()
    reply = sara.types("K-1: Skicka remiss (tisdag 1 december)")
    assert "Skicka remiss (ärende K-1)" in reply, reply


def test_the_terminal_translates_lines_and_nothing_more() -> None:
    terminal = ConsoleConnector(io.StringIO(), SARA)
    assert terminal.translate("   ") is None, "an empty line is nothing to answer"
    assert terminal.translate("/hjälp") == Inbound(SARA, CommandIssued(Command.HELP))
    assert terminal.translate("/start ABC-123") == Inbound(SARA, JoinWithCode("ABC-123"))
    # A number stays text here: what it means is the pipeline's to decide, for every platform.
    assert terminal.translate("1") == Inbound(SARA, TextMessage("1"))


def test_the_terminal_numbers_the_choices_and_saves_a_file_where_it_says(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    out = io.StringIO()
    folder = tmp_path / "filer"
    terminal = ConsoleConnector(out, SARA, files=folder, catalogue=catalogue)
    message = RenderedMessage(
        "Vad vill du göra?",
        (RenderedChoice("questions", "Mina frågor"), RenderedChoice("meeting", "Mötet")),
        file=RenderedFile("mote.ics", "text/calendar", b"BEGIN:VCALENDAR"),
    )
    asyncio.run(terminal.send("local", message, "k1"))
    saved = folder / "mote.ics"
    assert saved.read_bytes() == b"BEGIN:VCALENDAR"
    assert out.getvalue() == (
        f"Vad vill du göra?\n  1) Mina frågor\n  2) Mötet\n  Filen är sparad: {saved}\n\n"
    )
    # What the person asked for is theirs alone to read on a shared machine.
    assert saved.stat().st_mode & 0o077 == 0


def test_a_file_name_from_the_bot_cannot_leave_the_folder(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    terminal = ConsoleConnector(io.StringIO(), SARA, files=tmp_path / "f", catalogue=catalogue)
    message = RenderedMessage("x", (), file=RenderedFile("../../evil.txt", "text/plain", b"1"))
    asyncio.run(terminal.send("local", message, "k1"))
    assert (tmp_path / "f" / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_a_message_for_someone_else_is_labelled_and_its_choices_not_numbered(
    catalogue: Catalogue,
) -> None:
    out = io.StringIO()
    terminal = ConsoleConnector(out, SARA, catalogue=catalogue)
    notice = RenderedMessage("Alex vill använda boten.", (RenderedChoice("n:x", "Svara"),))
    asyncio.run(terminal.send("local-caregiver", notice, "k2"))
    printed = out.getvalue()
    assert "inte till dig" in printed and "local-caregiver" in printed
    assert "1)" not in printed, "a typed 1 would answer Sara's own list, not this one"
    assert "Alex vill använda boten." in printed


class FakeTty(io.StringIO):
    """Typed input at a terminal: lines at once, as a paste is."""

    def isatty(self) -> bool:
        """A terminal."""
        return True


class Submitted:
    """A pipeline that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.delivery = self

    def attach(self, connector: object) -> None:
        """Nothing to attach in a test."""

    def detach(self, platform: str) -> None:
        """Nothing to detach in a test."""

    async def submit(self, translated: object) -> None:
        """Keeps the event."""
        self.events.append(translated)


def test_lines_pasted_together_stay_one_message() -> None:
    # A paste reaches the terminal as lines a few microseconds apart; typed lines seconds apart.
    at = iter([0.0, 0.001, 0.002, 9.0])
    stdin = FakeTty("Planen:\nBUP: Skicka remiss — 1 dec\nSkolan: möte — 3 dec\nKlar\n")
    pipeline = Submitted()
    terminal = ConsoleConnector(io.StringIO(), SARA)
    asyncio.run(
        run_console(pipeline, terminal, stdin, io.StringIO(), clock=lambda: next(at))  # type: ignore[arg-type]
    )
    texts = [
        e.event.text
        for e in pipeline.events
        if isinstance(e, Inbound) and isinstance(e.event, TextMessage)
    ]
    assert texts == ["Planen:\nBUP: Skicka remiss — 1 dec\nSkolan: möte — 3 dec", "Klar"]


def test_piped_lines_stay_one_message_each() -> None:
    # A script's lines are its steps, however fast they come.
    pipeline = Submitted()
    terminal = ConsoleConnector(io.StringIO(), SARA)
    asyncio.run(
        run_console(pipeline, terminal, io.StringIO("1\n15\n"), io.StringIO(), clock=lambda: 0.0)  # type: ignore[arg-type]
    )
    texts = [
        e.event.text
        for e in pipeline.events
        if isinstance(e, Inbound) and isinstance(e.event, TextMessage)
    ]
    assert texts == ["1", "15"]


def test_join_pasted_groups_by_the_gap() -> None:
    lines = [TypedLine("a", 0.0), TypedLine("b", 0.03), TypedLine("c", 1.0), TypedLine("d", 1.2)]
    assert join_pasted(lines, gap=0.05) == ["a\nb", "c", "d"]
