"""Professionals: the plan actions they own, across their cases, and one-tap status replies.

A nudge carries a button ("Visa mina åtgärder", `n:actions`) that opens this flow's list in the
private chat, from any step. The status steps are the shared status reply
(flows/action_status.py), back to the list when saved. "Jag kan inte komma" is a sidetrack
the engine opens (flows/cannot_come.py). E-mail reminders (flows/email_switch.py) are offered
only when the deployment sends e-mail.

```mermaid
stateDiagram-v2
    [*] --> home
    home --> home: refresh / n:actions
    home --> status_pick: a
    home --> email_address: email:on
    email_address --> home: otherwise / (shown instead)
    email_address --> email_address: otherwise
    status_pick --> status_note: s:done / s:in_progress
    status_pick --> status_reason: s:blocked
    status_pick --> status_date: s:new_date
    status_pick --> home: back / cancel / (shown instead)
    status_pick --> status_pick: otherwise
    status_reason --> home: back / cancel / (shown instead)
    status_reason --> status_note: text
    status_reason --> status_reason: text / otherwise
    status_date --> home: back / cancel / (shown instead)
    status_date --> status_note: text
    status_date --> status_date: text / otherwise
    status_note --> home: skip / back / cancel / text / (shown instead)
    status_note --> status_note: text / otherwise
```
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows import cannot_come, email_switch
from flows.action_status import STOCKHOLM, StatusDialog, status_steps, zone_of
from flows.conversation import ChoiceMade, Event
from flows.coordination import coordination
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Choice, Reply, say
from flows.steps import Go, Step, StepFlow, Then, Turn, declared

FLOW_NAME = "professional"
HOME = FlowState(flow=FLOW_NAME, step="home")
# Buttons on reminders are sent outside the conversation; they all mean "show my actions".
NOTICE_ACTIONS = "n:actions"
HELP = "pro.help"


def _email_on(turn: Turn) -> bool:
    """The deployment sends e-mail ([email] enabled): the professional may choose it too."""
    return getattr(turn.flow, "email", False) is True


def _home(turn: Turn) -> Reply:
    """The list of open actions, soonest first, one button each."""
    ctx = turn.ctx
    actions = coordination(ctx).actions_owned_by(ctx.actor.person_id)
    choices = [
        Choice(
            f"a:{a.id}",
            "pro.action_choice",
            {"case": a.case_reference, "text": a.description, "due": a.due},
        )
        for a in actions
    ]
    return say(
        "pro.home",
        *choices,
        Choice("refresh", "pro.refresh"),
        cannot_come.MENU_CHOICE,
        *(email_switch.menu_choices(ctx) if _email_on(turn) else ()),
        name=ctx.actor.display_name,
        count=len(actions),
    )


def _not_understood(turn: Turn) -> Transition:
    """The list again, saying the answer was not understood."""
    return turn.go("home", say("common.not_understood"))


def _open_action(turn: Turn) -> Transition:
    """Opens an action for a status reply, if this person may answer for it."""
    ctx = turn.ctx
    key = (turn.choice or "").removeprefix("a:")
    action_id = int(key) if key.isdecimal() else 0
    port = coordination(ctx)
    action = port.action(action_id, ctx.actor.person_id)
    if action is None:
        return turn.go("home", say("status.gone"))
    if not port.may_update(action_id, ctx.actor.person_id):
        # The gate's rule 6: only an owner or the coordinator answers for an action.
        return turn.go("home", say("status.not_yours"))
    return StatusDialog(FLOW_NAME, zone_of(turn)).begin(action)


def _email_switch(turn: Turn) -> Transition:
    """E-mail reminders on (asking the address) or off (flows/email_switch.py)."""
    if not _email_on(turn) or turn.event is None:
        # No e-mail in this deployment: the list, as for any other answer.
        return _not_understood(turn)
    state = FlowState(flow=FLOW_NAME, step=turn.step, data=dict(turn.data))
    return email_switch.handle(
        state, turn.event, turn.ctx, lambda ctx, before: turn.go("home", *before)
    )


def _ask_address(turn: Turn) -> Transition:
    """Asks for the address (the list, when the deployment no longer sends e-mail)."""
    if not _email_on(turn):
        return turn.go("home")
    return email_switch.ask_address(FLOW_NAME)


STEPS = (
    Step(
        "home",
        show=_home,
        choices={
            "refresh": Go("home"),
            NOTICE_ACTIONS: Go("home"),
            "a:": Then(_open_action, to=("status_pick",)),
            email_switch.TURN_ON: Then(_email_switch, to=(email_switch.ADDRESS_STEP,)),
            email_switch.TURN_OFF: Then(_email_switch),
        },
        otherwise=Then(_not_understood),
        help=HELP,
    ),
    Step(
        email_switch.ADDRESS_STEP,
        show=_ask_address,
        otherwise=Then(_email_switch, to=("home", email_switch.ADDRESS_STEP)),
        handovers=("home",),
        help=HELP,
    ),
    *status_steps("home", help=HELP),
)


@declared
class ProfessionalHome(StepFlow):
    """The professional's list of open actions, and status replies on them."""

    def __init__(self, timezone: ZoneInfo = STOCKHOLM, email: bool = False) -> None:
        super().__init__(FLOW_NAME, STEPS, home_step="home", help_prefix="pro.")
        self.timezone = timezone
        # The deployment sends e-mail ([email] enabled): the professional may choose it too.
        self.email = email

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """A nudge's button or "Visa igen" shows the list from any step; else the table."""
        if isinstance(event, ChoiceMade) and event.choice_id in (NOTICE_ACTIONS, "refresh"):
            return self.show("home", ctx)
        return super().handle(state, event, ctx)

    def leads(self, step: str) -> frozenset[str]:
        """The steps `step` may hand over to, the list too (a nudge's button, from any)."""
        return super().leads(step) | {"home"}
