"""Ask for a meeting: a young person or an adult asks for a new flerpartsamtal, with a reason.

The request is stored and tracked until the coordinator answers, with words or by booking a
meeting from it (flows/convening.py); the coordinators are told at once. A sidetrack:
/nyttmote or a menu choice opens it, for the family only; a coordinator or professional is
told how meetings are booked instead (flows/sidetrack_roles.py).

```mermaid
stateDiagram-v2
    [*] --> ask: /nyttmote, menu (nothing open)
    [*] --> waiting: /nyttmote, menu (a request is open)
    waiting --> ask: ask again
    waiting --> [*]: Tillbaka
    ask --> [*]: reason (saved, coordinator told)
    ask --> [*]: avbryt
```
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.convening_port import answer_button
from flows.conversation import ChoiceMade, Command, CommandIssued, Event, TextMessage
from flows.domain import FAMILY_ROLES, Role
from flows.engine import RETURN, FlowState, Notice, StepContext, Transition
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.text_rules import CleanText, clean_text

FLOW_NAME = "meeting_request"
REASON_MAX_CHARS = 500
# A menu choice with this id opens the request from any flow.
OPEN_CHOICE = "request:open"


class Step(StrEnum):
    """The steps of asking for a meeting."""

    WAITING = "waiting"
    ASK = "ask"


CANCEL = Choice("cancel", "common.cancel")
BACK = Choice("back", "common.back")
# Only the family asks for a meeting (storage/access.py rule 9); the coordinator books them.
FOR_ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {
        Role.COORDINATOR: "coord.not_here.meeting_request",
        Role.PROFESSIONAL: "pro.not_here.meeting_request",
    },
)


@dataclass(frozen=True, slots=True)
class MeetingRequestFlow:
    """Asking the coordinator for a new meeting."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """/nyttmote or a menu's "ask for a meeting" choice opens it."""
        if isinstance(event, CommandIssued):
            return event.command is Command.ASK_MEETING
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """Asking for a reason."""
        return FlowState(FLOW_NAME, Step.ASK.value)

    def start(self, ctx: StepContext) -> Transition:
        """Shows an open request, or asks why a meeting is needed."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        open_request = ctx.ports.families.open_request(ctx.actor.case_id, ctx.actor.person_id)
        if open_request is None:
            return self._ask()
        reply = say(
            "request.waiting",
            Choice("again", "request.again"),
            BACK,
            asked_at=open_request.created_at,
            reason=open_request.reason,
        )
        return Transition(FlowState(FLOW_NAME, Step.WAITING.value), (reply,))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the step again."""
        # A conversation an older version left here for someone else is let go, not failed.
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        if state.step == Step.ASK.value:
            return self._ask()
        return self.start(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains asking for a meeting."""
        return say("request.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if state.step == Step.WAITING.value:
            if choice == "again":
                return self._ask()
            return Transition(RETURN, ())
        if choice == CANCEL.id:
            return Transition(RETURN, (say("request.cancelled"),))
        if not isinstance(event, TextMessage):
            return self._ask(say("common.need_text"))
        checked = clean_text(event.text, REASON_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return self._ask(say(f"text.{checked.value}", max=REASON_MAX_CHARS))
        return self._send(checked.text, ctx)

    def _ask(self, *before: Reply) -> Transition:
        """Asks for a short reason."""
        reply = say("request.ask", CANCEL, max=REASON_MAX_CHARS)
        return Transition(FlowState(FLOW_NAME, Step.ASK.value), (*before, reply))

    def _send(self, reason: str, ctx: StepContext) -> Transition:
        """Stores the request and tells every coordinator of the case."""
        families = ctx.ports.families
        request_id = families.request_meeting(
            ctx.actor.case_id, ctx.actor.person_id, reason, ctx.now
        )
        alert = say(
            "alert.meeting_request",
            # The coordinator answers it in the chat (flows/convening.py).
            answer_button(),
            name=ctx.actor.display_name,
            role=ctx.actor.role.value,
            case=families.case_reference(ctx.actor.case_id),
            reason=reason,
        )
        notices = tuple(
            Notice(
                alert,
                person_id=coordinator,
                dedup_key=f"meeting-request:{request_id}",
                about=(ctx.actor.person_id,),  # their name and reason: erased with them
            )
            for coordinator in families.coordinators(ctx.actor.case_id)
        )
        return Transition(RETURN, (say("request.sent"),), notices)


def answer_notice(person_id: int, request_id: int, answer: str) -> Notice:
    """Tells the person who asked for a meeting what the coordinator answered."""
    return Notice(
        say("request.answered", answer=answer),
        person_id=person_id,
        dedup_key=f"meeting-request-answer:{request_id}",
    )
