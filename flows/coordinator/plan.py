"""The plan: every action with its owner, date and status; paste a whole plan or add one action
at a time; open one action (its changes are in flows/coordinator/actions.py).

```mermaid
stateDiagram-v2
    home --> plan: Planen
    plan --> plan_paste: Klistra in
    plan --> plan_confirm: rader (inklistrade direkt)
    plan --> add_owner: Lägg till en
    plan --> action: en åtgärd
    plan --> home: tillbaka
    plan_paste --> plan_confirm: rader
    plan_paste --> plan_paste: rader med fel (vad som ska rättas)
    plan_paste --> plan: avbryt
    plan_confirm --> plan: ja (tillagda) / nej
    add_owner --> add_text: ägare
    add_text --> add_date: text
    add_date --> plan: datum (tillagd)
    add_owner --> plan: avbryt
    add_text --> plan: avbryt
    add_date --> plan: avbryt
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flows.action_status import action_params, local_today
from flows.conversation import Event, TextMessage
from flows.coordination import ActionItem, ActionStatus, NewAction, Owner, OwnerKind, coordination
from flows.coordinator.steps import (
    BACK,
    CANCEL,
    HOME_CHOICE,
    Step,
    StepDef,
    check_text,
    choice_id,
    flow_state,
    show_home,
)
from flows.engine import FlowState, StepContext, Transition
from flows.plan_parse import PlanLine, parse_date, parse_plan
from flows.replies import Choice, ParamValue, Reply, say
from flows.text_rules import CleanText, clean_text

ACTION_MAX_CHARS = 300
PLAN_MAX_CHARS = 4000
# Swedish words for "the family" as an owner in a pasted plan.
FAMILY_WORDS = frozenset({"familjen", "familj", "family", "the family", "vårdnadshavare"})


@dataclass(frozen=True, slots=True)
class ResolvedLine:
    """A pasted plan line with its owner found (or to be added as a new organisation)."""

    line: PlanLine
    owner: Owner | None


def show_plan(ctx: StepContext, *before: Reply) -> Transition:
    """The plan: every action with owner, date and status; one button each."""
    actions = coordination(ctx).actions(ctx.actor.case_id, ctx.actor.person_id)
    choices = [
        Choice(
            f"a:{a.id}",
            "coord.plan_item",
            {"text": a.description, "owner": a.owner.name, "status": a.status.value},
        )
        for a in actions
        if a.status is not ActionStatus.CANCELLED
    ]
    reply = say(
        "coord.plan",
        Choice("paste", "coord.plan_paste"),
        Choice("add", "coord.plan_add"),
        *choices,
        HOME_CHOICE,
        count=len(choices),
    )
    return Transition(flow_state(Step.PLAN), (*before, reply))


def back_to_plan(ctx: StepContext, before: tuple[Reply, ...]) -> Transition:
    """Where a status reply given by the coordinator returns to."""
    return show_plan(ctx, *before)


def ask_paste(*before: Reply) -> Transition:
    """Asks for the plan as lines."""
    return Transition(flow_state(Step.PLAN_PASTE), (*before, say("coord.paste_ask", CANCEL)))


def confirm_plan(ctx: StepContext, text: str, zone: ZoneInfo) -> Transition:
    """Shows how the pasted plan was read and asks to confirm (or says what to fix)."""
    today = local_today(ctx, zone)
    resolved = resolve(ctx, parse_plan(text, today))
    problems: list[ParamValue] = [
        {"line": r.line.number, "problem": r.line.problem.value}
        for r in resolved
        if r.line.problem is not None
    ]
    if problems or not resolved:
        reply = say("coord.paste_problems", CANCEL, problems=problems, empty=not resolved)
        return Transition(flow_state(Step.PLAN_PASTE), (reply,))
    items: list[ParamValue] = [
        {
            "owner": r.owner.name if r.owner else r.line.owner,
            "new_owner": r.owner is None,
            "text": r.line.description,
            "due": r.line.due,
        }
        for r in resolved
    ]
    reply = say(
        "coord.paste_confirm",
        Choice("yes", "coord.paste_yes"),
        Choice("no", "coord.paste_no"),
        items=items,
    )
    return Transition(flow_state(Step.PLAN_CONFIRM, text=text), (reply,))


def resolve(ctx: StepContext, lines: list[PlanLine]) -> list[ResolvedLine]:
    """Finds each line's owner among the case's organisations, members and the family."""
    owners = coordination(ctx).owners(ctx.actor.case_id)
    resolved = []
    for line in lines:
        wanted = line.owner.casefold()
        owner = next((o for o in owners if o.name.casefold() == wanted), None)
        if owner is None:
            owner = _named_by_first_words(owners, wanted)
        if owner is None and wanted in FAMILY_WORDS:
            owner = next((o for o in owners if o.kind is OwnerKind.FAMILY), None)
        resolved.append(ResolvedLine(line, owner))
    return resolved


def _named_by_first_words(owners: Sequence[Owner], wanted: str) -> Owner | None:
    """The one organisation whose name begins with these words ("BUP" for "BUP Storstad"),
    as coordinators write it; None when none or several do, so nothing is guessed."""
    matches = [
        o
        for o in owners
        if o.kind is OwnerKind.ORGANISATION and o.name.casefold().startswith(wanted + " ")
    ]
    return matches[0] if len(matches) == 1 else None


def ask_add(ctx: StepContext, state: FlowState, *before: Reply) -> Transition:
    """The guided entry of one action: owner, then text, then date."""
    step = Step(state.step)
    if step is Step.ADD_OWNER:
        owners = coordination(ctx).owners(ctx.actor.case_id)
        choices = [Choice(f"w:{o.key}", "coord.owner_choice", {"text": o.name}) for o in owners]
        reply = say("coord.add_owner_ask", *choices, CANCEL)
    elif step is Step.ADD_TEXT:
        reply = say("coord.add_text_ask", CANCEL)
    else:
        reply = say("coord.add_date_ask", CANCEL)
    return Transition(state, (*before, reply))


def show_action(ctx: StepContext, action_id: int, *before: Reply) -> Transition:
    """One action with its history and what can be done with it."""
    action = case_action(ctx, action_id)
    if action is None:
        return show_plan(ctx, *before)
    history: list[ParamValue] = [
        {"at": u.at, "status": u.status.value, "note": u.note, "new_due": u.new_due}
        for u in action.history
    ]
    choices = []
    if not action.status.is_closed:
        choices = [
            Choice("status", "coord.action_status"),
            Choice("edit", "coord.action_edit"),
            Choice("owner", "coord.action_owner"),
            Choice("cancel_action", "coord.action_cancel"),
        ]
    reply = say("coord.action", *choices, BACK, history=history, **action_params(action))
    return Transition(flow_state(Step.ACTION, action_id=action.id), (*before, reply))


def case_action(ctx: StepContext, action_id: int) -> ActionItem | None:
    """An action of the current case (never another case's)."""
    action = coordination(ctx).action(action_id, ctx.actor.person_id)
    return action if action is not None and action.case_id == ctx.actor.case_id else None


def owner_from(ctx: StepContext, choice: str | None) -> Owner | None:
    """The owner a "w:<key>" choice stands for, if it is one of this case's."""
    if choice is None or not choice.startswith("w:"):
        return None
    key = choice[2:]
    return next((o for o in coordination(ctx).owners(ctx.actor.case_id) if o.key == key), None)


def on_plan(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Opens the paste, the guided entry or one action."""
    choice = choice_id(event)
    if choice == "paste":
        return ask_paste()
    if choice == "add":
        return ask_add(ctx, flow_state(Step.ADD_OWNER))
    if choice is not None and choice.startswith("a:"):
        return show_action(ctx, int(choice[2:]))
    if isinstance(event, TextMessage):
        # Pasting straight into the plan view means pasting a plan.
        return on_paste(state, event, ctx, zone)
    return show_home(ctx)


def on_paste(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Reads the pasted lines and asks to confirm them."""
    if choice_id(event) == "cancel":
        return show_plan(ctx)
    if not isinstance(event, TextMessage):
        return ask_paste(say("common.need_text"))
    checked = clean_text(event.text, PLAN_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return ask_paste(say(f"text.{checked.value}", max=PLAN_MAX_CHARS))
    return confirm_plan(ctx, checked.text, zone)


def on_confirm(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Adds the confirmed actions (and any new organisations they name)."""
    if choice_id(event) != "yes":
        return show_plan(ctx, say("coord.paste_dropped"))
    today = local_today(ctx, zone)
    resolved = resolve(ctx, parse_plan(str(state.data.get("text", "")), today))
    if not resolved or any(r.line.problem is not None for r in resolved):
        return confirm_plan(ctx, str(state.data.get("text", "")), zone)
    port = coordination(ctx)
    actions = []
    for r in resolved:
        owner = r.owner
        if owner is None:
            org = port.add_organisation(ctx.actor.case_id, r.line.owner)
            owner = Owner(OwnerKind.ORGANISATION, org.id, org.name)
        assert r.line.due is not None  # lines without a date were refused above
        actions.append(NewAction(owner, r.line.description, r.line.due))
    port.add_actions(ctx.actor.case_id, actions, ctx.actor.person_id, ctx.now)
    return show_plan(ctx, say("coord.plan_added", count=len(actions)))


def on_add(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """One step of the guided entry: owner, text, date; the date adds the action."""
    if choice_id(event) == "cancel":
        return show_plan(ctx)
    step = Step(state.step)
    data = dict(state.data)
    port = coordination(ctx)
    if step is Step.ADD_OWNER:
        owner = owner_from(ctx, choice_id(event))
        if owner is None:
            return ask_add(ctx, state, say("common.not_understood"))
        data["owner"] = owner.key
        return ask_add(ctx, flow_state(Step.ADD_TEXT, **data))
    if not isinstance(event, TextMessage):
        return ask_add(ctx, state, say("common.need_text"))
    if step is Step.ADD_TEXT:
        checked = check_text(event.text, ACTION_MAX_CHARS)
        if isinstance(checked, Reply):
            return ask_add(ctx, state, checked)
        data["text"] = checked
        return ask_add(ctx, flow_state(Step.ADD_DATE, **data))
    today = local_today(ctx, zone)
    due = parse_date(event.text, today)
    if due is None or due < today:
        return ask_add(ctx, state, say("status.date_unknown"))
    owner = owner_from(ctx, f"w:{data.get('owner')}")
    if owner is None:
        return show_plan(ctx)
    port.add_actions(
        ctx.actor.case_id,
        [NewAction(owner, str(data.get("text", "")), due)],
        ctx.actor.person_id,
        ctx.now,
    )
    return show_plan(ctx, say("coord.plan_added", count=1))


def _ask_add_again(state: FlowState, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Shows the current step of the guided entry again."""
    return ask_add(ctx, state)


STEPS = {
    Step.PLAN: StepDef(lambda state, ctx, zone: show_plan(ctx), on_plan),
    Step.PLAN_PASTE: StepDef(lambda state, ctx, zone: ask_paste(), on_paste),
    Step.PLAN_CONFIRM: StepDef(
        lambda state, ctx, zone: confirm_plan(ctx, str(state.data.get("text", "")), zone),
        on_confirm,
    ),
    Step.ADD_OWNER: StepDef(_ask_add_again, on_add),
    Step.ADD_TEXT: StepDef(_ask_add_again, on_add),
    Step.ADD_DATE: StepDef(_ask_add_again, on_add),
}
