"""mypy proves here that the in-memory ports implement the flows' Protocols (no casts).

`Ports` names every port a flow step may use (flows/ports.py), so one assignment checks them
all; the meeting changes acting as a person are checked apart (a port made by a method)."""

from __future__ import annotations

from flows.meeting_changes import MeetingChangesPort
from flows.ports import Ports
from testkit.memory import MemoryPorts


def _checked(ports: MemoryPorts) -> tuple[Ports, MeetingChangesPort]:
    """Assigns the in-memory ports to the Protocols, so mypy strict checks every signature."""
    every: Ports = ports
    acting: MeetingChangesPort = ports.meeting_changes.acting_as(0)
    return every, acting
