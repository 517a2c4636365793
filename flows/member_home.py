"""Home for members whose own flow is not built yet: shows the case and the next meeting.

```mermaid
stateDiagram-v2
    [*] --> home
    home --> home: Visa igen
```
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.conversation import Event
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Choice, Reply, say

FLOW_NAME = "member_home"
HOME = FlowState(flow=FLOW_NAME, step="home")


@dataclass(frozen=True, slots=True)
class MemberHome:
    """A small home screen: who you are in the case and when the next meeting is."""

    name: str = FLOW_NAME

    @property
    def home(self) -> FlowState:
        """The home message."""
        return HOME

    def start(self, ctx: StepContext) -> Transition:
        """Shows the home screen."""
        meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
        reply = say(
            "member.home",
            Choice("refresh", "member.refresh"),
            name=ctx.actor.display_name,
            case=ctx.actor.case_id,
            meeting_at=meeting.starts_at if meeting else None,
        )
        return Transition(HOME, (reply,))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the home screen again."""
        return self.start(ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Any event shows the home screen again."""
        return self.start(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains the home screen."""
        return say("member.help")
