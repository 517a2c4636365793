"""What a flow says: message ids with parameters and choices, never platform objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

# Values a message template can use. Lists and mappings let a template show a list
# of the user's own items; the renderer escapes every string it inserts.
ParamValue = (
    str | int | bool | None | datetime | date | list["ParamValue"] | dict[str, "ParamValue"]
)
Params = Mapping[str, ParamValue]


@dataclass(frozen=True, slots=True)
class Choice:
    """A button (or numbered option) with an opaque id and a catalogue label."""

    id: str
    label: str
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message, by reference: it is made at send time from stored data.

    `kind` names a file maker registered in bot/ (e.g. "meeting_ics"); `params` say which
    data it is made of (e.g. the meeting id). Files are never stored in the outbox.
    """

    kind: str
    params: Params = field(default_factory=dict)


class Audience(StrEnum):
    """Who may read a message. The pipeline checks it against the chat it goes to.

    A message is for one person unless it says otherwise: that is the safe default, so a
    flow that forgets to think about group chats sends a pointer there, never a private text.
    """

    # For the person it is sent to, and nobody else: only their private chat.
    PERSON = "person"
    # For the family together: may be shown in the family group chat (the adults, maybe the
    # child, read it). Holds nothing one person keeps to themselves.
    FAMILY = "family"
    # Holds nothing about anyone (help, "I did not understand", a pointer): any chat.
    ANYONE = "anyone"


# Audiences a group chat may see; a private chat may see every audience.
GROUP_AUDIENCES = frozenset({Audience.FAMILY, Audience.ANYONE})

# A choice with this id is a link to the bot's private chat, not a button the flow handles:
# platforms that can open a private chat from a group (Telegram) show it as a link button,
# the others leave it out and let the text say it.
PRIVATE_CHAT_LINK = "link:private_chat"


# The pointer's button: opens the private chat where the platform can.
OPEN_PRIVATE_CHAT = Choice(PRIVATE_CHAT_LINK, "common.open_private")


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: a catalogue id, its parameters, the choices under it, maybe a file,
    and who may read it."""

    message: str
    params: Params = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    attachment: Attachment | None = None
    audience: Audience = Audience.PERSON


def say(message: str, *choices: Choice, **params: ParamValue) -> Reply:
    """Builds a reply for the person in hand alone; reads like the conversation it is part of."""
    return Reply(message=message, params=params, choices=choices)


def to_family(reply: Reply) -> Reply:
    """The same reply, marked as fine for the family to read together (a family group chat)."""
    return replace(reply, audience=Audience.FAMILY)


def to_anyone(reply: Reply) -> Reply:
    """The same reply, marked as holding nothing about anyone (fine in any chat)."""
    return replace(reply, audience=Audience.ANYONE)


def say_to_anyone(message: str, *choices: Choice, **params: ParamValue) -> Reply:
    """Builds a reply that holds nothing about anyone (help, a pointer): fine in any chat."""
    return Reply(message=message, params=params, choices=choices, audience=Audience.ANYONE)


def may_show_in(reply: Reply, *, group: bool) -> bool:
    """True when the reply may go to this kind of chat: anything to a private chat, and only
    what its audience allows to a group chat (its file, if any, included)."""
    return not group or reply.audience in GROUP_AUDIENCES
