""" "Jag kan inte komma": any member says they cannot come to the next meeting; the case's
coordinator is told at once, and the person gets a receipt."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, code_in, coordinator_code


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Coordinator Maria in her new case K-1 with BUP, at the case menu."""
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


def invited(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    maria: Chat,
    *roles: str,
    name: str,
) -> Chat:
    """Someone Maria invited in the chat, who has joined with the code."""
    maria.send("/meny")
    maria.choose("Bjud in")
    for role in roles:
        maria.choose(role)
    maria.send(name)
    person = chat(sessions, catalogue, clock, name.lower())
    person.send(f"/start {code_in(maria.text())}")
    return person


def book(maria: Chat) -> None:
    """Maria books a meeting on 15 December at 13.00."""
    maria.send("/meny")
    maria.choose("Boka möte")
    maria.send("15 dec 13.00")
    maria.choose("Ingen länk")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")


def test_the_young_persons_cannot_come_reaches_the_coordinator_at_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    book(maria)
    alex = invited(sessions, catalogue, clock, maria, "Den unga personen", name="Alex")
    alex.choose("Jag kan inte komma")
    assert alex.ids() == ["absent.ask"]
    assert "Mötet är tisdag 15 december kl. 13.00." in alex.text()
    alex.send("Jag har prov den dagen.")
    assert alex.ids() == ["absent.sent", "youth.menu"]
    assert "Nu vet den som håller i mötet att du inte kan komma" in alex.text()

    maria.receive()
    assert maria.ids() == ["convene.cannot_come"]
    text = maria.text()
    assert "Alex (ung person) i ärende K-1 kan inte komma på mötet tisdag 15 december" in text
    assert "Jag har prov den dagen." in text


def test_a_professional_can_say_it_without_words(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    book(maria)
    jonas = invited(sessions, catalogue, clock, maria, "Yrkesperson", "BUP", name="Jonas")
    jonas.choose("Jag kan inte komma")
    jonas.choose("Skicka utan ord")
    assert jonas.ids() == ["absent.sent", "pro.home"]

    maria.receive()
    assert maria.ids() == ["convene.cannot_come"]
    assert "Jonas (yrkesperson) i ärende K-1 kan inte komma" in maria.text()


def test_with_no_meeting_booked_nothing_is_sent(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    kim = invited(sessions, catalogue, clock, maria, "Vårdnadshavare", name="Kim")
    kim.choose("Jag kan inte komma")
    assert kim.ids() == ["absent.no_meeting", "caregiver.menu"]
    assert maria.receive() == []
