"""/dagordning: the next meeting's agenda as each professional may read it, in the chat.

A sidetrack for staff: a professional reads exactly what is shared with them or their
organisation (the gate decides, storage/access.py rule 4); the coordinator reads everything
shared, each item with its readers, and the family's samtycke till informationsutbyte per
organisation. The family prepares in their own menus, so they are pointed there instead.
Everything here is for the reader alone (a group chat gets only the pointer).

```mermaid
stateDiagram-v2
    [*] --> shown
    shown --> [*]: back / otherwise
```
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.conversation import Command, CommandIssued, Event, ReminderDue
from flows.coordinator_reminders import reminder_key
from flows.domain import Agenda, Role, SharedContribution
from flows.engine import StepContext
from flows.reminder_ports import ReminderPorts
from flows.replies import Choice, ParamValue, Reply, say
from flows.sharing import Readers
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import BACK_TO_MEMBER, Step, StepFlow, Turn, declared

FLOW_NAME = "agenda_reading"
BACK = Choice("back", "common.back")

ROLES = SidetrackRoles(
    frozenset({Role.COORDINATOR, Role.PROFESSIONAL}),
    {
        Role.YOUTH: "sharing.agenda_chat.not_here",
        Role.CAREGIVER: "sharing.agenda_chat.not_here",
        Role.NETWORK: "sharing.agenda_chat.not_here",
    },
)


def _shown(turn: Turn) -> Reply:
    """The agenda for this reader."""
    return agenda_for_reader(turn.ctx)


STEPS = (
    Step(
        "shown",
        show=_shown,
        choices={BACK.id: BACK_TO_MEMBER},
        otherwise=BACK_TO_MEMBER,
        help="sharing.agenda_chat.help",
    ),
)


@declared
class AgendaReading(StepFlow):
    """Shows the agenda as this member may read it (the family is told where they prepare)."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME, STEPS, home_step="shown", help_prefix="sharing.", guard=ROLES.turned_away
        )

    def opens(self, event: Event) -> bool:
        """/dagordning opens it."""
        return isinstance(event, CommandIssued) and event.command is Command.AGENDA


def agenda_for_reader(ctx: StepContext, *choices: Choice) -> Reply:
    """The agenda as this member reads it: for the coordinator everything shared (with its
    readers and the family's consents per organisation), for a professional what is theirs."""
    sharing = ctx.ports.sharing
    case_id, person = ctx.actor.case_id, ctx.actor.person_id
    coordinator = ctx.actor.role is Role.COORDINATOR
    agenda = sharing.agenda(case_id, ctx.now, None if coordinator else person)
    exchange: list[ParamValue] = []
    if coordinator:
        exchange = [
            {
                "name": name,
                "orgs": [{"name": c.name, "yes": c.in_effect} for c in consents],
            }
            for name, consents in sharing.exchange_consents_of_case(person, case_id)
        ]
    return agenda_message(agenda, exchange, *(choices or (BACK,)))


def agenda_message(agenda: Agenda, exchange: list[ParamValue], *choices: Choice) -> Reply:
    """The agenda as a chat message, each item with its readers."""
    return say(
        "sharing.agenda_chat",
        *choices,
        case=agenda.case_reference,
        meeting_at=agenda.meeting.starts_at if agenda.meeting else None,
        agenda_people=_people(agenda),
        exchange=exchange,
    )


@dataclass(frozen=True, slots=True)
class ProfessionalAgendas:
    """Before a meeting, each professional of the case gets the agenda as they may read it
    (the same lead time as the coordinator's agenda)."""

    lead_hours: int = 48
    name: str = "professional_agendas"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """One agenda per professional of every meeting coming up within the lead time."""
        reads = ports.coordinator_reminders
        lead = timedelta(hours=self.lead_hours)
        meetings = reads.meetings_starting(now, lead)
        key = "professional_agenda"
        for meeting, people in reads.professionals_to_tell(
            meetings, lambda mt, p: (reminder_key(key, mt, p),)
        ):
            for person_id in people:
                agenda = reads.agenda_for_reader(
                    meeting.case_id, person_id, meeting.starts_at - timedelta(seconds=1)
                )
                yield ReminderDue(
                    self.name,
                    reminder_key(key, meeting.id, person_id),
                    person_id=person_id,
                    params={"case": meeting.case_id, "starts_at": meeting.starts_at},
                    due_at=meeting.starts_at - lead,
                    expires_at=meeting.starts_at,
                    # It quotes what each contributor shared: erasing one removes it.
                    about=tuple(c.person_id for c in agenda.contributions),
                )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """The agenda as this professional reads it, at the time it is sent."""
        case_id, starts_at = due.params["case"], due.params["starts_at"]
        person_id = due.person_id
        # `due` made these: a case id, a start time and the professional's id.
        assert isinstance(case_id, int) and isinstance(starts_at, datetime)
        assert person_id is not None
        agenda = ports.coordinator_reminders.agenda_for_reader(
            case_id, person_id, starts_at - timedelta(seconds=1)
        )
        return agenda_message(agenda, [])


def _people(agenda: Agenda) -> list[ParamValue]:
    """Each person who shared something the reader may read, with each item's readers."""
    return [
        {"name": c.display_name, "role": c.role.value, "items": _items(c)}
        for c in agenda.contributions
    ]


def _items(c: SharedContribution) -> list[ParamValue]:
    """One person's items as lines: text (or participation wish) and readers."""
    lines: list[ParamValue] = []
    for n, q in enumerate(c.questions):
        lines.append(_line(q, None, _nth(c.question_readers, n)))
    for n, (_aspect, text) in enumerate(c.views):
        lines.append(_line(text, None, _nth(c.view_readers, n)))
    if c.participation is not None:
        lines.append(_line("", c.participation.value, c.participation_readers))
    for note in c.notes:
        lines.append(_line(note.text, None, note.readers))
    return lines


def _nth(readers: tuple[Readers, ...], n: int) -> Readers | None:
    """The readers of the n-th item, if known."""
    return readers[n] if n < len(readers) else None


def _line(text: str, participation: str | None, readers: Readers | None) -> ParamValue:
    """One agenda line as the catalogue renders it."""
    return {
        "text": text,
        "participation": participation,
        "readers": ""
        if readers is None
        else ("coordinator" if readers.coordinator_only else readers.scope.value),
        "orgs": list(readers.names) if readers is not None else [],
    }
