"""/dagordning: the next meeting's agenda as each professional may read it, in the chat.

A sidetrack for staff: a professional reads exactly what is shared with them or their
organisation (the gate decides, storage/access.py rule 4); the coordinator reads everything
shared, each item with its readers, and the family's samtycke till informationsutbyte per
organisation. The family prepares in their own menus, so they are pointed there instead.
Everything here is for the reader alone (a group chat gets only the pointer).

```mermaid
stateDiagram-v2
    [*] --> shown: /dagordning
    shown --> [*]: Tillbaka
```
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.conversation import Command, CommandIssued, Event
from flows.domain import Agenda, Role, SharedContribution
from flows.engine import RETURN, FlowState, StepContext, Transition
from flows.replies import Choice, ParamValue, Reply, say
from flows.sharing import Readers
from flows.sidetrack_roles import SidetrackRoles

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


@dataclass(frozen=True, slots=True)
class AgendaReading:
    """Shows the agenda as this member may read it."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """/dagordning opens it."""
        return isinstance(event, CommandIssued) and event.command is Command.AGENDA

    def start(self, ctx: StepContext) -> Transition:
        """The agenda for this reader (the family is told where they prepare instead)."""
        turned = ROLES.turned_away(ctx)
        if turned is not None:
            return turned
        return Transition(FlowState(FLOW_NAME, "shown"), (agenda_for_reader(ctx),))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the agenda again."""
        return self.start(ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Anything goes back to where the member was."""
        return Transition(RETURN, ())

    def help(self, state: FlowState) -> Reply:
        """Explains what this agenda shows."""
        return say("sharing.agenda_chat.help")


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
    return say(
        "sharing.agenda_chat",
        *(choices or (BACK,)),
        case=agenda.case_reference,
        meeting_at=agenda.meeting.starts_at if agenda.meeting else None,
        agenda_people=_people(agenda),
        exchange=exchange,
    )


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
