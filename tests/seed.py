"""Seed data for tests: a case with a young person, a caregiver and a meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from flows.consent import TEXT_VERSION
from flows.conversation import ConversationRef
from flows.domain import ConsentScope, MeetingKind, Role
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class SeededCase:
    """Ids and codes of a seeded case."""

    case_id: int
    reference: str
    youth_code: str
    caregiver_code: str


def seed_case(sessions: sessionmaker[Session], now: datetime) -> SeededCase:
    """A case with a meeting in a week and invite codes for a young person and a caregiver."""
    with UnitOfWork(sessions) as uow:
        case = uow.cases.create_case(now)
        uow.cases.add_meeting(case.id, MeetingKind.FIRST, now + timedelta(days=7), 90, "BUP")
        youth = uow.cases.create_invite(case.id, Role.YOUTH, "Alex", now)
        caregiver = uow.cases.create_invite(case.id, Role.CAREGIVER, "Kim", now)
        uow.commit()
        return SeededCase(case.id, case.reference, youth, caregiver)


def add_youth(
    sessions: sessionmaker[Session],
    case_id: int,
    ref: ConversationRef,
    name: str,
    now: datetime,
    *,
    consent: bool = True,
) -> int:
    """Links a chat user to a new young person of a case, who (unless told otherwise) has
    said yes to the bot and to sharing between agencies, aged 13 or more; returns the id."""
    with UnitOfWork(sessions) as uow:
        person = uow.cases.add_person(name, "sv", now)
        uow.cases.link_identity(person.id, ref)
        uow.cases.add_member(case_id, person.id, Role.YOUTH, now)
        if consent:
            uow.privacy.record_age(person.id, False, 13, now)
            for scope in ConsentScope:
                uow.privacy.record_consent(person.id, case_id, scope, True, TEXT_VERSION, now)
        uow.commit()
        return person.id
