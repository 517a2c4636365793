"""Meeting info: "när är mötet?" for every member, with a calendar file, and who is who.

A sidetrack: /mote or a menu choice opens it from anywhere; "Tillbaka" returns to the
member's own flow.

```mermaid
stateDiagram-v2
    [*] --> shown
    shown --> who: who
    shown --> [*]: back / otherwise / (shown instead)
    who --> shown: meeting
    who --> [*]: back / otherwise
```
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from flows import steps
from flows.conversation import ChoiceMade, Command, CommandIssued, Event
from flows.engine import FlowState, Transition
from flows.replies import Attachment, Audience, Choice, ParamValue, Reply, say, to_family
from flows.steps import BACK_TO_MEMBER, DONE, Go, StepFlow, Turn, declared
from flows.who_is_who import who_reply

FLOW_NAME = "meeting_info"
ICS_KIND = "meeting_ics"
OPEN_CHOICE = "meeting:open"


class Step(StrEnum):
    """The steps of the meeting info sidetrack (the consent gate keeps them as its own)."""

    SHOWN = "shown"
    WHO = "who"


BACK = Choice("back", "common.back")
WHO = Choice("who", "meeting.who_is_who")
MEETING = Choice("meeting", "meeting.back_to_meeting")


def _info(turn: Turn) -> Reply | Transition:
    """Shows when and where the next meeting is, who comes, and sends the calendar file."""
    ctx = turn.ctx
    overview = ctx.ports.families.meeting_overview(ctx.actor.case_id, ctx.now)
    if overview is None:
        return turn.done(to_family(say("meeting.none")))
    meeting = overview.meeting
    invitees: list[ParamValue] = [
        {"role": i.role.value, "organisation": i.organisation} for i in overview.invitees
    ]
    return Reply(
        "meeting.info",
        {
            "starts_at": meeting.starts_at,
            "ends_at": meeting.starts_at + timedelta(minutes=meeting.duration_minutes),
            "minutes": meeting.duration_minutes,
            "place": meeting.place,
            "link": meeting.remote_link,
            "meeting_kind": meeting.kind.value,
            "invitees": invitees,
        },
        (WHO, BACK),
        Attachment(ICS_KIND, {"meeting_id": meeting.id}),
        # When and where the family meets is for the family together.
        Audience.FAMILY,
    )


def _who(turn: Turn) -> Reply:
    """Presents each organisation of the case (description, contact person) and its people."""
    return who_reply(turn.ctx, MEETING, BACK)


STEPS = (
    steps.Step(
        Step.SHOWN.value,
        show=_info,
        choices={WHO.id: Go(Step.WHO.value), BACK.id: BACK_TO_MEMBER},
        otherwise=BACK_TO_MEMBER,
        handovers=(DONE,),
        help="meeting.help",
    ),
    steps.Step(
        Step.WHO.value,
        show=_who,
        choices={MEETING.id: Go(Step.SHOWN.value), BACK.id: BACK_TO_MEMBER},
        otherwise=BACK_TO_MEMBER,
        help="meeting.help",
    ),
)


@declared
class MeetingInformation(StepFlow):
    """Answers "när är mötet?" and "vem är vem?"."""

    def __init__(self) -> None:
        super().__init__(FLOW_NAME, STEPS, home_step=Step.SHOWN.value, help_prefix="meeting.")

    def opens(self, event: Event) -> bool:
        """/mote or the meeting button of a reminder opens the meeting info."""
        if isinstance(event, CommandIssued):
            return event.command is Command.MEETING
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    def help(self, state: FlowState) -> Reply:
        """Explains the meeting info (for the family together, as the meeting is)."""
        return to_family(say("meeting.help"))
