"""The plan for the family: who does what, by when, and how it is going, in plain words.

A sidetrack: /plan or the menu's "Planen" opens it for the young person and the adults of the
family; a caregiver's "Visa mina åtgärder" (a nudge's button) opens it on her own actions.
Whoever owns an open action (the gate's rule 6) answers it with the same one-tap status dialog
as professionals (flows/action_status.py). Everything here is for the reader alone: in a family
group chat the handler sends only the pointer to the private chat.

```mermaid
stateDiagram-v2
    [*] --> shown: /plan, Planen, Visa mina åtgärder
    shown --> status_pick: en egen åtgärd
    status_pick --> shown: sparat / tillbaka
    note right of status_pick: see flows/action_status.py
    shown --> shown: Hela planen
    shown --> [*]: Tillbaka
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flows.action_status import STATUS_STEPS, StatusDialog
from flows.conversation import ChoiceMade, Command, CommandIssued, Event
from flows.coordination import ActionItem, OwnerKind, coordination
from flows.domain import FAMILY_ROLES, Role
from flows.engine import RETURN, FlowState, StepContext, Transition
from flows.replies import Choice, ParamValue, Reply, say
from flows.sidetrack_roles import SidetrackRoles

FLOW_NAME = "family_plan"
# A menu choice with this id opens the plan from any flow.
OPEN_CHOICE = "plan:open"  # also flows/family_news.SHOW_PLAN
MENU_CHOICE = Choice(OPEN_CHOICE, "menu.plan")
SHOWN = "shown"
BACK = Choice("back", "common.back")
WHOLE_PLAN = Choice("all", "plan.whole")

# Staff have the plan in their own flow (the coordinator's "Planen", the professional's list).
ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {
        Role.COORDINATOR: "plan.not_here.coordinator",
        Role.PROFESSIONAL: "plan.not_here.professional",
    },
)


@dataclass(frozen=True, slots=True)
class FamilyPlan:
    """Shows the case's plan to the family, and lets owners answer their actions."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    name: str = FLOW_NAME

    @property
    def _status(self) -> StatusDialog:
        """The status reply dialog, inside this sidetrack."""
        return StatusDialog(FLOW_NAME, self.timezone)

    def opens(self, event: Event) -> bool:
        """/plan or the menu's "Planen" opens the plan."""
        if isinstance(event, CommandIssued):
            return event.command is Command.PLAN
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """The whole plan shown."""
        return FlowState(FLOW_NAME, SHOWN, {"mine": 0})

    def start(self, ctx: StepContext) -> Transition:
        """Shows the whole plan (staff are told where theirs is)."""
        turned = ROLES.turned_away(ctx)
        if turned is not None:
            return turned
        return self._shown(ctx, (), mine=False)

    def own_actions(self, ctx: StepContext) -> Transition:
        """Shows the actions this person answers for: a nudge's "Visa mina åtgärder"."""
        return self._shown(ctx, (), mine=True)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the plan again, or the status step in progress."""
        if state.step in STATUS_STEPS:
            return self._status.resume(state, ctx, self._after_status)
        return self._shown(ctx, (), mine=bool(state.data.get("mine")))

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Opens an own action for a status reply, shows the whole plan, or goes back."""
        if state.step in STATUS_STEPS:
            return self._status.handle(state, event, ctx, self._after_status)
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if choice == WHOLE_PLAN.id:
            return self._shown(ctx, (), mine=False)
        if choice is not None and choice.startswith("a:"):
            action_id = int(choice[2:])
            port = coordination(ctx)
            action = port.action(action_id, ctx.actor.person_id)
            if action is None or action.status.is_closed:
                return self._shown(ctx, (say("status.gone"),), mine=False)
            if not port.may_update(action_id, ctx.actor.person_id):
                # The gate's rule 6: only an owner (or a coordinator) answers for an action.
                return self._shown(ctx, (say("status.not_yours"),), mine=False)
            return self._status.begin(action)
        # Tillbaka, or anything else, returns to where the member was.
        return Transition(RETURN, ())

    def help(self, state: FlowState) -> Reply:
        """Explains the plan."""
        return say("plan.help")

    def _after_status(self, ctx: StepContext, before: tuple[Reply, ...]) -> Transition:
        """After a status reply (or Tillbaka): the whole plan, with the new status in it."""
        return self._shown(ctx, before, mine=False)

    def _shown(self, ctx: StepContext, before: tuple[Reply, ...], *, mine: bool) -> Transition:
        """The plan in plain words, with a button for each open action this person answers."""
        port = coordination(ctx)
        person = ctx.actor.person_id
        plan = port.family_plan(ctx.actor.case_id, person)
        answerable = [a for a in plan if not a.status.is_closed and port.may_update(a.id, person)]
        shown = answerable if mine else list(plan)
        choices = [Choice(f"a:{a.id}", "plan.answer", {"text": a.description}) for a in answerable]
        if mine:
            choices.append(WHOLE_PLAN)
        reply = say(
            "plan.family",
            *choices,
            BACK,
            actions=[_line(a, person) for a in shown],
            mine=mine,
            answer=bool(answerable),
        )
        state = FlowState(FLOW_NAME, SHOWN, {"mine": 1 if mine else 0})
        return Transition(state, (*before, reply))


def _line(action: ActionItem, viewer: int) -> dict[str, ParamValue]:
    """One action as the family reads it: what, who, by when, how it is going."""
    owner = action.owner
    return {
        "text": action.description,
        "owner": owner.name,
        "family": owner.kind is OwnerKind.FAMILY,
        "you": owner.kind is OwnerKind.PERSON and owner.id == viewer,
        "due": action.due,
        "status": action.status.value,
    }


def plan_lines(actions: Sequence[ActionItem], viewer: int) -> list[ParamValue]:
    """The plan as the family reads it ("plan.family"'s actions), for the notes' summary too."""
    return [_line(a, viewer) for a in actions]
