"""The plan for the family: who does what, by when, and how it is going, in plain words.

A sidetrack: /plan or the menu's "Planen" opens it for the young person and the adults of the
family; a caregiver's "Visa mina åtgärder" (a nudge's button) opens it on her own actions.
Whoever owns an open action (the gate's rule 6) answers it with the same one-tap status dialog
as professionals (flows/action_status.py). Everything here is for the reader alone: in a family
group chat the handler sends only the pointer to the private chat.

```mermaid
stateDiagram-v2
    [*] --> shown
    shown --> shown: all / a
    shown --> status_pick: a
    shown --> [*]: back / otherwise
    status_pick --> status_note: s
    status_pick --> status_reason: s
    status_pick --> status_date: s
    status_pick --> shown: s / back / text / otherwise / (shown instead)
    status_reason --> shown: back / text / otherwise / (shown instead)
    status_reason --> status_note: text
    status_date --> shown: back / text / otherwise / (shown instead)
    status_date --> status_note: text
    status_note --> shown: skip / back / text / otherwise / (shown instead)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from flows.action_status import Done as StatusDone
from flows.action_status import StatusDialog, StatusStep
from flows.conversation import ChoiceMade, Command, CommandIssued, Event
from flows.coordination import ActionItem, OwnerKind, coordination
from flows.domain import FAMILY_ROLES, Role
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Choice, ParamValue, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import BACK_TO_MEMBER, Go, Step, StepFlow, Then, Turn, declared

FLOW_NAME = "family_plan"
# A menu choice with this id opens the plan from any flow.
OPEN_CHOICE = "plan:open"  # also flows/family_news.SHOW_PLAN
MENU_CHOICE = Choice(OPEN_CHOICE, "menu.plan")
SHOWN = "shown"
BACK = Choice("back", "common.back")
WHOLE_PLAN = Choice("all", "plan.whole")
STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Staff have the plan in their own flow (the coordinator's "Planen", the professional's list).
ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {
        Role.COORDINATOR: "plan.not_here.coordinator",
        Role.PROFESSIONAL: "plan.not_here.professional",
    },
)


def _shown(turn: Turn) -> Transition:
    """The plan in plain words, with a button for each open action this person answers."""
    ctx = turn.ctx
    mine = bool(turn.data.get("mine"))
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
    return Transition(turn.flow.state(SHOWN, mine=1 if mine else 0), (reply,))


def _open_action(turn: Turn) -> Transition:
    """Opens an own open action for a status reply (the gate's rule 6: owners only)."""
    ctx = turn.ctx
    action_id = int((turn.choice or "").removeprefix("a:"))
    port = coordination(ctx)
    action = port.action(action_id, ctx.actor.person_id)
    if action is None or action.status.is_closed:
        return turn.go(SHOWN, say("status.gone"), mine=0)
    if not port.may_update(action_id, ctx.actor.person_id):
        # The gate's rule 6: only an owner (or a coordinator) answers for an action.
        return turn.go(SHOWN, say("status.not_yours"), mine=0)
    return _dialog(turn).begin(action)


def _dialog(turn: Turn) -> StatusDialog:
    """The status reply dialog (flows/action_status.py), run inside this sidetrack."""
    zone = turn.flow.timezone if isinstance(turn.flow, FamilyPlan) else STOCKHOLM
    return StatusDialog(FLOW_NAME, zone)


def _after_status(turn: Turn) -> StatusDone:
    """After a status reply (or Tillbaka): the whole plan, with the new status in it."""
    return lambda ctx, before: turn.flow.show(SHOWN, ctx, *before, mine=0)


def _status_state(turn: Turn) -> FlowState:
    """The status step in hand, as the dialog reads it."""
    return turn.flow.state(turn.step, **turn.data)


def _status_shown(turn: Turn) -> Transition:
    """Shows the status step in progress again (the plan, when the action is gone)."""
    return _dialog(turn).resume(_status_state(turn), turn.ctx, _after_status(turn))


def _status_answer(turn: Turn) -> Transition:
    """Hands every event of a status step to the dialog."""
    if turn.event is None:
        return _status_shown(turn)
    return _dialog(turn).handle(_status_state(turn), turn.event, turn.ctx, _after_status(turn))


def _status_step(
    step: StatusStep, choices: dict[str, tuple[StatusStep, ...]], text: tuple[StatusStep, ...]
) -> Step:
    """One step of the status dialog: the dialog handles every event; the table says where
    each may lead. Any of them may end on the plan (saved, Tillbaka, or the action gone)."""

    def answer(*to: StatusStep) -> Then:
        """The dialog's answer, leading to these steps or back to the plan."""
        return Then(_status_answer, to=(*(t.value for t in to), SHOWN))

    return Step(
        step.value,
        show=_status_shown,
        choices={
            **{choice: answer(*to) for choice, to in choices.items()},
            BACK.id: answer(),
        },
        text=answer(*text),
        otherwise=answer(),
        handovers=(SHOWN,),
        help="plan.help",
    )


STEPS = (
    Step(
        SHOWN,
        show=_shown,
        choices={
            WHOLE_PLAN.id: Go(SHOWN, mine=0),
            "a:": Then(_open_action, to=(StatusStep.PICK.value, SHOWN)),
            BACK.id: BACK_TO_MEMBER,
        },
        otherwise=BACK_TO_MEMBER,
        help="plan.help",
    ),
    _status_step(
        StatusStep.PICK, {"s:": (StatusStep.NOTE, StatusStep.REASON, StatusStep.DATE)}, ()
    ),
    _status_step(StatusStep.REASON, {}, (StatusStep.NOTE,)),
    _status_step(StatusStep.DATE, {}, (StatusStep.NOTE,)),
    _status_step(StatusStep.NOTE, {"skip": ()}, ()),
)


@declared
class FamilyPlan(StepFlow):
    """Shows the case's plan to the family, and lets owners answer their actions."""

    def __init__(self, timezone: ZoneInfo = STOCKHOLM) -> None:
        super().__init__(
            FLOW_NAME, STEPS, home_step=SHOWN, help_prefix="plan.", guard=ROLES.turned_away
        )
        self.timezone = timezone

    def opens(self, event: Event) -> bool:
        """/plan or the menu's "Planen" opens the plan."""
        if isinstance(event, CommandIssued):
            return event.command is Command.PLAN
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """The whole plan shown."""
        return self.state(SHOWN, mine=0)

    def own_actions(self, ctx: StepContext) -> Transition:
        """Shows the actions this person answers for: a nudge's "Visa mina åtgärder"."""
        return self.show(SHOWN, ctx, mine=1)


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
