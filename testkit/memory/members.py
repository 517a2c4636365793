"""MembershipPort in memory: who is behind a chat, invite codes, the next meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.conversation import ConversationRef
from flows.domain import Actor, JoinOutcome, JoinResult, MeetingInfo
from testkit.memory.world import Person, World


@dataclass
class MemoryMembers:
    """Members by chat user, on the shared World (storage/repositories.py MembershipRepository)."""

    world: World

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        """The person behind this chat user, in their most recently joined active case."""
        person_id = self.world.person_behind(ref)
        if person_id is None:
            return None
        memberships = self.world.memberships_of(person_id)
        return self.world.actor(memberships[-1]) if memberships else None

    def former_member(self, ref: ConversationRef) -> Actor | None:
        """The person behind this chat user in their latest case, open or not, marked former."""
        person_id = self.world.person_behind(ref)
        if person_id is None:
            return None
        latest = [m for m in self.world.memberships if m.person_id == person_id]
        if not latest:
            return None
        actor = self.world.actor(latest[-1])
        return Actor(
            actor.person_id, actor.case_id, actor.role, actor.display_name, actor.locale, True
        )

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        """Uses a single-use code: links the chat user to a person and adds the membership."""
        invite = self.world.invites.get(code)
        if invite is None:
            return JoinResult(JoinOutcome.UNKNOWN)
        person_id = self.world.person_behind(ref)
        if invite.used_by is not None:
            if person_id is not None and invite.used_by == person_id:
                return JoinResult(JoinOutcome.ALREADY_MEMBER)
            return JoinResult(JoinOutcome.USED)
        if person_id is None:
            person_id = invite.person_id or self.world.next_id("person")
            self.world.people.setdefault(person_id, Person(person_id, invite.display_name))
            self.world.bind_chat(ref, person_id)
        existing = next(
            (
                m
                for m in self.world.memberships
                if (m.person_id, m.case_id, m.role) == (person_id, invite.case_id, invite.role)
            ),
            None,
        )
        if existing is None:
            self.world.join(
                person_id, invite.case_id, invite.role, invite.display_name, invite.organisation_id
            )
        else:
            # Joining again moves the membership last: the newest case is the one spoken of.
            self.world.memberships.remove(existing)
            existing.active = True
            self.world.memberships.append(existing)
        invite.used_by = person_id
        return JoinResult(JoinOutcome.JOINED, self.actor_for(ref))

    def next_meeting(self, case_id: int, now: datetime) -> MeetingInfo | None:
        """The next meeting of the case that has not started."""
        meeting = self.world.next_meeting(case_id, now)
        return meeting.info() if meeting else None
