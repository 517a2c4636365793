"""Cases: open one for a young person, switch between the coordinator's cases, close one.

```mermaid
stateDiagram-v2
    home --> case_name: Nytt ärende
    case_name --> home: namn (ärendet öppnas)
    case_name --> home: avbryt
    home --> cases: Byt ärende
    cases --> case_name: Nytt ärende
    cases --> home: ett ärende / tillbaka
    home --> close_confirm: Stäng ärendet
    close_confirm --> home: ja (stängt) / nej
```
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.conversation import Event, TextMessage
from flows.coordination import coordination
from flows.coordinator.steps import (
    CANCEL,
    HOME_CHOICE,
    Step,
    StepDef,
    check_name,
    choice_id,
    flow_state,
    show_home,
)
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Choice, Reply, say


def ask_case_name(*before: Reply) -> Transition:
    """Asks for the young person's first name or a pseudonym."""
    reply = say("coord.case_name_ask", CANCEL)
    return Transition(flow_state(Step.CASE_NAME), (*before, reply))


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
    return Transition(flow_state(Step.CASES), (*before, reply))


def ask_close(ctx: StepContext) -> Transition:
    """Asks to confirm closing the case."""
    case = coordination(ctx).case(ctx.actor.case_id)
    reply = say(
        "coord.close_confirm",
        Choice("yes", "coord.close_yes"),
        Choice("no", "coord.close_no"),
        case=case.reference if case else "",
    )
    return Transition(flow_state(Step.CLOSE_CONFIRM), (reply,))


def on_case_name(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Opens a case for the young person with this name."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return ask_case_name(say("common.need_text"))
    checked = check_name(event.text)
    if isinstance(checked, Reply):
        return ask_case_name(checked)
    port = coordination(ctx)
    if not port.may_open_cases(ctx.actor.person_id):
        return show_home(ctx, say("coord.may_not_open"))
    case = port.open_case(ctx.actor.person_id, checked, ctx.now)
    opened = say("coord.case_opened", case=case.reference, youth=case.youth_name)
    # The actor of this step is still the old case; show the new case's menu directly.
    return Transition(
        flow_state(Step.HOME),
        (opened, say("coord.case_next_steps", Choice("home", "coord.to_home"))),
    )


def on_cases(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Switches to the picked case."""
    choice = choice_id(event)
    if choice == "new_case":
        return ask_case_name()
    if choice is not None and choice.startswith("c:"):
        port = coordination(ctx)
        if port.select_case(ctx.actor.person_id, int(choice[2:]), ctx.now):
            case = port.case(int(choice[2:]))
            reply = say(
                "coord.switched",
                Choice("home", "coord.to_home"),
                case=case.reference if case else "",
            )
            return Transition(flow_state(Step.HOME), (reply,))
    return show_home(ctx)


def on_close(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Closes the case after a yes."""
    if choice_id(event) != "yes":
        return show_home(ctx)
    port = coordination(ctx)
    case = port.case(ctx.actor.case_id)
    port.close_case(ctx.actor.case_id, ctx.actor.person_id, ctx.now)
    closed = say(
        "coord.closed", Choice("home", "coord.to_home"), case=case.reference if case else ""
    )
    return Transition(flow_state(Step.HOME), (closed,))


STEPS = {
    Step.CASE_NAME: StepDef(lambda state, ctx, zone: ask_case_name(), on_case_name),
    Step.CASES: StepDef(lambda state, ctx, zone: show_cases(ctx), on_cases),
    Step.CLOSE_CONFIRM: StepDef(lambda state, ctx, zone: ask_close(ctx), on_close),
}
