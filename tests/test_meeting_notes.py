"""Notes from the meeting: once a meeting is over the coordinator is asked for the notes, and
the family (the young person with consent, and the caregivers, each privately) reads them in
plain words with the plan and the next meeting. A version for the young person is scored."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import LOCALES_DIR, Catalogue, load_locale
from bot.readability import MAX_LIX, Audience, readability, template_text
from tests.conftest import FakeClock
from tests.coord_seed import run_tick
from tests.notes_seed import Family, family, meeting_passes, tap_button

NOTES = "Vi bestämde att BUP gör en utredning.\nNästa möte är den 15 december."
HARD = (
    "Myndigheterna konstaterade behovet av samordnade insatser avseende skolgången, "
    "och socialtjänsten initierar utredning beträffande boendesituationen."
)


@pytest.fixture
def case(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Family:
    """The case before its meeting, with Alex's consent."""
    return family(sessions, catalogue, clock)


def test_after_the_meeting_the_coordinator_is_asked_for_the_notes_and_the_family_reads_them(
    case: Family, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    maria, kim, alex = case.maria, case.kim, case.alex
    run_tick(sessions, clock)
    maria.receive()
    assert "coord.notes.due" not in maria.ids(), "not before the meeting has taken place"

    meeting_passes(sessions, clock)
    maria.receive()
    assert maria.ids() == ["coord.notes.due"]
    assert "24 november" in maria.text()
    run_tick(sessions, clock)
    assert maria.receive() == [], "asked once"

    tap_button(maria, "Skriv anteckningar")
    assert maria.ids() == ["coord.notes.ask"]
    maria.send(NOTES)
    assert maria.ids() == ["coord.notes.youth_ask"]
    maria.choose("Samma text till alla")
    assert maria.ids() == ["coord.notes.sent", "coord.home"]
    assert "2 i familjen" in maria.text()

    for person in (kim, alex):
        person.receive()
        assert person.ids() == ["notes.ready"], person.ids()
        assert "Vi bestämde" not in person.text(), "the notice itself quotes nothing"
        tap_button(person, "Läs")
        assert person.ids() == ["notes.summary", "plan.family"]
        text = person.text()
        assert "Vi bestämde att BUP gör en utredning." in text
        assert "Nästa möte: tisdag 15 december" in text
        assert "Boka utredning" in text and "Ansök om bostadsbidrag" in text
    kim.choose("Tillbaka")
    assert kim.ids()[-1] == "caregiver.menu"
    kim.send("/meny")
    assert "Från mötet" in kim.choices(), "the notes stay in the menu"


def test_a_young_person_without_consent_gets_nothing(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = family(sessions, catalogue, clock, youth_consents=False)
    meeting_passes(sessions, clock)
    case.maria.receive()
    tap_button(case.maria, "Skriv anteckningar")
    case.maria.send(NOTES)
    case.maria.choose("Samma text till alla")
    assert "1 i familjen" in case.maria.text()
    assert case.alex.receive() == []
    case.kim.receive()
    assert case.kim.ids() == ["notes.ready"]


def test_the_coordinator_starts_the_notes_from_the_menu(
    case: Family, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    maria = case.maria
    maria.send("/meny")
    maria.choose("Efter mötet")
    assert maria.ids() == ["coord.notes.no_meeting", "coord.home"], "no meeting has been yet"
    meeting_passes(sessions, clock)
    maria.send("/meny")
    maria.choose("Efter mötet")
    assert maria.ids() == ["coord.notes.ask"]


def test_a_hard_youth_version_is_sent_back_with_its_long_words_until_simpler(
    case: Family, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    maria, kim, alex = case.maria, case.kim, case.alex
    meeting_passes(sessions, clock)
    maria.send("/meny")
    maria.choose("Efter mötet")
    maria.send(HARD)
    maria.send(HARD)
    assert maria.ids() == ["coord.notes.simplify"]
    text = maria.text()
    assert f"LIX {round(readability(HARD).lix)}" in text
    for word in ("Myndigheterna", "samordnade", "boendesituationen"):
        assert word in text, word
    assert "och" not in text.split("Långa ord")[1], "short words are not listed"
    assert maria.choices() == ["Skicka ändå", "Avbryt"]

    maria.send("BUP ska ta reda på hur du har det. Vi ses igen den 15 december.")
    assert maria.ids() == ["coord.notes.sent", "coord.home"]
    alex.receive()
    tap_button(alex, "Läs")
    assert "BUP ska ta reda på hur du har det." in alex.text()
    assert "Myndigheterna" not in alex.text(), "she reads her own version"
    kim.receive()
    tap_button(kim, "Läs")
    assert "Myndigheterna" in kim.text(), "the adults read the notes"


def test_the_coordinator_may_send_a_hard_youth_version_anyway(
    case: Family, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    maria, alex = case.maria, case.alex
    meeting_passes(sessions, clock)
    maria.send("/meny")
    maria.choose("Efter mötet")
    maria.send(NOTES)
    maria.send(HARD)
    maria.choose("Skicka ändå")
    assert maria.said("coord.notes.sent")
    alex.receive()
    tap_button(alex, "Läs")
    assert "Myndigheterna" in alex.text()


def test_the_familys_notes_texts_are_plain() -> None:
    swedish = load_locale(LOCALES_DIR / "sv")
    family_texts = {k: v for k, v in swedish.items() if k.startswith("notes.")}
    assert family_texts
    for key, source in family_texts.items():
        score = readability(template_text(source))
        if score.words >= 6:
            assert score.lix <= MAX_LIX[Audience.YOUTH], (key, score)
