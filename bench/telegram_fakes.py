"""A fake Telegram network, Updates as Telegram sends them, and the bare baseline bot.

Imports python-telegram-bot and the standard library only, so a baseline process that uses
just this module carries none of our bot's code or libraries (bench/memory.py relies on it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

BOT_ID = 4242
TOKEN = f"{BOT_ID}:bench-token-not-a-secret"
# A fixed "now" keeps every run's data identical: Monday 23 November 2026, 09.00 UTC.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# --- a fake Telegram network ----------------------------------------------------------------


BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Samverkansboten", "username": "sv_bot"}


class FakeTelegramNetwork(BaseRequest):
    """Answers Bot API calls in-process, as Telegram would, without a socket.

    The request body is encoded exactly as python-telegram-bot's HTTP client would encode it,
    and the answer is JSON that the library parses back into objects, so both sides of the
    library's own work are in the measurement.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        round_trip: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.calls: Counter[str] = Counter()
        # When each message arrived (sendMessage, sendDocument, or editMessageText: an answer
        # that replaced the tapped message), by `clock`: the pacer bench reads its rate here.
        self.sent_at: list[float] = []
        # The chat of each arrival, in arrival order: a bench checks none got one twice.
        self.sent_to: list[str] = []
        # Whether each arrival was a new message (False: an edit of one already there).
        self.sent_new: list[bool] = []
        # The newest message of each chat (the person's or the bot's, one sequence as on
        # Telegram) and the bot's newest (the one a person taps a button on).
        self._newest: dict[str, int] = {}
        self._newest_bot: dict[str, int] = {}
        self._clock = clock
        # Seconds from sending a request to reading its answer, as over a real network: half
        # on the way there (Telegram counts a message when it arrives), half back.
        self.round_trip = round_trip
        self._sleep = sleep
        self._message_id = 0
        # CPU seconds spent playing Telegram's part (reading the request, writing the answer),
        # which runs in the measured process; benches can show it apart from the bot's.
        self.server_cpu = 0.0

    def arrivals_by_chat(self, *, new_only: bool = False) -> dict[str, list[float]]:
        """When each chat's messages arrived, in arrival order (from `sent_at`, `sent_to`):
        new messages and edits (an answer in place of the tapped message), or new only."""
        by_chat: dict[str, list[float]] = {}
        for chat, at, new in zip(self.sent_to, self.sent_at, self.sent_new, strict=True):
            if new or not new_only:
                by_chat.setdefault(chat, []).append(at)
        return by_chat

    def clear_arrivals(self) -> None:
        """Forgets the arrivals so far (a bench's warm-up is not part of its walk)."""
        self.sent_at.clear()
        self.sent_to.clear()
        self.sent_new.clear()

    def person_writes(self, chat_id: str) -> int:
        """The id Telegram gives a message the person sends now (after every earlier one)."""
        self._message_id += 1
        self._newest[chat_id] = self._message_id
        return self._message_id

    def newest_from_bot(self, chat_id: str) -> int | None:
        """The bot's newest message in the chat: the one a person taps a button on."""
        return self._newest_bot.get(chat_id)

    @property
    def read_timeout(self) -> float | None:
        """No network, no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answers one Bot API method."""
        # What the HTTP client would put on the wire: encoding it is the client's (our) work.
        wire = request_data.json_parameters if request_data is not None else {}
        if self.round_trip:
            await self._sleep(self.round_trip / 2)
        started = time.process_time()
        endpoint = url.rsplit("/", 1)[-1]
        self.calls[endpoint] += 1
        params: dict[str, Any] = {k: _loads(v) for k, v in wire.items()}
        result: object = True
        if endpoint == "getMe":
            result = BOT_USER
        elif endpoint in ("sendMessage", "sendDocument", "editMessageText"):
            chat = str(params.get("chat_id", ""))
            new = endpoint != "editMessageText"
            self.sent_at.append(self._clock())
            self.sent_to.append(chat)
            self.sent_new.append(new)
            if new:
                self._message_id += 1
                self._newest[chat] = self._newest_bot[chat] = self._message_id
            result = {
                "message_id": self._message_id if new else int(params.get("message_id", 0)),
                "date": int(NOW.timestamp()),
                "chat": {"id": params.get("chat_id", 0), "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                result["reply_markup"] = params["reply_markup"]
        answer = json.dumps({"ok": True, "result": result}).encode()
        self.server_cpu += time.process_time() - started
        if self.round_trip:
            await self._sleep(self.round_trip / 2)
        return 200, answer


def _loads(value: str) -> object:
    """A form value back as JSON where it is JSON (reply_markup), else as it is."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def build_application(network: FakeTelegramNetwork) -> Application[Any, Any, Any, Any, Any, Any]:
    """A python-telegram-bot Application on the fake network, without polling."""
    return (
        Application.builder()
        .token(TOKEN)
        .request(network)
        .get_updates_request(FakeTelegramNetwork())
        .updater(None)
        .build()
    )


# --- updates as Telegram sends them ----------------------------------------------------------


_update_ids = itertools.count(1)


@dataclass
class UpdateFactory:
    """Builds Update objects for private chats, numbered like Telegram's (unique per process).

    Update ids are the inbox's de-duplication key, so two factories must never reuse one.
    """

    bot: Any
    next_id: int = 0

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Bench"}

    def text(self, user_id: int, text_: str) -> Update:
        """The user writes a line."""
        self.next_id = next(_update_ids)
        data = {
            "update_id": self.next_id,
            "message": {
                "message_id": self.next_id,
                "date": int(NOW.timestamp()),
                "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
                "from": self._user(user_id),
                "text": text_,
                **(
                    {"entities": [{"type": "bot_command", "offset": 0, "length": len(text_)}]}
                    if text_.startswith("/")
                    else {}
                ),
            },
        }
        return Update.de_json(data, self.bot)

    def tap(self, user_id: int, choice_id: str, on_message: int | None = None) -> Update:
        """The user taps an inline button under the bot's last message (`on_message`: its
        id; by default the update's own number, which is no message the bot sent)."""
        self.next_id = next(_update_ids)
        data = {
            "update_id": self.next_id,
            "callback_query": {
                "id": f"cq{self.next_id}",
                "from": self._user(user_id),
                "chat_instance": f"ci{user_id}",
                "data": choice_id,
                "message": {
                    "message_id": self.next_id if on_message is None else on_message,
                    "date": int(NOW.timestamp()),
                    "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
                    "from": BOT_USER,
                    "text": "…",
                },
            },
        }
        return Update.de_json(data, self.bot)


# The young person's round through all four steps; it ends where it began (the menu) and
# leaves the same rows behind (the question it adds, it deletes), so it can repeat forever.
# ("tap", id) is a button; ("text", …) is typed. "4" picks the fourth question in the list:
# each seeded youth has three, so the fourth is the one just added.
YOUTH_ROUND: tuple[tuple[str, str], ...] = (
    ("tap", "questions"),
    ("tap", "add"),
    ("text", "Varför måste jag byta skola efter jul?"),
    ("tap", "delete"),
    ("text", "4"),
    ("tap", "yes"),
    ("tap", "next"),
    ("text", "Det funkar bra med fotbollen och min mentor."),
    ("tap", "skip"),
    ("tap", "skip"),
    ("tap", "skip"),
    ("tap", "done"),
)


def as_sent_now(update: Update, network: FakeTelegramNetwork, bot: Any) -> Update:
    """The update as Telegram would number it when the person acts now: a text gets the next
    message id of the chat, and a tap is on the bot's newest message there (what she sees)."""
    data = update.to_dict()
    if "message" in data:
        chat = str(data["message"]["chat"]["id"])
        data["message"]["message_id"] = network.person_writes(chat)
    elif "callback_query" in data:
        message = data["callback_query"]["message"]
        newest = network.newest_from_bot(str(message["chat"]["id"]))
        if newest is not None:
            message["message_id"] = newest
    else:
        return update
    return Update.de_json(data, bot)


def youth_updates(factory: UpdateFactory, user_ids: Sequence[int], rounds: int = 1) -> list[Update]:
    """Each user walks `rounds` rounds; users take turns, as real traffic interleaves."""
    updates: list[Update] = []
    for _ in range(rounds):
        for kind, value in YOUTH_ROUND:
            for user_id in user_ids:
                if kind == "tap":
                    updates.append(factory.tap(user_id, value))
                else:
                    updates.append(factory.text(user_id, value))
    return updates


# --- the baseline: a bare python-telegram-bot ConversationHandler ----------------------------

BASELINE_MENU = 0


def build_baseline(network: FakeTelegramNetwork) -> Any:
    """A ConversationHandler that answers every text or tap with a text and four buttons."""
    app = build_application(network)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Steg {n}", callback_data=f"step{n}")] for n in range(1, 5)]
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Greets and shows the menu."""
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Hej!", reply_markup=keyboard)
        return BASELINE_MENU

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Answers a typed line with the menu."""
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id, "<b>Sparat.</b> Vad vill du göra nu?", "HTML",
            reply_markup=keyboard,
        )  # fmt: skip
        return BASELINE_MENU

    async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Answers a tap with the menu."""
        assert update.callback_query is not None and update.effective_chat is not None
        await update.callback_query.answer()
        await context.bot.send_message(
            update.effective_chat.id, "<b>Steg 1 av 4.</b> Dina frågor:", "HTML",
            reply_markup=keyboard,
        )  # fmt: skip
        return BASELINE_MENU

    with warnings.catch_warnings():
        # per_message=False with a CallbackQueryHandler is what we want: one state per chat.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                BASELINE_MENU: [
                    CallbackQueryHandler(on_tap),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
                ]
            },
            fallbacks=[],
        )
    app.add_handler(conversation)
    return app
