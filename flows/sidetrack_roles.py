"""Which roles a sidetrack is for, and what it tells everyone else instead of opening.

Any member can type /bild or /nyttmote, but only the family answers the shared picture or asks
for a meeting (storage/access.py rules 8 and 9). For anyone else the sidetrack does not open:
it says, in one message, what that person does instead, and the engine goes straight back to
their own flow. It never calls a port that would refuse them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flows.coordination import NO_CASE
from flows.domain import Role
from flows.engine import RETURN, StepContext, Transition
from flows.replies import say

# A coordinator who has not opened a case yet has no family to read or book for.
NO_CASE_YET = "coord.not_here.no_case"


@dataclass(frozen=True, slots=True)
class SidetrackRoles:
    """The roles a sidetrack serves, and the message each other role gets instead."""

    roles: frozenset[Role]
    instead: Mapping[Role, str]

    def __post_init__(self) -> None:
        # Every role is either served or told where to go: no role may fall through.
        untold = set(Role) - self.roles - set(self.instead)
        if untold:
            raise ValueError(f"no message for roles {sorted(untold)}")

    def turned_away(self, ctx: StepContext) -> Transition | None:
        """None when the sidetrack is for this person; else the way back, with the pointer."""
        if ctx.actor.case_id == NO_CASE:
            return Transition(RETURN, (say(NO_CASE_YET),))
        if ctx.actor.role in self.roles:
            return None
        return Transition(RETURN, (say(self.instead[ctx.actor.role]),))
