"""In-memory implementations of the flows' ports, all on one shared World.

`MemoryPorts(world)` is what a flow step gets as `ctx.ports` in a fast test: every port holds
the same World, so what one writes the others read (a shared question is on the agenda, a
withdrawn consent stops sharing, a chosen language is the actor's locale).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from testkit.memory.convening import MemoryConvening
from testkit.memory.coordination import MemoryCoordination
from testkit.memory.coordinators import CoordinatedMembers
from testkit.memory.email import MemoryEmail
from testkit.memory.families import MemoryFamilies
from testkit.memory.loop import MemoryLoop
from testkit.memory.meeting_changes import MemoryMeetingChanges
from testkit.memory.members import MemoryMembers
from testkit.memory.needs import MemoryMeetingNeeds
from testkit.memory.notes import MemoryMeetingNotes
from testkit.memory.preparation import MemoryPreparation
from testkit.memory.privacy import MemoryPrivacy
from testkit.memory.sharing import MemorySharing
from testkit.memory.who_is_who import MemoryWhoIsWho
from testkit.memory.world import World

__all__ = [
    "CoordinatedMembers",
    "MemoryConvening",
    "MemoryCoordination",
    "MemoryEmail",
    "MemoryFamilies",
    "MemoryLoop",
    "MemoryMeetingChanges",
    "MemoryMeetingNeeds",
    "MemoryMeetingNotes",
    "MemoryMembers",
    "MemoryPorts",
    "MemoryPreparation",
    "MemoryPrivacy",
    "MemorySharing",
    "MemoryWhoIsWho",
    "World",
]


@dataclass
class MemoryPorts:
    """Everything a flow step may use, in memory, on one World."""

    world: World = field(default_factory=World)
    members: CoordinatedMembers = field(init=False)
    preparation: MemoryPreparation = field(init=False)
    families: MemoryFamilies = field(init=False)
    privacy: MemoryPrivacy = field(init=False)
    meeting_needs: MemoryMeetingNeeds = field(init=False)
    sharing: MemorySharing = field(init=False)
    meeting_notes: MemoryMeetingNotes = field(init=False)
    loop: MemoryLoop = field(init=False)
    who_is_who: MemoryWhoIsWho = field(init=False)
    email: MemoryEmail = field(init=False)
    coordination: MemoryCoordination = field(init=False)
    meeting_changes: MemoryMeetingChanges = field(init=False)
    convening: MemoryConvening = field(init=False)

    def __post_init__(self) -> None:
        """Builds every port on the one World, each with the ports it reads beside it."""
        world = self.world
        # The coordinator's rules (an operator's code, the case she chose) wrap the members.
        self.members = CoordinatedMembers(world, MemoryMembers(world))
        self.preparation = MemoryPreparation(world)
        self.families = MemoryFamilies(world)
        self.privacy = MemoryPrivacy(world, self.preparation, self.families)
        self.meeting_needs = MemoryMeetingNeeds(world)
        self.sharing = MemorySharing(world, self.preparation, self.families, self.meeting_needs)
        self.meeting_notes = MemoryMeetingNotes(world, self.preparation)
        self.loop = MemoryLoop(world, self.families)
        self.who_is_who = MemoryWhoIsWho(world)
        self.email = MemoryEmail(world)
        self.coordination = MemoryCoordination(world, self.sharing)
        self.meeting_changes = MemoryMeetingChanges(world)
        self.convening = MemoryConvening(world)
