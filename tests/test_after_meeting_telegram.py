"""The whole cycle after a meeting with the family and the professional on Telegram.

The same cycle as tests/test_after_meeting_cycle.py, through the real Telegram adapter and
the emulator: Alex (the young person), Kim (caregiver) and Sara (BUP) join by deep link with
the codes the coordinator Maria made, and answer by tapping the real inline buttons. Maria
stays in her own chat on the in-process harness (tests/chat.py), in a thread beside the bot's
event loop. Time moves by the test's clock; the scheduler tick is the one `samverkan run`
ticks (bot/reminder_kinds.py), and the running bot delivers what it queued to Telegram.
Kim and Alex also share a family group with the bot: nothing of the cycle lands there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import Config
from bot.delivery_loop import SWEEP_GRACE
from bot.files import FileMaker
from bot.followup_report import file_makers
from bot.ics import meeting_file_makers
from bot.privacy_files import PersonalDataFile
from bot.reminder_kinds import reminder_kinds
from bot.scheduler import tick
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code
from tests.notes_seed import book, invite, tap_button
from tests.support.strict_bot_api import StrictBotApi
from tests.support.telegram_driver import (
    RunningBot,
    TelegramUser,
    running_bot,
    visible,
)
from tests.support.telegram_emulator import EmulatedUser, EmulatorClient

pytestmark = pytest.mark.slow

ALEX = EmulatedUser(id=7001, first_name="Alex", language_code="sv")
KIM = EmulatedUser(id=7002, first_name="Kim", language_code="sv")
SARA = EmulatedUser(id=7003, first_name="Sara", language_code="sv")
FAMILY_GROUP = -100700

PLAN = "BUP: Boka utredning — 10 dec\nFamiljen: Ansök om bostadsbidrag — 14 dec"
ANSWERED = "Varför måste jag byta skola?"
OPEN = "Kan jag få hjälp med läxorna?"
NOTES = "Vi bestämde att BUP gör en utredning.\nNästa möte är den 15 december."
REASON = "Väntar på remissen"

T = TypeVar("T")


def the_products_files(clock: FakeClock) -> dict[str, FileMaker]:
    """The file makers `samverkan run` registers: exports, calendar files, reports."""
    return {
        **file_makers(clock),
        **meeting_file_makers(),
        PersonalDataFile.kind: PersonalDataFile(),
    }


async def beside(step: Callable[[], T]) -> T:
    """Runs a step of the harness (which runs its own event loop) beside the bot's loop."""
    return await asyncio.to_thread(step)


async def time_passes(db: sessionmaker[Session], clock: FakeClock, now: datetime) -> None:
    """The clock moves on and the scheduler runs every reminder kind the running bot ticks."""
    clock.now = now
    await beside(lambda: tick(db, reminder_kinds(Config()), clock.now))
    a_moment_passes(clock)


def a_moment_passes(clock: FakeClock) -> None:
    """A few seconds pass: the bot's outbox sweep sends what others queued (it leaves rows
    younger than its grace to the event that made them)."""
    clock.advance(seconds=SWEEP_GRACE.total_seconds() + 1)


def ids(person: Chat) -> list[str]:
    """The message ids of what reached Maria since last asked."""
    return [sent.message_id for sent in person.receive()]


