"""Help now: where to turn when it is urgent, from the menu, /hjälp, and at once after words that
may mean danger; nothing stored or sent to anyone else because of it."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.one_message import message_ids
from flows.conversation import ConversationRef
from flows.danger_words import DANGER_PHRASES, may_mean_danger, normalised
from flows.replies import Audience
from storage.db import session_factory
from storage.models import Base, Outbox
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import SeededCase, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
HELP = "help_now.info"
URGENT = "help_now.urgent"
NUMBERS = ("112", "116 111", "90101", "1177")
NOBODY_READS = "Ingen läser det du skriver till mig förrän du väljer att dela det."


@pytest.fixture
def sessions(sqlite_engine: Engine) -> sessionmaker[Session]:
    """SQLite only: the subject is the conversation, and a thousand sentences go through it."""
    return session_factory(sqlite_engine)


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> SeededCase:
    """A case with a meeting next week."""
    return seed_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> Chat:
    """Alex, the young person, has joined and said yes; she sees her menu."""
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send(f"/start {case.youth_code}")
    assert chat.said("youth.menu")
    return chat


# --- the ordinary sentences that must not match -------------------------------------------

# Near-misses chosen on purpose: the same words as a danger phrase, in everyday meaning.
NEAR_MISSES = (
    "jag orkar inte med matte",
    "jag orkar inte gå upp så tidigt",
    "orkar inte mera prat om läxor",
    "skär äpplet i bitar",
    "vi skär ner på skärmtiden",
    "jag dog av skratt på lektionen",
    "vi höll på att dö av skratt",
    "jag vill inte leka med dem",
    "jag vill leva ett lugnt liv",
    "jag tar livet lugnt på sommarlovet",
    "det slår mig att mötet är långt",
    "klockan slår mig inte längre",
    "jag vill döda tråkiga läxor",
    "pappa och jag skär gräset",
    "hon skadade knät i fotbollen",
    "I could kill for a pizza",
    "this homework is killing me",
    "my phone died",
    "I want to dive into the pool",
    "he hit the ball far",
    "I cut my hair myself",
    "I hurt my foot at football",
    "the teacher is mean",
    "selfie with myself",
)

SV_SUBJECTS = ("Jag", "Min bror", "Min mamma", "Min pappa", "Läraren", "Kuratorn", "Vi", "Hon")
SV_VERBS = (
    "tycker om",
    "vill prata om",
    "är trött på",
    "behöver hjälp med",
    "undrar över",
    "har svårt med",
    "gillar",
    "glömmer ofta",
)
SV_THINGS = (
    "matte",
    "engelska",
    "idrotten",
    "rasterna",
    "läxorna",
    "bussen till skolan",
    "fotbollsträningen",
    "mötet på BUP",
    "maten i skolan",
    "att sova på natten",
    "min katt",
    "helgerna hos pappa",
    "prov på fredag",
)
EN_SUBJECTS = ("I", "My sister", "My dad", "The teacher", "We", "She")
EN_VERBS = ("like", "want to talk about", "am tired of", "need help with", "forget")
EN_THINGS = (
    "maths",
    "the bus",
    "football practice",
    "the meeting",
    "homework",
    "lunch at school",
    "my dog",
    "weekends",
    "the test on Friday",
)


def ordinary_sentences(count: int = 1000) -> list[str]:
    """`count` ordinary sentences about school, family and the meeting, the same every run:
    every near-miss, then Swedish and English sentences from templates, in turn."""
    swedish = (f"{s} {v} {t}." for s, v, t in itertools.product(SV_SUBJECTS, SV_VERBS, SV_THINGS))
    english = (f"{s} {v} {t}!" for s, v, t in itertools.product(EN_SUBJECTS, EN_VERBS, EN_THINGS))
    mixed = (x for pair in itertools.zip_longest(swedish, english) for x in pair if x)
    sentences = [*NEAR_MISSES, *itertools.islice(mixed, count - len(NEAR_MISSES))]
    assert len(set(sentences)) == count
    return sentences


# --- the matcher -------------------------------------------------------------------------


def test_each_phrase_matches_in_a_sentence_whatever_its_case_and_punctuation() -> None:
    for phrase in DANGER_PHRASES:
        assert may_mean_danger(phrase)
        assert may_mean_danger(f"Ibland… {phrase.upper()}!!  Vad gör jag?")
    assert may_mean_danger("jag   ORKAR inte,mer")
    assert may_mean_danger("I don’t want to live")  # a typographic apostrophe
    assert normalised("Så  här, SÄGER jag! Öl?") == "så här säger jag öl"


def test_no_ordinary_sentence_matches() -> None:
    sentences = ordinary_sentences()
    assert len(sentences) == 1000
    assert [s for s in sentences if may_mean_danger(s)] == []


def test_a_phrase_inside_a_longer_word_does_not_match() -> None:
    # Word boundaries: "vill dö" is not "vill döda", "suicide" is not "suicidesquad".
    assert not may_mean_danger("jag vill döda myggan")
    assert not may_mean_danger("suicidesquad är en film")
    assert may_mean_danger("jag vill dö.")


# --- through the young person's steps ----------------------------------------------------


def counts(sessions: sessionmaker[Session]) -> Counter[str]:
    """Rows in every table of the database."""
    with sessions() as session:
        return Counter(
            {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }
        )


def outbox_chats(sessions: sessionmaker[Session]) -> set[str]:
    """Every chat the outbox has ever held a message for."""
    with sessions() as session:
        return set(session.scalars(select(Outbox.chat_id).distinct()))


def helped(chat: Chat) -> bool:
    """True when the turn began with the urgent help, in full, for her alone (the calm
    words and the numbers are the first message: bot/one_message.py)."""
    first = chat.turn[0]
    return (
        message_ids(first.reply)[:2] == [URGENT, HELP]
        and all(n in first.rendered.text for n in NUMBERS)
        and NOBODY_READS in first.rendered.text
        and first.reply.audience is Audience.PERSON
    )


def to_questions(chat: Chat) -> None:
    """Step 1, where typed text is a new question."""
    chat.send("/meny")
    chat.choose("Steg 1")


def to_new_question(chat: Chat) -> None:
    """Step 1's "Ny fråga"."""
    to_questions(chat)
    chat.choose("ny fråga")


