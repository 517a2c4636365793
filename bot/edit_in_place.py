"""Edit in place: the answer to a tap replaces the message that was tapped (issue 26).

A menu on Telegram is answered the platform's usual way: the tapped message's text and
buttons are replaced by the answer and the next prompt, instead of a new message below it.
A new message in a chat waits a second behind the one before (Telegram's guidance, kept by
the pacer), an edit does not, so a quick thumb no longer builds a queue.

Who decides what, in two steps:

1. **The handler** (`edit_target`), when it writes the answer: only a tap (a ChoiceMade
   carrying the id of the message it was on) in a private chat, answered by exactly one
   reply (after bot/one_message.py combined the step's parts) that is text with or without
   buttons: no file, no secret of its own. A group never edits (everyone sees the message
   the tap was on), nor does anything that is not a tap. The row keeps the tapped message's
   id (outbox.edits_message).
2. **The connector** at send time: Telegram edits only when the tapped message is still the
   newest in the chat as far as this process knows, and the text fits in one message; in
   every other case, and when Telegram refuses the edit, it sends a new message as before
   (bot/telegram/transport.py). Other connectors send a new message whatever the row says.
"""

from __future__ import annotations

from bot.one_message import holds_secret
from flows.conversation import ChoiceMade, Inbound
from flows.replies import Reply


def edit_target(inbound: Inbound, replies: tuple[Reply, ...]) -> str | None:
    """The id of the tapped message the answer may replace, or None: send a new message."""
    if inbound.on_message is None or inbound.ref.is_group:
        return None
    if not isinstance(inbound.event, ChoiceMade) or len(replies) != 1:
        return None
    reply = replies[0]
    if reply.attachment is not None:
        return None
    # A secret is sent once and forgotten by its row; it gets a message of its own.
    if holds_secret(reply):
        return None
    return inbound.on_message
