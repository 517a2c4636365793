"""The coordinators hear at once when a plan action is blocked, with the reason.

Before, a "Hinder" reached nobody until the next follow-up report. The coordinator convenes
the case and is the one who can unblock it, so the notice names the action, who reported it
and why; it goes to each coordinator's private chat only, never to a group, and quotes the
author, so it is erased with them (`about`).
"""

from __future__ import annotations

from flows.coordination import ActionItem, ActionStatus
from flows.engine import Notice, StepContext
from flows.replies import Choice, say

# The coordinator's notice button opens the case's plan (flows/coordinator/flow.on_notice).
OPEN_PLAN = "n:plan"


def coordinators_told(
    ctx: StepContext, action: ActionItem, status: ActionStatus, reason: str | None
) -> tuple[Notice, ...]:
    """A notice to each coordinator of the action's case but the author, when it is blocked."""
    if status is not ActionStatus.BLOCKED:
        return ()
    reply = say(
        "alert.blocked",
        Choice(f"{OPEN_PLAN}:{action.case_id}", "alert.blocked_open"),
        name=ctx.actor.display_name,
        case=action.case_reference,
        text=action.description,
        reason=reason,
    )
    key = f"blocked-told:{action.id}:{ctx.now.isoformat()}"
    return tuple(
        Notice(reply, person_id=coordinator, dedup_key=key, about=(ctx.actor.person_id,))
        for coordinator in ctx.ports.families.coordinators(action.case_id)
        if coordinator != ctx.actor.person_id
    )
