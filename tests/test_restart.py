"""A process killed mid-conversation (kill -9) and restarted continues at the same step."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import make_engine, session_factory
from storage.models import Question
from tests.cli import LiveProcess


def test_killed_mid_conversation_and_restarted_continues_with_nothing_lost(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'restart.sqlite3'}"
    first = LiveProcess(["demo", "--db", url], tmp_path)
    first.wait_for("Får jag spara det du skriver?")  # first contact: consent
    first.send("1")
    first.wait_for("Hur gammal är du?")
    first.send("15")
    first.wait_for("får alla som hjälper dig se?")
    first.send("1")
    first.wait_for("Steg 1 av 4: Mina frågor")  # the menu is shown
    first.send("2")
    first.wait_for("Du har inga frågor än")
    first.send("Fråga före kraschen")
    first.wait_for("1. Fråga före kraschen")
    first.send("1")  # Skriv en ny fråga
    first.wait_for("Skriv din fråga")
    first.kill()

    second = LiveProcess(["demo", "--db", url], tmp_path)
    second.wait_for("Hej igen, Alex!")
    second.wait_for("Skriv din fråga")  # the same step as before the kill
    second.send("Fråga efter omstarten")
    second.wait_for("2. Fråga efter omstarten")
    output = second.finish()
    assert "1. Fråga före kraschen" in output

    # Free text is encrypted under the key in the environment (the test's own, see conftest).
    engine = make_engine(url)
    with session_factory(engine)() as session:
        texts = session.scalars(select(Question.text).order_by(Question.id)).all()
    engine.dispose()
    assert texts == ["Fråga före kraschen", "Fråga efter omstarten"]
