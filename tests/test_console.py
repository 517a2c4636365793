"""The terminal connector: numbered choices, and a reminder's "1" means the reminder's own choice.

Sara from BUP uses the terminal chat. Her list of actions is on screen; then a nudge is
printed with "1) Visa mina åtgärder". She types 1 and gets her list, not the first line of
the older list (which would open the action itself). The terminal only translates and
prints: what "1" means is read once, in the pipeline, for every platform.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedChoice, RenderedFile, RenderedMessage
from bot.console import ConsoleConnector, run_console
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


def test_a_typed_number_answers_the_newest_reminder_not_the_older_menu(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
    out = io.StringIO()
    terminal = ConsoleConnector(out, SARA)
    handler = EventHandler(sessions, default_engine(), clock=clock)
    pipeline = Pipeline(handler, DeliveryLoop(sessions, catalogue, clock=clock))

    def printed_after(action: Callable[[], Coroutine[Any, Any, object]]) -> str:
        """What the terminal printed while `action` ran."""
        start = len(out.getvalue())
        asyncio.run(action())
        return out.getvalue()[start:]

    def types(line: str) -> str:
        """Sara types one line into the terminal, translated as the terminal does."""
        translated = terminal.translate(line)
        assert translated is not None
        return printed_after(lambda: pipeline.submit(translated))

    stdin = io.StringIO(f"/start {code}\n")
    shown = printed_after(lambda: run_console(pipeline, terminal, stdin, out))
    assert "Du har 1 öppen åtgärd." in shown
    assert "1) K-1: Skicka remiss" in shown

    pipeline.delivery.attach(terminal)  # run_console let go of the terminal when input ended
    clock.advance(days=7)  # the day before the due date
    nudge = printed_after(lambda: pipeline.delivery.deliver(run_tick(sessions, clock)))
    assert "Du har 1 åtgärd i ärende K-1, 1 förfaller snart." in nudge
    assert "1) Visa mina åtgärder" in nudge

    reply = types("1")
    assert "Hej Sara! Du har 1 öppen åtgärd." in reply, reply
    assert "Hur går det?" not in reply, "the older list's first line was opened instead"
    # Now the conversation's own list is the newest: "1" opens its first line.
    assert "Skicka remiss (ärende K-1)" in types("1")


def test_the_terminal_translates_lines_and_nothing_more() -> None:
    terminal = ConsoleConnector(io.StringIO(), SARA)
    assert terminal.translate("   ") is None, "an empty line is nothing to answer"
    assert terminal.translate("/hjälp") == Inbound(SARA, CommandIssued(Command.HELP))
    assert terminal.translate("/start ABC-123") == Inbound(SARA, JoinWithCode("ABC-123"))
    # A number stays text here: what it means is the pipeline's to decide, for every platform.
    assert terminal.translate("1") == Inbound(SARA, TextMessage("1"))


def test_the_terminal_numbers_the_choices_and_names_a_file_it_cannot_show() -> None:
    out = io.StringIO()
    terminal = ConsoleConnector(out, SARA)
    message = RenderedMessage(
        "Vad vill du göra?",
        (RenderedChoice("questions", "Mina frågor"), RenderedChoice("meeting", "Mötet")),
        file=RenderedFile("mote.ics", "text/calendar", b"BEGIN:VCALENDAR"),
    )
    asyncio.run(terminal.send("local", message, "k1"))
    assert out.getvalue() == (
        "Vad vill du göra?\n  1) Mina frågor\n  2) Mötet\n  [mote.ics, 15 bytes]\n\n"
    )
