"""A professional's own choice, in the chat: reminders by e-mail as well, or no longer.

Only when the deployment sends e-mail ([email] enabled). The address is checked as the
coordinator's e-mail invite checks it (flows/coordinator/invites.py); once kept, the person
has an "email" chat identity, so every notice to them goes to the chat and by e-mail
(storage/outbox_repository.py `_targets`). Stopping removes that identity and the address.

```mermaid
stateDiagram-v2
    home --> email_address: Påminnelser med e-post
    email_address --> home: adress / avbryt
    home --> home: Sluta med e-post
```
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from flows.conversation import ChoiceMade, Event, TextMessage
from flows.coordinator.invites import EMAIL_PLATFORM, is_address
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Choice, Reply, say

TURN_ON = "email:on"
TURN_OFF = "email:off"
ADDRESS_STEP = "email_address"
CANCEL = Choice("cancel", "common.cancel")

Home = Callable[[StepContext, tuple[Reply, ...]], Transition]


class EmailSwitchPort(Protocol):
    """A member's e-mail addresses (storage/email_repository.py)."""

    def key_for_person(self, person_id: int) -> str | None:
        """The chat key of the member's e-mail conversation, if there is one."""
        ...

    def add_for_person(self, person_id: int, address: str, now: datetime) -> str:
        """Reaches the member by e-mail as well; the new chat key."""
        ...

    def remove_for_person(self, person_id: int) -> int:
        """Stops reaching the member by e-mail; how many e-mail chats went."""
        ...


def _port(ctx: StepContext) -> EmailSwitchPort:
    """The e-mail addresses of this step's transaction."""
    return ctx.ports.email


def menu_choices(ctx: StepContext) -> tuple[Choice, ...]:
    """ "Påminnelser med e-post" or "Sluta med e-post", whichever applies; none in e-mail."""
    if ctx.ref.platform == EMAIL_PLATFORM:
        return ()
    if _port(ctx).key_for_person(ctx.actor.person_id) is None:
        return (Choice(TURN_ON, "email_switch.turn_on"),)
    return (Choice(TURN_OFF, "email_switch.turn_off"),)


def handles(state: FlowState, event: Event) -> bool:
    """True when this event is the switch's: its menu choices, or the address step."""
    if isinstance(event, ChoiceMade) and event.choice_id in (TURN_ON, TURN_OFF):
        return True
    return state.step == ADDRESS_STEP


def ask_address(flow: str, *before: Reply) -> Transition:
    """Asks for the address the reminders should go to."""
    reply = say("email_switch.address_ask", CANCEL)
    return Transition(FlowState(flow=flow, step=ADDRESS_STEP), (*before, reply))


def handle(state: FlowState, event: Event, ctx: StepContext, home: Home) -> Transition:
    """Turns e-mail on (asking the address) or off, and goes home."""
    choice = event.choice_id if isinstance(event, ChoiceMade) else None
    person = ctx.actor.person_id
    if choice == TURN_OFF:
        _port(ctx).remove_for_person(person)
        return home(ctx, (say("email_switch.turned_off"),))
    if choice == TURN_ON:
        if _port(ctx).key_for_person(person) is not None:
            return home(ctx, (say("email_switch.turned_on"),))
        return ask_address(state.flow)
    if choice == "cancel":
        return home(ctx, ())
    if not isinstance(event, TextMessage):
        return ask_address(state.flow, say("common.need_text"))
    address = event.text.strip()
    if not is_address(address):
        return ask_address(state.flow, say("email.invite_address_bad"))
    if _port(ctx).key_for_person(person) is None:
        _port(ctx).add_for_person(person, address, ctx.now)
    return home(ctx, (say("email_switch.turned_on"),))
