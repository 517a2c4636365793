"""A fast test client: the real engine on in-memory ports, choices picked by id.

In the spirit of aiogram-dialog's BotClient: no database, no network, no rendering. A test
builds a `FastBot` (one World, one clock, one engine), a `BotClient` per person, and talks:

    bot = FastBot()
    case = bot.world.case()
    bot.world.invite("KOD", case.id, Role.YOUTH, "Alex")
    alex = bot.client("alex")
    alex.join("KOD")
    alex.click("questions")          # fails loudly when "questions" is not offered
    alex.type("Får jag vara med?")
    assert alex.said("youth.question.saved")

Every reply's message id and every choice's label must exist in the Swedish catalogue, so a
typo in a flow fails the test that walks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from bot.catalogue import LOCALES_DIR, load_locale
from flows.conversation import (
    ChoiceMade,
    ConversationRef,
    Event,
    JoinWithCode,
    TextMessage,
    parse_text,
)
from flows.engine import Engine, FlowState, Notice, Transition
from flows.replies import PRIVATE_CHAT_LINK, Reply
from flows.steps import StepFlow, step_flows
from flows.wiring import default_engine
from testkit.memory import MemoryPorts, World

PLATFORM = "fast"
START = datetime(2026, 11, 23, 10, tzinfo=UTC)


@cache
def catalogue_ids() -> frozenset[str]:
    """The message ids of the Swedish catalogue (read once: ids only, nothing rendered)."""
    return frozenset(load_locale(LOCALES_DIR / "sv"))


class UnknownMessage(AssertionError):
    """A flow said a message id (or a label) that the catalogue does not have."""


class UndeclaredStep(AssertionError):
    """A declarative flow went from one step to a step its table does not name."""


class NotOffered(AssertionError):
    """A test clicked a choice the last reply did not offer."""


@dataclass
class Clock:
    """The time every step sees; tests move it, nothing sleeps."""

    now: datetime = START

    def advance(self, **delta: float) -> datetime:
        """Moves time forward and returns the new now."""
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class Sent:
    """A notice the engine asked to send to someone other than the user in hand."""

    notice: Notice
    at: datetime


@dataclass
class FastBot:
    """One World, its ports, a clock and the real engine, shared by every client."""

    world: World = field(default_factory=World)
    clock: Clock = field(default_factory=Clock)
    engine: Engine = field(default_factory=default_engine)
    ports: MemoryPorts = field(init=False)
    notices: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Builds the ports on this bot's World."""
        self.ports = MemoryPorts(self.world)

    def client(self, user: str, chat: str | None = None) -> BotClient:
        """A person's chat: private unless `chat` names a group chat (its id starts with -)."""
        return BotClient(self, ConversationRef(PLATFORM, chat or user, user))

    def client_of(self, person_id: int) -> BotClient:
        """The private chat of someone already in the World (bound to a chat user here)."""
        user = f"p{person_id}"
        self.world.bind_chat(ConversationRef(PLATFORM, user, user), person_id)
        return self.client(user)

    def notices_to(self, person_id: int) -> list[Reply]:
        """What the bot sent this person outside their own conversation, oldest first."""
        return [
            s.notice.reply
            for s in self.notices
            if s.notice.person_id == person_id
            or (s.notice.chat is not None and self.world.person_behind(s.notice.chat) == person_id)
        ]


