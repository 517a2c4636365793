"""Meeting info: "när är mötet?" for every member, with a calendar file, and who is who.

A sidetrack: /mote or a menu choice opens it from anywhere; "Tillbaka" returns to the
member's own flow.

```mermaid
stateDiagram-v2
    [*] --> shown: /mote, menu choice
    shown --> who: Vem är vem?
    who --> shown: Mötet
    shown --> [*]: Tillbaka
    who --> [*]: Tillbaka
```
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flows.conversation import ChoiceMade, Command, CommandIssued, Event
from flows.engine import RETURN, FlowState, StepContext, Transition
from flows.replies import Attachment, Audience, Choice, ParamValue, Reply, say, to_family
from flows.who_is_who import who_reply

FLOW_NAME = "meeting_info"
ICS_KIND = "meeting_ics"
OPEN_CHOICE = "meeting:open"


class Step(StrEnum):
    """The steps of the meeting info sidetrack."""

    SHOWN = "shown"
    WHO = "who"


BACK = Choice("back", "common.back")


@dataclass(frozen=True, slots=True)
class MeetingInformation:
    """Answers "när är mötet?" and "vem är vem?"."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """/mote or the meeting button of a reminder opens the meeting info."""
        if isinstance(event, CommandIssued):
            return event.command is Command.MEETING
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """The meeting's information shown."""
        return FlowState(FLOW_NAME, Step.SHOWN.value)

    def start(self, ctx: StepContext) -> Transition:
        """Shows when and where the next meeting is, who comes, and sends the calendar file."""
        overview = ctx.ports.families.meeting_overview(ctx.actor.case_id, ctx.now)
        if overview is None:
            return Transition(RETURN, (to_family(say("meeting.none")),))
        meeting = overview.meeting
        invitees: list[ParamValue] = [
            {"role": i.role.value, "organisation": i.organisation} for i in overview.invitees
        ]
        info = Reply(
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
            (Choice("who", "meeting.who_is_who"), BACK),
            Attachment(ICS_KIND, {"meeting_id": meeting.id}),
            # When and where the family meets is for the family together.
            Audience.FAMILY,
        )
        return Transition(FlowState(FLOW_NAME, Step.SHOWN.value), (info,))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the step again."""
        if state.step == Step.WHO.value:
            return self._who(ctx)
        return self.start(ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Opens "vem är vem?", goes back to the meeting, or returns to the member's flow."""
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if choice == "who":
            return self._who(ctx)
        if choice == "meeting":
            return self.start(ctx)
        # Anything else (Tillbaka, or text typed here) goes back to where the member was.
        return Transition(RETURN, ())

    def help(self, state: FlowState) -> Reply:
        """Explains the meeting info."""
        return to_family(say("meeting.help"))

    def _who(self, ctx: StepContext) -> Transition:
        """Presents each organisation of the case (description, contact person) and its people."""
        reply = who_reply(ctx, Choice("meeting", "meeting.back_to_meeting"), BACK)
        return Transition(FlowState(FLOW_NAME, Step.WHO.value), (reply,))
