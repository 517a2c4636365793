"""Professionals: the plan actions they own, across their cases, and one-tap status replies.

A nudge carries a button ("Visa mina åtgärder") that opens this flow's list in the private chat.

```mermaid
stateDiagram-v2
    [*] --> home
    home --> status_pick: en åtgärd
    status_pick --> home: sparat / tillbaka
    note right of status_pick: see flows/action_status.py
    home --> home: visa igen
    home --> cannot_come: Jag kan inte komma (flows/cannot_come.py)
    home --> email_address: Påminnelser med e-post (flows/email_switch.py)
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flows import cannot_come, email_switch
from flows.action_status import STATUS_STEPS, StatusDialog
from flows.conversation import ChoiceMade, Event
from flows.coordination import coordination
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Choice, Reply, say

FLOW_NAME = "professional"
HOME = FlowState(flow=FLOW_NAME, step="home")
# Buttons on reminders are sent outside the conversation; they all mean "show my actions".
NOTICE_ACTIONS = "n:actions"


@dataclass(frozen=True, slots=True)
class ProfessionalHome:
    """The professional's list of open actions, and status replies on them."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    name: str = FLOW_NAME
    # The deployment sends e-mail ([email] enabled): the professional may choose it too.
    email: bool = False

    @property
    def _status(self) -> StatusDialog:
        """The status reply dialog, inside this flow."""
        return StatusDialog(FLOW_NAME, self.timezone)

    @property
    def home(self) -> FlowState:
        """The list of open actions."""
        return HOME

    def start(self, ctx: StepContext) -> Transition:
        """Lists the open actions this person owns."""
        return self._home(ctx, ())

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the list again, or the status step in progress."""
        if state.step in STATUS_STEPS:
            return self._status.resume(state, ctx, self._home)
        if self.email and state.step == email_switch.ADDRESS_STEP:
            return email_switch.ask_address(FLOW_NAME)
        return self._home(ctx, ())

    def help(self, state: FlowState) -> Reply:
        """Explains how to answer about an action."""
        return say("pro.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Opens an action for a status reply, or hands the event to the status dialog."""
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if choice == NOTICE_ACTIONS or choice == "refresh":
            return self._home(ctx, ())
        if state.step in STATUS_STEPS:
            return self._status.handle(state, event, ctx, self._home)
        if self.email and email_switch.handles(state, event):
            return email_switch.handle(state, event, ctx, self._home)
        if choice is not None and choice.startswith("a:"):
            action_id = int(choice[2:])
            port = coordination(ctx)
            action = port.action(action_id, ctx.actor.person_id)
            if action is None:
                return self._home(ctx, (say("status.gone"),))
            if not port.may_update(action_id, ctx.actor.person_id):
                # The gate's rule 6: only an owner or the coordinator answers for an action.
                return self._home(ctx, (say("status.not_yours"),))
            return self._status.begin(action)
        return self._home(ctx, (say("common.not_understood"),))

    def _home(self, ctx: StepContext, before: tuple[Reply, ...]) -> Transition:
        """The list of open actions, soonest first, one button each."""
        actions = coordination(ctx).actions_owned_by(ctx.actor.person_id)
        choices = [
            Choice(
                f"a:{a.id}",
                "pro.action_choice",
                {"case": a.case_reference, "text": a.description, "due": a.due},
            )
            for a in actions
        ]
        reply = say(
            "pro.home",
            *choices,
            Choice("refresh", "pro.refresh"),
            cannot_come.MENU_CHOICE,
            *(email_switch.menu_choices(ctx) if self.email else ()),
            name=ctx.actor.display_name,
            count=len(actions),
        )
        return Transition(HOME, (*before, reply))
