"""Keeps a flow out of group chats: the young person's preparation is for their eyes only.

In a family group chat the adults read everything the bot says, so a flow that lists what a
young person wrote privately must never run there. The wrapped flow answers in a group with
one kind message pointing to a private chat. Sidetracks still open there, and the pipeline's
audience check (bot/handler.py) keeps whatever they say for one person out of the group.

```mermaid
stateDiagram-v2
    [*] --> group: any event in a group chat
    group --> group: any event (points to a private chat)
    [*] --> inner: any event in a private chat (the wrapped flow)
```
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.conversation import Event
from flows.engine import Flow, FlowState, StepContext, Transition
from flows.replies import OPEN_PRIVATE_CHAT, Reply, say_to_anyone

GROUP_STEP = "in_group"


@dataclass(frozen=True, slots=True)
class PrivateChatOnly:
    """Runs `inner` in private chats only."""

    inner: Flow
    message: str
    # What /hjälp says in a group: what can be done there.
    group_help: str

    @property
    def name(self) -> str:
        """The wrapped flow's name: a private chat's state is the wrapped flow's own."""
        return self.inner.name

    @property
    def home(self) -> FlowState:
        """The wrapped flow's home (a group chat's pointer needs none)."""
        return self.inner.home

    def start(self, ctx: StepContext) -> Transition:
        """Starts the wrapped flow, or points to a private chat."""
        # Remember where the person is: a private chat makes them reachable for notices.
        ctx.ports.families.note_chat(ctx.actor, ctx.ref, ctx.now)
        return self._in_group() if ctx.ref.is_group else self.inner.start(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Resumes the wrapped flow, or points to a private chat."""
        if ctx.ref.is_group:
            return self._in_group()
        if state.step == GROUP_STEP:
            return self.inner.start(ctx)
        return self.inner.resume(state, ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Handles the event in the wrapped flow, or points to a private chat."""
        if ctx.ref.is_group:
            return self._in_group()
        if state.step == GROUP_STEP:
            return self.inner.start(ctx)
        return self.inner.handle(state, event, ctx)

    def help(self, state: FlowState) -> Reply:
        """The wrapped flow's help, or the pointer to a private chat."""
        if state.step == GROUP_STEP:
            return say_to_anyone(self.group_help)
        return self.inner.help(state)

    def _in_group(self) -> Transition:
        """The one message a group chat gets."""
        pointer = say_to_anyone(self.message, OPEN_PRIVATE_CHAT)
        return Transition(FlowState(self.inner.name, GROUP_STEP), (pointer,))
