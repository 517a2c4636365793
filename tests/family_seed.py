"""Seed data and helpers for the families' tests: a case with its organisations and people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, TextFormat
from flows.conversation import ConversationRef
from flows.domain import MeetingKind, Role
from flows.family_domain import OrganisationKind
from flows.picture_loop import publication_notices
from flows.replies import Reply
from storage import models as m
from storage.codec import decode_params
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM

SARA = ConversationRef(PLATFORM, "sara", "sara")
MEETING_LINK = "https://video.example/mote-42"


@dataclass(frozen=True)
class FamilyCase:
    """Ids and codes of a seeded family case."""

    case_id: int
    reference: str
    meeting_id: int
    coordinator_id: int
    youth_code: str
    caregiver_codes: tuple[str, str]
    network_code: str


def seed_family_case(sessions: sessionmaker[Session], now: datetime) -> FamilyCase:
    """A case with a meeting in a week, BUP and socialtjänst, coordinator Sara, and invites."""
    with UnitOfWork(sessions) as uow:
        case = uow.cases.create_case(now)
        meeting_id = uow.cases.add_meeting(
            case.id,
            MeetingKind.FIRST,
            now + timedelta(days=7),
            90,
            place="BUP, Storgatan 1",
            remote_link=MEETING_LINK,
        )
        social = uow.families.add_organisation("Socialtjänsten Storstad", "socialtjanst")
        bup = uow.families.add_organisation("BUP Storstad", OrganisationKind.BUP.value)
        sara = uow.cases.add_person("Sara", "sv", now)
        uow.cases.link_identity(sara.id, SARA)
        uow.cases.add_member(case.id, sara.id, Role.COORDINATOR, now)
        uow.families.set_member_organisation(case.id, sara.id, social)
        jonas = uow.cases.add_person("Jonas", "sv", now)
        uow.cases.add_member(case.id, jonas.id, Role.PROFESSIONAL, now)
        uow.families.set_member_organisation(case.id, jonas.id, bup)
        seeded = FamilyCase(
            case_id=case.id,
            reference=case.reference,
            meeting_id=meeting_id,
            coordinator_id=sara.id,
            youth_code=uow.cases.create_invite(case.id, Role.YOUTH, "Alex", now),
            caregiver_codes=(
                uow.cases.create_invite(case.id, Role.CAREGIVER, "Kim", now),
                uow.cases.create_invite(case.id, Role.CAREGIVER, "Robin", now),
            ),
            network_code=uow.cases.create_invite(case.id, Role.NETWORK, "Moster Eva", now),
        )
        uow.commit()
        return seeded


def publish(sessions: sessionmaker[Session], case: FamilyCase, text: str, now: datetime) -> int:
    """Publishes a version of the shared picture as the coordinator would; returns the version."""
    with UnitOfWork(sessions) as uow:
        published = uow.families.publish(case.case_id, case.coordinator_id, text, now)
        notices = publication_notices(
            published.picture, published.recipients.person_ids, published.recipients.group_chats
        )
        for notice in notices:
            uow.outbox.enqueue_notice(notice, now, "sv")
        uow.commit()
        return published.picture.version


@dataclass(frozen=True)
class Received:
    """A message queued for a chat, as stored and as its reader sees it."""

    reply: Reply
    text: str
    locale: str


def received(
    sessions: sessionmaker[Session], catalogue: Catalogue, ref: ConversationRef
) -> list[Received]:
    """Everything ever queued for one chat, oldest first, rendered in its stored language."""
    with UnitOfWork(sessions) as uow:
        rows = uow.session.scalars(
            select(m.Outbox)
            .where(m.Outbox.platform == ref.platform, m.Outbox.chat_id == ref.chat_id)
            .order_by(m.Outbox.id)
        ).all()
        result = []
        for row in rows:
            reply = Reply(row.message_id, decode_params(row.params))
            text = catalogue.render(row.message_id, reply.params, row.locale, TextFormat.PLAIN)
            result.append(Received(reply, text, row.locale))
        return result
