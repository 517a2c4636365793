"""Which conversation a Matrix room event belongs to.

A direct room (the bot and one person) is addressed by the person's user id, not by the
room id: ConversationRef(chat_id=user_id, user_id=user_id). That keeps the platform-free
rule "a chat is private when chat_id == user_id" true on Matrix as on Telegram, so the
person's ChatIdentity.private_chat_id is their user id, and notices to them are sent to
whichever direct room they used last (the transport looks it up). A person who leaves one
DM and opens another keeps their conversation.

A group room (a family room) is addressed by its room id, one conversation per member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.matrix import PLATFORM
from flows.conversation import ConversationRef
from storage.matrix_repository import RoomKind, StoredRoom

# A direct room holds the bot and exactly one person.
DIRECT_ROOM_MEMBERS = 2


@dataclass(frozen=True, slots=True)
class InviteSummary:
    """What an invite says about the room: who invited, and whether they call it direct."""

    inviter: str | None
    is_direct: bool


def read_invite(invite_state: Iterable[Any], bot_user_id: str) -> InviteSummary:
    """Reads the bot's own m.room.member invite event from the stripped invite state."""
    for event in invite_state:
        if (
            getattr(event, "state_key", None) == bot_user_id
            and getattr(event, "membership", None) == "invite"
        ):
            content = getattr(event, "content", {}) or {}
            return InviteSummary(getattr(event, "sender", None), content.get("is_direct") is True)
    return InviteSummary(None, False)


def kind_of_invite(invite: InviteSummary) -> RoomKind:
    """A room is direct when the inviter marked it so (Element does for every DM)."""
    return RoomKind.DIRECT if invite.is_direct and invite.inviter else RoomKind.GROUP


def still_direct(room: StoredRoom, sender: str, member_count: int) -> bool:
    """A direct room stays direct while only its person and the bot are in it."""
    return (
        room.kind is RoomKind.DIRECT
        and room.direct_user_id == sender
        and member_count <= DIRECT_ROOM_MEMBERS
    )


def conversation_ref(room_id: str, sender: str, direct: bool) -> ConversationRef:
    """The conversation of one sender in one room."""
    return ConversationRef(PLATFORM, sender if direct else room_id, sender)


def is_user_id(chat_id: str) -> bool:
    """Matrix sigils tell the two kinds of chat id apart: @user, !room."""
    return chat_id.startswith("@")
