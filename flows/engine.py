"""The flow engine: routes one event through the right flow and returns the transition.

Everything here is pure: the engine reads and writes only through the ports it is given,
so a whole conversation can be walked in a test with no network and no database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

# NOTICE_CHOICE_PREFIX is re-exported: the flows that decide a notice's button import it here.
from flows.choice_reading import NOTICE_CHOICE_PREFIX as NOTICE_CHOICE_PREFIX
from flows.choice_reading import ShownChoices, read_choice
from flows.conversation import (
    ChoiceMade,
    Command,
    CommandIssued,
    ConversationRef,
    Event,
    JoinWithCode,
    Resume,
    UnknownCommand,
)
from flows.domain import Actor, JoinOutcome, Role

# The flows' types live in flows/flow_types.py; re-exported here, where most flows import them.
from flows.flow_types import FORGOTTEN as FORGOTTEN
from flows.flow_types import GATE_PASSED as GATE_PASSED
from flows.flow_types import RETURN as RETURN
from flows.flow_types import Flow as Flow
from flows.flow_types import FlowState as FlowState
from flows.flow_types import Gate as Gate
from flows.flow_types import Notice as Notice
from flows.flow_types import Sidetrack as Sidetrack
from flows.flow_types import StateValue as StateValue
from flows.flow_types import StepContext as StepContext
from flows.flow_types import Transition as Transition
from flows.paging import Pages, requested_page
from flows.paging import shown as paged
from flows.ports import Ports
from flows.replies import Reply

# The engine's own texts (welcome, pause, stale button, codes) hold nothing about anyone.
from flows.replies import say_to_anyone as say

ONBOARDING = "onboarding"
WAITING_FOR_CODE = FlowState(flow=ONBOARDING, step="waiting_for_code")

_JOIN_FAILURES = {
    JoinOutcome.UNKNOWN: "join.unknown",
    JoinOutcome.USED: "join.used",
    JoinOutcome.EXPIRED: "join.expired",
    JoinOutcome.LOCKED: "join.locked",
}


class Engine:
    """Routes events to the flow of the user's role and keeps the generic commands."""

    def __init__(
        self,
        flows_by_role: Mapping[Role, Flow],
        fallback: Flow,
        sidetracks: Sequence[Sidetrack] = (),
        gate: Gate | None = None,
        before_consent: Sequence[Sidetrack] = (),
        guess_locale: Callable[[str], str | None] = lambda _hint: None,
    ) -> None:
        self._flows_by_role = dict(flows_by_role)
        self._fallback = fallback
        self._sidetracks = {s.name: s for s in sidetracks}
        self._gate = gate
        # Sidetracks that also open while the gate holds the conversation (the language:
        # the consent text must be read in a language the person understands).
        self._before_consent = {s.name: s for s in before_consent}
        # A platform's language hint ("ar", "fa-IR") → a language the bot offers, or None.
        self._guess_locale = guess_locale

    def flows(self) -> tuple[Flow, ...]:
        """Every flow the engine routes to: the roles', the fallback, the gate, the sidetracks."""
        gate = () if self._gate is None else (self._gate,)
        every = (*self._flows_by_role.values(), self._fallback, *gate)
        return (*every, *self._sidetracks.values(), *self._before_consent.values())

    def flow_for(self, actor: Actor) -> Flow:
        """The flow a member of this role talks to."""
        return self._flows_by_role.get(actor.role, self._fallback)

    def step(
        self,
        state: FlowState | None,
        event: Event,
        *,
        ref: ConversationRef,
        now: datetime,
        ports: Ports,
        shown: ShownChoices | None = None,
    ) -> Transition:
        """Handles one event and returns the next state with the replies; `shown` is the
        newest message with choices in a private chat, for reading a typed number or label."""
        actor = ports.members.actor_for(ref)
        current = state or WAITING_FOR_CODE
        event = read_choice(event, current.offered, shown, group=ref.is_group)
        if isinstance(event, JoinWithCode):
            transition = self._join(current, event, ref, now, ports, actor)
            if transition.actor is None:
                transition = replace(transition, actor=actor)
        elif actor is None:
            transition = self._stranger_or_former(current, event, ref, now, ports)
        else:
            transition = self._member(current, event, StepContext(ref, now, actor, ports))
            transition = replace(transition, actor=actor)
        return _remember_choices(transition, current.pages)

    def _join(
        self,
        current: FlowState,
        join: JoinWithCode,
        ref: ConversationRef,
        now: datetime,
        ports: Ports,
        actor: Actor | None,
    ) -> Transition:
        """Redeems an invite code, then starts the flow of the joined role."""
        code = join.code
        result = ports.members.redeem_invite(ref, code, now)
        if result.outcome is JoinOutcome.ALREADY_MEMBER and actor is not None:
            ctx = StepContext(ref, now, actor, ports)
            return self._member(current, CommandIssued(Command.START), ctx)
        if result.outcome is not JoinOutcome.JOINED or result.actor is None:
            message = _JOIN_FAILURES.get(result.outcome, "join.unknown")
            return Transition(current, (say(message),))
        joined = result.actor
        guessed = self._guess_locale(join.language) if actor is None else None
        chosen = None
        if guessed is not None and guessed != joined.locale:
            # First contact: the app's language is the first guess; /sprak changes it.
            ports.families.set_locale(joined.person_id, guessed)
            joined, chosen = replace(joined, locale=guessed), guessed
        ctx = StepContext(ref, now, joined, ports)
        if self._gate is not None and not self._gate.admits(JoinWithCode(code), ctx):
            started = self._after_gate(self._gate.enter(JoinWithCode(code), ctx), ctx)
        else:
            started = self.flow_for(joined).start(ctx)
        welcome = say("join.joined", name=joined.display_name)
        return Transition(
            started.state, (welcome, *started.replies), started.notices, joined, chosen
        )

    def _stranger_or_former(
        self, current: FlowState, event: Event, ref: ConversationRef, now: datetime, ports: Ports
    ) -> Transition:
        """Someone with no active membership: a stranger needs a code; someone whose case
        closed or who left it, while their data is stored, is answered by the gate alone
        (their rights: /minadata, /glommig, /samtycke); no role's flow runs for them."""
        former = ports.members.former_member(ref) if self._gate is not None else None
        if self._gate is None or former is None:
            return _stranger(current, event)
        gate, ctx = self._gate, StepContext(ref, now, former, ports)
        if current.flow == gate.name:
            transition = self._gate_step(gate, current, event, ctx)
        else:
            transition = gate.enter(event, ctx)
        if transition.state == GATE_PASSED:
            # There is no role's flow to go on to: the gate shows what still works.
            after = gate.start(ctx)
            transition = Transition(
                after.state, (*transition.replies, *after.replies), transition.notices
            )
        return replace(transition, actor=former)

    def _member(self, current: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Handles a member's event: through the gate when it says so, else the role's flow."""
        gate = self._gate
        if gate is not None and (current.flow == gate.name or not gate.admits(event, ctx)):
            opener = next((s for s in self._before_consent.values() if s.opens(event)), None)
            if opener is not None:
                return opener.start(ctx)
            if current.flow in self._before_consent:
                # Back to the gate's question when the sidetrack is done.
                return self._after_gate(self._before_consent_step(gate, current, event, ctx), ctx)
            if current.flow != gate.name:
                return self._after_gate(gate.enter(event, ctx), ctx)
            return self._after_gate(self._gate_step(gate, current, event, ctx), ctx)
        return self._settle(self._member_step(current, event, ctx), ctx)

    def _before_consent_step(
        self, gate: Gate, current: FlowState, event: Event, ctx: StepContext
    ) -> Transition:
        """One step of a sidetrack opened before consent; when it is done, the gate again."""
        sidetrack = self._before_consent[current.flow]
        if isinstance(event, ChoiceMade) and event.choice_id in current.offered:
            transition = sidetrack.handle(current, event, ctx)
        else:
            # Anything else (a typed word, a command) goes back to the gate's question.
            transition = Transition(RETURN, ())
        if transition.state.flow != RETURN.flow:
            return transition
        back = gate.start(ctx)
        return Transition(
            back.state,
            (*transition.replies, *back.replies),
            transition.notices,
            locale=transition.locale,
        )

    def _after_gate(self, transition: Transition, ctx: StepContext) -> Transition:
        """When the gate lets the person through, the role's flow starts right after its words."""
        if transition.state != GATE_PASSED:
            return transition
        started = self.flow_for(ctx.actor).start(ctx)
        return Transition(
            started.state,
            (*transition.replies, *started.replies),
            (*transition.notices, *started.notices),
            locale=transition.locale,
        )

    def _gate_step(
        self, gate: Gate, current: FlowState, event: Event, ctx: StepContext
    ) -> Transition:
        """The generic commands inside the gate; sidetracks stay closed until it lets go."""
        if current.paused or isinstance(event, Resume) or event == CommandIssued(Command.START):
            resumed = gate.resume(replace(current, paused=False), ctx)
            welcome = say("common.welcome_back", name=ctx.actor.display_name)
            return Transition(resumed.state, (welcome, *resumed.replies), resumed.notices)
        match event:
            case CommandIssued(command=Command.HELP):
                resumed = gate.resume(current, ctx)
                return Transition(resumed.state, (gate.help(current), *resumed.replies))
            case CommandIssued(command=Command.PAUSE):
                return Transition(replace(current, paused=True), (say("common.paused"),))
            case CommandIssued(command=Command.MENU):
                return gate.start(ctx)
            case ChoiceMade(choice_id=choice_id) if (
                choice_id not in current.offered or choice_id.startswith(NOTICE_CHOICE_PREFIX)
            ):
                # A notice's button (tapped, or its number typed) waits until the gate is
                # passed: the gate's own questions come first.
                resumed = gate.resume(current, ctx)
                return Transition(resumed.state, (say("common.stale_choice"), *resumed.replies))
            case _:
                return gate.handle(current, event, ctx)

    def _member_step(self, current: FlowState, event: Event, ctx: StepContext) -> Transition:
        """One step of the member's own flow, or of the sidetrack they are in."""
        own = self.flow_for(ctx.actor)
        if current.pages is not None and isinstance(event, ChoiceMade):
            turned = _turn_page(current, current.pages, event.choice_id)
            if isinstance(turned, Transition):
                return turned
            current = turned
        # A sidetrack's command or a notice's button works from anywhere, even in a pause:
        # someone who taps "Läs och svara" wants to read, not to be welcomed back.
        opener = next((s for s in self._sidetracks.values() if s.opens(event)), None)
        if opener is not None:
            return opener.start(ctx)
        if (
            isinstance(event, ChoiceMade)
            and event.choice_id.startswith(NOTICE_CHOICE_PREFIX)
            and current.flow in self._sidetracks
        ):
            # A notice's button belongs to the member's own flow, even if a sidetrack is open;
            # its home names where to handle it (start() would show, and may write).
            return own.handle(own.home, event, ctx)
        flow = self._active(current, ctx)
        if current.flow != flow.name:
            return own.start(ctx)
        if current.paused:
            return self._welcome_back(current, ctx)
        match event:
            case CommandIssued(command=Command.HELP):
                resumed = flow.resume(current, ctx)
                helped = (flow.help(current), *_commands_help(ctx))
                return Transition(resumed.state, (*helped, *resumed.replies))
            case CommandIssued(command=Command.PAUSE):
                return Transition(replace(current, paused=True), (say("common.paused"),))
            case CommandIssued(command=Command.MENU):
                return own.start(ctx)
            case CommandIssued(command=Command.START) | Resume():
                return self._welcome_back(current, ctx)
            case UnknownCommand(name=name):
                resumed = flow.resume(current, ctx)
                return Transition(
                    resumed.state, (say("common.unknown_command", name=name), *resumed.replies)
                )
            case ChoiceMade(choice_id=choice_id) if (
                choice_id not in current.offered and not choice_id.startswith(NOTICE_CHOICE_PREFIX)
            ):
                resumed = flow.resume(current, ctx)
                return Transition(resumed.state, (say("common.stale_choice"), *resumed.replies))
            case _:
                return flow.handle(current, event, ctx)

    def _active(self, current: FlowState, ctx: StepContext) -> Flow:
        """The gate or sidetrack the conversation is in, or else the member's own flow."""
        if self._gate is not None and current.flow == self._gate.name:
            return self._gate
        return self._sidetracks.get(current.flow) or self.flow_for(ctx.actor)

    def _settle(self, transition: Transition, ctx: StepContext) -> Transition:
        """Goes back to the member's own flow when a sidetrack is done."""
        if transition.state.flow != RETURN.flow:
            return transition
        started = self.flow_for(ctx.actor).start(ctx)
        return Transition(
            started.state,
            (*transition.replies, *started.replies),
            (*transition.notices, *started.notices),
            locale=transition.locale,
        )

    def _welcome_back(self, current: FlowState, ctx: StepContext) -> Transition:
        """Greets a returning user and shows where they were."""
        flow = self._active(current, ctx)
        resumed = flow.resume(replace(current, paused=False), ctx)
        welcome = say("common.welcome_back", name=ctx.actor.display_name)
        return self._settle(Transition(resumed.state, (welcome, *resumed.replies)), ctx)


def _commands_help(ctx: StepContext) -> tuple[Reply, ...]:
    """The commands this person can use, after a step's help; in a group chat the step's own
    help says what works there (the list is for one reader)."""
    if ctx.ref.is_group:
        return ()
    return (say("common.commands", role=ctx.actor.role.value),)


def _stranger(current: FlowState, event: Event) -> Transition:
    """Answers someone who has not joined a case: they need an invite code."""
    if isinstance(event, CommandIssued) and event.command is Command.HELP:
        return Transition(current, (say("onboarding.help"),))
    return Transition(current, (say("onboarding.need_code"),))


def _turn_page(current: FlowState, pages: Pages, choice_id: str) -> Transition | FlowState:
    """Shows another page of the list on screen ("Fler", "Föregående"), before any flow sees
    the choice; a button of another page of that list counts as offered, as it did before."""
    page = requested_page(choice_id)
    if page is not None:
        return Transition(replace(current, pages=replace(pages, page=page)), (pages.reply,))
    if choice_id not in current.offered and choice_id in (c.id for c in pages.reply.choices):
        return replace(current, offered=(*current.offered, choice_id))
    return current


def _remember_choices(transition: Transition, before: Pages | None) -> Transition:
    """Pages a long list (flows/paging.py) and stores the choices of the last reply that had
    any, as shown, so numbers and buttons resolve to what is on screen."""
    replies, pages = paged(transition.replies, transition.state.pages or before)
    offered = next((r.choices for r in reversed(replies) if r.choices), ())
    state = replace(transition.state, offered=tuple(c.id for c in offered), pages=pages)
    return replace(transition, state=state, replies=replies)
