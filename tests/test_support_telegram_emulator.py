"""End-to-end tests of the Bot API emulator setup with a real PTB 22 application."""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.support.telegram_emulator import (
    EmulatedUser,
    EmulatorClient,
    running_emulator,
)

pytestmark = pytest.mark.slow

USER = EmulatedUser(id=4242, first_name="Astrid", username="astrid", language_code="sv")
CHAT_ID = USER.id  # a private chat has the user's id
POLL_TIMEOUT_SECONDS = 10  # PTB's default long-poll timeout
# Window in which the test does nothing, to measure that PTB keeps one long
# poll open instead of re-polling. A measurement, not a wait for the bot.
IDLE_WINDOW_SECONDS = 1.5
WELCOME = "Välkommen till Samverkansboten! Vill du vara med?"
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Ja", callback_data="join:yes"),
            InlineKeyboardButton("Nej", callback_data="join:no"),
        ]
    ]
)


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    # No skip when Node or the npm package is missing: `make test` installs them, so a
    # missing emulator is a broken setup and must fail loudly.
    with running_emulator() as client:
        yield client


@dataclass
class Observed:
    """What the bot's handlers saw from PTB's side of the HTTP API."""

    sent: list[Message] = field(default_factory=list)
    edited: list[Message | bool] = field(default_factory=list)
    chat_instances: list[str] = field(default_factory=list)
    callback_handled: asyncio.Event = field(default_factory=asyncio.Event)


def _build_application(
    emulator: EmulatorClient, observed: Observed
) -> Application[Any, Any, Any, Any, Any, Any]:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        observed.sent.append(
            await update.effective_message.reply_text(WELCOME, reply_markup=KEYBOARD)
        )

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        observed.chat_instances.append(query.chat_instance)
        await query.answer("Tack!")
        choice = "ja" if query.data == "join:yes" else "nej"
        observed.edited.append(await query.edit_message_text(f"Du valde: {choice}"))
        observed.callback_handled.set()

    application = (
        Application.builder().token(emulator.token).base_url(emulator.bot_api_base_url).build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(choose, pattern=r"^join:"))
    return application


async def _get_updates_calls(emulator: EmulatorClient) -> int:
    return (await emulator.method_calls()).get("getUpdates", 0)


async def _start_keyboard_edit_scenario(emulator: EmulatorClient) -> None:
    observed = Observed()
    application = _build_application(emulator, observed)
    async with application:
        # getMe worked (the shim adds is_bot) and reflects the token's bot id.
        assert application.bot.bot.is_bot is True
        assert application.bot.id == int(emulator.token.split(":")[0])
        assert application.updater is not None
        await application.updater.start_polling(timeout=POLL_TIMEOUT_SECONDS)
        await application.start()
        try:
            calls_at_start = await _get_updates_calls(emulator)
            started = time.monotonic()

            # The user sends /start; the bot answers with an inline keyboard.
            await emulator.send_command(CHAT_ID, USER, "start")
            [welcome] = await emulator.wait_for_bot_messages(CHAT_ID, 1)
            assert welcome["text"] == WELCOME
            assert welcome["reply_markup"] == {
                "inline_keyboard": [
                    [
                        {"text": "Ja", "callback_data": "join:yes"},
                        {"text": "Nej", "callback_data": "join:no"},
                    ]
                ]
            }
            # PTB parsed the sendMessage result: date in seconds, keyboard intact.
            [sent] = observed.sent
            assert sent.message_id == welcome["message_id"]
            assert abs((datetime.now(UTC) - sent.date).total_seconds()) < 60
            assert sent.reply_markup == KEYBOARD

            # The user presses "Ja"; the bot answers the query and edits the message.
            await emulator.send_callback(CHAT_ID, USER, welcome["message_id"], "join:yes")
            edited = await emulator.wait_for_bot_message(
                CHAT_ID,
                lambda m: m["message_id"] == welcome["message_id"] and "edit_date" in m,
            )
            assert edited["text"] == "Du valde: ja"
            assert "reply_markup" not in edited  # edit without markup drops the keyboard
            assert len(await emulator.bot_messages(CHAT_ID)) == 1
            assert [a["text"] for a in await emulator.callback_answers()] == ["Tack!"]

            await asyncio.wait_for(observed.callback_handled.wait(), timeout=5)
            assert observed.chat_instances and observed.chat_instances[0]
            [edit_result] = observed.edited
            assert isinstance(edit_result, Message)
            assert edit_result.text == "Du valde: ja"
            assert edit_result.message_id == welcome["message_id"]

            # Idle: with real long polling PTB keeps a single request open.
            calls_before_idle = await _get_updates_calls(emulator)
            await asyncio.sleep(IDLE_WINDOW_SECONDS)
            calls_during_idle = await _get_updates_calls(emulator) - calls_before_idle

            elapsed = time.monotonic() - started
            calls = await _get_updates_calls(emulator) - calls_at_start
            print(
                f"getUpdates: {calls} calls in {elapsed:.2f}s ({calls / elapsed:.2f}/s),"
                f" {calls_during_idle} during {IDLE_WINDOW_SECONDS}s idle"
            )
            assert calls_during_idle <= 1, f"{calls_during_idle} getUpdates calls while idle"
            # One poll per delivered update batch (2 user updates) plus slack;
            # a busy-polling client makes hundreds of calls in this time.
            assert calls <= 5, f"PTB re-polled {calls} times in {elapsed:.2f}s"
        finally:
            await application.updater.stop()
            await application.stop()


def test_ptb_application_round_trip_through_emulator(emulator: EmulatorClient) -> None:
    """/start -> inline keyboard -> button press -> edited message, without busy polling."""
    asyncio.run(_start_keyboard_edit_scenario(emulator))


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff" * width for _ in range(height)))
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


async def _extra_methods_scenario(emulator: EmulatorClient) -> None:
    async with Bot(emulator.token, base_url=emulator.bot_api_base_url) as bot:
        commands = [BotCommand("start", "Starta"), BotCommand("plan", "Visa planen")]
        assert await bot.set_my_commands(commands) is True
        assert list(await bot.get_my_commands()) == commands
        assert list(await bot.get_my_commands(language_code="en")) == []

        document = await bot.send_document(
            CHAT_ID, document=b"datum;punkt\n", filename="plan.csv", caption="Er plan"
        )
        assert document.document is not None
        assert document.document.file_name == "plan.csv"
        assert document.caption == "Er plan"

        photo = await bot.send_photo(CHAT_ID, photo=_png(3, 2), filename="bild.png", caption="Bild")
        assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)

        stored = await emulator.bot_messages(CHAT_ID)
        assert [(m["upload"]["filename"], m.get("caption")) for m in stored] == [
            ("plan.csv", "Er plan"),
            ("bild.png", "Bild"),
        ]
        assert stored[0]["upload"]["size"] == len(b"datum;punkt\n")

        # A group chat the emulator has seen keeps its type in the bot's replies.
        await emulator.send_message(-1001, USER, "hej", chat_type="group", chat_title="Nätverket")
        reply = await bot.send_message(-1001, "Hej gruppen")
        assert (reply.chat.type, reply.chat.title) == ("group", "Nätverket")

        with pytest.raises(BadRequest, match=r"(?i)getChat is not implemented"):
            await bot.get_chat(CHAT_ID)


def test_emulator_shim_covers_commands_uploads_and_unknown_methods(
    emulator: EmulatorClient,
) -> None:
    """setMyCommands/getMyCommands, sendDocument/sendPhoto and a clear error otherwise."""
    asyncio.run(_extra_methods_scenario(emulator))
