"""Ask for a meeting: a young person or an adult asks for a new flerpartsamtal, with a reason.

The request is stored and tracked until the coordinator answers, with words or by booking a
meeting from it (flows/convening.py); the coordinators are told at once. A sidetrack:
/nyttmote or a menu choice opens it, for the family only; a coordinator or professional is
told how meetings are booked instead (flows/sidetrack_roles.py).

```mermaid
stateDiagram-v2
    [*] --> waiting
    waiting --> ask: again / (shown instead)
    waiting --> [*]: back / otherwise
    ask --> [*]: cancel / text
    ask --> ask: otherwise
```
"""

from __future__ import annotations

from flows.convening_port import answer_button
from flows.conversation import ChoiceMade, Command, CommandIssued, Event
from flows.domain import FAMILY_ROLES, Role
from flows.engine import Notice, Transition
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import BACK_TO_MEMBER, DONE, Go, Step, StepFlow, Then, Turn, declared
from flows.text_rules import CleanText, clean_text

FLOW_NAME = "meeting_request"
REASON_MAX_CHARS = 500
# A menu choice with this id opens the request from any flow.
OPEN_CHOICE = "request:open"
CANCEL = Choice("cancel", "common.cancel")
BACK = Choice("back", "common.back")
AGAIN = Choice("again", "request.again")
# Only the family asks for a meeting (storage/access.py rule 9); the coordinator books them.
FOR_ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {
        Role.COORDINATOR: "coord.not_here.meeting_request",
        Role.PROFESSIONAL: "pro.not_here.meeting_request",
    },
)


def _waiting(turn: Turn) -> Reply | Transition:
    """Shows an open request, or asks why a meeting is needed when none is open."""
    ctx = turn.ctx
    open_request = ctx.ports.families.open_request(ctx.actor.case_id, ctx.actor.person_id)
    if open_request is None:
        return turn.go("ask")
    return say(
        "request.waiting",
        AGAIN,
        BACK,
        asked_at=open_request.created_at,
        reason=open_request.reason,
    )


def _ask(turn: Turn) -> Reply:
    """Asks for a short reason."""
    return say("request.ask", CANCEL, max=REASON_MAX_CHARS)


def _cancel(turn: Turn) -> Transition:
    """Nothing is asked for."""
    return turn.done(say("request.cancelled"))


def _need_text(turn: Turn) -> Transition:
    """A reason is words: asks again."""
    return turn.again(say("common.need_text"))


def _send(turn: Turn) -> Transition:
    """Stores the request and tells every coordinator of the case."""
    ctx = turn.ctx
    checked = clean_text(turn.text or "", REASON_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return turn.again(say(f"text.{checked.value}", max=REASON_MAX_CHARS))
    reason = checked.text
    families = ctx.ports.families
    request_id = families.request_meeting(ctx.actor.case_id, ctx.actor.person_id, reason, ctx.now)
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
    return turn.done(say("request.sent"), notices=notices)


STEPS = (
    Step(
        "waiting",
        show=_waiting,
        choices={AGAIN.id: Go("ask"), BACK.id: BACK_TO_MEMBER},
        otherwise=BACK_TO_MEMBER,
        handovers=("ask",),
        help="request.help",
    ),
    Step(
        "ask",
        show=_ask,
        choices={CANCEL.id: Then(_cancel, to=(DONE,))},
        text=Then(_send, to=(DONE,)),
        otherwise=Then(_need_text, to=("ask",)),
        help="request.help",
    ),
)


@declared
class MeetingRequestFlow(StepFlow):
    """Asking the coordinator for a new meeting."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME,
            STEPS,
            home_step="waiting",
            help_prefix="request.",
            guard=FOR_ROLES.turned_away,
        )

    def opens(self, event: Event) -> bool:
        """/nyttmote or a menu's "ask for a meeting" choice opens it."""
        if isinstance(event, CommandIssued):
            return event.command is Command.ASK_MEETING
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE


def answer_notice(person_id: int, request_id: int, answer: str) -> Notice:
    """Tells the person who asked for a meeting what the coordinator answered."""
    return Notice(
        say("request.answered", answer=answer),
        person_id=person_id,
        dedup_key=f"meeting-request-answer:{request_id}",
    )
