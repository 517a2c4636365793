"""One action of the plan: report its status on someone's behalf, change its text, give it to
another owner, or cancel it (its history stays). The status steps are the shared status
dialog (flows/action_status.py), run under this flow's name.

```mermaid
stateDiagram-v2
    action --> status_pick: status
    action --> action_edit: edit
    action --> action_owner: owner
    action --> action_cancel: cancel_action
    action --> plan: back / (shown instead)
    action --> action: otherwise
    action_edit --> action: cancel / text / otherwise / (shown instead)
    action_edit --> plan: (shown instead)
    action_owner --> action: w / otherwise / (shown instead)
    action_owner --> plan: (shown instead)
    action_cancel --> plan: yes / (shown instead)
    action_cancel --> action: otherwise / (shown instead)
    status_pick --> status_note: s:done / s:in_progress
    status_pick --> status_reason: s:blocked
    status_pick --> status_date: s:new_date
    status_pick --> plan: back / cancel / (shown instead)
    status_pick --> status_pick: otherwise
    status_reason --> plan: back / cancel / (shown instead)
    status_reason --> status_note: text
    status_reason --> status_reason: text / otherwise
    status_date --> plan: back / cancel / (shown instead)
    status_date --> status_note: text
    status_date --> status_date: text / otherwise
    status_note --> plan: skip / back / cancel / text / (shown instead)
    status_note --> status_note: text / otherwise
```
"""

from __future__ import annotations

from collections.abc import Callable

from flows.action_status import StatusDialog, status_steps
from flows.coordination import ActionItem, ActionStatus, coordination
from flows.coordinator.plan import (
    ACTION_MAX_CHARS,
    case_action,
    owner_from,
    show_action,
    show_plan,
)
from flows.coordinator.steps import (
    BACK,
    CANCEL,
    FLOW_NAME,
    HELP,
    StepName,
    check_text,
    flow_state,
    zone,
)
from flows.engine import Transition
from flows.replies import Choice, Reply, say
from flows.steps import Handler, Step, Then, Turn


def _action(turn: Turn) -> ActionItem | None:
    """The action in hand, if it is still this case's and open."""
    action = case_action(turn.ctx, turn.number("action_id"))
    return None if action is None or action.status.is_closed else action


def _open(answer: Callable[[Turn, ActionItem], Transition]) -> Handler:
    """A change of the action in hand; when it is gone or closed, the plan instead."""

    def run(turn: Turn) -> Transition:
        """Runs the change on the action, if it is still open."""
        action = _action(turn)
        return show_plan(turn.ctx) if action is None else answer(turn, action)

    return run


def _begin_status(turn: Turn, action: ActionItem) -> Transition:
    """A status reply on someone's behalf (the family's, say): the shared status steps."""
    return StatusDialog(FLOW_NAME, zone(turn)).begin(action)


def _ask_edit(turn: Turn, action: ActionItem) -> Transition:
    """Asks for the action's new text."""
    reply = say("coord.action_edit_ask", CANCEL, text=action.description)
    return Transition(flow_state(StepName.ACTION_EDIT, action_id=action.id), (reply,))


def _ask_owner(turn: Turn, action: ActionItem) -> Transition:
    """Asks who owns the action now."""
    owners = coordination(turn.ctx).owners(turn.ctx.actor.case_id)
    choices = [Choice(f"w:{o.key}", "coord.owner_choice", {"text": o.name}) for o in owners]
    reply = say("coord.action_owner_ask", *choices, CANCEL)
    return Transition(flow_state(StepName.ACTION_OWNER, action_id=action.id), (reply,))


def _ask_cancel(turn: Turn, action: ActionItem) -> Transition:
    """Asks before the action is struck from the plan."""
    reply = say(
        "coord.action_cancel_confirm",
        Choice("yes", "coord.action_cancel_yes"),
        Choice("no", "coord.action_cancel_no"),
        text=action.description,
    )
    return Transition(flow_state(StepName.ACTION_CANCEL, action_id=action.id), (reply,))


