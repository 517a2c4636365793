"""Coordinators in the membership port: an operator's coordinator code, and the case a
coordinator works in (storage/coordinators_repository.py GuardedMembershipRepository).

`CoordinatedMembers` wraps the family side's membership fake: a coordinator who chose a case
speaks as its coordinator, one with no case yet speaks of NO_CASE ("open a case"); an invite
to a closed case, or one past its date, takes nobody in. Everything else is the wrapped port's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.conversation import ConversationRef
from flows.coordination import NO_CASE
from flows.domain import Actor, JoinOutcome, JoinResult, MeetingInfo, Role
from flows.ports import MembershipPort
from testkit.memory.coord_facts import CoordinatorRecord
from testkit.memory.coordination import coordinates
from testkit.memory.world import Person, World


def coordinator_code(world: World, name: str) -> str:
    """An operator's one-time code for a new coordinator (`samverkan coordinator invite`)."""
    code = f"SAMORDNARE-{world.next_id('coordinator_code')}"
    world.coord.coordinator_codes[code] = name
    return code


@dataclass
class CoordinatedMembers:
    """Implements flows.ports.MembershipPort: the wrapped port plus the coordinator's rules."""

    world: World
    members: MembershipPort

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        """The member behind a chat; a coordinator works in the case they chose last."""
        person_id = self.world.person_behind(ref)
        record = None if person_id is None else self.world.coord.coordinators.get(person_id)
        if person_id is None or record is None:
            return self.members.actor_for(ref)
        current = record.current_case_id
        if current is not None and coordinates(self.world, person_id, current):
            membership = self.world.membership(person_id, current)
            assert membership is not None  # coordinates() found it
            return self.world.actor(membership)
        actor = self.members.actor_for(ref)
        if actor is not None:
            return actor
        person = self.world.people[person_id]
        return Actor(person_id, NO_CASE, Role.COORDINATOR, person.name, person.locale)

    def former_member(self, ref: ConversationRef) -> Actor | None:
        """Someone stored behind this chat with no active membership of an open case."""
        return self.members.former_member(ref)

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        """Uses a coordinator code or a case's invite; a closed case or an old code: expired."""
        name = self.world.coord.coordinator_codes.pop(code, None)
        if name is not None:
            person_id = self.world.person_behind(ref)
            if person_id is None:
                person_id = self.world.next_id("person")
                self.world.people[person_id] = Person(person_id, name)
                self.world.bind_chat(ref, person_id)
            self.world.coord.coordinators.setdefault(person_id, CoordinatorRecord())
            self.world.coord.coordinators[person_id].may_open_cases = True
            return JoinResult(JoinOutcome.JOINED, self.actor_for(ref))
        invite = self.world.invites.get(code)
        if invite is not None and invite.used_by is None:
            expires = self.world.coord.invite_expiry.get(code)
            if self.world.cases[invite.case_id].closed or (expires is not None and expires <= now):
                # A closed case takes nobody in; the code is not used up by trying.
                return JoinResult(JoinOutcome.EXPIRED)
        return self.members.redeem_invite(ref, code, now)

    def next_meeting(self, case_id: int, now: datetime) -> MeetingInfo | None:
        """The next meeting of a case that has not started yet."""
        return self.members.next_meeting(case_id, now)
