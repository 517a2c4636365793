"""The Telegram adapter end to end: PTB 22 against the Bot API emulator, a real database.

Every call the bot makes passes the strict front first (tests/support/strict_bot_api.py),
which refuses malformed HTML, over-long texts and bad callback data as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import TelegramConfig, TelegramMode
from bot.delivery import Outgoing
from bot.delivery_loop import SWEEP_GRACE
from bot.handler import EventHandler
from bot.telegram.service import TelegramService
from flows.conversation import ConversationRef, Inbound
from flows.coordination import ActionItem, ActionStatus
from flows.domain import MeetingKind, Role
from flows.replies import say
from flows.text_rules import QUESTION_MAX_CHARS, clean_text
from flows.wiring import default_engine
from storage.access import Purpose
from storage.outbox_repository import Claim
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code, run_tick
from tests.support.strict_bot_api import Fault, StrictBotApi, running_strict_api
from tests.support.telegram_driver import RunningBot, running_bot, visible
from tests.support.telegram_emulator import EmulatedUser, EmulatorClient, running_emulator

pytestmark = pytest.mark.slow

ALEX = EmulatedUser(id=5001, first_name="Alex", username="alex", language_code="sv")
KIM = EmulatedUser(id=5002, first_name="Kim", language_code="sv")
SAM = EmulatedUser(id=5003, first_name="Sam", language_code="sv")
GUEST = EmulatedUser(id=5004, first_name="Gäst", language_code="sv")
SARA = EmulatedUser(id=5005, first_name="Sara", language_code="sv")
FAMILY_GROUP = -100777
BOT_USERNAME = "TestNameBot"  # what the emulator's getMe answers


def invite(
    sessions: sessionmaker[Session], clock: FakeClock, *people: tuple[Role, str]
) -> list[str]:
    """A case with a meeting next week; one invite code per (role, name)."""
    now = clock.now
    with UnitOfWork(sessions) as uow:
        case = uow.cases.create_case(now)
        uow.cases.add_meeting(case.id, MeetingKind.FIRST, now + timedelta(days=7), 90, "BUP")
        codes = [uow.cases.create_invite(case.id, role, name, now) for role, name in people]
        uow.commit()
    return codes


def no_refusals(bot: RunningBot) -> None:
    """The strict front accepted every call, and every text went out in HTML mode."""
    assert bot.strict.state.rejected == []
    assert all(p.get("parse_mode") == "HTML" for p in bot.strict.state.sent())


def questions_of(sessions: sessionmaker[Session], user: EmulatedUser) -> list[tuple[str, bool]]:
    """(text, shared) of the questions a Telegram user has written, as stored."""
    ref = ConversationRef("telegram", str(user.id), str(user.id))
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ref)
        assert actor is not None
        prep = uow.preparation.preparation(actor.case_id, actor.person_id)
    return [(q.text, q.shared) for q in prep.questions]


def test_young_person_joins_by_deep_link_prepares_questions_and_shares_them(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Alex"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            alex = bot.user(ALEX)
            # t.me/<bot>?start=<code> makes the Telegram app send "/start <code>".
            await alex.command("/start", code)
            assert "Välkommen, Alex! Nu är du med." in alex.text()
            assert "inte krypterade hela vägen" in alex.text()  # told honestly, first
            await alex.says_yes()
            assert alex.labels()[1] == "Steg 1 av 4: Mina frågor"

            menu_message, _ = await alex.button("Mina frågor")
            await alex.tap("Mina frågor")
            assert "Du har inga frågor än" in alex.text()
            # The answer replaced the tapped menu in place (issue 26: it was a new message
            # below it), so the used buttons are gone and cannot be pressed twice.
            [menu_now] = [
                m
                for m in await emulator.bot_messages(ALEX.id)
                if m["message_id"] == menu_message["message_id"]
            ]
            assert alex.edits == [menu_now] and "Du har inga frågor än" in visible(menu_now)
            assert not any("Mina frågor" in label for label in alex.labels())

            questions_message, _ = await alex.button("Skriv en ny fråga")
            await alex.tap("Skriv en ny fråga")
            await alex.say("Varför måste jag byta skola?")
            assert "Sparat!" in alex.text()
            assert "1. Varför måste jag byta skola?" in alex.text()
            assert questions_of(db, ALEX) == [("Varför måste jag byta skola?", False)]

            await alex.tap("Till menyn")
            await alex.tap("Välj vad du delar")
            assert alex.labels() == ["🔒 Bara jag: Varför måste jag byta skola?", "Klar"]
            await alex.tap("Bara jag")
            assert alex.labels()[0] == "✅ Delas: Varför måste jag byta skola?"
            assert questions_of(db, ALEX) == [("Varför måste jag byta skola?", True)]
            await alex.tap("Klar")
            assert "Du delar en sak." in alex.text()

            # An old button pressed anyway (a second phone, a slow network) changes nothing.
            await alex.press(questions_message["message_id"], "add")
            assert "Den knappen är gammal" in alex.text()
            assert questions_of(db, ALEX) == [("Varför måste jag byta skola?", True)]

            answers = await emulator.callback_answers()
            assert len(answers) == 9, "every button press was answered (2 for consent)"
            calls = await emulator.method_calls()
            # Every pressed message lost its buttons: replaced by the answer in place (eight),
            # or taken off (the old one, answered below it).
            assert calls.get("editMessageText", 0) == 8
            assert calls.get("editMessageReplyMarkup", 0) == 1
            no_refusals(bot)

    asyncio.run(conversation())


def test_a_professional_taps_done_on_a_nudge(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    # Maria, the coordinator, writes the plan in her own chat and invites Sara from BUP.
    maria = chat(db, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(db, clock, 'Maria')}")
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
    [action_id] = [a.id for a in actions_of(db, 1)]

    async def conversation() -> None:
        # One clock for the handler, the outbox sweeper and the tick: the nudge's rows are
        # dated in the test's time, and the sweeper must find them due in that same time.
        async with running_bot(emulator, strict, db, catalogue, clock=clock) as bot:
            sara = bot.user(SARA)
            await sara.command("/start", code)
            assert "Välkommen, Sara! Nu är du med." in sara.text()
            assert "Du har 1 öppen åtgärd." in sara.text()  # no consent asked at work
            assert run_tick(db, clock) == [], "due in a week: no reminder yet"

            clock.advance(days=7)  # Monday 30 November, the day before the due date
            assert len(run_tick(db, clock) or []) == 1
            # The sweeper leaves fresh rows to the update that made them for a moment.
            clock.advance(seconds=SWEEP_GRACE.total_seconds() + 1)
            [nudge] = await sara.receive()
            assert visible(nudge) == "Du har 1 åtgärd i ärende K-1, 1 förfaller snart."
            assert sara.labels() == ["Visa mina åtgärder"]

            await sara.tap("Visa mina åtgärder")
            assert sara.text() == (
                "Hej Sara! Du har 1 öppen åtgärd. Tryck på den för att säga hur det går."
            )
            assert sara.labels() == [
                "K-1: Skicka remiss (tisdag 1 december)",
                "Visa igen",
                "Jag kan inte komma",
            ]
            await sara.tap("K-1: Skicka remiss")
            assert "Skicka remiss (ärende K-1)" in sara.text()
            done_message, done = await sara.button("Klar")
            await sara.tap("Klar")
            await sara.tap("Ingen kommentar")
            assert "Tack! Sparat: klar." in sara.text()
            assert "Du har inga öppna åtgärder just nu." in sara.text()

            # Each answer replaced the tapped message in place (issue 26: each was a new
            # message), so the nudge became the question and then the thanks...
            assert done_message["message_id"] == nudge["message_id"]
            [now_shown] = [
                m
                for m in await emulator.bot_messages(SARA.id)
                if m["message_id"] == nudge["message_id"]
            ]
            assert "Tack! Sparat: klar." in visible(now_shown)
            assert sara.edits == [now_shown] and sara.labels() == [
                "Visa igen",
                "Jag kan inte komma",
            ]
            # ...and "Klar" pressed again anyway (a second phone) records nothing more.
            await sara.press(done_message["message_id"], done)
            assert "Den knappen är gammal" in sara.text()
            no_refusals(bot)

    asyncio.run(conversation())
    [action] = actions_of(db, 1)
    assert action.id == action_id and action.status is ActionStatus.DONE
    [update] = [u for u in action.history if u.author == "Sara"]
    assert (update.status, update.note) == (ActionStatus.DONE, None)
    assert update.at == clock.now, "saved in the test's time, like everything else"


def actions_of(sessions: sessionmaker[Session], case_id: int) -> list[ActionItem]:
    """The plan actions of a case with their history, as stored (read as the operator)."""
    with UnitOfWork(sessions) as uow:
        operator = uow.gate.for_system(Purpose.OPERATOR)
        return list(uow.coordination.actions(case_id, operator, with_history=True))


HOSTILE = [
    "<b>fet?</b>",
    "</i> stängd",
    "Tom & Jerry &amp; &lt;",
    "{{7*7}} {% if %}",
    "Hej 😀👩‍👩‍👧 🇸🇪",
    "\u202eRTL\u200f mark\u202c",
]


def test_hostile_text_round_trips_as_literal_text_and_long_lists_are_split(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Alex"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            alex = bot.user(ALEX)
            await alex.command("/start", code)
            await alex.says_yes()
            await alex.tap("Mina frågor")
            for text in HOSTILE:
                await alex.say(text)  # typing in the question list adds a question
                assert "Sparat!" in alex.text()
            listing = alex.text()
            # Stored and shown literally, once invisible reordering marks are dropped
            # (flows/text_rules.py: a bidi override must not disguise a question).
            cleaned = [clean_text(text, QUESTION_MAX_CHARS).text for text in HOSTILE]  # type: ignore[union-attr]
            for text in cleaned:
                assert text in listing, f"{text!r} not shown literally"
            assert "49" not in listing, "user text is never a template"
            assert [q for q, _ in questions_of(db, ALEX)] == cleaned

            await alex.say("x" * 5000)
            assert "Det blev för långt" in alex.text()

            # Five questions of 1000 characters make a list longer than one message.
            long_questions = [f"{n}: " + ("<&> ord " * 125)[: 1000 - 3] for n in range(5)]
            for text in long_questions:
                await alex.say(text)
            parts = alex.turn[1:]  # "Sparat!" first, then the list
            assert len(parts) >= 2
            assert all("reply_markup" not in p for p in parts[:-1])
            assert "reply_markup" in parts[-1], "the buttons come under the last part"
            shown = "".join(visible(p) for p in parts)
            for text in long_questions:
                assert text.strip() in shown.replace("\n", "")
            no_refusals(bot)
            assert strict.state.rejected == []

    asyncio.run(conversation())


def test_a_family_group_with_two_adults(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    kim_code, sam_code = invite(db, clock, (Role.CAREGIVER, "Kim"), (Role.CAREGIVER, "Sam"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            kim = bot.user(KIM, FAMILY_GROUP, "group")
            sam = bot.user(SAM, FAMILY_GROUP, "group")
            # In a group, Telegram appends the bot's name to commands picked from the menu.
            # A code sent there is kept for the private chat, where consent is asked: the
            # answer is a link button that opens it.
            await kim.command(f"/start@{BOT_USERNAME}", kim_code)
            assert "privat" in kim.text() and "Välkommen" not in kim.text()
            [pointer] = kim.turn
            [[link]] = pointer["reply_markup"]["inline_keyboard"]
            assert link["url"] == f"https://t.me/{BOT_USERNAME}"
            for person, code in ((KIM, kim_code), (SAM, sam_code)):
                private = bot.user(person)
                await private.command("/start", code)
                assert f"Välkommen, {person.first_name}! Nu är du med." in private.text()
                await private.says_yes(youth=False)
            await kim.command(f"/meny@{BOT_USERNAME}")
            assert "Hej Kim!" in kim.text()
            await sam.command("/meny")
            assert "Hej Sam!" in sam.text()
            assert "Kim" not in sam.text()

            # The adults talking to each other, or to another bot, get no answer from us.
            await emulator.send_message(FAMILY_GROUP, KIM, "Ska vi ta med Alex?", "group")
            await emulator.send_command(FAMILY_GROUP, SAM, "/start@AnnanBot", chat_type="group")
            await kim.command(f"/hjalp@{BOT_USERNAME}")
            assert kim.text().startswith("Välj vad du vill göra.")
            assert len(kim.turn) == 1  # help and the adults' menu as one, nothing for the chatter

            # Each adult's button press is answered for that adult.
            await sam.tap("Vår lista")
            assert "Listan är tom." in sam.text()

            # Someone else in the group pressing Sam's button is answered, but Sam keeps them.
            sams_buttons, refresh = await sam.button("Skriv något nytt")
            guest = bot.user(GUEST, FAMILY_GROUP, "group")
            await guest.press(sams_buttons["message_id"], refresh)
            assert "behöver du en kod" in guest.text()
            [still] = [
                m
                for m in await emulator.bot_messages(FAMILY_GROUP)
                if m["message_id"] == sams_buttons["message_id"]
            ]
            assert still["reply_markup"]["inline_keyboard"][0][0]["text"] == "Skriv något nytt"
            no_refusals(bot)

        with UnitOfWork(db) as uow:
            for user, name in ((KIM, "Kim"), (SAM, "Sam")):
                ref = ConversationRef("telegram", str(FAMILY_GROUP), str(user.id))
                actor = uow.members.actor_for(ref)
                assert actor is not None
                assert (actor.display_name, actor.role) == (name, Role.CAREGIVER)

    asyncio.run(conversation())


def test_command_menu_and_an_answer_to_what_the_bot_cannot_read(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
) -> None:
    emulator, strict = telegram

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            # The menu is sent once polling has started (no first answer waits for it).
            await asyncio.wait_for(bot.service.menu_sent.wait(), 20)
            assert strict.state.sent("getUpdates"), "the first poll came before the menu"
            menus = {
                call.get("language_code"): json.loads(call["commands"])
                for call in strict.state.sent("setMyCommands")
            }
            # Swedish for everyone; each other language for phones set to it (en, ar, fa, so, uk).
            others = {code for code in catalogue.locales if code != "sv"}
            assert set(menus) == {None, *others} and {"en", "ar", "fa", "so", "uk"} <= others
            assert [c["command"] for c in menus[None]] == [
                "start",
                "hjalp",
                "paus",
                "meny",
                "mote",
                "bild",
                "nyttmote",
                "sprak",
                "plan",
                "dagordning",
                "samtycke",
                "minadata",
                "glommig",
            ]
            assert menus[None][1]["description"] == "Hjälp: vad kan jag göra här?"
            assert menus["en"][1]["description"] == "Help: what can I do here?"
            # A sticker: no text, so the flows cannot use it; the bot says what it can read.
            sticker = {
                "update_id": 990001,
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": ALEX.id, "type": "private", "first_name": "Alex"},
                    "from": ALEX.to_api(),
                    "sticker": {
                        "file_id": "s1",
                        "file_unique_id": "s1u",
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                    },
                },
            }
            from telegram import Update

            await bot.service.application.update_queue.put(
                Update.de_json(sticker, bot.service.application.bot)
            )
            [answer] = await emulator.wait_for_bot_messages(ALEX.id, 1, timeout=10)
            assert visible(answer).startswith("Jag kan bara läsa text och knappar.")

    asyncio.run(conversation())


def test_webhook_mode_checks_the_secret_token(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    unused_tcp_port: int,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Alex"))
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram-hook"
    update = {
        "update_id": 4242,
        "message": {
            "message_id": 7,
            "date": 1_700_000_000,
            "chat": {"id": ALEX.id, "type": "private", "first_name": "Alex"},
            "from": ALEX.to_api(),
            "text": f"/start {code}",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }

    async def conversation() -> None:
        async with running_bot(
            emulator,
            strict,
            db,
            catalogue,
            mode=TelegramMode.WEBHOOK,
            webhook_port=unused_tcp_port,
            webhook_path="/telegram-hook",
            webhook_public_url="https://bot.example.se/telegram-hook",
        ) as bot:
            [webhook] = strict.state.sent("setWebhook")
            assert webhook["url"] == "https://bot.example.se/telegram-hook"
            assert webhook["secret_token"] == "test-secret_1"
            async with httpx.AsyncClient(trust_env=False) as client:
                refused = await client.post(url, json=update)
                wrong = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
                )
                assert (refused.status_code, wrong.status_code) == (403, 403)
                assert await emulator.bot_messages(ALEX.id) == []
                for _ in range(2):  # Telegram delivers again when unsure: handled once
                    accepted = await client.post(
                        url,
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": "test-secret_1"},
                    )
                    assert accepted.status_code == 200
            alex = bot.user(ALEX)
            from tests.support.telegram_emulator import SentUpdate

            await bot.settle(SentUpdate(update_id=4242), ALEX.id)
            messages = await emulator.bot_messages(ALEX.id)
            assert "Välkommen, Alex!" in visible(messages[0])
            assert len(messages) == 1, "the repeated update had no effect"
            del alex

    asyncio.run(conversation())


def test_replies_left_in_the_outbox_by_a_crash_are_sent_after_a_restart(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
) -> None:
    emulator, strict = telegram
    # Two replies committed just before processes died, never sent (the service runs on the
    # real clock): one left pending, and one the handler wrote already claimed for sending
    # right after its commit, whose claim has run out since.
    with UnitOfWork(db) as uow:
        now = datetime.now(UTC)
        uow.outbox.enqueue("telegram", str(ALEX.id), (say("common.paused"),), "sv", now)
        claim = Claim("dead", now - timedelta(seconds=1))
        uow.outbox.enqueue_claimed("telegram", str(ALEX.id), (say("text.empty"),), "sv", now, claim)
        uow.commit()

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue):
            paused, empty = await emulator.wait_for_bot_messages(ALEX.id, 2, timeout=15)
            assert visible(paused).startswith("Vi tar en paus.")
            assert visible(empty).startswith("Det kom ingen text.")

    asyncio.run(conversation())


class BrokenHandler(EventHandler):
    """A handler whose database is gone."""

    def handle(self, inbound: Inbound) -> Outgoing:
        raise RuntimeError("database unavailable")


def test_when_something_breaks_the_person_is_told_instead_of_left_in_silence(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
) -> None:
    emulator, strict = telegram
    handler = BrokenHandler(db, default_engine())

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue, handler=handler):
            await emulator.send_message(ALEX.id, ALEX, "Hej")
            [sent] = await emulator.wait_for_bot_messages(ALEX.id, 1, timeout=15)
            assert visible(sent) == "Något gick fel hos mig. Försök igen om en liten stund."

    asyncio.run(conversation())


@pytest.fixture
def unused_tcp_port() -> int:
    """A free port on 127.0.0.1."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_telegram_unreachable_for_30_s_at_start_then_the_bot_starts_when_it_returns(
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    unused_tcp_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    [code] = invite(db, clock, (Role.YOUTH, "Alex"))
    waited: list[float] = []
    with running_emulator() as emulator, contextlib.ExitStack() as telegram_back:
        # Nothing listens where the bot looks for Telegram yet: every connection is refused.
        unreachable = StrictBotApi(emulator.base_url)
        unreachable.base_url = f"http://127.0.0.1:{unused_tcp_port}/bot"
        returned: list[StrictBotApi] = []

        async def pause(seconds: float) -> None:
            """The wait between tries on a virtual clock: Telegram is back after 30 s."""
            waited.append(seconds)
            if sum(waited) >= 30 and not returned:
                front = telegram_back.enter_context(
                    running_strict_api(emulator.base_url, port=unused_tcp_port)
                )
                # Back, but still shaky: two gateway errors, then one when polling starts.
                front.state.fail_next("getMe", Fault("502"), Fault("500"))
                front.state.fail_next("deleteWebhook", Fault("502"))
                returned.append(front)

        async def conversation() -> None:
            async with running_bot(emulator, unreachable, db, catalogue, start_pause=pause) as bot:
                alex = bot.user(ALEX)
                await alex.command("/start", code)
                assert "Välkommen, Alex! Nu är du med." in alex.text()

        with caplog.at_level(logging.INFO):
            asyncio.run(conversation())

    # Exponential backoff up to 30 s while Telegram is away; starting polling is a new step.
    assert waited == [1, 2, 4, 8, 16, 30, 30, 1]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    retries = [message for message in ours if "trying again" in message]
    first = "Telegram not reachable at start (getMe: NetworkError); trying again in 1 s"
    assert retries[0] == first
    assert retries[-1].startswith("Telegram not reachable at start (deleteWebhook: NetworkError)")
    assert len(retries) == len(waited)
    secret = emulator.token.split(":")[1]
    assert not [m for m in ours if secret in m or "127.0.0.1" in m], "no token, no URL"


def test_stopping_while_telegram_is_unreachable_ends_the_start_at_once(
    db: sessionmaker[Session],
    catalogue: Catalogue,
    unused_tcp_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = TelegramConfig(enabled=True, api_base_url=f"http://127.0.0.1:{unused_tcp_port}/bot")
    service = TelegramService(
        settings, "123:unreachable", db, EventHandler(db, default_engine()), catalogue
    )

    async def start_then_stop() -> None:
        task = asyncio.create_task(service.run(handle_signals=False))
        while "trying again in 1 s" not in caplog.text:
            if task.done():
                task.result()  # the start failed instead of waiting for Telegram
            await asyncio.sleep(0.01)
        service.stop()  # SIGTERM while waiting for Telegram
        await asyncio.wait_for(task, 0.5)  # sooner than the 1 s wait

    with caplog.at_level(logging.INFO, logger="bot"):
        asyncio.run(start_then_stop())
    assert not service.ready.is_set()
    assert "Telegram bot stopped before it could start" in caplog.text
