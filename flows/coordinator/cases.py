"""Cases: open one for a young person, switch between the coordinator's cases, close one.

```mermaid
stateDiagram-v2
    case_name --> home: cancel / text
    case_name --> case_name: text / otherwise
    cases --> case_name: new_case
    cases --> home: c / otherwise
    close_confirm --> home: yes / otherwise
```
"""

from __future__ import annotations

from flows.coordination import coordination
from flows.coordinator.steps import (
    CANCEL,
    HELP,
    HOME_CHOICE,
    StepName,
    check_name,
    flow_state,
    home,
    show_home,
)
from flows.engine import StepContext, Transition
from flows.replies import Choice, Reply, say
from flows.steps import Go, Step, Then, Turn


def ask_case_name(*before: Reply) -> Transition:
    """Asks for the young person's first name or a pseudonym."""
    reply = say("coord.case_name_ask", CANCEL)
    return Transition(flow_state(StepName.CASE_NAME), (*before, reply))


def show_cases(ctx: StepContext, *before: Reply) -> Transition:
    """The open cases this coordinator runs."""
    port = coordination(ctx)
    cases = port.cases_of(ctx.actor.person_id)
    choices = [
        Choice(f"c:{c.id}", "coord.case_choice", {"case": c.reference, "youth": c.youth_name})
        for c in cases
    ]
    if port.may_open_cases(ctx.actor.person_id):
        choices.append(Choice("new_case", "coord.new_case"))
    reply = say("coord.cases_list", *choices, HOME_CHOICE, count=len(cases))
    return Transition(flow_state(StepName.CASES), (*before, reply))


def ask_close(ctx: StepContext) -> Transition:
    """Asks to confirm closing the case."""
    case = coordination(ctx).case(ctx.actor.case_id)
    reply = say(
        "coord.close_confirm",
        Choice("yes", "coord.close_yes"),
        Choice("no", "coord.close_no"),
        case=case.reference if case else "",
    )
    return Transition(flow_state(StepName.CLOSE_CONFIRM), (reply,))


def _need_name(turn: Turn) -> Transition:
    """Anything but a typed name: asks for it again."""
    return ask_case_name(say("common.need_text"))


def _open_case(turn: Turn) -> Transition:
    """Opens a case for the young person with this name."""
    ctx = turn.ctx
    checked = check_name(turn.text or "")
    if isinstance(checked, Reply):
        return ask_case_name(checked)
    port = coordination(ctx)
    if not port.may_open_cases(ctx.actor.person_id):
        return show_home(ctx, say("coord.may_not_open"))
    case = port.open_case(ctx.actor.person_id, checked, ctx.now)
    opened = say("coord.case_opened", case=case.reference, youth=case.youth_name)
    # The actor of this step is still the old case; show the new case's menu directly.
    return Transition(
        flow_state(StepName.HOME),
        (opened, say("coord.case_next_steps", Choice("home", "coord.to_home"))),
    )


def _switch(turn: Turn) -> Transition:
    """Switches to the picked case (one that is not this coordinator's: home)."""
    ctx = turn.ctx
    case_id = (turn.choice or "").removeprefix("c:")
    port = coordination(ctx)
    if case_id.isdecimal() and port.select_case(ctx.actor.person_id, int(case_id), ctx.now):
        case = port.case(int(case_id))
        reply = say(
            "coord.switched",
            Choice("home", "coord.to_home"),
            case=case.reference if case else "",
        )
        return Transition(flow_state(StepName.HOME), (reply,))
    return show_home(ctx)


def _close(turn: Turn) -> Transition:
    """Closes the case after a yes."""
    ctx = turn.ctx
    port = coordination(ctx)
    case = port.case(ctx.actor.case_id)
    port.close_case(ctx.actor.case_id, ctx.actor.person_id, ctx.now)
    closed = say(
        "coord.closed", Choice("home", "coord.to_home"), case=case.reference if case else ""
    )
    return Transition(flow_state(StepName.HOME), (closed,))


HOME = Then(home, to=("home",))

STEPS = (
    Step(
        "case_name",
        show=lambda turn: ask_case_name(),
        choices={CANCEL.id: HOME},
        text=Then(_open_case, to=("case_name", "home")),
        otherwise=Then(_need_name, to=("case_name",)),
        help=HELP,
    ),
    Step(
        "cases",
        show=lambda turn: show_cases(turn.ctx),
        choices={"new_case": Go("case_name"), "c:": Then(_switch, to=("home",))},
        otherwise=HOME,
        help=HELP,
    ),
    Step(
        "close_confirm",
        show=lambda turn: ask_close(turn.ctx),
        choices={"yes": Then(_close, to=("home",))},
        otherwise=HOME,
        help=HELP,
    ),
)
