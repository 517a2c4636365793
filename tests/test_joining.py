"""Joining a case with an invite code: a good one, and wrong, used and expired ones."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
STRANGER = ConversationRef(PLATFORM, "stranger", "stranger")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with unused invites."""
    return seed_family_case(sessions, clock.now)


def memberships(sessions: sessionmaker[Session]) -> int:
    """How many memberships there are in all."""
    with UnitOfWork(sessions) as uow:
        return uow.session.scalar(select(func.count()).select_from(m.Membership)) or 0


def test_a_good_code_joins_and_opens_the_flow_of_the_role(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    assert alex.ids() == ["join.joined", "youth.menu"]
    assert "Välkommen, Alex!" in alex.text()


def test_a_wrong_code_gets_a_kind_answer_and_nothing_else(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    before = memberships(sessions)
    stranger = Chat(sessions, catalogue, clock, STRANGER)
    stranger.send("/start NOPE-1234")
    assert stranger.ids() == ["join.unknown"]
    assert "be den som bjöd in dig om en ny kod" in stranger.text()
    assert memberships(sessions) == before
    # Still a stranger: the next message asks for a code again.
    stranger.send("hej")
    assert stranger.ids() == ["onboarding.need_code"]


def test_a_used_code_gets_a_kind_answer_and_nothing_else(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    Chat(sessions, catalogue, clock, ALEX).send(f"/start {case.youth_code}")
    before = memberships(sessions)
    stranger = Chat(sessions, catalogue, clock, STRANGER)
    stranger.send(f"/start {case.youth_code}")
    assert stranger.ids() == ["join.used"]
    assert "redan använts" in stranger.text()
    assert memberships(sessions) == before


def test_an_expired_code_gets_a_kind_answer_and_nothing_else(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    clock.advance(days=15)
    stranger = Chat(sessions, catalogue, clock, STRANGER)
    stranger.send(f"/start {case.youth_code}")
    assert stranger.ids() == ["join.expired"]
    assert "gäller inte längre" in stranger.text()
    assert memberships(sessions) == 2  # only the seeded Sara and Jonas


def test_using_ones_own_code_again_welcomes_back(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.send(f"/start {case.youth_code}")
    assert alex.ids() == ["common.welcome_back", "youth.menu"]


def test_a_code_sent_in_a_family_group_chat_is_kept_for_the_private_chat(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim = Chat.for_user(sessions, catalogue, clock, user="kim", chat="family")
    kim.send(f"/start@samverkansbot {case.caregiver_codes[0]}")
    # Consent is personal: joining happens in a private chat, and the code is not used up.
    assert kim.ids() == ["join.in_group"]
    assert "privat" in kim.text()
    with UnitOfWork(sessions) as uow:
        assert uow.members.actor_for(kim.ref) is None
    kim_private = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim_private.send(f"/start {case.caregiver_codes[0]}")
    assert kim_private.ids() == ["join.joined", "caregiver.menu"]
    # Back in the group, Kim prepares together with the family.
    kim.send("/meny")
    assert kim.ids() == ["caregiver.menu"]
    assert "Det ni skriver här ser alla i gruppen." in kim.text()
    with UnitOfWork(sessions) as uow:
        seen = uow.session.execute(
            select(m.GroupChatMember.chat_id, m.GroupChatMember.user_id)
        ).all()
        private_chat = uow.session.scalar(
            select(m.ChatIdentity.private_chat_id).where(m.ChatIdentity.external_user_id == "kim")
        )
    assert [tuple(row) for row in seen] == [("family", "kim")]
    assert private_chat == "kim"
