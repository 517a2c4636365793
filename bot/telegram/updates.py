"""Translates Telegram updates into the flows' platform-free events; nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from telegram import Message, Update

from flows.conversation import ChoiceMade, ConversationRef, Inbound, JoinWithCode, parse_text

PLATFORM = "telegram"


class Ignored(StrEnum):
    """Why an update does not reach a flow (for the debug log: no content)."""

    NO_SENDER = "no_sender"
    OTHER_BOT = "command_for_another_bot"
    GROUP_CHATTER = "group_chatter"
    FROM_BOT = "from_a_bot"
    UNSUPPORTED = "unsupported_update"


@dataclass(frozen=True, slots=True)
class NotText:
    """A message the bot cannot read (photo, sticker, voice): it gets a helpful answer."""

    ref: ConversationRef
    platform_event_id: str


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is, from getMe: to spot commands and replies meant for it."""

    id: int
    username: str


def conversation_ref(chat_id: int, user_id: int) -> ConversationRef:
    """The flows' identity of a Telegram user in a chat (a private chat has the user's id)."""
    return ConversationRef(PLATFORM, str(chat_id), str(user_id))


def event_id(bot: BotIdentity, update_id: int) -> str:
    """The de-duplication key of an update.

    update_id is only unique per bot, so the bot id goes in front: an operator who replaces
    the bot (new token) must not have the new bot's updates taken for replays.
    """
    return f"{bot.id}:{update_id}"


def translate(update: Update, bot: BotIdentity) -> Inbound | NotText | Ignored:
    """The flow event an update stands for, or why it has none."""
    if update.callback_query is not None:
        query = update.callback_query
        if query.data is None or query.message is None:
            return Ignored.UNSUPPORTED
        ref = conversation_ref(query.message.chat.id, query.from_user.id)
        # Which message was tapped: its answer may replace it (bot/edit_in_place.py).
        on_message = str(query.message.message_id)
        return Inbound(ref, ChoiceMade(query.data), event_id(bot, update.update_id), on_message)
    message = update.message
    if message is None:
        return Ignored.UNSUPPORTED
    if message.from_user is None:
        return Ignored.NO_SENDER
    if message.from_user.is_bot:
        return Ignored.FROM_BOT
    ref = conversation_ref(message.chat.id, message.from_user.id)
    if message.text is None:
        if ref.is_group and not _addressed_to_bot(message, bot):
            return Ignored.GROUP_CHATTER
        if message.new_chat_members or message.left_chat_member or message.group_chat_created:
            return Ignored.UNSUPPORTED  # service messages, not something a person said
        return NotText(ref, event_id(bot, update.update_id))
    text = message.text
    if text.startswith("/"):
        head = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
        _, at, addressee = head.partition("@")
        # In a group "/start@otherbot" is for another bot; parse_text drops our own @name.
        if at and addressee.lower() != bot.username.lower():
            return Ignored.OTHER_BOT
    elif ref.is_group and not _addressed_to_bot(message, bot):
        # Adults talking to each other in the family group are not talking to the bot.
        return Ignored.GROUP_CHATTER
    elif ref.is_group:
        text = _without_mention(text, bot)
    event = parse_text(text)
    if isinstance(event, JoinWithCode) and message.from_user.language_code:
        # First contact: the app's language is the bot's first guess at the person's own.
        event = replace(event, language=message.from_user.language_code)
    return Inbound(ref, event, event_id(bot, update.update_id))


def _without_mention(text: str, bot: BotIdentity) -> str:
    """The text without "@botname", which is how the person got the bot's attention."""
    return re.sub(rf"@{re.escape(bot.username)}\b", "", text, flags=re.IGNORECASE).strip()


def _addressed_to_bot(message: Message, bot: BotIdentity) -> bool:
    """In a group: a reply to one of the bot's messages, or a text that mentions the bot."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    mention = f"@{bot.username}".lower()
    return bool(message.text and mention in message.text.lower())