def to_edit_question(chat: Chat) -> None:
    """Changing the first question (there is always one: the fixture writes it)."""
    to_questions(chat)
    chat.choose("Ändra")
    chat.send("1")
    assert chat.said("youth.question.edit_ask")


def to_view(chat: Chat) -> None:
    """Step 2, the first part of "min bild"."""
    chat.send("/meny")
    chat.choose("Steg 2")


def to_view_hard(chat: Chat) -> None:
    """Step 2, its second part (what is hard)."""
    to_view(chat)
    chat.choose("Hoppa över")
    assert chat.said("youth.view.hard")


# Each free-text step: how to get there, and the message the step answers with as usual.
FreeTextStep = tuple[Callable[[Chat], None], str]
STEPS: dict[str, FreeTextStep] = {
    "typed in step 1": (to_questions, "youth.question.saved"),
    "new question": (to_new_question, "youth.question.saved"),
    "changed question": (to_edit_question, "youth.question.changed"),
    "min bild, what works": (to_view, "youth.view.saved"),
    "min bild, what is hard": (to_view_hard, "youth.view.saved"),
}


@pytest.fixture(params=sorted(STEPS))
def step(request: pytest.FixtureRequest, alex: Chat) -> Iterator[FreeTextStep]:
    """One free-text step, with a question already written (so there is one to change)."""
    to_new_question(alex)
    alex.send("Hur länge är mötet?")
    yield STEPS[request.param]