def test_the_cycle_after_the_meeting_with_the_family_and_the_professional_on_telegram(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    # Monday 23 November: Maria opens the case with its plan, books the meeting on Tuesday
    # and the follow-up on 15 December, and invites the family and Sara from BUP.
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    maria = chat(db, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(db, clock, 'Maria')}")
    sara_code = case_with_plan(maria, "Alex", PLAN)
    book(maria, "24 nov 13.00")
    book(maria, "15 dec 13.00")
    kim_code = invite(maria, "Vårdnadshavare", "Kim")
    alex_code = invite(maria, "Den unga personen", "Alex")

    async def cycle() -> None:
        async with running_bot(
            emulator, strict, db, catalogue, clock=clock, file_makers=the_products_files(clock)
        ) as bot:
            alex, kim, sara = bot.user(ALEX), bot.user(KIM), bot.user(SARA)
            await joining_and_preparing(alex, kim, sara, alex_code, kim_code, sara_code)
            await beside(maria.receive)
            await after_the_meeting(bot, db, clock, maria, alex, kim, sara)
            group = await bot.emulator.bot_messages(FAMILY_GROUP)
            shown = [visible(m) for m in group]
            assert not any(OPEN in s or ANSWERED in s or "Från mötet" in s for s in shown), shown
            assert not any(REASON in s or "Tack för ditt svar" in s for s in shown), shown
            assert strict.state.rejected == []

    asyncio.run(cycle())


async def joining_and_preparing(
    alex: TelegramUser,
    kim: TelegramUser,
    sara: TelegramUser,
    alex_code: str,
    kim_code: str,
    sara_code: str,
) -> None:
    """Everyone joins by deep link; Alex writes two questions and shares both."""
    await alex.command("/start", alex_code)
    assert "Välkommen, Alex! Nu är du med." in alex.text()
    await alex.says_yes()
    await alex.tap("Mina frågor")
    await alex.say(ANSWERED)
    await alex.say(OPEN)
    await alex.command("/meny")
    await alex.tap("Välj vad du delar")
    await alex.tap(ANSWERED)
    await alex.tap(OPEN)
    assert "Du delar 2 nu." in alex.text()

    await kim.command("/start", kim_code)
    await kim.says_yes(youth=False)
    assert "Hej Kim!" in kim.text()
    # Kim is in a family group with the bot too, and has opened the adults' menu there.
    username = kim.bot.service.application.bot.username
    in_group = kim.bot.user(KIM, FAMILY_GROUP, "group")
    await in_group.command(f"/meny@{username}")
    assert in_group.turn, "the bot answers in the family group"

    await sara.command("/start", sara_code)
    if any("Ja, det är okej" in label for label in sara.labels()):
        await sara.says_yes(youth=False)
    assert "Boka utredning" in "\n".join(sara.labels())


async def after_the_meeting(
    bot: RunningBot,
    db: sessionmaker[Session],
    clock: FakeClock,
    maria: Chat,
    alex: TelegramUser,
    kim: TelegramUser,
    sara: TelegramUser,
) -> None:
    """Notes, the plan, Kim's done, Sara's Hinder, the check-in and the family's follow-up."""
    # Tuesday 24 November 14.00 UTC, the meeting is over: Maria writes the notes and marks
    # the questions, one answered and one to follow up.
    await time_passes(db, clock, datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    assert "coord.notes.due" in await beside(lambda: ids(maria))

    def notes() -> list[str]:
        tap_button(maria, "Skriv anteckningar")
        maria.send(NOTES)
        maria.choose("Samma text till alla")
        maria.choose("Besvarad")
        maria.choose("Följs upp")
        return maria.ids()

    assert await beside(notes) == ["coord.notes.sent", "coord.home"]
    a_moment_passes(clock)

    # The summary reaches Kim and Alex on Telegram; "Läs" shows notes, plan and next meeting.
    for person in (kim, alex):
        await person.receive()
        assert "Nu finns det anteckningar från mötet" in person.text()
        await person.tap("Läs")
        text = person.text()
        assert "Vi bestämde att BUP gör en utredning." in text
        assert "Boka utredning" in text and "Ansök om bostadsbidrag" in text
        assert "15 december" in text
    assert f"{ANSWERED}: du fick svar" in alex.text()
    assert f"{OPEN}: tas upp igen nästa gång" in alex.text()
    assert ANSWERED not in kim.text(), "Alex's questions are hers, not Kim's"

    # Kim marks the family's action done by taps.
    await kim.command("/plan")
    await kim.tap("Ansök om bostadsbidrag")
    await kim.tap("Klar")
    await kim.tap("Ingen kommentar")
    assert "Tack! Sparat: klar." in kim.text()
    a_moment_passes(clock)
    await alex.receive()
    assert "Något i planen är klart." in alex.text(), "the family is told, neutrally"

    # Sara's "Hinder" with a reason reaches Maria at once.
    await sara.command("/meny")
    await sara.tap("Boka utredning")
    await sara.tap("Hinder")
    await sara.say(REASON)
    await sara.tap("Ingen kommentar")
    assert "Tack! Sparat: hinder." in sara.text()
    told = await beside(maria.receive)
    assert [s.message_id for s in told] == ["alert.blocked"]
    assert REASON in maria.text() and "Sara" in maria.text()

    # Wednesday 25 November: Alex and Kim answer the check-in by taps; Maria is told.
    await time_passes(db, clock, datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    for person, felt, heard in ((alex, "Både och", "Ja"), (kim, "Bra", "Lite")):
        await person.receive()
        assert "Hur var mötet" in person.text()
        await person.tap("Svara")
        await person.tap(felt)
        await person.tap(heard)
        await person.tap("Nej tack")
        assert "Tack för ditt svar!" in person.text()
    assert "alert.checkin" in await beside(lambda: ids(maria))

    # Sunday 13 December, 48 hours before the follow-up: the family's own follow-up arrives
    # on Telegram, and Maria gets her report.
    await time_passes(db, clock, datetime(2026, 12, 13, 12, 0, tzinfo=UTC))
    for person in (kim, alex):
        await person.receive()
        assert "Så här går det med planen." in person.text()
        assert "Klart: 1." in person.text()
    assert "coord.report" in await beside(lambda: ids(maria))
