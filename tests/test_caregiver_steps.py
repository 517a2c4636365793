"""The caregiver preparation as a table of steps: the step names stored in conversations stay,
a group chat reads what is said on the way to a family prompt, and a nudge's button works
from any step."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.replies import Audience
from flows.steps import step_flows
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, seed_family_case


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with unused invites."""
    return seed_family_case(sessions, clock.now)


def test_every_step_a_stored_conversation_may_hold_is_still_a_step() -> None:
    """Conversation rows hold the step's name: renaming one would strand who is in it."""
    caregiver = next(flow for flow in step_flows() if flow.name == "caregiver_prep")
    assert set(caregiver.steps) == {
        "menu",
        "list",
        "add_kind",
        "add_text",
        "mine",
        "item",
        "edit",
        "delete",
        "share",
        "readers",
        "about",
    }


def test_in_the_group_what_is_said_before_the_menu_is_for_the_family_too(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    Chat.for_user(sessions, catalogue, clock, user="kim").send(f"/start {case.caregiver_codes[0]}")
    kim = Chat.for_user(sessions, catalogue, clock, user="kim", chat="family")
    kim.send("/meny")
    kim.send("hej")
    # Not a pointer to the private chat: "I did not understand" says nothing about anyone.
    assert kim.ids() == ["common.not_understood", "caregiver.menu"]
    # One message (bot/one_message.py), for the family: its narrowest part is for the family.
    assert [s.reply.audience for s in kim.turn] == [Audience.FAMILY]


def test_visa_mina_atgarder_opens_her_actions_from_the_middle_of_an_edit(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    kim.choose("Skriv något nytt")
    kim.choose("En fråga till mötet")
    kim.send("Hur får vi hjälp under loven?")
    kim.choose("Ändra det jag skrivit")
    kim.choose("Hur får vi hjälp")
    kim.choose("Ändra texten")
    assert kim.ids() == ["caregiver.edit_ask"]
    kim.tap("n:actions")
    assert "common.not_understood" not in kim.ids()
    with UnitOfWork(sessions) as uow:
        stored = uow.conversations.load(kim.ref)
    assert stored is not None and stored[0].flow == "family_plan"
