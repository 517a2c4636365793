"""The newest message id this process has seen in each Telegram chat, bounded in memory.

Telegram numbers the messages of a chat in one increasing sequence, the person's and the
bot's alike. An answer replaces the tapped message (bot/edit_in_place.py) only while that
message is still the newest one in the chat: an edit of a message further up would change
something out of sight, and the person would wait in vain for an answer below. Only what this
process saw counts (updates it received, messages it sent); a chat it knows nothing about
(after a restart, or forgotten to keep memory bounded) gets a new message, as before.
"""

from __future__ import annotations

from collections import OrderedDict

# Chats remembered: an int pair each, about a megabyte at most; the least recently
# active chat is forgotten first, and it then gets new messages until it is seen again.
CHATS_KEPT = 10_000


class NewestMessages:
    """Highest message id seen per chat, for the most recently active chats."""

    def __init__(self, kept: int = CHATS_KEPT) -> None:
        self._kept = kept
        self._newest: OrderedDict[str, int] = OrderedDict()

    def saw(self, chat_id: str, message_id: int) -> None:
        """Notes a message of the chat (received or sent); the highest id stays."""
        known = self._newest.get(chat_id)
        self._newest[chat_id] = message_id if known is None else max(known, message_id)
        self._newest.move_to_end(chat_id)
        if len(self._newest) > self._kept:
            self._newest.popitem(last=False)

    def is_newest(self, chat_id: str, message_id: int) -> bool:
        """True when the message is the newest this process knows of in the chat."""
        return self._newest.get(chat_id) == message_id

    def __len__(self) -> int:
        return len(self._newest)
