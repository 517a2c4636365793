"""Sends rendered messages through the Bot API: HTML, inline keyboards, files, pacing."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from functools import lru_cache

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    TelegramError,
)

from bot.catalogue import RenderedChoice, RenderedFile, RenderedMessage, TextFormat
from bot.connector import Capabilities, SendLimits
from bot.delivery import PermanentSendError, RetryAfter
from bot.pacing import RateLimitedTooOften
from bot.telegram.bot_api import (
    edit_text,
    markup_json,
    remove_keyboard,
    send_text,
    silence_named_method_hint,
)
from bot.telegram.html_split import CAPTION_LIMIT, split_html, utf16_length
from bot.telegram.newest import NewestMessages
from bot.telegram.pacer import Pacer
from flows.replies import PRIVATE_CHAT_LINK

log = logging.getLogger(__name__)

PLATFORM = "telegram"
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Keyboards kept for reuse (see keyboard): a few hundred small objects at most.
KEYBOARDS_KEPT = 256

# What Telegram shows and allows (core.telegram.org/bots/api, /bots/faq): HTML, inline
# buttons (at most 100 per message), files, 4,096 characters per text, a t.me link that opens
# the private chat; about 30 messages a second in all, one a second in a chat, 20 a minute in
# a group.
CAPABILITIES = Capabilities(
    text_format=TextFormat.HTML,
    buttons=True,
    files=True,
    max_text_length=4096,
    max_buttons=100,
    opens_private_chat=True,
    limits=SendLimits(per_second=30, chat_interval=1.0, group_per_minute=20),
)


class ChoiceIdTooLong(PermanentSendError):
    """A choice id does not fit in Telegram's 64-byte callback data."""


def is_group_chat(chat_id: str) -> bool:
    """Groups and supergroups have negative ids; private chats have the user's (positive) id."""
    return chat_id.startswith("-")


@dataclass(frozen=True, slots=True)
class Keyboard:
    """Inline buttons in both forms the bot sends: the library's object (for files) and the
    JSON the Bot API takes (for texts, written once here instead of on every send)."""

    markup: InlineKeyboardMarkup
    json: str


def keyboard(
    choices: tuple[RenderedChoice, ...], private_chat_url: str | None = None
) -> Keyboard | None:
    """One button per row, so long Swedish labels stay readable on a phone; the private chat
    link (flows.replies.PRIVATE_CHAT_LINK) is a link button to the bot, or left out."""
    if private_chat_url is None:
        choices = tuple(c for c in choices if c.id != PRIVATE_CHAT_LINK)
    if not choices:
        return None
    for choice in choices:
        if len(choice.id.encode()) > CALLBACK_DATA_LIMIT:
            raise ChoiceIdTooLong(f"choice id of {len(choice.id.encode())} bytes")
    markup = InlineKeyboardMarkup([[_button(choice, private_chat_url)] for choice in choices])
    return Keyboard(markup, markup_json(markup))


def _button(choice: RenderedChoice, private_chat_url: str | None) -> InlineKeyboardButton:
    """A button that answers the flow, or the link that opens the private chat with the bot."""
    if choice.id == PRIVATE_CHAT_LINK and private_chat_url is not None:
        return InlineKeyboardButton(choice.label, url=private_chat_url)
    return InlineKeyboardButton(choice.label, callback_data=choice.id)


# Kept for the next message with the same choices (a drain of nudges sends one keyboard to
# many chats): building the buttons and their JSON cost more than any other part of the
# transport, and neither can change once made (python-telegram-bot's objects are frozen),
# so one can be sent again. Only for choices whose labels hold no one's words
# (RenderedMessage.choices_reusable): what people wrote is never kept in memory.
kept_keyboard = lru_cache(maxsize=KEYBOARDS_KEPT)(keyboard)


def keyboard_for(message: RenderedMessage, private_chat_url: str | None = None) -> Keyboard | None:
    """The message's keyboard: a kept one when its labels are the catalogue's alone."""
    if message.choices_reusable:
        return kept_keyboard(message.choices, private_chat_url)
    return keyboard(message.choices, private_chat_url)


def tapped_message(chat_id: str, edits_message: str | None) -> int | None:
    """The Telegram id of the tapped message an answer may replace (bot/edit_in_place.py), or
    None: no tap, a group (everyone sees it), or not a Telegram message id."""
    if edits_message is None or not edits_message.isdigit() or is_group_chat(chat_id):
        return None
    return int(edits_message)


