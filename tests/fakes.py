"""In-memory ports: moved to testkit/memory (typed, checked by mypy); re-exported here."""

from testkit.memory import (
    MemoryFamilies,
    MemoryMeetingNotes,
    MemoryMembers,
    MemoryPorts,
    MemoryPreparation,
    MemoryPrivacy,
    World,
)

__all__ = [
    "MemoryFamilies",
    "MemoryMeetingNotes",
    "MemoryMembers",
    "MemoryPorts",
    "MemoryPreparation",
    "MemoryPrivacy",
    "World",
]
