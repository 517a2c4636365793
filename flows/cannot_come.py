""" "Jag kan inte komma": any member of a case says they cannot come to the next meeting, with
a few words of why if they like; the case's coordinators are told at once, and the person
gets a receipt.

A sidetrack opened from the young person's, the caregivers' and the professionals' menus.

```mermaid
stateDiagram-v2
    [*] --> ask
    ask --> [*]: cancel / send / text / (shown instead)
```
"""

from __future__ import annotations

from flows.conversation import ChoiceMade, Event
from flows.domain import Role
from flows.engine import Notice, Transition
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import DONE, Step, StepFlow, Then, Turn, declared
from flows.text_rules import CleanText, clean_text

FLOW_NAME = "cannot_come"
OPEN_CHOICE = "absent:open"
MENU_CHOICE = Choice(OPEN_CHOICE, "absent.menu")
REASON_MAX_CHARS = 300
CANCEL = Choice("cancel", "common.cancel")
SEND_WITHOUT = Choice("send", "absent.send_without")
# Every member but the coordinator, who convenes the meeting and moves it instead.
FOR_ROLES = SidetrackRoles(
    frozenset({Role.YOUTH, Role.CAREGIVER, Role.NETWORK, Role.PROFESSIONAL}),
    {Role.COORDINATOR: "convene.cannot_come_not_here"},
)


def _ask(turn: Turn) -> Reply | Transition:
    """Asks for a few words of why (or none), or says that no meeting is booked."""
    ctx = turn.ctx
    meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
    if meeting is None:
        return turn.done(say("absent.no_meeting"))
    return say("absent.ask", SEND_WITHOUT, CANCEL, starts_at=meeting.starts_at)


def _cancel(turn: Turn) -> Transition:
    """Nothing is sent."""
    return turn.done(say("absent.cancelled"))


def _send(turn: Turn) -> Transition:
    """Tells the case's coordinators at once, with her words if she wrote any."""
    ctx = turn.ctx
    meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
    if meeting is None:
        return turn.done(say("absent.no_meeting"))
    reason: str | None = None
    if turn.text is not None:
        checked = clean_text(turn.text, REASON_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return turn.again(say(f"text.{checked.value}", max=REASON_MAX_CHARS))
        reason = checked.text
    families = ctx.ports.families
    alert = say(
        "convene.cannot_come",
        name=ctx.actor.display_name,
        role=ctx.actor.role.value,
        case=families.case_reference(ctx.actor.case_id),
        starts_at=meeting.starts_at,
        reason=reason,
    )
    notices = tuple(
        Notice(
            alert,
            person_id=coordinator,
            # Saying it again (with other words) is news again: one key per saying.
            dedup_key=f"cannot-come:{meeting.id}:{ctx.actor.person_id}:{ctx.now.isoformat()}",
            about=(ctx.actor.person_id,),  # their name and words: erased with them
        )
        for coordinator in families.coordinators(ctx.actor.case_id)
    )
    return turn.done(say("absent.sent", starts_at=meeting.starts_at), notices=notices)


STEPS = (
    Step(
        "ask",
        show=_ask,
        choices={CANCEL.id: Then(_cancel, to=(DONE,)), SEND_WITHOUT.id: Then(_send, to=(DONE,))},
        text=Then(_send, to=(DONE,)),
        handovers=(DONE,),
        help="absent.help",
    ),
)


@declared
class CannotCome(StepFlow):
    """Telling the coordinator that one cannot come to the next meeting."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME, STEPS, home_step="ask", help_prefix="absent.", guard=FOR_ROLES.turned_away
        )

    def opens(self, event: Event) -> bool:
        """The menu's choice opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE
