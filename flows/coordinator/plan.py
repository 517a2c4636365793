"""The plan: every action with its owner, date and status; paste a whole plan or add one action
at a time; open one action (its changes are in flows/coordinator/actions.py).

```mermaid
stateDiagram-v2
    plan --> plan_paste: paste / text
    plan --> add_owner: add
    plan --> action: a
    plan --> plan: a
    plan --> plan_confirm: text
    plan --> home: otherwise
    plan_paste --> plan: cancel
    plan_paste --> plan_paste: text / otherwise
    plan_paste --> plan_confirm: text
    plan_confirm --> plan: yes / otherwise
    plan_confirm --> plan_confirm: yes
    plan_confirm --> plan_paste: yes / (shown instead)
    add_owner --> plan: cancel
    add_owner --> add_text: w
    add_text --> plan: cancel
    add_text --> add_date: text
    add_date --> plan: cancel / text
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flows.action_status import action_params, local_today
from flows.coordination import ActionItem, ActionStatus, NewAction, Owner, OwnerKind, coordination
from flows.coordinator.steps import (
    BACK,
    CANCEL,
    HELP,
    HOME_CHOICE,
    StepName,
    check_text,
    flow_state,
    home,
    state_of,
    zone,
)
from flows.engine import FlowState, StepContext, Transition
from flows.plan_parse import PlanLine, parse_date, parse_plan
from flows.replies import Choice, ParamValue, Reply, say
from flows.steps import Go, Step, Then, Turn
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
    return Transition(flow_state(StepName.PLAN), (*before, reply))


def back_to_plan(ctx: StepContext, before: tuple[Reply, ...]) -> Transition:
    """Where a status reply given by the coordinator returns to."""
    return show_plan(ctx, *before)


def ask_paste(*before: Reply) -> Transition:
    """Asks for the plan as lines."""
    return Transition(flow_state(StepName.PLAN_PASTE), (*before, say("coord.paste_ask", CANCEL)))


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
        return Transition(flow_state(StepName.PLAN_PASTE), (reply,))
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
    return Transition(flow_state(StepName.PLAN_CONFIRM, text=text), (reply,))


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
    step = StepName(state.step)
    if step is StepName.ADD_OWNER:
        owners = coordination(ctx).owners(ctx.actor.case_id)
        choices = [Choice(f"w:{o.key}", "coord.owner_choice", {"text": o.name}) for o in owners]
        reply = say("coord.add_owner_ask", *choices, CANCEL)
    elif step is StepName.ADD_TEXT:
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
    return Transition(flow_state(StepName.ACTION, action_id=action.id), (*before, reply))


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


def _open_action(turn: Turn) -> Transition:
    """Opens one action of the plan."""
    key = (turn.choice or "").removeprefix("a:")
    return show_action(turn.ctx, int(key) if key.isdecimal() else 0)


def _need_lines(turn: Turn) -> Transition:
    """Anything but typed lines: asks again."""
    return ask_paste(say("common.need_text"))


def _pasted(turn: Turn) -> Transition:
    """Reads the pasted lines and asks to confirm them."""
    checked = clean_text(turn.text or "", PLAN_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return ask_paste(say(f"text.{checked.value}", max=PLAN_MAX_CHARS))
    return confirm_plan(turn.ctx, checked.text, zone(turn))


def _dropped(turn: Turn) -> Transition:
    """Anything but "ja": the pasted plan is dropped."""
    return show_plan(turn.ctx, say("coord.paste_dropped"))


def _confirmed(turn: Turn) -> Transition:
    """Adds the confirmed actions (and any new organisations they name)."""
    ctx, here, text = turn.ctx, zone(turn), turn.word("text")
    resolved = resolve(ctx, parse_plan(text, local_today(ctx, here)))
    if not resolved or any(r.line.problem is not None for r in resolved):
        return confirm_plan(ctx, text, here)
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


def _owner_picked(turn: Turn) -> Transition:
    """The guided entry's owner; then its text."""
    owner = owner_from(turn.ctx, turn.choice)
    if owner is None:
        return turn.again(say("common.not_understood"))
    return ask_add(turn.ctx, flow_state(StepName.ADD_TEXT, **{**turn.data, "owner": owner.key}))


def _need_text(turn: Turn) -> Transition:
    """Anything but text in the text or date step: asks again."""
    return turn.again(say("common.need_text"))


def _text_given(turn: Turn) -> Transition:
    """The guided entry's text; then its date."""
    checked = check_text(turn.text or "", ACTION_MAX_CHARS)
    if isinstance(checked, Reply):
        return turn.again(checked)
    return ask_add(turn.ctx, flow_state(StepName.ADD_DATE, **{**turn.data, "text": checked}))


def _date_given(turn: Turn) -> Transition:
    """The guided entry's date: the action is added to the plan."""
    ctx = turn.ctx
    today = local_today(ctx, zone(turn))
    due = parse_date(turn.text or "", today)
    if due is None or due < today:
        return turn.again(say("status.date_unknown"))
    owner = owner_from(ctx, f"w:{turn.data.get('owner')}")
    if owner is None:
        return show_plan(ctx)
    coordination(ctx).add_actions(
        ctx.actor.case_id,
        [NewAction(owner, turn.word("text"), due)],
        ctx.actor.person_id,
        ctx.now,
    )
    return show_plan(ctx, say("coord.plan_added", count=1))


def _ask_add_again(turn: Turn) -> Transition:
    """Shows the current step of the guided entry again."""
    return ask_add(turn.ctx, state_of(turn))


HOME = Then(home, to=("home",))
TO_PLAN = Then(lambda turn: show_plan(turn.ctx), to=("plan",))

STEPS = (
    Step(
        "plan",
        show=lambda turn: show_plan(turn.ctx),
        choices={
            "paste": Go("plan_paste"),
            "add": Go("add_owner"),
            "a:": Then(_open_action, to=("action", "plan")),
        },
        # Pasting straight into the plan view means pasting a plan.
        text=Then(_pasted, to=("plan_paste", "plan_confirm")),
        otherwise=HOME,
        help=HELP,
    ),
    Step(
        "plan_paste",
        show=lambda turn: ask_paste(),
        choices={CANCEL.id: TO_PLAN},
        text=Then(_pasted, to=("plan_paste", "plan_confirm")),
        otherwise=Then(_need_lines, to=("plan_paste",)),
        help=HELP,
    ),
    Step(
        "plan_confirm",
        show=lambda turn: confirm_plan(turn.ctx, turn.word("text"), zone(turn)),
        choices={"yes": Then(_confirmed, to=("plan", "plan_confirm", "plan_paste"))},
        otherwise=Then(_dropped, to=("plan",)),
        # The plan no longer reads as it did (an organisation gone): what to fix.
        handovers=("plan_paste",),
        help=HELP,
    ),
    Step(
        "add_owner",
        show=_ask_add_again,
        choices={CANCEL.id: TO_PLAN, "w:": Then(_owner_picked, to=("add_text",))},
        otherwise=Then(lambda turn: turn.again(say("common.not_understood")), to=()),
        help=HELP,
    ),
    Step(
        "add_text",
        show=_ask_add_again,
        choices={CANCEL.id: TO_PLAN},
        text=Then(_text_given, to=("add_date",)),
        otherwise=Then(_need_text, to=()),
        help=HELP,
    ),
    Step(
        "add_date",
        show=_ask_add_again,
        choices={CANCEL.id: TO_PLAN},
        text=Then(_date_given, to=("plan",)),
        otherwise=Then(_need_text, to=()),
        help=HELP,
    ),
)
