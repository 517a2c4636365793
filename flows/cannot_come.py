""" "Jag kan inte komma": any member of a case says they cannot come to the next meeting, with
a few words of why if they like; the case's coordinators are told at once, and the person
gets a receipt.

A sidetrack opened from the young person's, the caregivers' and the professionals' menus.

```mermaid
stateDiagram-v2
    [*] --> [*]: inget möte bokat
    [*] --> ask: Jag kan inte komma
    ask --> [*]: några ord / skicka utan ord (samordnaren får veta)
    ask --> [*]: avbryt
```
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.conversation import ChoiceMade, Event, TextMessage
from flows.domain import Role
from flows.engine import RETURN, FlowState, Notice, StepContext, Transition
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.text_rules import CleanText, clean_text

FLOW_NAME = "cannot_come"
OPEN_CHOICE = "absent:open"
MENU_CHOICE = Choice(OPEN_CHOICE, "absent.menu")
ASK = FlowState(FLOW_NAME, "ask")
REASON_MAX_CHARS = 300
CANCEL = Choice("cancel", "common.cancel")
SEND_WITHOUT = Choice("send", "absent.send_without")
# Every member but the coordinator, who convenes the meeting and moves it instead.
FOR_ROLES = SidetrackRoles(
    frozenset({Role.YOUTH, Role.CAREGIVER, Role.NETWORK, Role.PROFESSIONAL}),
    {Role.COORDINATOR: "convene.cannot_come_not_here"},
)


@dataclass(frozen=True, slots=True)
class CannotCome:
    """Telling the coordinator that one cannot come to the next meeting."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """The menu's choice opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """Asking why."""
        return ASK

    def start(self, ctx: StepContext) -> Transition:
        """Asks for a few words of why, or says that no meeting is booked."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
        if meeting is None:
            return Transition(RETURN, (say("absent.no_meeting"),))
        return _ask(meeting.starts_at)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Asks again."""
        return self.start(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains saying one cannot come."""
        return say("absent.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Sends the words (or none) to the coordinators, or cancels."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if choice == CANCEL.id:
            return Transition(RETURN, (say("absent.cancelled"),))
        meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
        if meeting is None:
            return Transition(RETURN, (say("absent.no_meeting"),))
        reason: str | None = None
        if isinstance(event, TextMessage):
            checked = clean_text(event.text, REASON_MAX_CHARS)
            if not isinstance(checked, CleanText):
                problem = say(f"text.{checked.value}", max=REASON_MAX_CHARS)
                return _ask(meeting.starts_at, problem)
            reason = checked.text
        elif choice != SEND_WITHOUT.id:
            return _ask(meeting.starts_at, say("common.not_understood"))
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
        return Transition(RETURN, (say("absent.sent", starts_at=meeting.starts_at),), notices)


def _ask(starts: datetime, *before: Reply) -> Transition:
    """Asks for a few words of why (or none)."""
    reply = say("absent.ask", SEND_WITHOUT, CANCEL, starts_at=starts)
    return Transition(ASK, (*before, reply))
