"""People who matter: the young person or a caregiver suggests someone who matters to her; the
coordinator says yes (a network invite that works) or no, and the one who suggested is told."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.domain import Role
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, code_in, coordinator_code


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Coordinator Maria in her new case K-1, at the case menu."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    return maria


def joined(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    maria: Chat,
    role: str,
    name: str,
) -> Chat:
    """Someone Maria invited in the chat, who has joined with the code."""
    maria.send("/meny")
    maria.choose("Bjud in")
    maria.choose(role)
    maria.send(name)
    person = chat(sessions, catalogue, clock, name.lower())
    person.send(f"/start {code_in(maria.text())}")
    return person


def test_a_suggested_person_approved_becomes_an_invite_they_can_join_with(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    alex = joined(sessions, catalogue, clock, maria, "Den unga personen", "Alex")
    alex.choose("Föreslå någon som är viktig")
    assert alex.ids() == ["matter.ask_name"]
    alex.send("Ingrid 19500101")
    assert alex.ids() == ["matter.name_rules", "matter.ask_name"]
    alex.send("Ingrid")
    assert alex.ids() == ["matter.ask_relation"]
    assert "Vem är Ingrid för dig?" in alex.text()
    alex.send("mormor")
    assert alex.ids() == ["matter.sent", "youth.menu"]

    maria.receive()
    assert maria.ids() == ["convene.alert_suggestion"]
    assert "Alex (ung person) i ärende K-1 föreslår" in maria.text()
    assert "Ingrid (mormor)" in maria.text()
    maria.choose("Svara")
    maria.choose("förslag Ingrid")
    assert maria.ids() == ["convene.suggestion"]
    maria.choose("Ja, bjud in")
    assert maria.ids() == ["coord.invite_created", "convene.list"]
    code = code_in(maria.text())

    alex.receive()
    assert alex.ids() == ["matter.approved"]
    assert "Ingrid får nu en inbjudan" in alex.text()

    ingrid = chat(sessions, catalogue, clock, "ingrid")
    ingrid.send(f"/start {code}")
    assert "join.joined" in ingrid.ids()
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ingrid.ref)
    assert actor is not None
    assert (actor.role, actor.display_name) == (Role.NETWORK, "Ingrid")


def test_a_declined_suggestion_tells_the_caregiver_and_makes_no_invite(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    kim = joined(sessions, catalogue, clock, maria, "Vårdnadshavare", "Kim")
    kim.choose("Föreslå någon som är viktig")
    kim.send("Leo")
    kim.send("tränaren i fotboll")
    assert kim.ids() == ["matter.sent", "caregiver.menu"]
    with UnitOfWork(sessions) as uow:
        invites_before = len(uow.coordination.open_invites(1, clock.now))

    maria.send("/meny")
    maria.choose("Att svara på (1)")
    maria.choose("förslag Leo")
    maria.choose("Nej")
    assert maria.ids() == ["convene.declined", "convene.list"]
    assert "Inget väntar på svar." in maria.text()

    kim.receive()
    assert kim.ids() == ["matter.declined"]
    assert "sa nej till att bjuda in Leo" in kim.text()
    with UnitOfWork(sessions) as uow:
        assert len(uow.coordination.open_invites(1, clock.now)) == invites_before


def test_a_network_member_and_a_professional_are_told_who_suggests(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    eva = joined(sessions, catalogue, clock, maria, "Nätverk", "Eva")
    assert "Föreslå någon som är viktig" not in eva.choices()
    eva.tap("matter:open")
    assert eva.ids()[0] == "matter.not_here"


def test_forgetting_the_young_person_removes_whom_she_suggested(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    alex = joined(sessions, catalogue, clock, maria, "Den unga personen", "Alex")
    alex.choose("Föreslå någon som är viktig")
    alex.send("Ingrid")
    alex.send("mormor")
    alex.send("/glommig")
    alex.choose("Ja, glöm mig")
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(m.SuggestedPerson)).all() == []
    maria.receive()
    assert "Ingrid" not in maria.text(), "the alert quoting her is gone with her"
    maria.send("/meny")
    assert not any("Att svara på" in c for c in maria.choices())
