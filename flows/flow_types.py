"""The types every flow is made of: states, transitions, notices, and the Flow protocols.

The engine (flows/engine.py) re-exports them; a flow may import them from either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flows.conversation import ConversationRef, Event
from flows.domain import Actor
from flows.paging import Pages
from flows.ports import Ports
from flows.replies import Reply

StateValue = str | int | None


@dataclass(frozen=True, slots=True)
class FlowState:
    """Where a conversation is: which flow, which step, and a little scratch data."""

    flow: str
    step: str
    data: Mapping[str, StateValue] = field(default_factory=dict)
    # Choice ids of the last message that had choices, in order, so "2" typed in a
    # terminal or a Matrix room means the second one, and an old button is recognised.
    offered: tuple[str, ...] = ()
    paused: bool = False
    # The whole list behind a paged reply (flows/paging.py), so "Fler" can show the next
    # page and a button of an older page still counts as offered; None when nothing is paged.
    pages: Pages | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A message to someone other than the user in hand: a person's private chat, or a chat.

    `dedup_key` makes a notice idempotent: the same key is enqueued at most once per chat,
    so a reminder found due by two ticks (or two processes) is still sent once.
    """

    reply: Reply
    person_id: int | None = None
    chat: ConversationRef | None = None
    dedup_key: str | None = None
    # The people whose words or name the notice quotes (a comment, a reason, "Alex ..."):
    # stored with its outbox rows, so /glommig removes them in the same transaction.
    about: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if (self.person_id is None) == (self.chat is None):
            raise ValueError("a notice goes to exactly one of a person or a chat")


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of a step: the next state, what to say here, and notices to others."""

    state: FlowState
    replies: tuple[Reply, ...]
    notices: tuple[Notice, ...] = ()
    # Who the engine found behind the chat (after a join: who joined); None for a stranger.
    # The caller uses it instead of looking the member up a second time.
    actor: Actor | None = None
    # The language the person just chose (/sprak, or first contact's guess): the replies are
    # written in it. None: the language the member look-up read.
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step may know: who, when, and the ports of this transaction."""

    ref: ConversationRef
    now: datetime
    actor: Actor
    ports: Ports


class Flow(Protocol):
    """A conversation as a state machine."""

    @property
    def name(self) -> str:
        """The flow's name, stored in the conversation state."""
        ...

    @property
    def home(self) -> FlowState:
        """The state the flow's first step shows, named without reading or writing anything
        (start() may write, e.g. note the chat; the engine needs only where it leads)."""
        ...

    def start(self, ctx: StepContext) -> Transition:
        """Enters the flow at its first step."""
        ...

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again (after a pause, a restart or /start)."""
        ...

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Handles one event in the current step."""
        ...

    def help(self, state: FlowState) -> Reply:
        """Explains what the user can do in the current step."""
        ...


class Gate(Flow, Protocol):
    """A flow that stands before every role's flow (consent): it decides when it takes over."""

    def admits(self, event: Event, ctx: StepContext) -> bool:
        """True when the role's flow may handle this event; False hands it to the gate."""
        ...

    def enter(self, event: Event, ctx: StepContext) -> Transition:
        """Takes over the conversation because of this event."""
        ...


# A gate ends with one of these states: go on to the role's flow, or forget the conversation
# (after erasure, the handler deletes the stored state instead of saving it).
# (Their flow name is not RETURN's "", so a sidetrack's return can never be mistaken for them.)
GATE_PASSED = FlowState(flow="gate", step="passed")
FORGOTTEN = FlowState(flow="gate", step="forgotten")


class Sidetrack(Flow, Protocol):
    """A short flow any member can open from anywhere (a command or a button in a notice).

    When it is done it returns a state whose flow is `RETURN`, and the engine goes back to
    the member's own flow, so "när är mötet?" works the same for every role.
    """

    def opens(self, event: Event) -> bool:
        """True when this event (a command, a notice's button) opens the sidetrack."""
        ...


# The flow name a sidetrack's last step returns: "back to the member's own flow".
RETURN = FlowState(flow="", step="")
