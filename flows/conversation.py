"""Platform-neutral identity of a conversation and the events that arrive in it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Who is talking where: opaque strings, never platform types."""

    platform: str
    chat_id: str
    user_id: str

    @property
    def is_group(self) -> bool:
        """True when the chat is shared by several people (a family group chat)."""
        return self.chat_id != self.user_id


class Command(StrEnum):
    """Commands every flow understands, whatever the platform calls them."""

    START = "start"
    HELP = "help"
    PAUSE = "pause"
    MENU = "menu"
    MEETING = "meeting"
    PICTURE = "picture"
    ASK_MEETING = "ask_meeting"
    LANGUAGE = "language"
    PLAN = "plan"
    AGENDA = "agenda"
    CONSENT = "consent"
    MY_DATA = "my_data"
    FORGET = "forget"


# Swedish words first: they are what users see in the help texts. Telegram only
# allows [a-z0-9_] in command names, so "hjalp" stands beside "hjälp".
COMMAND_ALIASES: dict[str, Command] = {
    "start": Command.START,
    "hjälp": Command.HELP,
    "hjalp": Command.HELP,
    "help": Command.HELP,
    "paus": Command.PAUSE,
    "pausa": Command.PAUSE,
    "pause": Command.PAUSE,
    "meny": Command.MENU,
    "menu": Command.MENU,
    "mote": Command.MEETING,
    "möte": Command.MEETING,
    "meeting": Command.MEETING,
    "bild": Command.PICTURE,
    "picture": Command.PICTURE,
    "nyttmote": Command.ASK_MEETING,
    "nyttmöte": Command.ASK_MEETING,
    "newmeeting": Command.ASK_MEETING,
    "sprak": Command.LANGUAGE,
    "språk": Command.LANGUAGE,
    "language": Command.LANGUAGE,
    # The case's plan for the family (flows/family_plan.py): the same word in both languages.
    "plan": Command.PLAN,
    # The agenda as each professional may read it (flows/agenda_reading.py).
    "dagordning": Command.AGENDA,
    "agenda": Command.AGENDA,
    # Privacy commands (flows/consent/): consent, "vad har ni om mig?", "glöm mig".
    "samtycke": Command.CONSENT,
    "consent": Command.CONSENT,
    "minadata": Command.MY_DATA,
    "mina_data": Command.MY_DATA,
    "mydata": Command.MY_DATA,
    "glommig": Command.FORGET,
    "glom_mig": Command.FORGET,
    "glömmig": Command.FORGET,
    "forgetme": Command.FORGET,
}


@dataclass(frozen=True, slots=True)
class TextMessage:
    """The user wrote free text."""

    text: str


@dataclass(frozen=True, slots=True)
class ChoiceMade:
    """The user picked one of the choices the bot offered."""

    choice_id: str


@dataclass(frozen=True, slots=True)
class CommandIssued:
    """The user sent a command such as /hjälp."""

    command: Command
    argument: str = ""


@dataclass(frozen=True, slots=True)
class UnknownCommand:
    """The user sent something that looks like a command we do not know."""

    name: str


@dataclass(frozen=True, slots=True)
class JoinWithCode:
    """The user wants to join a case with an invite code (`/start CODE` or a typed code)."""

    code: str
    # The language the person's app is set to, if the platform says (Telegram's
    # language_code, "ar" or "fa-IR"): the first guess at the language to write in.
    language: str = ""


@dataclass(frozen=True, slots=True)
class Resume:
    """The adapter (re)started and asks the flow to show where the user is."""


# What a reminder event may carry: ids, counts, times. Never free text (DESIGN.md §5): what
# is said is the kind's to decide (flows/reminders.py), from the catalogue.
ReminderParam = int | bool | datetime | date


@dataclass(frozen=True, slots=True)
class ReminderDue:
    """A reminder fell due: which kind, for whom (a person's private chat, or a group chat),
    with which ids and times, once per `dedup_key`.

    `due_at` (when it was meant to go out) and `expires_at` (when it stops making sense) are
    the scheduler's delivery contract (bot/scheduler.py); None where the kind has none.
    """

    kind: str
    dedup_key: str
    person_id: int | None = None
    chat: ConversationRef | None = None
    params: Mapping[str, ReminderParam] = field(default_factory=dict)
    due_at: datetime | None = None
    expires_at: datetime | None = None
    # The people the reminder quotes (see flows.engine.Notice.about).
    about: tuple[int, ...] = ()
    # The rows it is about, when they are many (a nudge's actions); ids only, like params.
    ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if (self.person_id is None) == (self.chat is None):
            raise ValueError("a reminder is for exactly one of a person or a chat")


# A reminder is not something said in a conversation: it reaches the reminder engine
# (flows.reminders.Reminders.remind), never Engine.step, so it is not among these.
Event = TextMessage | ChoiceMade | CommandIssued | UnknownCommand | JoinWithCode | Resume


@dataclass(frozen=True, slots=True)
class Inbound:
    """One event from one conversation, with the platform's id for de-duplication."""

    ref: ConversationRef
    event: Event
    platform_event_id: str | None = None
    # The platform's id of the message a tapped button was on (None for anything else): the
    # answer may replace that message in place (bot/edit_in_place.py). An opaque string.
    on_message: str | None = None


# Half of a UTF-16 pair on its own: JSON and some clients let it through, but it is no
# character, cannot be encoded, and so can be neither stored nor sent back.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """The text with every lone surrogate replaced by U+FFFD, the replacement character."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def clean_event(event: Event) -> Event:
    """The event with every text it carries (text, command name, code, choice id) storable."""
    changes = {
        f.name: without_lone_surrogates(value)
        for f in fields(event)
        if isinstance(value := getattr(event, f.name), str) and _LONE_SURROGATE.search(value)
    }
    # mypy cannot see that the names come from the event's own fields.
    return replace(event, **changes) if changes else event  # type: ignore[arg-type]


def parse_text(text: str) -> Event:
    """Turns raw user text into an event: commands start with '/', the rest is text."""
    stripped = without_lone_surrogates(text).strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return TextMessage(without_lone_surrogates(text))
    head, _, rest = stripped[1:].partition(" ")
    # Telegram appends @botname to commands in groups; it is not part of the command.
    name = head.split("@", 1)[0].lower()
    argument = rest.strip()
    command = COMMAND_ALIASES.get(name)
    if command is None:
        return UnknownCommand(name)
    if command is Command.START and argument:
        return JoinWithCode(argument)
    return CommandIssued(command, argument)
