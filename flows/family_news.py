"""The family hears when a plan action is done or blocked: a neutral word and a button.

Like the nudges' default, the notice names no action, owner or reason (a chat platform is not
a care journal): it says that something in the plan is done, or has hit a problem, and "Visa
planen" opens the plan (flows/family_plan.py) in the private chat, behind the access gate.
"""

from __future__ import annotations

from flows.coordination import ActionStatus, coordination
from flows.engine import Notice, StepContext
from flows.replies import Choice, say

# The menu choice that opens the plan (flows/family_plan.OPEN_CHOICE; not imported, since
# family_plan imports the status dialog that calls this module).
SHOW_PLAN = Choice("plan:open", "plan.show")
# What the family is told about; a new date or "in progress" is read in the plan itself.
TOLD = frozenset({ActionStatus.DONE, ActionStatus.BLOCKED})


def family_told(ctx: StepContext, action_id: int, status: ActionStatus) -> tuple[Notice, ...]:
    """A notice to each admitted family member but the author, when the action is done or
    blocked; none otherwise."""
    if status not in TOLD:
        return ()
    people = coordination(ctx).family_to_tell(action_id, ctx.actor.person_id)
    reply = say("plan.told", SHOW_PLAN, status=status.value)
    key = f"plan_told:{action_id}:{status.value}:{ctx.now.isoformat()}"
    return tuple(Notice(reply, person_id=p, dedup_key=key) for p in people)
