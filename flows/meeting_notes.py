"""Notes from the meeting, for the family: what was decided, the plan as it now stands, the
next meeting, and which of her questions were answered.

A sidetrack: the notice the coordinator's notes send (flows/coordinator/notes.py) and the
menu's "Från mötet" open it for the young person and the caregivers, in the private chat (the
handler sends a group only the pointer). A young person whose question was marked answered
may say "Jag fick inget svar"; the case's coordinators are told.

Also the reminder kind that asks the coordinator for the notes once a meeting has ended.

```mermaid
stateDiagram-v2
    [*] --> shown
    shown --> shown: noanswer
    shown --> [*]: back / otherwise
```
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flows.conversation import ChoiceMade, Event, ReminderDue
from flows.coordination import coordination
from flows.coordinator.notes import FAMILY_OPEN, WRITE_PREFIX
from flows.coordinator_reminders import reminder_key
from flows.domain import FAMILY_ROLES, Role
from flows.engine import Notice, Transition
from flows.family_plan import plan_lines
from flows.meeting_notes_ports import QuestionStatus, notes_port
from flows.reminder_ports import ReminderPorts
from flows.replies import Choice, ParamValue, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import BACK_TO_MEMBER, Step, StepFlow, Then, Turn, declared

FLOW_NAME = "meeting_notes"
OPEN_CHOICE = FAMILY_OPEN.id
MENU_CHOICE = Choice(OPEN_CHOICE, "menu.notes")
NO_ANSWER_PREFIX = "noanswer:"
SHOWN = "shown"
BACK = Choice("back", "common.back")
# A meeting's notes are asked for up to this long after it ended; later it is history.
NOTES_HORIZON = timedelta(days=7)

# Staff write or read the notes in their own flow.
ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {
        Role.COORDINATOR: "notes.not_here.coordinator",
        Role.PROFESSIONAL: "notes.not_here.professional",
    },
)


def _shown(turn: Turn) -> Transition:
    """The notes, the next meeting, the plan, and her questions with a button each."""
    ctx = turn.ctx
    person, case_id = ctx.actor.person_id, ctx.actor.case_id
    notes = notes_port(ctx.ports).notes_for(case_id, person)
    state = turn.flow.state(SHOWN)
    if notes is None:
        return Transition(state, (say("notes.none", BACK),))
    upcoming = ctx.ports.members.next_meeting(case_id, ctx.now)
    summary = say(
        "notes.summary",
        meeting_at=notes.meeting_at,
        text=notes.text,
        next_at=upcoming.starts_at if upcoming else None,
    )
    plan_actions = plan_lines(coordination(ctx).family_plan(case_id, person), person)
    if not notes.questions:
        plan = say("plan.family", BACK, actions=plan_actions, mine=False, answer=False)
        return Transition(state, (summary, plan))
    plan = say("plan.family", actions=plan_actions, mine=False, answer=False)
    # She may say she got no answer to a question marked answered (once each).
    buttons = [
        Choice(f"{NO_ANSWER_PREFIX}{q.id}", "notes.no_answer", {"text": q.text})
        for q in notes.questions
        if q.status is QuestionStatus.ANSWERED and not q.no_answer
    ]
    marked: list[ParamValue] = [
        {"text": q.text, "status": q.status.value if q.status else None, "no_answer": q.no_answer}
        for q in notes.questions
    ]
    asked = say("notes.questions", *buttons, BACK, marked=marked, can_say=bool(buttons))
    return Transition(state, (summary, plan, asked))


def _no_answer(turn: Turn) -> Transition:
    """ "Jag fick inget svar": records it, and tells the case's coordinators privately."""
    ctx = turn.ctx
    question_text = (turn.choice or "").removeprefix(NO_ANSWER_PREFIX)
    if not question_text.isdecimal():
        return turn.again(say("common.not_understood"))
    told = notes_port(ctx.ports).no_answer(int(question_text), ctx.actor.person_id, ctx.now)
    if told is None:
        return turn.again(say("notes.no_answer_gone"))
    notice = say(
        "coord.notes.no_answer",
        case=told.reference,
        name=ctx.actor.display_name,
        text=told.text,
    )
    # It quotes her question: /glommig removes the notice with her (about).
    notices = tuple(
        Notice(
            notice,
            person_id=p,
            dedup_key=f"notes-no-answer:{question_text}:{p}",
            about=(ctx.actor.person_id,),
        )
        for p in told.coordinators
    )
    return replace(turn.again(say("notes.no_answer_told")), notices=notices)


STEPS = (
    Step(
        SHOWN,
        show=_shown,
        choices={
            NO_ANSWER_PREFIX: Then(_no_answer, to=(SHOWN,)),
            BACK.id: BACK_TO_MEMBER,
        },
        otherwise=BACK_TO_MEMBER,
        help="notes.help",
    ),
)


@declared
class MeetingNotesView(StepFlow):
    """Shows the family the newest notes, with the plan and the next meeting."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME, STEPS, home_step=SHOWN, help_prefix="notes.", guard=ROLES.turned_away
        )

    def opens(self, event: Event) -> bool:
        """The notice's "Läs" and the menu's "Från mötet" open it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE


@dataclass(frozen=True, slots=True)
class NotesRequests:
    """Asks each coordinator for the notes once a meeting of their case has ended."""

    name: str = "notes_requests"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """One request per coordinator per meeting that ended in the horizon without notes."""
        meetings = notes_port(ports).meetings_without_notes(now - NOTES_HORIZON, now)
        to_tell = ports.coordinator_reminders.coordinators_to_tell(
            meetings, lambda mt, p: (reminder_key("notes", mt, p),)
        )
        for meeting, people in to_tell:
            for person_id in people:
                yield ReminderDue(
                    self.name,
                    reminder_key("notes", meeting.id, person_id),
                    person_id=person_id,
                    params={"case": meeting.case_id, "starts_at": meeting.starts_at},
                )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """The request: which case and meeting, and a button to write the notes."""
        case_id = due.params["case"]
        if not isinstance(case_id, int):
            raise TypeError("case must be an int")
        reference = ports.coordinator_reminders.case_references([case_id])[case_id]
        return Reply(
            "coord.notes.due",
            {"case": reference, "meeting_at": due.params["starts_at"]},
            (Choice(f"{WRITE_PREFIX}{case_id}", "coord.notes.write"),),
        )
