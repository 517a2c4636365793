"""The in-memory coordination, meeting-change and convening ports keep the gate's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from flows.convening_port import ConveningPort
from flows.conversation import ConversationRef
from flows.coordination import (
    NO_CASE,
    ActionStatus,
    CoordinationPort,
    NewAction,
    Owner,
    OwnerKind,
)
from flows.domain import AccessRefused, ConsentScope, JoinOutcome, MeetingKind, Role
from flows.meeting_changes import MeetingChangesSource, MeetingDetails
from testkit.memory.convening import MemoryConvening
from testkit.memory.coordination import MemoryCoordination
from testkit.memory.coordinators import CoordinatedMembers, coordinator_code
from testkit.memory.meeting_changes import MemoryMeetingChanges
from testkit.memory.members import MemoryMembers
from testkit.memory.world import ConsentAnswer, World

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def world() -> World:
    """A case K-1 opened by Maria, with BUP, Bea (BUP), a caregiver and the young person."""
    world = World()
    port = MemoryCoordination(world)
    maria = port.make_coordinator("Maria")
    case = port.open_case(maria, "Alex", NOW)
    bup = port.add_organisation(case.id, "BUP")
    world.person("Bea", Role.PROFESSIONAL, case.id, organisation_id=bup.id)
    world.person("Sara", Role.CAREGIVER, case.id)
    world.person("Alex", Role.YOUTH, case.id)
    return world


def ids(world: World) -> dict[str, int]:
    """Person ids by name."""
    return {p.name: p.id for p in world.people.values()}


def test_the_fakes_are_the_ports(world: World) -> None:
    # mypy proves the shapes; this proves they are built the way the composition builds them.
    coordination: CoordinationPort = MemoryCoordination(world)
    changes: MeetingChangesSource = MemoryMeetingChanges(world)
    convening: ConveningPort = MemoryConvening(world)
    assert coordination.case(1) is not None
    assert changes.meeting(1) is None
    assert convening.open_requests(ids(world)["Maria"]) == []


def test_only_the_coordinator_plans_and_only_owners_report(world: World) -> None:
    port = MemoryCoordination(world)
    who = ids(world)
    bup = Owner(OwnerKind.ORGANISATION, 1, "BUP")
    with pytest.raises(AccessRefused):
        port.add_actions(1, [NewAction(bup, "Boka utredning", date(2026, 12, 15))], who["Bea"], NOW)
    (action_id,) = port.add_actions(
        1, [NewAction(bup, "Boka utredning", date(2026, 12, 15))], who["Maria"], NOW
    )
    family = port.add_actions(
        1,
        [NewAction(Owner(OwnerKind.FAMILY, None, ""), "Ansök", date(2026, 12, 20))],
        who["Maria"],
        NOW,
    )
    # Bea owns BUP's action through her organisation; the caregiver owns the family's.
    assert [a.id for a in port.actions_owned_by(who["Bea"])] == [action_id]
    assert [a.id for a in port.actions_owned_by(who["Sara"])] == family
    # Rule 5: a professional reads the whole plan, the caregiver only what she owns.
    assert len(port.actions(1, who["Bea"])) == 2
    assert [a.id for a in port.actions(1, who["Sara"])] == family
    assert not port.may_update(action_id, who["Sara"])
    with pytest.raises(AccessRefused):
        port.record_update(action_id, who["Sara"], ActionStatus.DONE, None, None, NOW)
    later = date(2027, 1, 10)
    assert port.record_update(action_id, who["Bea"], ActionStatus.BLOCKED, "remiss", later, NOW)
    action = port.action(action_id, who["Maria"])
    assert action is not None and action.due == later and action.status is ActionStatus.BLOCKED
    assert [(h.author, h.status, h.note) for h in action.history] == [
        ("Bea", ActionStatus.BLOCKED, "remiss")
    ]
    # The family hears of it, never the author; Bea is not family.
    assert port.family_to_tell(action_id, who["Bea"]) == [who["Sara"], who["Alex"]]


def test_a_booked_meeting_is_the_familys_next_one_and_moves_and_goes(world: World) -> None:
    who = ids(world)
    changes = MemoryMeetingChanges(world).acting_as(who["Maria"])
    members = MemoryMembers(world)
    start = NOW + timedelta(days=14)
    (booked,) = changes.book(1, [start], MeetingDetails("Skolan", 60, None), None, NOW)
    assert booked.kind is MeetingKind.FIRST and booked.duration_minutes == 60
    seen = members.next_meeting(1, NOW)
    assert seen is not None and seen.starts_at == start and seen.place == "Skolan"
    moved = changes.move(1, booked.id, start + timedelta(days=1), NOW)
    assert moved is not None and moved.sequence == 1 and moved.duration_minutes == 60
    cancelled = changes.cancel(1, booked.id, NOW)
    assert cancelled is not None and cancelled.sequence == 2
    assert members.next_meeting(1, NOW) is None
    # Only the coordinator changes meetings.
    with pytest.raises(AccessRefused):
        MemoryMeetingChanges(world).acting_as(who["Bea"]).book(
            1, [start], MeetingDetails(), None, NOW
        )


def test_a_change_is_told_to_members_with_consent_but_not_to_the_one_making_it(
    world: World,
) -> None:
    who = ids(world)
    world.consents.append(ConsentAnswer(who["Sara"], 1, ConsentScope.BOT, False, None, NOW))
    changes = MemoryMeetingChanges(world).acting_as(who["Maria"])
    assert changes.to_tell(1) == [who["Bea"], who["Alex"]]


def test_a_coordinator_starts_with_no_case_and_a_closed_case_takes_nobody_in(
    world: World,
) -> None:
    members = CoordinatedMembers(world, MemoryMembers(world))
    port = MemoryCoordination(world)
    johan = ConversationRef("console", "johan", "johan")
    joined = members.redeem_invite(johan, coordinator_code(world, "Johan"), NOW)
    assert joined.outcome is JoinOutcome.JOINED
    assert joined.actor is not None and joined.actor.case_id == NO_CASE
    case = port.open_case(joined.actor.person_id, "Kim", NOW)
    actor = members.actor_for(johan)
    assert actor is not None and (actor.case_id, actor.role) == (case.id, Role.COORDINATOR)
    code = port.create_invite(case.id, Role.CAREGIVER, "Lena", None, actor.person_id, NOW)
    port.close_case(case.id, actor.person_id, NOW)
    lena = ConversationRef("console", "lena", "lena")
    assert members.redeem_invite(lena, code, NOW).outcome is JoinOutcome.EXPIRED


def test_suggestions_come_from_the_family_and_the_coordinator_decides(world: World) -> None:
    who = ids(world)
    port = MemoryConvening(world)
    with pytest.raises(AccessRefused):
        port.suggest(1, who["Bea"], "Moster Eva", "moster", NOW)
    suggestion = port.suggest(1, who["Alex"], "Moster Eva", "moster", NOW)
    (seen,) = port.open_suggestions(who["Maria"])
    assert (seen.id, seen.suggested_by_role) == (suggestion, Role.YOUTH)
    assert port.open_suggestions(who["Bea"]) == []
    with pytest.raises(AccessRefused):
        port.decide(suggestion, who["Bea"], True, NOW)
    decided = port.decide(suggestion, who["Maria"], True, NOW)
    assert decided is not None and port.open_suggestions(who["Maria"]) == []
