"""Invite codes: single use, expiry, role binding, hashed at rest, guessing locked out."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.domain import Role
from storage import models as m
from storage.invite_codes import ALPHABET, hash_code, normalise
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, code_in, coordinator_code


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """A coordinator with a case K-1 that has BUP as an organisation."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("BUP")
    maria.choose("Till ärendet")
    return maria


def invite(maria: Chat, role: str, name: str, org: str | None = None) -> str:
    """Maria creates an invite; the code from her chat."""
    maria.choose("Bjud in")
    maria.choose(role)
    if org:
        maria.choose(org)
    maria.send(name)
    return code_in(maria.text())


def test_a_code_has_at_least_128_random_bits_and_only_its_hash_is_stored(
    maria: Chat, sessions: sessionmaker[Session]
) -> None:
    code = invite(maria, "Yrkesperson", "Sara", "BUP")
    assert len(normalise(code)) * (len(ALPHABET).bit_length() - 1) >= 128
    with UnitOfWork(sessions) as uow:
        stored = uow.session.execute(select(m.Invite.code_hash, m.Invite.role)).all()
        dump = " ".join(str(row) for row in uow.session.execute(text("SELECT * FROM invite")).all())
    assert stored == [(hash_code(code), Role.PROFESSIONAL)]
    assert normalise(code) not in dump.upper().replace("-", "")


def test_the_code_shown_to_the_coordinator_is_forgotten_by_the_outbox_once_sent(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    code = invite(maria, "Vårdnadshavare", "Kim")
    assert code in maria.text()  # shown once, in Maria's chat
    with UnitOfWork(sessions) as uow:
        row = uow.session.scalars(
            select(m.Outbox).where(m.Outbox.message_id == "coord.invite_created")
        ).one()
        status, params = row.status, row.params
        dump = " ".join(str(r) for r in uow.session.execute(select(m.Outbox.params)).all())
    assert status == "sent"
    assert params == {"name": "Kim", "role": "caregiver"}  # the code is gone
    assert normalise(code) not in dump.upper().replace("-", "")
    # The code itself still works: only its hash was ever needed to check it.
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {code}")
    assert kim.ids()[0] == "join.joined"


def test_a_code_works_once(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    code = invite(maria, "Vårdnadshavare", "Kim")
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {code}")
    assert kim.ids()[0] == "join.joined"
    other = chat(sessions, catalogue, clock, "someone")
    other.send(f"/start {code}")
    assert other.ids() == ["join.used"]


def test_a_code_expires_after_two_weeks(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    code = invite(maria, "Den unga personen", "Alex")
    clock.advance(days=14, minutes=1)
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {code}")
    assert alex.ids() == ["join.expired"]


def test_a_code_gives_the_role_organisation_and_case_it_was_made_for(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    sara_code = invite(maria, "Yrkesperson", "Sara", "BUP")
    alex_code = invite(maria, "Den unga personen", "Alex")
    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {sara_code}")
    assert sara.ids() == ["join.joined", "pro.home"]
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {alex_code}")
    assert alex.ids() == ["join.joined", "youth.menu"]
    with UnitOfWork(sessions) as uow:
        rows = uow.session.execute(
            select(
                m.Person.display_name, m.Membership.role, m.Membership.case_id, m.Organisation.name
            )
            .join(m.Membership, m.Membership.person_id == m.Person.id)
            .outerjoin(m.Organisation, m.Organisation.id == m.Membership.organisation_id)
            .order_by(m.Membership.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("Maria", Role.COORDINATOR, 1, None),
        ("Sara", Role.PROFESSIONAL, 1, "BUP"),
        ("Alex", Role.YOUTH, 1, None),
    ]


def test_guessing_codes_locks_the_chat_out_for_a_while(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    real = invite(maria, "Vårdnadshavare", "Kim")
    guesser = chat(sessions, catalogue, clock, "guesser")
    for n in range(4):
        guesser.send(f"/start WRONG{n}")
        assert guesser.ids() == ["join.unknown"]
    guesser.send("/start WRONG5")
    assert guesser.ids() == ["join.locked"]
    assert "för många gånger" in guesser.text()
    # Even the right code is refused while locked out: the lock is on the chat, not the code.
    guesser.send(f"/start {real}")
    assert guesser.ids() == ["join.locked"]
    # Another chat is not affected.
    other = chat(sessions, catalogue, clock, "other")
    other.send("/start WRONG")
    assert other.ids() == ["join.unknown"]
    clock.advance(minutes=31)
    guesser.send(f"/start {real}")
    assert guesser.ids()[0] == "join.joined"


def test_wrong_codes_spread_out_in_time_do_not_lock_anyone_out(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    typo = chat(sessions, catalogue, clock, "typo")
    for n in range(8):
        typo.send(f"/start TYPO{n}")
        assert typo.ids() == ["join.unknown"]
        clock.advance(minutes=8)


def test_the_coordinator_code_works_once_and_expires(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    code = coordinator_code(sessions, clock, "Maria")
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {code}")
    assert maria.ids() == ["join.joined", "coord.home_no_case"]
    thief = chat(sessions, catalogue, clock, "thief")
    thief.send(f"/start {code}")
    assert thief.ids() == ["join.used"]
    late = coordinator_code(sessions, clock, "Nora")
    clock.advance(days=8)
    nora = chat(sessions, catalogue, clock, "nora")
    nora.send(f"/start {late}")
    assert nora.ids() == ["join.expired"]


def test_a_co_coordinator_runs_the_case_but_cannot_open_new_ones(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    code = invite(maria, "Medsamordnare", "Nils")
    nils = chat(sessions, catalogue, clock, "nils")
    nils.send(f"/start {code}")
    assert nils.ids() == ["join.joined", "coord.home"]
    assert "Ärende K-1" in nils.text()
    nils.choose("Byt ärende")
    assert "Öppna ett nytt ärende" not in nils.choices()
