"""Caregivers prepare together in a family group chat; the young person's own words stay private."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, received, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
YOUTH_QUESTION = "Måste jag prata om pappa på mötet?"
YOUTH_VIEW = "Jag sover nästan inget på nätterna"


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with unused invites."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """Alex has joined and written a question and a view, both private."""
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send(f"/start {case.youth_code}")
    chat.choose("Mina frågor")
    chat.send(YOUTH_QUESTION)
    chat.send("/meny")
    chat.choose("Min bild")
    chat.choose("Hoppa över")
    chat.send(YOUTH_VIEW)
    return chat


def family_chat(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, user: str, code: str
) -> Chat:
    """A caregiver who joined (and said yes) in their private chat, now in the family group."""
    Chat.for_user(sessions, catalogue, clock, user=user).send(f"/start {code}")
    return Chat.for_user(sessions, catalogue, clock, user=user, chat="family")


def test_two_caregivers_fill_one_list_in_the_group_and_see_who_wrote_what(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    alex: Chat,
) -> None:
    kim = family_chat(sessions, catalogue, clock, "kim", case.caregiver_codes[0])
    kim.send("/meny")
    kim.choose("Skriv något nytt")
    kim.choose("En fråga till mötet")
    kim.send("Hur får vi hjälp under loven?")
    assert kim.ids() == ["caregiver.saved", "caregiver.list"]
    assert "Sparat på listan, med ditt namn." in kim.text()

    robin = family_chat(sessions, catalogue, clock, "robin", case.caregiver_codes[1])
    robin.send("/meny")
    robin.choose("Skriv något nytt")
    robin.choose("En fråga till mötet")
    robin.send("Vem ringer vi när det blir akut?")
    listing = robin.text()
    assert "• Hur får vi hjälp under loven? (Kim)" in listing
    assert "• Vem ringer vi när det blir akut? (Robin)" in listing

    # Each adult changes only their own lines: Kim's is not even offered to Robin.
    robin.choose("Ändra det jag skrivit")
    assert robin.choices() == ["Vem ringer vi när det blir akut?", "Tillbaka"]
    robin.choose("Vem ringer")
    robin.choose("Ändra texten")
    robin.send("Vem ringer vi på kvällen när det blir akut?")
    assert robin.ids() == ["caregiver.changed", "caregiver.list"]

    # What is not for the child's ears is written privately, and never shown in the group.
    robin.choose("Till menyn")
    robin.choose("Skriv något nytt")
    assert "Inte inför barnet" not in robin.choices()
    assert "skriver du till mig privat" in robin.text()
    robin_private = Chat.for_user(sessions, catalogue, clock, user="robin")
    robin_private.send("/meny")
    robin_private.choose("Skriv något nytt")
    robin_private.choose("Inte inför barnet")
    robin_private.send("Pappas missbruk")
    assert "Inte inför barnet\n• Pappas missbruk (Robin, bara du)" in robin_private.text()
    robin_private.choose("Ändra det jag skrivit")
    robin_private.choose("Pappas missbruk")
    robin_private.choose("Visa för de andra vuxna")
    kim.choose("Till menyn")
    kim.choose("Vår lista")
    assert "Pappas missbruk" not in kim.text()
    assert "syns inte i gruppen" in kim.text()
    kim_private = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim_private.send("/meny")
    kim_private.choose("Vår lista")
    assert "• Pappas missbruk (Robin)" in kim_private.text()

    # Nothing Alex wrote privately ever reached the adults, in any chat.
    for chat in ("family", "kim", "robin"):
        ref = ConversationRef(PLATFORM, chat, chat)
        for message in received(sessions, catalogue, ref):
            assert YOUTH_QUESTION not in message.text
            assert YOUTH_VIEW not in message.text
    assert YOUTH_QUESTION not in listing and YOUTH_VIEW not in listing


def test_a_caregiver_cannot_change_another_adults_line(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim = family_chat(sessions, catalogue, clock, "kim", case.caregiver_codes[0])
    kim.send("/meny")
    kim.choose("Skriv något nytt")
    kim.choose("En önskan")
    kim.send("Att skolan ringer oss direkt")
    with UnitOfWork(sessions) as uow:
        kims_item = uow.session.scalars(select(m.FamilyItem.id)).one()
    robin = family_chat(sessions, catalogue, clock, "robin", case.caregiver_codes[1])
    robin.send("/meny")
    # An old or forged button with Kim's item is refused by the engine ...
    robin.tap(f"i:{kims_item}")
    assert robin.ids()[0] == "common.stale_choice"
    # ... and by the repository, whatever a flow asks.
    with UnitOfWork(sessions) as uow:
        robin_actor = uow.members.actor_for(ConversationRef(PLATFORM, "family", "robin"))
        assert robin_actor is not None
        assert not uow.families.edit_family_item(kims_item, robin_actor.person_id, "x", clock.now)
        assert not uow.families.delete_family_item(kims_item, robin_actor.person_id, clock.now)
        uow.commit()
    kim.choose("Till menyn")
    kim.choose("Vår lista")
    assert "• Att skolan ringer oss direkt (Kim)" in kim.text()


def test_private_lines_stay_with_their_author_until_shown_to_the_family(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim_private = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim_private.send(f"/start {case.caregiver_codes[0]}")
    assert "Det du skriver här ser bara du" in kim_private.text()
    kim_private.choose("Skriv något nytt")
    kim_private.choose("Vår bild")
    kim_private.send("Alex har det tungt sedan flytten")
    assert "Sparat. Bara du ser det än så länge." in kim_private.text()
    assert "(Kim, bara du)" in kim_private.text()

    robin = family_chat(sessions, catalogue, clock, "robin", case.caregiver_codes[1])
    robin.send("/meny")
    robin.choose("Vår lista")
    assert "Alex har det tungt" not in robin.text()
    assert "Listan är tom." in robin.text()

    kim_private.choose("Ändra det jag skrivit")
    kim_private.choose("Alex har det tungt")
    kim_private.choose("Visa för de andra vuxna")
    assert "De andra vuxna ser det." in kim_private.text()
    kim_private.choose("Dela med mötet")
    assert "Det delas med mötet." in kim_private.text()
    robin.choose("Till menyn")
    robin.choose("Vår lista")
    assert "• Alex har det tungt sedan flytten (Kim, delas med mötet)" in robin.text()
    with UnitOfWork(sessions) as uow:
        shared = uow.families.shared_family_items(case.case_id, case.coordinator_id)
    assert [(i.author_name, i.text) for i in shared] == [
        ("Kim", "Alex har det tungt sedan flytten")
    ]


def test_a_network_person_gets_the_adults_flow(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    eva = Chat.for_user(sessions, catalogue, clock, user="eva")
    eva.send(f"/start {case.network_code}")
    assert eva.ids() == ["join.joined", "caregiver.menu"]
    eva.send("/hjälp")
    assert eva.ids()[0] == "caregiver.help.menu"


def test_the_young_person_is_sent_to_a_private_chat_from_the_family_group(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    alex: Chat,
) -> None:
    alex_in_group = Chat.for_user(sessions, catalogue, clock, user="alex", chat="family")
    alex_in_group.send("/meny")
    assert alex_in_group.ids() == ["youth.private_only"]
    alex_in_group.send("Min hemliga fråga")
    assert alex_in_group.ids() == ["youth.private_only"]
    alex_in_group.send("/hjälp")
    assert alex_in_group.ids() == ["youth.private_only_help", "youth.private_only"]
    # Nothing was stored from the group, and the group never saw Alex's own words.
    for message in received(sessions, catalogue, ConversationRef(PLATFORM, "family", "alex")):
        assert YOUTH_QUESTION not in message.text and YOUTH_VIEW not in message.text
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None
        questions = [
            q.text for q in uow.preparation.preparation(case.case_id, actor.person_id).questions
        ]
    assert questions == [YOUTH_QUESTION]
    # The meeting info is not private and works in the group too.
    alex_in_group.send("/mote")
    assert alex_in_group.ids() == ["meeting.info"]
    # In the private chat everything is as it was.
    alex.send("/meny")
    alex.choose("Mina frågor")
    assert YOUTH_QUESTION in alex.text()


def test_the_group_never_lists_an_adults_private_lines_not_even_to_their_author(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim_private = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim_private.send(f"/start {case.caregiver_codes[0]}")
    kim_private.choose("Skriv något nytt")
    kim_private.choose("En fråga till mötet")
    kim_private.send("Kims egen fråga")
    assert "(Kim, bara du)" in kim_private.text()

    # Kim opens the list in the family group: the others read along, so it is not there,
    # nor among the lines Kim can change from the group.
    kim = Chat.for_user(sessions, catalogue, clock, user="kim", chat="family")
    kim.send("/meny")
    assert "Ändra det jag skrivit" not in kim.choices()
    kim.choose("Vår lista")
    assert "Kims egen fråga" not in kim.text()
    assert "bara du" not in kim.text()
    # An old button to the private line shows nothing in the group either.
    with UnitOfWork(sessions) as uow:
        item = uow.session.scalars(select(m.FamilyItem.id)).one()
    kim.tap(f"i:{item}")
    assert "Kims egen fråga" not in kim.text()
