"""The demo case: a young person, a caregiver, a coordinator and a meeting next week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.conversation import ConversationRef
from flows.domain import MeetingKind, Role
from storage.unit_of_work import UnitOfWork

DEMO_YOUTH_NAME = "Alex"
MEETING_HOUR = time(14, 0)


@dataclass(frozen=True, slots=True)
class DemoCase:
    """What the demo seeded: the case reference and who the terminal user is."""

    reference: str
    youth_name: str


def seed_demo(uow: UnitOfWork, ref: ConversationRef, now: datetime, timezone: str) -> DemoCase:
    """Creates the demo case once; later runs find it through the terminal user's membership."""
    actor = uow.members.actor_for(ref)
    if actor is not None:
        return DemoCase(uow.cases.reference_of(actor.case_id), actor.display_name)
    case = uow.cases.create_case(now)
    youth = uow.cases.add_person(DEMO_YOUTH_NAME, "sv", now)
    uow.cases.link_identity(youth.id, ref)
    uow.cases.add_member(case.id, youth.id, Role.YOUTH, now)
    for name, role in (("Kim", Role.CAREGIVER), ("Sara", Role.COORDINATOR)):
        person = uow.cases.add_person(name, "sv", now)
        uow.cases.add_member(case.id, person.id, role, now)
    uow.cases.add_meeting(
        case.id,
        MeetingKind.FIRST,
        _next_week(now, ZoneInfo(timezone)),
        duration_minutes=90,
        place="BUP, Storgatan 1",
    )
    return DemoCase(case.reference, DEMO_YOUTH_NAME)


def _next_week(now: datetime, zone: ZoneInfo) -> datetime:
    """14.00 local time, seven days from today."""
    day = now.astimezone(zone).date() + timedelta(days=7)
    return datetime.combine(day, MEETING_HOUR, tzinfo=zone)
