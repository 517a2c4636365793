"""What a flow says: message ids with parameters and choices, never platform objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

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


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: a catalogue id, its parameters, the choices under it, maybe a file."""

    message: str
    params: Params = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    attachment: Attachment | None = None


def say(message: str, *choices: Choice, **params: ParamValue) -> Reply:
    """Builds a reply; reads like the conversation it is part of."""
    return Reply(message=message, params=params, choices=choices)