def test_every_phrase_gets_help_first_and_the_step_goes_on_with_nothing_more_stored(
    alex: Chat, sessions: sessionmaker[Session], step: FreeTextStep
) -> None:
    go_to, saved = step
    # What an ordinary sentence stores here, to compare each phrase with (the second one: the
    # first part of "min bild" written is a new row, the next ones replace it).
    go_to(alex)
    alex.send("Jag vet inte.")
    go_to(alex)
    before = counts(sessions)
    alex.send("Jag gillar fotboll.")
    assert alex.said(saved) and not alex.said(HELP)
    ordinary = counts(sessions) - before
    for phrase in DANGER_PHRASES:
        go_to(alex)
        before = counts(sessions)
        alex.send(f"Jag vet inte. {phrase}")
        assert helped(alex), phrase
        # The step's own answer follows, as for any sentence: her words are saved as always.
        assert alex.said(saved), phrase
        stored = counts(sessions) - before
        # The same rows as an ordinary sentence: the help is the first part of the step's
        # one message (bot/one_message.py), which `helped` read above.
        assert stored == ordinary, phrase
    assert outbox_chats(sessions) == {ALEX.chat_id}


def test_a_thousand_ordinary_sentences_get_no_help(
    alex: Chat, sessions: sessionmaker[Session]
) -> None:
    sentences = iter(ordinary_sentences())
    answered = 0
    for sentence in sentences:
        # Min bild takes three sentences in a row; then back to its start.
        to_view(alex)
        for text in (sentence, next(sentences, None), next(sentences, None)):
            if text is None:
                break
            alex.send(text)
            assert alex.ids()[0] == "youth.view.saved", text
            answered += 1
    assert answered == 1000
    assert {HELP, URGENT}.isdisjoint(s.message_id for s in alex.history)
    assert outbox_chats(sessions) == {ALEX.chat_id}


# --- where she finds it ------------------------------------------------------------------


def test_the_menu_offers_help_now_and_returns_to_the_menu(alex: Chat) -> None:
    assert "Behöver du hjälp nu?" in alex.choices()
    alex.choose("Behöver du hjälp nu?")
    assert alex.ids() == [HELP]
    text = alex.text()
    for number in NUMBERS:
        assert number in text
    assert "Ring 112" in text and NOBODY_READS in text
    alex.choose("Tillbaka")
    assert alex.ids() == ["youth.menu"]


def test_help_lists_the_commands_and_points_to_help_now(alex: Chat) -> None:
    alex.send("/hjälp")
    text = alex.text()
    assert "/meny: till menyn" in text and "/glommig" in text
    assert "Behöver du hjälp nu? Välj det i menyn. Är någon i fara, ring 112." in text


def test_caregivers_help_has_no_youth_line(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    parent = Chat(sessions, catalogue, clock, ConversationRef(PLATFORM, "sam", "sam"))
    parent.send(f"/start {case.caregiver_code}")
    parent.send("/hjälp")
    assert "Behöver du hjälp nu?" not in parent.text()


def test_danger_words_typed_at_the_menu_get_help_before_not_understood(alex: Chat) -> None:
    alex.send("jag vill dö")
    assert alex.ids() == [URGENT, HELP, "common.not_understood", "youth.menu"]


def test_in_the_family_group_the_adults_see_no_help_message_only_the_pointer(
    alex: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    # Her preparation never runs in a group (flows/private_chat.py): a help message there would
    # tell the adults what she wrote. The pointer sends her to the private chat, where the
    # menu has the help.
    group = Chat(sessions, catalogue, clock, ConversationRef(PLATFORM, "family", ALEX.user_id))
    group.send("jag vill dö")
    assert group.ids() == ["youth.private_only"]
    assert outbox_chats(sessions) == {ALEX.chat_id, "family"}
    with sessions() as session:
        in_group = session.scalars(select(Outbox.message_id).where(Outbox.chat_id == "family"))
        assert {URGENT, HELP}.isdisjoint(in_group)
