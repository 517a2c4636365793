"""The shared picture: read it, answer stämmer / delvis / inte, change it, and a new version."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from flows.picture_loop import OPEN_CHOICE
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import SARA, FamilyCase, publish, received, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")
FAMILY = ConversationRef(PLATFORM, "family", "robin")
ROBIN = ConversationRef(PLATFORM, "robin", "robin")
PICTURE_V1 = "Alex bråkar i skolan. Alex vill ha hjälp med sömnen."
PICTURE_V2 = "Alex har det svårt i skolan. Alex vill ha hjälp med sömnen."
COMMENT = "Jag bråkar inte. Det är andra som bråkar med mig."


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with coordinator Sara."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def chats(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> dict[str, Chat]:
    """Alex, Kim and Robin joined privately; Robin also writes in the family group chat."""
    joined = {
        "alex": Chat(sessions, catalogue, clock, ALEX),
        "kim": Chat(sessions, catalogue, clock, KIM),
        "robin": Chat(sessions, catalogue, clock, FAMILY),
    }
    joined["alex"].send(f"/start {case.youth_code}")
    joined["kim"].send(f"/start {case.caregiver_codes[0]}")
    Chat.for_user(sessions, catalogue, clock, user="robin").send(
        f"/start {case.caregiver_codes[1]}"
    )
    joined["robin"].send("/meny")
    return joined


def answers(sessions: sessionmaker[Session]) -> list[tuple[int, str, str, str | None]]:
    """(version, person, verdict, comment) of every stored answer."""
    with UnitOfWork(sessions) as uow:
        rows = uow.session.execute(
            select(
                m.SharedPicture.version,
                m.Person.display_name,
                m.PictureResponse.verdict,
                m.PictureResponse.comment,
            )
            .join(m.SharedPicture, m.SharedPicture.id == m.PictureResponse.picture_id)
            .join(m.Person, m.Person.id == m.PictureResponse.person_id)
        ).all()
    # Names are encrypted at rest (storage/crypto.py), so they are sorted here, not in SQL.
    return sorted((tuple(row) for row in rows), key=lambda r: (r[0], r[1]))  # type: ignore[misc]


def test_publishing_asks_each_young_person_and_adult(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    chats: dict[str, Chat],
) -> None:
    publish(sessions, case, PICTURE_V1, clock.now)
    assert received(sessions, catalogue, ALEX)[-1].reply.message == "picture.published"
    assert received(sessions, catalogue, KIM)[-1].reply.message == "picture.published"
    # Robin is asked privately too: answering is personal, so the group is not asked.
    assert received(sessions, catalogue, ROBIN)[-1].reply.message == "picture.published"
    group = [r.reply.message for r in received(sessions, catalogue, FAMILY)]
    assert "picture.published_group" not in group
    # The coordinator is not asked to answer their own picture.
    assert all(r.reply.message != "picture.published" for r in received(sessions, catalogue, SARA))


def test_partly_right_with_own_words_reaches_the_coordinator_then_v2_asks_again(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    chats: dict[str, Chat],
) -> None:
    alex = chats["alex"]
    publish(sessions, case, PICTURE_V1, clock.now)
    alex.receive()
    alex.tap(OPEN_CHOICE)  # the button of the notice
    assert alex.ids() == ["picture.show"]
    assert PICTURE_V1 in alex.text() and "version 1" in alex.text()
    assert alex.choices() == ["Stämmer", "Stämmer delvis", "Stämmer inte", "Jag svarar sen"]
    alex.choose("Stämmer delvis")
    assert alex.ids() == ["picture.comment.partly"]
    alex.send(COMMENT)
    assert alex.ids() == ["picture.thanks.comment", "youth.menu"]

    alerts = [r for r in received(sessions, catalogue, SARA) if r.reply.message == "alert.picture"]
    assert len(alerts) == 1
    assert COMMENT in alerts[0].text
    assert "Alex (ung person)" in alerts[0].text and "”Stämmer delvis”" in alerts[0].text
    assert f"i ärende {case.reference}" in alerts[0].text and "version 1" in alerts[0].text

    # Kim agrees: the coordinator is not disturbed for that.
    chats["kim"].tap(OPEN_CHOICE)
    chats["kim"].tap("agree")  # "Stämmer"
    assert chats["kim"].ids() == ["picture.thanks.agree", "caregiver.menu"]
    assert (
        len([r for r in received(sessions, catalogue, SARA) if r.reply.message == "alert.picture"])
        == 1
    )
    assert answers(sessions) == [
        (1, "Alex", "partly", COMMENT),
        (1, "Kim", "agree", None),
    ]

    # Version 2 asks again, and the menu says there is something to answer.
    publish(sessions, case, PICTURE_V2, clock.now)
    assert [r.reply.message for r in received(sessions, catalogue, ALEX)].count(
        "picture.published"
    ) == 2
    alex.send("/meny")
    assert "Gemensam bild: läs och svara" in alex.choices()
    alex.choose("Gemensam bild")
    assert PICTURE_V2 in alex.text() and "version 2" in alex.text()
    assert "Du har svarat" not in alex.text()
    alex.tap("agree")  # "Stämmer"
    assert answers(sessions)[-1] == (2, "Alex", "agree", None)


def test_an_answer_can_be_changed_later(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    chats: dict[str, Chat],
) -> None:
    alex = chats["alex"]
    publish(sessions, case, PICTURE_V1, clock.now)
    alex.send("/bild")
    alex.choose("Stämmer inte")
    alex.send(COMMENT)
    clock.advance(hours=1)
    alex.choose("Gemensam bild")
    assert "Du har svarat: Stämmer inte. Du kan ändra ditt svar." in alex.text()
    alex.choose("Stämmer delvis")
    assert f"Förra gången skrev du: ”{COMMENT}”" in alex.text()
    alex.send("Det mesta stämmer nu.")
    assert answers(sessions) == [(1, "Alex", "partly", "Det mesta stämmer nu.")]
    alerts = [r for r in received(sessions, catalogue, SARA) if r.reply.message == "alert.picture"]
    assert [COMMENT in a.text for a in alerts] == [True, False]


def test_writing_nothing_or_cancelling_stores_no_answer(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    chats: dict[str, Chat],
) -> None:
    alex = chats["alex"]
    publish(sessions, case, PICTURE_V1, clock.now)
    alex.send("/bild")
    alex.choose("Stämmer delvis")
    alex.send("   ")
    assert alex.ids() == ["text.empty", "picture.comment.partly"]
    alex.choose("Avbryt")
    assert alex.ids() == ["picture.show"]
    alex.choose("Jag svarar sen")
    assert alex.ids() == ["picture.later_ok", "youth.menu"]
    assert answers(sessions) == []


def test_a_group_member_answers_for_themselves(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    chats: dict[str, Chat],
) -> None:
    publish(sessions, case, PICTURE_V1, clock.now)
    # In the group, the picture and the answer are pointed to the private chat ...
    chats["robin"].tap(OPEN_CHOICE)
    assert chats["robin"].ids() == ["common.private_only"]
    assert PICTURE_V1 not in chats["robin"].text()
    # ... where Robin answers for himself.
    robin = Chat.for_user(sessions, catalogue, clock, user="robin")
    robin.tap(OPEN_CHOICE)
    robin.choose("Stämmer inte")
    robin.send("Vi ser inte bråk hemma.")
    assert answers(sessions) == [(1, "Robin", "disagree", "Vi ser inte bråk hemma.")]


def test_without_a_picture_the_answer_says_so(chats: dict[str, Chat]) -> None:
    chats["alex"].send("/bild")
    assert chats["alex"].ids() == ["picture.none", "youth.menu"]


def test_the_coordinators_report_can_read_every_answer_of_a_version(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    chats: dict[str, Chat],
) -> None:
    publish(sessions, case, PICTURE_V1, clock.now)
    chats["alex"].send("/bild")
    chats["alex"].choose("Stämmer inte")
    chats["alex"].send(COMMENT)
    chats["kim"].send("/bild")
    chats["kim"].tap("agree")
    with UnitOfWork(sessions) as uow:
        picture = uow.families.latest_picture(case.case_id, case.coordinator_id)
        assert picture is not None
        read = uow.families.picture_answers(picture.id, case.coordinator_id)
    assert [(name, a.verdict.value, a.comment) for _, name, a in read] == [
        ("Alex", "disagree", COMMENT),
        ("Kim", "agree", None),
    ]
