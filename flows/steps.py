"""Declarative steps: one place per step says its prompt, its choices, what text does, and
where it goes next. A flow is a table of `Step`s; `StepFlow` runs the table.

A step is declared once:

    Step(
        "questions",
        show=_questions,                       # the prompt and its choices (by id)
        choices={
            "add": Go("question_add"),         # a choice that only opens another step
            "next": Go("view", aspect="works"),
            "q:": Then(_open, to=("question_edit",)),  # ids "q:12": a prefix, one handler
        },
        text=Then(_add_typed, to=("questions",)),      # what typed text does
    )

`Go` and `Then` name where they lead, so the flow's Mermaid diagram is generated from the
table (`mermaid()`; tests/test_step_diagrams.py fails when a module's docstring is stale) and
`StepFlow.leads()` tells a test which steps a step may hand over to.

Anything the table does not name (a choice id it has no entry for, text where it takes none, a
non-choice event) is answered with "common.not_understood" and the step shown again, unless the
step gives its own `otherwise`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from flows.conversation import ChoiceMade, Event, TextMessage
from flows.engine import RETURN, FlowState, Notice, StateValue, StepContext, Transition
from flows.replies import Reply, say


@dataclass(frozen=True, slots=True)
class Turn:
    """One step being shown or handled: who and when, the step's data, and the event."""

    flow: StepFlow
    ctx: StepContext
    data: Mapping[str, StateValue] = field(default_factory=dict)
    event: Event | None = None
    step: str = ""

    @property
    def choice(self) -> str | None:
        """The id of the choice made, or None for any other event."""
        return self.event.choice_id if isinstance(self.event, ChoiceMade) else None

    @property
    def text(self) -> str | None:
        """The text typed, or None for any other event."""
        return self.event.text if isinstance(self.event, TextMessage) else None

    def number(self, key: str) -> int:
        """A state value that must be an id (0 when it is missing)."""
        value = self.data.get(key)
        return int(value) if value is not None else 0

    def word(self, key: str, default: str = "") -> str:
        """A state value as a string."""
        value = self.data.get(key)
        return default if value is None else str(value)

    def go(self, step: str, *before: Reply, **data: StateValue) -> Transition:
        """Shows another step (after the replies in `before`)."""
        return self.flow.show(step, self.ctx, *before, **data)

    def done(self, *replies: Reply, notices: tuple[Notice, ...] = ()) -> Transition:
        """Ends a sidetrack: the engine goes back to the member's own flow after `replies`."""
        return Transition(RETURN, replies, notices)

    def again(self, *before: Reply) -> Transition:
        """Shows this step again, with its data, after the replies in `before`."""
        return self.flow.show(self.step, self.ctx, *before, **self.data)


# The target of a sidetrack's last step: back to the member's own flow (`Turn.done`), drawn
# as Mermaid's end state.
DONE = "[*]"

# A step's prompt: the reply with its choices, or a Transition when the step cannot be shown
# now and hands over to another (a list that became empty, a choice that closed).
Show = Callable[[Turn], Reply | Transition]
Handler = Callable[[Turn], Transition]


class Go:
    """A choice (or text) that only opens another step, with fixed data."""

    __slots__ = ("data", "step")

    def __init__(self, step: str, **data: StateValue) -> None:
        self.step = step
        self.data: Mapping[str, StateValue] = data

    @property
    def to(self) -> tuple[str, ...]:
        """The one step this leads to."""
        return (self.step,)

    def __call__(self, turn: Turn) -> Transition:
        """Opens the step."""
        return turn.go(self.step, **self.data)


@dataclass(frozen=True, slots=True)
class Then:
    """A choice (or text) handled by a function, with the steps it may lead to."""

    run: Handler
    to: tuple[str, ...] = ()

    def __call__(self, turn: Turn) -> Transition:
        """Runs the handler."""
        return self.run(turn)


Action = Go | Then


def _back_to_member(turn: Turn) -> Transition:
    """Goes back to the member's own flow, saying nothing more."""
    return turn.done()


