"""Questions answered: after the meeting the coordinator marks each shared question answered
or to follow up; the young person sees which and may say she got no answer; a question to
follow up comes back on the next agenda marked as carried over, an answered one does not."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from tests.conftest import FakeClock
from tests.notes_seed import Family, family, meeting_passes, share_questions, tap_button

ANSWERED = "Varför måste jag byta skola?"
OPEN = "Kan jag få hjälp med läxorna?"


@pytest.fixture
def marked(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Family:
    """Alex shared two questions; after the meeting Maria marked one answered and the other
    to follow up, and sent the notes."""
    case = family(sessions, catalogue, clock)
    share_questions(case.alex, ANSWERED, OPEN)
    meeting_passes(sessions, clock)
    maria = case.maria
    maria.receive()
    tap_button(maria, "Skriv anteckningar")
    maria.send("Vi pratade om skolan.")
    maria.choose("Samma text till alla")
    assert maria.ids() == ["coord.notes.question"]
    assert "Fråga 1 av 2, från Alex" in maria.text() and ANSWERED in maria.text()
    maria.choose("Besvarad")
    assert OPEN in maria.text()
    maria.choose("Följs upp")
    assert maria.ids() == ["coord.notes.sent", "coord.home"]
    assert "1 besvarade, 1 följs upp" in maria.text()
    return case


def test_an_open_question_carries_over_to_the_next_agenda_and_an_answered_one_does_not(
    marked: Family,
) -> None:
    maria = marked.maria
    maria.send("/meny")
    maria.choose("Dagordning")
    agenda = maria.text()
    assert ANSWERED not in agenda, "an answered question is not raised again"
    line = next(x for x in agenda.splitlines() if OPEN in x)
    assert "(från förra mötet, följs upp)" in line


def test_before_any_marking_the_agenda_marks_nothing_carried_over(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = family(sessions, catalogue, clock)
    share_questions(case.alex, ANSWERED)
    case.maria.send("/meny")
    case.maria.choose("Dagordning")
    assert ANSWERED in case.maria.text()
    assert "från förra mötet" not in case.maria.text()


def test_the_young_person_sees_which_questions_were_answered_and_says_she_got_no_answer(
    marked: Family,
) -> None:
    alex, maria = marked.alex, marked.maria
    alex.receive()
    tap_button(alex, "Läs")
    assert alex.ids() == ["notes.summary", "plan.family", "notes.questions"]
    text = alex.text()
    assert f"{ANSWERED}: du fick svar" in text
    assert f"{OPEN}: tas upp igen nästa gång" in text
    assert alex.choices() == ["Jag fick inget svar: Varför måste jag byta…", "Tillbaka"]

    alex.choose("Jag fick inget svar")
    assert alex.ids()[0] == "notes.no_answer_told"
    assert "Du sa att du inte fick svar" in alex.text()
    assert alex.choices() == ["Tillbaka"], "said once"
    maria.receive()
    assert maria.ids() == ["coord.notes.no_answer"]
    assert "Alex" in maria.text() and ANSWERED in maria.text()

    alex.choose("Tillbaka")
    alex.send("/meny")
    alex.choose("Från mötet")
    assert "Du sa att du inte fick svar" in alex.text(), "her menu shows it too"


def test_a_caregiver_sees_no_questions_of_the_young_person(marked: Family) -> None:
    kim = marked.kim
    kim.receive()
    tap_button(kim, "Läs")
    assert kim.ids() == ["notes.summary", "plan.family"]
    assert ANSWERED not in kim.text() and OPEN not in kim.text()


def test_the_agenda_file_marks_the_carried_over_question_too(marked: Family) -> None:
    maria = marked.maria
    maria.send("/meny")
    maria.choose("Dagordning")
    # The chat says the whole agenda is in the file: it must say what the chat says.
    [file] = [s.rendered.file for s in maria.turn if s.rendered.file is not None]
    html = file.data.decode()
    assert ANSWERED not in html
    line = next(x for x in html.splitlines() if OPEN in x)
    assert "(från förra mötet, följs upp)" in line, line