class BotClient:
    """One person in one chat, talking to the engine; keeps the conversation's FlowState."""

    def __init__(self, bot: FastBot, ref: ConversationRef) -> None:
        """Starts a conversation with nothing said yet."""
        self.bot = bot
        self.ref = ref
        self.state: FlowState | None = None
        self.transition: Transition | None = None
        self.history: list[Reply] = []

    # --- what the person does ---------------------------------------------------------

    def join(self, code: str) -> list[str]:
        """Joins a case with an invite code (`/start CODE`)."""
        return self._step(JoinWithCode(code))

    def send(self, text: str) -> list[str]:
        """Writes as a person does: a command (/meny) or text (a typed "2" picks choice 2)."""
        return self._step(parse_text(text))

    def type(self, text: str) -> list[str]:
        """Writes free text (never read as a command)."""
        return self._step(TextMessage(text))

    def click(self, choice_id: str) -> list[str]:
        """Taps the choice with this id; fails loudly when the last reply does not offer it."""
        if choice_id not in self.offered:
            raise NotOffered(f"{choice_id!r} is not offered; offered: {list(self.offered)}")
        return self._step(ChoiceMade(choice_id))

    def tap(self, choice_id: str) -> list[str]:
        """Taps a button that is not on screen now (a notice's button, an old message)."""
        return self._step(ChoiceMade(choice_id))

    # --- what the person sees ---------------------------------------------------------

    @property
    def replies(self) -> tuple[Reply, ...]:
        """The replies to the last thing the person did."""
        return self.transition.replies if self.transition else ()

    @property
    def last(self) -> Reply:
        """The last reply to the last thing the person did."""
        if not self.replies:
            raise AssertionError("the bot said nothing")
        return self.replies[-1]

    def ids(self) -> list[str]:
        """The message ids of the replies to the last thing the person did."""
        return [r.message for r in self.replies]

    def said(self, message_id: str) -> bool:
        """True when one of the last replies is this message."""
        return message_id in self.ids()

    def reply(self, message_id: str) -> Reply:
        """The last reply with this message id (for its parameters)."""
        found = [r for r in self.replies if r.message == message_id]
        if not found:
            raise AssertionError(f"{message_id!r} not said; said: {self.ids()}")
        return found[-1]

    @property
    def offered(self) -> tuple[str, ...]:
        """The choice ids on screen now (the last reply with choices)."""
        return self.state.offered if self.state else ()

    @property
    def flow(self) -> str:
        """The flow the conversation is in."""
        return self.state.flow if self.state else ""

    @property
    def step(self) -> str:
        """The step the conversation is in."""
        return self.state.step if self.state else ""

    @property
    def person_id(self) -> int:
        """The person behind this chat (after joining)."""
        person = self.bot.world.person_behind(self.ref)
        if person is None:
            raise AssertionError("nobody has joined in this chat")
        return person

    def notices(self) -> list[Reply]:
        """What the bot sent this person outside this conversation."""
        return self.bot.notices_to(self.person_id)

    # --- the engine ---------------------------------------------------------------------

    def _step(self, event: Event) -> list[str]:
        """Hands one event to the real engine and keeps what it said."""
        transition = self.bot.engine.step(
            self.state, event, ref=self.ref, now=self.bot.clock.now, ports=self.bot.ports
        )
        _check_catalogue(transition.replies)
        _check_catalogue([n.reply for n in transition.notices])
        _check_declared(self.state, transition.state)
        self.state, self.transition = transition.state, transition
        self.history.extend(transition.replies)
        self.bot.notices.extend(Sent(n, self.bot.clock.now) for n in transition.notices)
        return self.ids()


@cache
def declarative_flows() -> dict[str, StepFlow]:
    """The declarative flows by name (flows/steps.py), to check each step they take."""
    return {flow.name: flow for flow in step_flows()}


def _check_declared(before: FlowState | None, after: FlowState) -> None:
    """Fails when a declarative flow moved within itself to a step its table does not name:
    the generated diagram would then not be the conversation."""
    if before is None or before.flow != after.flow or before.paused:
        return
    flow = declarative_flows().get(after.flow)
    if flow is None or before.step not in flow.steps:
        return
    # A sidetrack opened again from inside itself (its button tapped twice) starts over.
    if after.step not in flow.leads(before.step) | _opening(flow):
        raise UndeclaredStep(f"{flow.name}: {before.step} -> {after.step} is not in its table")


def _opening(flow: StepFlow) -> frozenset[str]:
    """Where starting the flow may land: its home step, or what the home hands over to."""
    return flow.handed_over([flow.home_step])


def _check_catalogue(replies: Sequence[Reply]) -> None:
    """Fails when a reply's message or a choice's label is not in the Swedish catalogue."""
    known = catalogue_ids()
    for reply in replies:
        if reply.message not in known:
            raise UnknownMessage(f"message id {reply.message!r} is not in the catalogue")
        for choice in reply.choices:
            if choice.id != PRIVATE_CHAT_LINK and choice.label not in known:
                raise UnknownMessage(
                    f"label {choice.label!r} of {choice.id!r} is not in the catalogue"
                )
