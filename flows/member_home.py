"""Home for members whose own flow is not built yet: shows the case and the next meeting.

```mermaid
stateDiagram-v2
    [*] --> home
    home --> home: refresh / otherwise
```
"""

from __future__ import annotations

from flows.replies import Choice, Reply, say
from flows.steps import Go, Step, StepFlow, Turn, declared

FLOW_NAME = "member_home"
REFRESH = Choice("refresh", "member.refresh")


def _home(turn: Turn) -> Reply:
    """Shows the home screen: who you are in the case and when the next meeting is."""
    ctx = turn.ctx
    meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
    return say(
        "member.home",
        REFRESH,
        name=ctx.actor.display_name,
        case=ctx.actor.case_id,
        meeting_at=meeting.starts_at if meeting else None,
    )


STEPS = (
    # Any event shows the home screen again: there is nothing else here to do.
    Step(
        "home",
        show=_home,
        choices={REFRESH.id: Go("home")},
        otherwise=Go("home"),
        help="member.help",
    ),
)


@declared
class MemberHome(StepFlow):
    """A small home screen: who you are in the case and when the next meeting is."""

    def __init__(self) -> None:
        super().__init__(FLOW_NAME, STEPS, home_step="home", help_prefix="member.")
