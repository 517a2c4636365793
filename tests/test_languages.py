"""Languages: each person picks one, it is kept, dates follow it, and a third is only texts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import LOCALES_DIR, Catalogue, load_locale
from flows.conversation import ConversationRef
from flows.wiring import default_engine
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
# Right-to-left mark + a tag, so every text of the test language is recognisable.
MARK = "\u200f[ar] "


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting on 30 November 2026 at 11.00 Stockholm time."""
    return seed_family_case(sessions, clock.now)


def test_picking_english_is_kept_and_dates_follow(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.send("/sprak")
    assert alex.ids() == ["language.pick"]
    assert alex.choices() == ["svenska", "English", "Tillbaka"]
    alex.choose("English")
    assert alex.ids() == ["language.saved", "youth.menu"]
    assert "I will write in English from now on." in alex.text()
    assert "The meeting is on Monday 30 November at 11:00." in alex.text()
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None and actor.locale == "en"

    # After a restart the bot still speaks English, also in the meeting info and its file.
    restarted = Chat(sessions, catalogue, clock, ALEX)
    restarted.resume()
    assert "Hi again, Alex!" in restarted.text()
    restarted.choose("When is the meeting?")
    assert "When: Monday 30 November at 11:00 to 12:30." in restarted.text()

    restarted.choose("Back")
    restarted.choose("Språk / Language")
    restarted.choose("svenska")
    assert "Nu skriver jag på svenska." in restarted.text()


def make_test_locale(root: Path) -> Path:
    """A locale directory with the real sv and en, and a test-only "ar": every Swedish text,
    marked (the real Arabic texts are left out, so every text shown is recognisable)."""
    for locale in ("sv", "en"):
        shutil.copytree(LOCALES_DIR / locale, root / locale, dirs_exist_ok=True)
    arabic = root / "ar"
    arabic.mkdir()
    lines = []
    for message_id, template in sorted(load_locale(LOCALES_DIR / "sv").items()):
        if message_id == "_format.language_name":
            template = "العربية"
        elif not message_id.startswith("_format."):
            template = MARK + template
        lines.append(f"{json.dumps(message_id)} = {json.dumps(template, ensure_ascii=False)}")
    (arabic / "all.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_a_third_language_is_a_directory_of_texts_and_no_code(
    sessions: sessionmaker[Session], clock: FakeClock, case: FamilyCase, tmp_path: Path
) -> None:
    catalogue = Catalogue(locales_dir=make_test_locale(tmp_path / "locales"))
    assert catalogue.locales == ("ar", "en", "sv")
    assert catalogue.message_ids("ar") == catalogue.message_ids("sv")

    alex = Chat(sessions, catalogue, clock, ALEX, engine=default_engine(catalogue.locales))
    alex.send(f"/start {case.youth_code}")
    alex.send("/sprak")
    assert "العربية" in alex.choices()
    before = len(alex.history)
    alex.choose("العربية")
    alex.choose("När är mötet?")
    alex.choose("Vem är vem?")
    alex.choose("Tillbaka")
    alex.choose("Steg 1 av 4")
    alex.send("Vem bestämmer?")
    after = alex.history[before:]
    assert len(after) >= 6  # a step's confirmation and next prompt are one message
    for sent in after:
        assert sent.rendered.text.startswith(MARK.strip()), sent.message_id
        assert all(c.label.startswith(MARK.strip()) for c in sent.rendered.choices)
    # Dates are written the Arabic way: the weekday comes from the locale, not from our texts.
    meeting_info = next(s for s in alex.history if s.message_id == "meeting.info")
    assert "الاثنين 30 نوفمبر" in meeting_info.rendered.text
    assert meeting_info.rendered.file is not None
