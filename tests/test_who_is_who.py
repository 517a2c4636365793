"""Who is who: the coordinator gives each organisation a kind, a plain description and a
contact person in the chat; the young person reads them in "Vem är vem?", with the case's
people by first name and role."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, code_in, coordinator_code


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Coordinator Maria in her new case about Alex, at the case menu."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    return maria


def invite(maria: Chat, role: str, name: str, org: str | None = None) -> str:
    """Maria invites someone; the code off her reply."""
    maria.choose("Bjud in")
    maria.choose(role)
    if org is not None:
        maria.choose(org)
    maria.send(name)
    return code_in(maria.text())


def book_meeting(maria: Chat) -> None:
    """Maria books the first meeting, 15 December at 13.00, without a video link."""
    maria.choose("Boka möte")
    maria.send("15 dec 13.00")
    maria.choose("Ingen länk")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert maria.ids()[0] == "coord.meeting_booked"


def test_a_new_organisation_is_asked_its_kind_and_shows_that_kinds_description(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("Mottagningen Söder")
    assert maria.ids() == ["coord.org_added", "coord.orgs", "orgs.kind_ask"]
    assert "• Mottagningen Söder" in maria.text()
    # The kinds the seeds name are there, beside the older ones.
    for kind in ("Vuxenpsykiatri", "Beroendevård", "Kriminalvården", "SiS", "Trossamfund"):
        assert any(kind in label for label in maria.choices()), kind
    maria.choose("Vuxenpsykiatri")
    assert maria.ids() == ["orgs.saved", "orgs.show"]
    assert "Typ: Vuxenpsykiatri" in maria.text()
    assert "(standardtext för typen) Vuxenpsykiatrin är vård för vuxna" in maria.text()
    maria.choose("Till ärendet")

    alex_code = invite(maria, "Den unga personen", "Alex")
    book_meeting(maria)
    alex = Chat.for_user(sessions, catalogue, clock, user="alex")
    alex.send(f"/start {alex_code}")
    alex.choose("När är mötet?")
    alex.choose("Vem är vem?")
    assert alex.ids() == ["meeting.who"]
    # Not a bare name: the plain text of the kind the coordinator chose.
    assert "Mottagningen Söder\nVuxenpsykiatrin är vård för vuxna" in alex.text()


def test_the_coordinator_writes_a_description_and_a_contact_the_young_person_sees_them(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("BUP Storstad")
    maria.choose("BUP")
    maria.choose("Skriv beskrivning")
    maria.send("Vi är Lina och Omar på BUP Söder. Vi träffar dig varannan vecka.")
    assert maria.ids() == ["orgs.saved", "orgs.show"]
    maria.choose("Kontaktperson")
    maria.send("Lina, kurator, 08-123 456 eller lina@bup.example")
    assert maria.ids() == ["orgs.saved", "orgs.show"]
    assert "Kontaktperson: Lina, kurator, 08-123 456 eller lina@bup.example" in maria.text()
    maria.choose("Till ärendet")
    jonas_code = invite(maria, "Yrkesperson", "Jonas Berg", org="BUP Storstad")
    alex_code = invite(maria, "Den unga personen", "Alex")
    kim_code = invite(maria, "Vårdnadshavare", "Kim")
    book_meeting(maria)

    jonas = chat(sessions, catalogue, clock, "jonas")
    jonas.send(f"/start {jonas_code}")
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {kim_code}")
    alex = Chat.for_user(sessions, catalogue, clock, user="alex")
    alex.send(f"/start {alex_code}")
    alex.choose("När är mötet?")
    alex.choose("Vem är vem?")
    text = alex.text()
    assert "BUP Storstad\nVi är Lina och Omar på BUP Söder." in text
    # Whom to contact between meetings.
    assert "Kontakt mellan mötena: Lina, kurator. Nå hen: 08-123 456 eller lina@bup.example" in text
    # People by first name and role, not roles only.
    assert "• Alex, ung person" in text
    assert "• Kim, vårdnadshavare" in text
    assert "• Maria, samordnare" in text
    assert "• Jonas, yrkesperson, BUP Storstad" in text
    assert "Berg" not in text

    # Back to the default text, and the contact removed: the young person sees that too.
    maria.choose("Verksamheter")
    maria.choose("BUP Storstad")
    maria.choose("Använd standardtexten")
    maria.choose("Ta bort kontaktpersonen")
    alex.choose("Mötet")
    alex.choose("Vem är vem?")
    assert "BUP Storstad\nBUP är en vård för barn och unga" in alex.text()
    assert "Lina" not in alex.text()


def test_a_contact_with_an_identity_number_is_refused(maria: Chat) -> None:
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("Skolan")
    maria.choose("Skola")
    maria.choose("Kontaktperson")
    maria.send("Lina, kurator, 20080101-1234")
    assert maria.ids() == ["coord.personnummer", "orgs.contact_ask"]