class TelegramTransport:
    """The sending half of the Telegram connector (bot/telegram/service.py)."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(self, bot: Bot, pacer: Pacer, newest: NewestMessages | None = None) -> None:
        self._bot = bot
        self._pacer = pacer
        # The newest message of each chat, from the updates received and the messages sent.
        self.newest = newest or NewestMessages()
        silence_named_method_hint()

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Sends one rendered message: in place of the tapped message where it may
        (bot/edit_in_place.py), else split text, keyboard on the last part, then any file."""
        markup = keyboard_for(message, self._private_chat_url())
        try:
            tapped = tapped_message(chat_id, message.edits_message)
            if tapped is not None:
                if await self._edited(chat_id, tapped, message, markup):
                    return
                # A new message answers the tap after all: the tapped buttons go, as they
                # would have before the press was handled (bot/telegram/service.py).
                await self._take_buttons_off(chat_id, tapped)
            if message.file is None:
                await self._send_texts(chat_id, split_html(message.text), markup)
            elif utf16_length(message.text) <= CAPTION_LIMIT:
                await self._send_file(chat_id, message.file, message.text, markup)
            else:
                await self._send_texts(chat_id, split_html(message.text), None)
                await self._send_file(chat_id, message.file, None, markup)
        except RateLimitedTooOften as exc:
            raise RetryAfter(exc.seconds) from exc
        except (Forbidden, InvalidToken, EndPointNotFound, ChatMigrated) as exc:
            # Blocked by the user, kicked from the group, or the group became a supergroup
            # (the old id is gone for good): retrying the same chat can never succeed.
            # (A rejected token comes as EndPointNotFound from do_api_request, see bot_api.)
            raise PermanentSendError(type(exc).__name__) from exc
        except BadRequest as exc:
            # Telegram's reason ("chat not found", "can't parse entities") has no user text.
            log.warning("Bot API refused a message: %s", exc.message)
            raise PermanentSendError(exc.message) from exc

    async def remove_buttons(self, chat_id: str, message_id: int) -> None:
        """Takes the buttons off one of the bot's messages, paced like every message.

        Telegram counts an edit within its limits: sent past the pacer, a hundred presses at
        once took a hundred edits into the same second as thirty replies, and a group's edits
        came on top of its twenty messages a minute.
        """

        async def call() -> None:
            await remove_keyboard(self._bot, int(chat_id), message_id)

        await self._pacer.send(chat_id, is_group_chat(chat_id), call, new_message=False)

    async def _take_buttons_off(self, chat_id: str, tapped: int) -> None:
        """Removes the tapped message's buttons; gone or unchanged, it is sent on anyway."""
        # As before the press was handled: a failure only leaves the old buttons there.
        with contextlib.suppress(TelegramError):
            await self.remove_buttons(chat_id, tapped)

    async def _edited(
        self, chat_id: str, tapped: int, message: RenderedMessage, markup: Keyboard | None
    ) -> bool:
        """Replaces the tapped message's text and buttons with the message; False when it
        may not or Telegram refused, and the message is to be sent as a new one instead.

        An edit is not spaced like a new message in the chat (the pacer still counts it in
        the bot's 30 a second). It is made only when the tapped message is still the newest
        in the chat as far as this process knows, and the text fits in one message.
        """
        if message.file is not None or not self.newest.is_newest(chat_id, tapped):
            return False
        parts = split_html(message.text)
        if len(parts) > 1:
            return False
        text = parts[0] if parts else "…"  # Telegram needs some text, as in _send_texts

        async def call() -> None:
            buttons = markup.json if markup is not None else None
            await edit_text(self._bot, chat_id, tapped, text, buttons)

        try:
            await self._pacer.send(chat_id, False, call, new_message=False)
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                # The message already shows this (a retry after a crash re-edits the same).
                return True
            # Gone, too old to edit, or any other refusal: a new message instead. Telegram's
            # reason ("message to edit not found") holds no one's words.
            log.info("Bot API refused an edit, sent as a new message: %s", exc.message)
            return False
        return True

    def _private_chat_url(self) -> str | None:
        """The t.me link to the bot's private chat, once the bot knows its username."""
        try:
            username = self._bot.username
        except RuntimeError:  # not initialised yet (getMe has not answered)
            return None
        return f"https://t.me/{username}" if username else None

    async def _send_texts(self, chat_id: str, parts: list[str], markup: Keyboard | None) -> None:
        """Sends the parts in order; only the last carries the buttons."""
        if not parts:
            # A message with only buttons still needs some text on Telegram.
            parts = ["…"] if markup is not None else []
        group = is_group_chat(chat_id)
        for number, part in enumerate(parts, start=1):
            last = number == len(parts)

            async def call(part: str = part, last: bool = last) -> None:
                buttons = markup.json if markup is not None and last else None
                sent = await send_text(self._bot, chat_id, part, buttons)
                if sent is not None:
                    self.newest.saw(chat_id, sent)

            await self._pacer.send(chat_id, group, call)

    async def _send_file(
        self,
        chat_id: str,
        file: RenderedFile,
        caption: str | None,
        markup: Keyboard | None,
    ) -> None:
        """A PNG goes as a photo (shown inline); every other file as a document."""
        as_photo = file.media_type == "image/png" and file.data.startswith(PNG_SIGNATURE)
        buttons = markup.markup if markup is not None else None

        async def call() -> Message:
            sent = await send(as_photo)
            self.newest.saw(chat_id, sent.message_id)
            return sent

        async def send(as_photo: bool) -> Message:
            """The photo or the document itself."""
            if as_photo:
                return await self._bot.send_photo(
                    chat_id,
                    photo=file.data,
                    filename=file.filename,
                    caption=caption,
                    parse_mode=ParseMode.HTML if caption else None,
                    reply_markup=buttons,
                )
            return await self._bot.send_document(
                chat_id,
                document=file.data,
                filename=file.filename,
                caption=caption,
                parse_mode=ParseMode.HTML if caption else None,
                reply_markup=buttons,
            )

        await self._pacer.send(chat_id, is_group_chat(chat_id), call)
