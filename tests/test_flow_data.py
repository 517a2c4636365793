"""What the engine needs from a flow is data: a flow's home state, and the language chosen.

A notice's button tapped inside a sidetrack is handled at the member's own flow's home
without running its start() (which shows a menu and may write); the language a step chose
travels in the transition, not through the database session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flows.conversation import (
    ChoiceMade,
    Command,
    CommandIssued,
    ConversationRef,
    Event,
    JoinWithCode,
)
from flows.domain import Actor, JoinOutcome, JoinResult, Role
from flows.engine import NOTICE_CHOICE_PREFIX, Engine, FlowState, StepContext, Transition
from flows.language import LanguageChoice
from flows.replies import Reply, say

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
REF = ConversationRef("test", "u1", "u1")
ALEX = Actor(person_id=7, case_id=1, role=Role.YOUTH, display_name="Alex", locale="sv")
OWN_HOME = FlowState("own", "home")


@dataclass
class OwnFlow:
    """A member's own flow that notes every start and handle it is asked for."""

    calls: list[str] = field(default_factory=list)
    name: str = "own"

    @property
    def home(self) -> FlowState:
        """Its menu."""
        return OWN_HOME

    def start(self, ctx: StepContext) -> Transition:
        """Shows the menu (and, like the real flows, may write)."""
        self.calls.append("start")
        return Transition(OWN_HOME, (say("own.menu"),))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the menu again."""
        return self.start(ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Notes in which step the event came."""
        self.calls.append(f"handle:{state.step}")
        return Transition(state, (say("own.handled"),))

    def help(self, state: FlowState) -> Reply:
        """Its help."""
        return say("own.help")


@dataclass
class Members:
    """Alex behind the chat, or a stranger who joins with a code."""

    actor: Actor | None = ALEX

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        """Who writes."""
        return self.actor

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        """Every code lets Alex join."""
        return JoinResult(JoinOutcome.JOINED, ALEX)


@dataclass
class Families:
    """Records the languages stored."""

    locales: dict[int, str] = field(default_factory=dict)

    def set_locale(self, person_id: int, locale: str) -> None:
        """Stores a person's language."""
        self.locales[person_id] = locale


@dataclass
class StubPorts:
    """Only the ports these steps reach."""

    members: Members = field(default_factory=Members)
    families: Families = field(default_factory=Families)


def _engine(own: OwnFlow) -> Engine:
    """An engine with one own flow and the language choice as a sidetrack."""
    language = LanguageChoice(("sv", "en"))
    return Engine({Role.YOUTH: own}, own, sidetracks=(language,), guess_locale=language.guess)


def test_a_notices_button_in_a_sidetrack_goes_to_the_own_flows_home_without_starting_it() -> None:
    own = OwnFlow()
    in_language = FlowState("language", "pick", offered=("lang:sv", "lang:en", "back"))
    tapped = ChoiceMade(f"{NOTICE_CHOICE_PREFIX}picture:1")

    transition = _engine(own).step(in_language, tapped, ref=REF, now=NOW, ports=StubPorts())

    assert own.calls == ["handle:home"]
    assert [r.message for r in transition.replies] == ["own.handled"]


def test_the_language_chosen_travels_in_the_transition_and_is_stored() -> None:
    ports = StubPorts()
    engine = _engine(OwnFlow())
    opened = engine.step(OWN_HOME, CommandIssued(Command.LANGUAGE), ref=REF, now=NOW, ports=ports)
    assert opened.locale is None

    chosen = engine.step(opened.state, ChoiceMade("lang:en"), ref=REF, now=NOW, ports=ports)

    assert chosen.locale == "en"
    assert ports.families.locales == {ALEX.person_id: "en"}
    # Back in the own flow: its menu follows the saved words, all in the new language.
    assert [r.message for r in chosen.replies] == ["language.saved", "own.menu"]


def test_first_contacts_language_guess_travels_in_the_transition() -> None:
    ports = StubPorts(members=Members(actor=None))

    joined = _engine(OwnFlow()).step(
        None, JoinWithCode("KOD", language="en-GB"), ref=REF, now=NOW, ports=ports
    )

    assert joined.locale == "en"
    assert joined.actor is not None and joined.actor.locale == "en"
    assert ports.families.locales == {ALEX.person_id: "en"}
