"""Commands that are the family's (/bild answers, /nyttmote) say where the others go instead.

A coordinator or professional who types them is told, in their own words, what they can do
(the coordinator reads the answers in the report and books meetings in the menu), and lands
back in their own menu; nothing is asked that their role may not answer. The coordinator's
"Till ärendet" leads to the case's menu right after opening or switching a case.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.domain import FAMILY_ROLES, Role
from flows.engine import FlowState
from flows.sidetrack_roles import SidetrackRoles
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, coordinator_code
from tests.family_seed import SARA, FamilyCase, publish, seed_family_case


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """Alex's case with a published shared picture; Sara coordinates it."""
    seeded = seed_family_case(sessions, clock.now)
    publish(sessions, seeded, "Alex har det svårt i skolan.", clock.now)
    return seeded


@pytest.fixture
def sara(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """The coordinator of the case, in her private chat."""
    return Chat(sessions, catalogue, clock, SARA)


@pytest.fixture
def noor(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """A professional from BUP who has joined the case."""
    with UnitOfWork(sessions) as uow:
        bup = uow.coordination.add_organisation(case.case_id, "BUP Storstad")
        code = uow.coordination.create_invite(
            case.case_id, Role.PROFESSIONAL, "Noor", bup.id, case.coordinator_id, clock.now
        )
        uow.commit()
    noor = Chat.for_user(sessions, catalogue, clock, "noor")
    noor.send(f"/start {code}")
    assert noor.said("pro.home")
    return noor


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """A coordinator who has just joined and has no case yet."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    assert maria.said("coord.home_no_case")
    return maria


def test_a_coordinator_is_told_where_the_answers_to_the_picture_are(
    sara: Chat, case: FamilyCase
) -> None:
    sara.send("/bild")
    assert sara.ids() == ["coord.not_here.picture", "coord.home"]
    assert "Uppföljningsrapport" in sara.text()
    # Back in her own menu: "1" is the menu's first choice, not an answer to the picture.
    sara.send("1")
    assert sara.ids() == ["coord.invite_role_ask"]


def test_a_coordinator_books_meetings_in_her_menu_instead_of_asking_for_one(
    sara: Chat, case: FamilyCase
) -> None:
    sara.send("/nyttmote")
    assert sara.ids() == ["coord.not_here.meeting_request", "coord.home"]
    assert "Boka möte" in sara.text()
    sara.send("Vi behöver ses igen.")
    assert sara.ids() == ["common.not_understood", "coord.home"]


def test_a_coordinator_without_a_case_is_asked_to_open_one_first(maria: Chat) -> None:
    for command in ("/bild", "/nyttmote"):
        maria.send(command)
        assert maria.ids() == ["coord.not_here.no_case", "coord.home_no_case"]
        maria.send("hej")
        assert maria.ids() == ["common.not_understood", "coord.home_no_case"]


@pytest.mark.parametrize(
    ("command", "message_id"),
    [("/bild", "pro.not_here.picture"), ("/nyttmote", "pro.not_here.meeting_request")],
)
def test_a_professional_is_sent_to_the_coordinator(
    noor: Chat, command: str, message_id: str
) -> None:
    noor.send(command)
    assert noor.ids() == [message_id, "pro.home"]
    noor.send("Vi behöver ses igen.")
    assert noor.ids() == ["common.not_understood", "pro.home"]


def test_the_english_texts_say_the_same(
    sessions: sessionmaker[Session], sara: Chat, case: FamilyCase
) -> None:
    sara.send("/sprak")
    sara.choose("English")
    sara.send("/bild")
    assert sara.ids() == ["coord.not_here.picture", "coord.home"]
    assert "Follow-up report" in sara.text()


def test_a_conversation_left_waiting_for_a_reason_by_an_older_version_recovers(
    sessions: sessionmaker[Session], sara: Chat, case: FamilyCase, clock: FakeClock
) -> None:
    # Before this fix, a coordinator's /nyttmote was stored as asking for a reason, and every
    # text after it failed: the stored state is still there after an upgrade.
    with UnitOfWork(sessions) as uow:
        uow.conversations.save(SARA, FlowState("meeting_request", "ask"), None, clock.now)
        uow.commit()
    sara.send("Vi behöver ses igen.")
    assert sara.ids() == ["coord.not_here.meeting_request", "coord.home"]


def test_the_picture_answer_waiting_from_an_older_version_recovers(
    sessions: sessionmaker[Session], sara: Chat, case: FamilyCase, clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        uow.conversations.save(
            SARA, FlowState("picture", "comment", {"verdict": "partly"}), None, clock.now
        )
        uow.commit()
    sara.send("Det stämmer inte alls.")
    assert sara.ids() == ["coord.not_here.picture", "coord.home"]


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


def test_a_sidetrack_must_say_something_to_every_role_it_is_not_for() -> None:
    # A new role (or a new sidetrack) cannot silently fall through to a port that refuses it.
    with pytest.raises(ValueError, match="coordinator"):
        SidetrackRoles(FAMILY_ROLES, {Role.PROFESSIONAL: "pro.not_here.picture"})