def _not_understood(turn: Turn, action: ActionItem) -> Transition:
    """The action again, saying the answer was not understood."""
    return show_action(turn.ctx, action.id, say("common.not_understood"))


def _show_action_again(turn: Turn, *before: Reply) -> Transition:
    """Every step about one action shows the action again."""
    return show_action(turn.ctx, turn.number("action_id"), *before)


def _need_text(turn: Turn) -> Transition:
    """Anything but the new text: the action again, asking for text."""
    if case_action(turn.ctx, turn.number("action_id")) is None:
        return _show_action_again(turn)
    return _show_action_again(turn, say("common.need_text"))


def _edit(turn: Turn) -> Transition:
    """Stores the new text of the action."""
    ctx, action_id = turn.ctx, turn.number("action_id")
    if case_action(ctx, action_id) is None:
        return _show_action_again(turn)
    checked = check_text(turn.text or "", ACTION_MAX_CHARS)
    if isinstance(checked, Reply):
        return _show_action_again(turn, checked)
    coordination(ctx).change_action(action_id, ctx.actor.person_id, ctx.now, description=checked)
    return _show_action_again(turn, say("coord.action_changed"))


def _reassign(turn: Turn) -> Transition:
    """Gives the action to another owner (anything else: the action again)."""
    ctx, action_id = turn.ctx, turn.number("action_id")
    owner = owner_from(ctx, turn.choice)
    if owner is None or case_action(ctx, action_id) is None:
        return _show_action_again(turn)
    coordination(ctx).change_action(action_id, ctx.actor.person_id, ctx.now, owner=owner)
    return _show_action_again(turn, say("coord.action_reassigned", owner=owner.name))


def _cancel(turn: Turn) -> Transition:
    """Cancels the action after a yes (its history stays)."""
    ctx, action_id = turn.ctx, turn.number("action_id")
    if case_action(ctx, action_id) is None:
        return _show_action_again(turn)
    coordination(ctx).record_update(
        action_id, ctx.actor.person_id, ActionStatus.CANCELLED, None, None, ctx.now
    )
    return show_plan(ctx, say("coord.action_cancelled"))


# Showing an action hands over to the plan when the action is gone (another case's, say) or
# closed; every step about an action declares that handover, so its answers name only where
# they lead when the action is still there.
TO_ACTION = Then(_show_action_again, to=("action",))

STEPS = (
    Step(
        "action",
        show=_show_action_again,
        choices={
            "status": Then(_open(_begin_status), to=("status_pick",)),
            "edit": Then(_open(_ask_edit), to=("action_edit",)),
            "owner": Then(_open(_ask_owner), to=("action_owner",)),
            "cancel_action": Then(_open(_ask_cancel), to=("action_cancel",)),
            BACK.id: Then(lambda turn: show_plan(turn.ctx), to=("plan",)),
        },
        otherwise=Then(_open(_not_understood), to=("action",)),
        handovers=("plan",),
        help=HELP,
    ),
    Step(
        "action_edit",
        show=_show_action_again,
        choices={CANCEL.id: TO_ACTION},
        text=Then(_edit, to=("action",)),
        otherwise=Then(_need_text, to=("action",)),
        handovers=("action", "plan"),
        help=HELP,
    ),
    Step(
        "action_owner",
        show=_show_action_again,
        choices={"w:": Then(_reassign, to=("action",))},
        otherwise=TO_ACTION,
        handovers=("action", "plan"),
        help=HELP,
    ),
    Step(
        "action_cancel",
        show=_show_action_again,
        choices={"yes": Then(_cancel, to=("plan",))},
        otherwise=TO_ACTION,
        handovers=("action", "plan"),
        help=HELP,
    ),
    # The status reply given on someone's behalf (flows/action_status.py), back to the plan.
    *status_steps("plan", help=HELP),
)