# A sidetrack's "Tillbaka" (and, where a step says so, anything typed or tapped there): back to
# the member's own flow, nothing stored.
BACK_TO_MEMBER = Then(_back_to_member, to=(DONE,))


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a flow, declared in one place.

    `choices` maps a choice id to what it does; a key ending in ":" matches every id with
    that prefix (the items of a list, "q:12"). `handovers` names the steps `show` may hand
    over to instead of showing this one (drawn in the diagram too).
    """

    name: str
    show: Show
    choices: Mapping[str, Action] = field(default_factory=dict)
    text: Action | None = None
    otherwise: Action | None = None
    handovers: tuple[str, ...] = ()
    # The message id of the step's help; None: the flow's help prefix ("youth.help.") + name.
    help: str | None = None

    def action_for(self, event: Event) -> Action | None:
        """What this step does with the event, or None when it has nothing for it."""
        if isinstance(event, ChoiceMade):
            exact = self.choices.get(event.choice_id)
            if exact is not None:
                return exact
            return next(
                (
                    action
                    for key, action in self.choices.items()
                    if key.endswith(":") and event.choice_id.startswith(key)
                ),
                self.otherwise,
            )
        if isinstance(event, TextMessage) and self.text is not None:
            return self.text
        return self.otherwise

    def leads(self) -> tuple[tuple[str, str], ...]:
        """(next step, label) for every way out of this step, in declaration order."""
        edges: list[tuple[str, str]] = []
        labelled: list[tuple[str, Action | None]] = [
            *((key.rstrip(":") or key, a) for key, a in self.choices.items()),
            ("text", self.text),
            ("otherwise", self.otherwise),
        ]
        for label, action in labelled:
            for target in action.to if action is not None else ():
                edges.append((target, label))
        edges.extend((target, "(shown instead)") for target in self.handovers)
        return tuple(edges)


class StepFlow:
    """Runs a table of steps as a `Flow`: shows, resumes, routes and helps from the table."""

    def __init__(
        self,
        name: str,
        steps: Sequence[Step],
        *,
        home_step: str,
        help_prefix: str,
        handle_hook: Callable[[Turn, Transition], Transition] | None = None,
        guard: Callable[[StepContext], Transition | None] | None = None,
    ) -> None:
        self.name = name
        self.steps = {s.name: s for s in steps}
        if len(self.steps) != len(steps):
            raise ValueError(f"{name}: two steps share a name")
        missing = {t for s in steps for t, _ in s.leads()} - {*self.steps, DONE}
        if missing:
            raise ValueError(f"{name}: steps lead to undeclared steps {sorted(missing)}")
        self.home_step = home_step
        self._help_prefix = help_prefix
        # Runs after every handled event (the youth flow's help-now answer to words of danger).
        self._handle_hook = handle_hook
        # Runs before anything else: a Transition turns the person away (a sidetrack that is
        # not for their role), None lets the step go on.
        self._guard = guard

    def state(self, step: str, **data: StateValue) -> FlowState:
        """A state of this flow."""
        return FlowState(flow=self.name, step=step, data=data)

    def show(self, step: str, ctx: StepContext, *before: Reply, **data: StateValue) -> Transition:
        """Shows a step: its prompt after `before`, or the step it hands over to."""
        shown = self.steps[step].show(Turn(self, ctx, data, None, step))
        if isinstance(shown, Transition):
            return Transition(shown.state, (*before, *shown.replies), shown.notices, shown.actor)
        return Transition(self.state(step, **data), (*before, shown))

    # --- the Flow protocol ------------------------------------------------------------

    @property
    def home(self) -> FlowState:
        """The home step's state, named without reading or writing anything."""
        return self.state(self.home_step)

    def start(self, ctx: StepContext) -> Transition:
        """Shows the home step."""
        turned_away = self._guard(ctx) if self._guard is not None else None
        return turned_away or self.show(self.home_step, ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again, as it was (home when the step is unknown)."""
        turned_away = self._guard(ctx) if self._guard is not None else None
        step = state.step if state.step in self.steps else self.home_step
        return turned_away or self.show(step, ctx, **state.data)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Does what the current step's table says for this event."""
        turned_away = self._guard(ctx) if self._guard is not None else None
        if turned_away is not None:
            return turned_away
        name = state.step if state.step in self.steps else self.home_step
        turn = Turn(self, ctx, state.data, event, name)
        action = self.steps[name].action_for(event)
        transition = (
            action(turn) if action is not None else turn.again(say("common.not_understood"))
        )
        if self._handle_hook is not None:
            return self._handle_hook(turn, transition)
        return transition

    def help(self, state: FlowState) -> Reply:
        """Explains the current step."""
        step = self.steps.get(state.step) or self.steps[self.home_step]
        return say(self.help_id(step.name))

    # --- reading the table ------------------------------------------------------------

    def help_id(self, step: str) -> str:
        """The message id of a step's help: its own, or the flow's prefix and the step name."""
        return self.steps[step].help or f"{self._help_prefix}{step}"

    def leads(self, step: str) -> frozenset[str]:
        """The steps `step` may end in: itself (shown again), those it leads to, and those
        these hand over to when they cannot be shown (a list that became empty), and so on."""
        return self.handed_over((target for target, _ in self.steps[step].leads()), {step})

    def handed_over(self, shown: Iterable[str], seen: Iterable[str] = ()) -> frozenset[str]:
        """Where showing these steps may end: they, and the steps they hand over to when
        they cannot be shown, and so on (`seen`: counted in, their handovers not followed)."""
        reached = set(seen)
        pending = [s for s in shown if s not in reached]
        reached.update(pending)
        while pending:
            target = self.steps.get(pending.pop())
            for handover in target.handovers if target is not None else ():
                if handover not in reached:
                    reached.add(handover)
                    pending.append(handover)
        return frozenset(reached)

    def mermaid(self) -> str:
        """The flow's whole state diagram, generated from the table."""
        return mermaid(self.steps.values(), self.home_step)


def mermaid(steps: Iterable[Step], home: str | None = None) -> str:
    """A state diagram of these steps (a flow's, or the part one module declares)."""
    lines = ["stateDiagram-v2"] + ([f"    [*] --> {home}"] if home is not None else [])
    for step in steps:
        # One arrow per target, its labels joined: "participation --> review: whole / skip".
        labels: dict[str, list[str]] = {}
        for target, label in step.leads():
            if label not in labels.setdefault(target, []):
                labels[target].append(label)
        lines += [f"    {step.name} --> {t}: {' / '.join(ls)}" for t, ls in labels.items()]
    return "\n".join(lines)


# Every declarative flow class (registered by `@declared`), for the diagrams and their tests.
_DECLARED: list[Callable[[], StepFlow]] = []
Declared = TypeVar("Declared", bound=Callable[[], StepFlow])


def declared(factory: Declared) -> Declared:
    """Registers a declarative flow (a StepFlow subclass made with no arguments)."""
    _DECLARED.append(factory)
    return factory


def step_flows() -> tuple[StepFlow, ...]:
    """One of every declarative flow the bot wires (for their diagrams and their tests)."""
    import flows.wiring  # noqa: F401 - imports every flow module, so every one is registered

    return tuple(factory() for factory in _DECLARED)
