"""The coordinator's "Till ärendet" leads to the case's menu right after opening or switching."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, coordinator_code


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """A coordinator who has just joined and has no case yet."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    assert maria.said("coord.home_no_case")
    return maria


def test_till_arendet_right_after_opening_a_case_shows_its_menu(maria: Chat) -> None:
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    assert maria.ids() == ["coord.case_opened", "coord.case_next_steps"]
    maria.choose("Till ärendet")
    assert maria.ids() == ["coord.home"]
    assert "Bjud in" in maria.choices()


def test_till_arendet_after_opening_a_second_case_and_switching_back(maria: Chat) -> None:
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Byt ärende")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Bo")
    maria.choose("Till ärendet")
    assert maria.ids() == ["coord.home"]
    assert "Bo" in maria.text()
    maria.choose("Byt ärende")
    maria.choose("Alex")
    assert maria.ids() == ["coord.switched"]
    maria.choose("Till ärendet")
    assert maria.ids() == ["coord.home"]
    assert "Alex" in maria.text()
