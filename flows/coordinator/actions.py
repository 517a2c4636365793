"""One action of the plan: report its status on someone's behalf, change its text, give it to
another owner, or cancel it (its history stays). The status steps are the shared status
dialog (flows/action_status.py), run under this flow's name.

```mermaid
stateDiagram-v2
    plan --> action: en åtgärd
    action --> plan: tillbaka / avslutad åtgärd
    action --> status_pick: lägesrapport
    status_pick --> status_reason: hindrad
    status_pick --> status_date: nytt datum
    status_pick --> status_note: klar / pågår
    status_pick --> plan: tillbaka
    status_reason --> status_note
    status_date --> status_note
    status_note --> plan: sparad
    action --> action_edit: ändra text
    action_edit --> action: ny text / avbryt
    action --> action_owner: ny ägare
    action_owner --> action: ägare / avbryt
    action --> action_cancel: stryk
    action_cancel --> plan: ja (struken)
    action_cancel --> action: nej
```
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.action_status import StatusDialog
from flows.conversation import Event, TextMessage
from flows.coordination import ActionStatus, coordination
from flows.coordinator.plan import (
    ACTION_MAX_CHARS,
    case_action,
    owner_from,
    show_action,
    show_plan,
)
from flows.coordinator.steps import (
    CANCEL,
    FLOW_NAME,
    Step,
    StepDef,
    as_int,
    check_text,
    choice_id,
    flow_state,
)
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Choice, Reply, say


def status_dialog(zone: ZoneInfo) -> StatusDialog:
    """Status replies the coordinator gives on someone's behalf (the family's, say)."""
    return StatusDialog(FLOW_NAME, zone)


def on_action(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Opens a change of the action: status, text, owner or cancelling it."""
    action = case_action(ctx, as_int(state.data.get("action_id")))
    choice = choice_id(event)
    if action is None or choice == "back" or action.status.is_closed:
        return show_plan(ctx)
    if choice == "status":
        return status_dialog(zone).begin(action)
    if choice == "edit":
        reply = say("coord.action_edit_ask", CANCEL, text=action.description)
        return Transition(flow_state(Step.ACTION_EDIT, action_id=action.id), (reply,))
    if choice == "owner":
        owners = coordination(ctx).owners(ctx.actor.case_id)
        choices = [Choice(f"w:{o.key}", "coord.owner_choice", {"text": o.name}) for o in owners]
        reply = say("coord.action_owner_ask", *choices, CANCEL)
        return Transition(flow_state(Step.ACTION_OWNER, action_id=action.id), (reply,))
    if choice == "cancel_action":
        reply = say(
            "coord.action_cancel_confirm",
            Choice("yes", "coord.action_cancel_yes"),
            Choice("no", "coord.action_cancel_no"),
            text=action.description,
        )
        return Transition(flow_state(Step.ACTION_CANCEL, action_id=action.id), (reply,))
    return show_action(ctx, action.id, say("common.not_understood"))


def on_action_edit(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Stores the new text of the action."""
    action_id = as_int(state.data.get("action_id"))
    if choice_id(event) == "cancel" or case_action(ctx, action_id) is None:
        return show_action(ctx, action_id)
    if not isinstance(event, TextMessage):
        return show_action(ctx, action_id, say("common.need_text"))
    checked = check_text(event.text, ACTION_MAX_CHARS)
    if isinstance(checked, Reply):
        return show_action(ctx, action_id, checked)
    coordination(ctx).change_action(action_id, ctx.actor.person_id, ctx.now, description=checked)
    return show_action(ctx, action_id, say("coord.action_changed"))


def on_action_owner(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Gives the action to another owner."""
    action_id = as_int(state.data.get("action_id"))
    owner = owner_from(ctx, choice_id(event))
    if owner is None or case_action(ctx, action_id) is None:
        return show_action(ctx, action_id)
    coordination(ctx).change_action(action_id, ctx.actor.person_id, ctx.now, owner=owner)
    return show_action(ctx, action_id, say("coord.action_reassigned", owner=owner.name))


def on_action_cancel(
    state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo
) -> Transition:
    """Cancels the action after a yes (its history stays)."""
    action_id = as_int(state.data.get("action_id"))
    if choice_id(event) != "yes" or case_action(ctx, action_id) is None:
        return show_action(ctx, action_id)
    coordination(ctx).record_update(
        action_id, ctx.actor.person_id, ActionStatus.CANCELLED, None, None, ctx.now
    )
    return show_plan(ctx, say("coord.action_cancelled"))


def _show_action_again(state: FlowState, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Every step about one action shows the action again."""
    return show_action(ctx, as_int(state.data.get("action_id")))


STEPS = {
    Step.ACTION: StepDef(_show_action_again, on_action),
    Step.ACTION_EDIT: StepDef(_show_action_again, on_action_edit),
    Step.ACTION_OWNER: StepDef(_show_action_again, on_action_owner),
    Step.ACTION_CANCEL: StepDef(_show_action_again, on_action_cancel),
}
