"""Sidetracks: short flows any member opens from anywhere, and how the engine returns from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ChoiceMade, ConversationRef, TextMessage
from flows.domain import Role
from flows.engine import FlowState, Notice
from flows.family_domain import PictureInfo, Verdict
from flows.wiring import default_engine
from testkit.memory import MemoryPorts
from testkit.memory.families import StoredPicture
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, publish, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting and a published shared picture."""
    seeded = seed_family_case(sessions, clock.now)
    publish(sessions, seeded, "Alex vill ha hjälp med sömnen.", clock.now)
    return seeded


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """Alex has joined and is in the middle of writing a question."""
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send(f"/start {case.youth_code}")
    chat.choose("Mina frågor")
    chat.choose("Skriv en ny fråga")
    return chat


def test_help_in_a_sidetrack_explains_the_sidetrack(alex: Chat) -> None:
    alex.send("/mote")
    alex.send("/hjälp")
    assert alex.ids() == ["meeting.help", "common.commands", "meeting.info"]


def test_a_pause_in_a_sidetrack_resumes_there(alex: Chat) -> None:
    alex.send("/bild")
    alex.send("/paus")
    assert alex.ids() == ["common.paused"]
    alex.send("hej")
    assert alex.ids() == ["common.welcome_back", "picture.show"]


def test_a_notice_button_opens_its_sidetrack_even_in_a_pause(alex: Chat) -> None:
    alex.send("/paus")
    alex.tap("picture:open")
    assert alex.ids() == ["picture.show"]


def test_menu_and_unknown_commands_inside_a_sidetrack(alex: Chat) -> None:
    alex.send("/nyttmote")
    alex.send("/hoppsan")
    assert alex.ids() == ["common.unknown_command", "request.ask"]
    alex.send("/meny")
    assert alex.ids() == ["youth.menu"]


def test_leaving_a_sidetrack_returns_to_the_own_flows_menu(alex: Chat) -> None:
    alex.send("/mote")
    alex.send("tack")
    assert alex.ids() == ["youth.menu"]
    alex.send("/sprak")
    alex.choose("Tillbaka")
    assert alex.ids() == ["youth.menu"]


def test_the_picture_loop_runs_on_in_memory_ports_and_addresses_the_coordinators() -> None:
    """No database: the answer is kept by the port, the alert is a notice to each coordinator."""
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    ports = MemoryPorts()
    case = ports.world.case()
    alex = ports.world.person("Alex", Role.YOUTH, case.id)
    ports.world.bind_chat(ALEX, alex.id)
    kim = ports.world.person("Kim", Role.COORDINATOR, case.id)
    sam = ports.world.person("Sam", Role.COORDINATOR, case.id)
    ports.families.pictures.append(StoredPicture(case.id, PictureInfo(3, 1, "Bilden.", now)))
    engine = default_engine()
    state: FlowState | None = None
    notices: tuple[Notice, ...] = ()
    for event in (ChoiceMade("picture:open"), ChoiceMade("disagree"), TextMessage("Fel.")):
        step = engine.step(state, event, ref=ALEX, now=now, ports=ports)
        state, notices = step.state, step.notices
    assert ports.families.answers[(3, alex.id)].verdict is Verdict.DISAGREE
    assert [(n.person_id, n.reply.message, n.reply.params["comment"]) for n in notices] == [
        (kim.id, "alert.picture", "Fel."),
        (sam.id, "alert.picture", "Fel."),
    ]
    assert state is not None and state.flow == "youth_prep"
