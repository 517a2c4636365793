"""The demo case: a young person, a caregiver, a coordinator, two professionals, a meeting
next week and a first shared picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.conversation import ConversationRef
from flows.domain import MeetingKind, Role
from flows.family_domain import OrganisationKind
from storage.unit_of_work import UnitOfWork

DEMO_YOUTH_NAME = "Alex"
# The people of the demo case someone can be in the terminal: `samverkan demo --as ROLE`.
DEMO_ROLES = (Role.YOUTH, Role.CAREGIVER, Role.COORDINATOR, Role.PROFESSIONAL)
MEETING_HOUR = time(14, 0)
DEMO_PICTURE = (
    "Alex går i åttan. Skolan går bra i idrott och bild. Det är svårt att sova och att orka "
    "gå till skolan på morgonen. Alex vill ha hjälp med sömnen och att få vara med kompisar. "
    "Kim vill veta vem man ska ringa när det blir svårt."
)


@dataclass(frozen=True, slots=True)
class DemoCase:
    """What the demo seeded: the case reference and who the terminal user is."""

    reference: str
    youth_name: str


def demo_user(role: Role) -> ConversationRef:
    """The terminal user who is the demo case's person with this role."""
    user = "local" if role is Role.YOUTH else f"local-{role.value}"
    return ConversationRef("console", user, user)


def seed_demo(uow: UnitOfWork, now: datetime, timezone: str) -> DemoCase:
    """The demo case: made once, found again by later runs while all its people are in it."""
    actors = [uow.members.actor_for(demo_user(role)) for role in DEMO_ROLES]
    found = actors[0]
    if found is not None and all(a is not None and a.case_id == found.case_id for a in actors):
        return DemoCase(uow.cases.reference_of(found.case_id), found.display_name)
    # Someone of the demo case was forgotten (/glommig), or its case was closed: every terminal
    # user starts over in a new demo case, and lets go of their old chat account and state.
    for role in DEMO_ROLES:
        uow.cases.unlink_identity(demo_user(role))
    case = uow.cases.create_case(now)
    youth = uow.cases.add_person(DEMO_YOUTH_NAME, "sv", now)
    uow.cases.link_identity(youth.id, demo_user(Role.YOUTH))
    uow.cases.add_member(case.id, youth.id, Role.YOUTH, now)
    organisations = {
        kind: uow.families.add_organisation(name, kind.value)
        for kind, name in (
            (OrganisationKind.SOCIALTJANST, "Socialtjänsten i Storstad"),
            (OrganisationKind.BUP, "BUP Storstad"),
            (OrganisationKind.SKOLA, "Storskolan"),
        )
    }
    coordinator_id = 0
    for name, role, kind in (
        ("Kim", Role.CAREGIVER, None),
        ("Sara", Role.COORDINATOR, OrganisationKind.SOCIALTJANST),
        ("Jonas", Role.PROFESSIONAL, OrganisationKind.BUP),
        ("Lena", Role.PROFESSIONAL, OrganisationKind.SKOLA),
    ):
        person = uow.cases.add_person(name, "sv", now)
        uow.cases.add_member(case.id, person.id, role, now)
        if role in DEMO_ROLES and name != "Lena":
            uow.cases.link_identity(person.id, demo_user(role))
        if kind is not None:
            uow.families.set_member_organisation(case.id, person.id, organisations[kind])
        if role is Role.COORDINATOR:
            coordinator_id = person.id
    uow.cases.add_meeting(
        case.id,
        MeetingKind.FIRST,
        _next_week(now, ZoneInfo(timezone)),
        duration_minutes=90,
        place="BUP, Storgatan 1",
    )
    # A first version of the shared picture, so the picture loop can be tried right away.
    uow.families.publish(case.id, coordinator_id, DEMO_PICTURE, now)
    return DemoCase(case.reference, DEMO_YOUTH_NAME)


def _next_week(now: datetime, zone: ZoneInfo) -> datetime:
    """14.00 local time, seven days from today."""
    day = now.astimezone(zone).date() + timedelta(days=7)
    return datetime.combine(day, MEETING_HOUR, tzinfo=zone)
