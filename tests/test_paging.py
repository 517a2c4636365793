"""Long lists a page at a time: a coordinator with 150 cases never gets more buttons than
Telegram takes (100), and can still reach and open every one of them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.telegram.transport import keyboard
from flows.conversation import ConversationRef
from flows.engine import FlowState
from flows.paging import PAGE_SIZE, Pages, page_of
from flows.replies import Choice, say
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, coordinator_code

TELEGRAM_BUTTON_LIMIT = 100
CASES = 150


def _maria_with_cases(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> Chat:
    """Maria, a coordinator of 150 open cases (K-1 … K-150, young people Ung1 … Ung150)."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(maria.ref)
        assert actor is not None
        for n in range(1, CASES + 1):
            uow.coordination.open_case(actor.person_id, f"Ung{n}", clock.now)
        uow.commit()
    maria.send("/meny")
    return maria


def _buttons(maria: Chat) -> int:
    """How many buttons Telegram would get for the last message with choices."""
    last = next(s for s in reversed(maria.history) if s.rendered.choices)
    made = keyboard(last.rendered.choices)
    assert made is not None
    return sum(len(row) for row in made.markup.inline_keyboard)


def test_150_cases_come_a_page_at_a_time_and_the_150th_opens(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = _maria_with_cases(sessions, catalogue, clock)
    maria.choose("Byt ärende")
    assert maria.ids() == ["coord.cases_list"]
    shown = maria.turn[-1].reply.choices
    assert len(shown) <= TELEGRAM_BUTTON_LIMIT
    assert _buttons(maria) <= TELEGRAM_BUTTON_LIMIT
    # The first page: ten cases, then the way on, and the fixed choices at the bottom.
    assert maria.choices()[:PAGE_SIZE] == [f"K-{n} – Ung{n}" for n in range(1, PAGE_SIZE + 1)]
    assert maria.choices()[PAGE_SIZE:] == [
        "Fler – sida 2 av 15",
        "Öppna ett nytt ärende",
        "Till ärendet",
    ]

    # She pages to the end; every page stays well within the limit.
    seen = set(maria.choices()[:PAGE_SIZE])
    for page in range(2, 16):
        maria.choose(f"Fler – sida {page} av 15")
        assert maria.ids() == ["coord.cases_list"]
        assert _buttons(maria) <= PAGE_SIZE + 4
        seen |= {label for label in maria.choices() if label.startswith("K-")}
    assert "Fler" not in " ".join(maria.choices())
    assert "Föregående – sida 14 av 15" in maria.choices()
    assert seen == {f"K-{n} – Ung{n}" for n in range(1, CASES + 1)}

    maria.choose("K-150 – Ung150")
    assert maria.text() == "Nu arbetar du i ärende K-150."
    maria.choose("Till ärendet")
    assert "K-150" in maria.text() and "Ung150" in maria.text()


def test_a_number_typed_on_page_2_picks_what_page_2_shows(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = _maria_with_cases(sessions, catalogue, clock)
    maria.choose("Byt ärende")
    maria.send(str(PAGE_SIZE + 1))  # "Fler", typed as in a terminal or a Matrix room
    assert maria.choices()[2] == "K-13 – Ung13"
    maria.send("3")
    assert maria.text() == "Nu arbetar du i ärende K-13."

    # Back a page.
    maria.choose("Till ärendet")
    maria.choose("Byt ärende")
    maria.choose("Fler")
    maria.choose("Föregående")
    assert maria.choices()[0] == "K-1 – Ung1"


def test_a_case_on_an_older_page_still_opens_when_tapped(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = _maria_with_cases(sessions, catalogue, clock)
    maria.choose("Byt ärende")
    first_page = [c.id for c in maria.turn[-1].reply.choices if c.id.startswith("c:")]
    maria.choose("Fler")
    # A button of page 1's message, still on her screen higher up.
    maria.tap(first_page[4])
    assert maria.text() == "Nu arbetar du i ärende K-5."


def test_a_short_list_is_not_paged() -> None:
    reply = say("coord.cases_list", *(Choice(f"c:{n}", "x") for n in range(PAGE_SIZE)))
    assert page_of(reply, 1) == reply


def test_every_item_is_on_exactly_one_page_with_the_fixed_choices_on_each() -> None:
    items = [Choice(f"a:{n}", "coord.plan_item") for n in range(1, 24)]
    paste, add, home = Choice("paste", "x"), Choice("add", "x"), Choice("home", "x")
    reply = say("coord.plan", paste, add, *items, home, count=23)
    pages = [page_of(reply, n).choices for n in (1, 2, 3)]
    for shown in pages:
        assert shown[:2] == (paste, add) and shown[-1] == home
    on_pages = [c for shown in pages for c in shown if c.id.startswith("a:")]
    assert on_pages == items
    # Page numbers out of range show the nearest page.
    assert page_of(reply, 9) == page_of(reply, 3)
    assert page_of(reply, 0) == page_of(reply, 1)


def _saved_state(sessions: sessionmaker[Session], ref: ConversationRef) -> FlowState:
    """The conversation state as the next event will load it."""
    with UnitOfWork(sessions) as uow:
        loaded = uow.conversations.load(ref)
    assert loaded is not None
    return loaded[0]


def test_a_state_stored_before_paging_still_loads(sessions: sessionmaker[Session]) -> None:
    ref = ConversationRef(PLATFORM, "old", "old")
    with UnitOfWork(sessions) as uow:
        # A row exactly as the code before paging wrote it: no pages in its data.
        uow.session.execute(
            insert(m.ConversationState).values(
                platform=ref.platform,
                chat_id=ref.chat_id,
                user_id=ref.user_id,
                flow="coordinator",
                step="cases",
                data={"action_id": 7},
                offered=["c:1", "home"],
                paused=False,
                version=1,
                updated_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )
        uow.commit()
    state = _saved_state(sessions, ref)
    assert state == FlowState("coordinator", "cases", {"action_id": 7}, ("c:1", "home"))
    assert state.pages is None


def test_the_whole_list_is_kept_with_the_state_and_out_of_the_flows_data(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = _maria_with_cases(sessions, catalogue, clock)
    maria.choose("Byt ärende")
    maria.choose("Fler")
    state = _saved_state(sessions, maria.ref)
    assert isinstance(state.pages, Pages) and state.pages.page == 2
    assert len(state.pages.reply.choices) == CASES + 2
    assert state.data == {}
    # What is on screen is what a typed number reads.
    assert state.offered == tuple(c.id for c in maria.turn[-1].reply.choices)


def test_help_on_page_3_shows_page_3_again(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = _maria_with_cases(sessions, catalogue, clock)
    maria.choose("Byt ärende")
    maria.choose("Fler")
    maria.choose("Fler")
    maria.send("/hjälp")
    assert maria.ids() == ["coord.help", "common.commands", "coord.cases_list"]
    assert maria.choices()[0] == "K-21 – Ung21"
