"""The young person's preparation, walked as a conversation through the real stack."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from flows.domain import ItemKind, Participation, ViewAspect
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import SeededCase, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> SeededCase:
    """A case with a meeting next week."""
    return seed_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> Chat:
    """Alex has joined with the youth invite, said yes to the bot and to sharing, sees the menu."""
    chat = Chat(sessions, catalogue, clock, ALEX, auto_consent=False)
    chat.send(f"/start {case.youth_code}")
    assert chat.ids() == ["join.joined", "consent.explain"]
    chat.choose("Ja, det är okej")
    assert chat.ids() == ["consent.thanks_ask_age", "consent.age"]
    chat.send("15")
    assert chat.ids() == ["consent.sip"]
    chat.choose("Ja, alla får se")
    assert chat.ids() == ["consent.sip.saved_yes", "youth.menu"]
    return chat


def prepared(sessions: sessionmaker[Session], case: SeededCase) -> list[tuple[str, bool]]:
    """(text, shared) of every item Alex has, questions first, as stored."""
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None and actor.case_id == case.case_id
        prep = uow.preparation.preparation(case.case_id, actor.person_id)
    items = [(q.text, q.shared) for q in prep.questions]
    items += [(v.text, v.shared) for v in prep.views]
    if prep.preference:
        items.append((prep.preference.participation.value, prep.preference.shared))
    return items


def test_menu_shows_the_four_steps_and_the_meeting_time(alex: Chat) -> None:
    assert alex.choices() == [
        "Vad är ett samverkansmöte?",
        "Steg 1 av 4: Mina frågor",
        "Steg 2 av 4: Min bild",
        "Steg 3 av 4: Hur jag vill vara med",
        "Steg 4 av 4: Välj vad du delar",
        "När är mötet?",
        "Planen: vem gör vad?",
        "Tolk och annat du behöver",
        "Be om ett nytt möte",
        "Jag kan inte komma",
        "Föreslå någon som är viktig",
        "Språk / Language",
        "Behöver du hjälp nu?",
        "Pausa",
    ]
    # The seeded meeting is 30 November 2026, 10.00 UTC = 11.00 in Stockholm.
    assert "Mötet är måndag 30 november kl. 11.00." in alex.text()


def test_about_explains_the_meeting_in_plain_words(alex: Chat) -> None:
    alex.choose("Vad är ett samverkansmöte?")
    text = alex.text()
    for promise in ("en timme", "gemensam bild", "plan", "något är fel", "så länge du orkar"):
        assert promise in text
    alex.choose("Börja med mina frågor")
    assert alex.said("youth.questions")


def test_questions_can_be_added_edited_and_deleted(
    alex: Chat, sessions: sessionmaker[Session], case: SeededCase
) -> None:
    alex.choose("Mina frågor")
    alex.choose("Skriv en ny fråga")
    alex.send("Varför måste jag byta skola?")
    assert alex.ids() == ["youth.question.saved", "youth.questions"]
    alex.choose("Skriv en ny fråga")
    alex.send("Vem bestämmer om min medicin?")
    assert "1. Varför måste jag byta skola?\n2. Vem bestämmer om min medicin?" in alex.text()

    alex.choose("Ändra en fråga")
    alex.choose("Varför måste jag byta skola?")
    assert "Nu står det: ”Varför måste jag byta skola?”" in alex.text()
    alex.send("Måste jag byta skola?")
    assert alex.said("youth.question.changed")

    alex.choose("Ta bort en fråga")
    alex.choose("Vem bestämmer")
    alex.choose("Ja, ta bort")
    assert alex.said("youth.question.deleted")
    assert prepared(sessions, case) == [("Måste jag byta skola?", False)]


def test_typing_a_question_in_the_list_adds_it(alex: Chat) -> None:
    alex.choose("Mina frågor")
    alex.send("Får mamma vara med?")
    assert alex.ids() == ["youth.question.saved", "youth.questions"]


def test_empty_and_too_long_questions_are_explained_not_stored(
    alex: Chat, sessions: sessionmaker[Session], case: SeededCase
) -> None:
    alex.choose("Mina frågor")
    alex.choose("Skriv en ny fråga")
    alex.send("\u0007\u0000   ")
    assert alex.ids() == ["text.empty", "youth.question.ask"]
    alex.send("x" * 1001)
    assert alex.ids() == ["text.too_long", "youth.question.ask"]
    assert "högst 1000 tecken" in alex.text()
    alex.choose("Avbryt")
    assert prepared(sessions, case) == []


def test_min_bild_asks_three_things_each_skippable(
    alex: Chat, sessions: sessionmaker[Session], case: SeededCase
) -> None:
    alex.choose("Min bild")
    assert "(1 av 3)" in alex.text() and "Vad går bra" in alex.text()
    alex.send("Fotbollen")
    alex.choose("Hoppa över")
    assert "Vad vill du ha hjälp med?" in alex.text()
    alex.send("Att sova bättre")
    assert alex.ids() == ["youth.view.saved", "youth.view.done", "youth.participation"]
    assert prepared(sessions, case) == [("Fotbollen", False), ("Att sova bättre", False)]


def test_rewriting_a_view_shows_the_old_text_and_keeps_it_on_skip(alex: Chat) -> None:
    alex.choose("Min bild")
    alex.send("Fotbollen")
    alex.send("/meny")
    alex.choose("Min bild")
    assert "Nu står det: ”Fotbollen”" in alex.text()
    assert "Behåll det som står" in alex.choices()


def test_nothing_is_shared_until_chosen_item_by_item(
    alex: Chat, sessions: sessionmaker[Session], case: SeededCase
) -> None:
    alex.choose("Mina frågor")
    for question in ("Fråga ett", "Fråga två", "Fråga tre"):
        alex.send(question)
    alex.choose("Nästa steg")
    alex.send("Fotbollen")
    alex.choose("Hoppa över")
    alex.choose("Hoppa över")
    alex.choose("En del av mötet")
    assert alex.said("youth.review")
    assert all(not shared for _, shared in prepared(sessions, case))
    assert alex.choices()[:3] == [
        "🔒 Bara jag: Fråga ett",
        "🔒 Bara jag: Fråga två",
        "🔒 Bara jag: Fråga tre",
    ]

    alex.choose("Fråga ett")
    alex.choose("Fråga tre")
    alex.choose("En del av mötet")
    assert "✅ Delas: Fråga ett" in alex.choices()
    assert "Du delar 3 nu." in alex.text()
    alex.choose("Klar")
    assert alex.ids() == ["youth.review.summary", "youth.menu"]
    assert "Du delar 3 saker." in alex.text()
    assert prepared(sessions, case) == [
        ("Fråga ett", True),
        ("Fråga två", False),
        ("Fråga tre", True),
        ("Fotbollen", False),
        (Participation.PART.value, True),
    ]


def test_sharing_can_be_taken_back(
    alex: Chat, sessions: sessionmaker[Session], case: SeededCase
) -> None:
    alex.choose("Mina frågor")
    alex.send("Fråga ett")
    alex.send("/meny")
    alex.choose("Välj vad du delar")
    alex.choose("Fråga ett")
    assert prepared(sessions, case) == [("Fråga ett", True)]
    alex.choose("Fråga ett")
    assert prepared(sessions, case) == [("Fråga ett", False)]


def test_review_with_nothing_written_says_so(alex: Chat) -> None:
    alex.choose("Välj vad du delar")
    assert alex.ids() == ["youth.review.empty"]


def test_help_explains_the_current_step_and_shows_it_again(alex: Chat) -> None:
    alex.choose("Mina frågor")
    alex.choose("Skriv en ny fråga")
    alex.send("/hjälp")
    assert alex.ids() == ["youth.help.question_add", "common.commands", "youth.question.ask"]
    alex.send("Min fråga")
    assert alex.said("youth.question.saved")


def test_pause_keeps_everything_and_resumes_at_the_same_step(alex: Chat) -> None:
    alex.choose("Min bild")
    alex.send("Fotbollen")
    alex.send("/paus")
    assert alex.ids() == ["common.paused"]
    alex.send("hej igen")
    assert alex.ids() == ["common.welcome_back", "youth.view.hard"]
    assert "Steg 2 av 4" in alex.text()


def test_an_old_button_is_not_pressed_twice(alex: Chat) -> None:
    alex.choose("Mina frågor")
    alex.choose("Skriv en ny fråga")
    alex.send("Fråga")
    # A tap on a button from an earlier message, whose id is not on offer now:
    alex.tap("yes")
    assert alex.ids() == ["common.stale_choice", "youth.questions"]


def test_each_view_aspect_and_item_kind_is_covered() -> None:
    # The review lists every kind of item; a new kind must be added to it consciously.
    assert {k.value for k in ItemKind} == {"question", "view", "preference"}
    assert [a.value for a in ViewAspect] == ["works", "hard", "help"]
