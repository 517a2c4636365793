"""mypy proves here that the in-memory ports implement the flows' Protocols (no casts)."""

from __future__ import annotations

from flows.convening_port import ConveningPort, HasConvening
from flows.coordination import CoordinationPort, HasCoordination
from flows.email_switch import EmailSwitchPort, HasEmail
from flows.loop_ports import HasLoop, LoopPort
from flows.meeting_changes import HasMeetingChanges, MeetingChangesPort, MeetingChangesSource
from flows.meeting_needs import HasMeetingNeeds, MeetingNeedsPort
from flows.meeting_notes_ports import HasMeetingNotes, MeetingNotesPort
from flows.ports import Ports
from flows.who_is_who import HasWhoIsWho, WhoIsWhoPort
from testkit.memory import MemoryPorts


def _checked(ports: MemoryPorts) -> tuple[object, ...]:
    """Assigns each in-memory port to its Protocol, so mypy strict checks the signatures."""
    core: Ports = ports
    needs: HasMeetingNeeds = ports
    notes: HasMeetingNotes = ports
    loop: HasLoop = ports
    who: HasWhoIsWho = ports
    email: HasEmail = ports
    each: tuple[MeetingNeedsPort, MeetingNotesPort, LoopPort, WhoIsWhoPort, EmailSwitchPort] = (
        ports.meeting_needs,
        ports.meeting_notes,
        ports.loop,
        ports.who_is_who,
        ports.email,
    )
    coordination: HasCoordination = ports
    changes: HasMeetingChanges = ports
    convening: HasConvening = ports
    coordinator_side: tuple[
        CoordinationPort, MeetingChangesSource, MeetingChangesPort, ConveningPort
    ] = (
        ports.coordination,
        ports.meeting_changes,
        ports.meeting_changes.acting_as(0),
        ports.convening,
    )
    return (
        core,
        needs,
        notes,
        loop,
        who,
        email,
        each,
        coordination,
        changes,
        convening,
        coordinator_side,
    )
