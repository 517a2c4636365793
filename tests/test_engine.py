"""The engine on in-memory ports: pure flow tests, no database, no network, no catalogue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.conversation import ChoiceMade, ConversationRef, Event, Resume, parse_text
from flows.domain import Role
from flows.engine import FlowState, Notice, Transition
from flows.replies import say
from flows.wiring import default_engine
from testkit.memory import MemoryPorts

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
REF = ConversationRef("test", "u1", "u1")


class Walk:
    """Steps the engine like an adapter would, keeping the state between events."""

    def __init__(self) -> None:
        self.ports = MemoryPorts()
        self.case = self.ports.world.case()
        self.ports.world.invite("KOD", self.case.id, Role.YOUTH, "Alex")
        self.state: FlowState | None = None
        self.last: Transition | None = None

    def send(self, text: str) -> list[str]:
        return self.event(parse_text(text))

    def event(self, event: Event) -> list[str]:
        self.last = default_engine().step(self.state, event, ref=REF, now=NOW, ports=self.ports)
        self.state = self.last.state
        return [r.message for r in self.last.replies]


def test_a_stranger_is_asked_for_a_code_whatever_they_write() -> None:
    walk = Walk()
    assert walk.send("hej") == ["onboarding.need_code"]
    assert walk.send("/hjälp") == ["onboarding.help"]
    assert walk.send("/start FEL") == ["join.unknown"]
    assert walk.ports.world.chat_users == {}


def test_joining_opens_the_role_flow_and_offers_its_choices() -> None:
    walk = Walk()
    assert walk.send("/start KOD") == ["join.joined", "youth.menu"]
    assert walk.state is not None
    assert walk.state.flow == "youth_prep"
    assert walk.state.offered == (
        "about",
        "questions",
        "view",
        "participation",
        "review",
        "meeting:open",
        "plan:open",
        "needs:open",
        "request:open",
        "absent:open",
        "matter:open",
        "language:open",
        "help_now:open",
        "pause",
    )


def test_a_typed_number_is_the_offered_choice_with_that_number() -> None:
    walk = Walk()
    walk.send("/start KOD")
    assert walk.send("2") == ["youth.questions"]
    assert walk.send("1") == ["youth.question.ask"]


def test_numbers_beyond_the_offered_choices_are_plain_text() -> None:
    walk = Walk()
    walk.send("/start KOD")
    assert walk.send("15") == ["common.not_understood", "youth.menu"]


def test_a_button_that_is_no_longer_offered_changes_nothing() -> None:
    walk = Walk()
    walk.send("/start KOD")
    walk.send("2")
    before = walk.state
    assert walk.event(ChoiceMade("about")) == ["common.stale_choice", "youth.questions"]
    assert walk.state is not None and before is not None
    assert walk.state.step == before.step


def test_pause_then_any_event_resumes_at_the_same_step() -> None:
    walk = Walk()
    walk.send("/start KOD")
    walk.send("3")
    walk.send("Fotbollen")
    assert walk.send("/paus") == ["common.paused"]
    assert walk.state is not None and walk.state.paused
    assert walk.send("vad som helst") == ["common.welcome_back", "youth.view.hard"]
    assert walk.ports.preparation.items, "what was written before the pause is kept"


def test_a_restarted_adapter_resumes_where_the_user_was() -> None:
    walk = Walk()
    walk.send("/start KOD")
    walk.send("2")
    walk.send("1")
    assert walk.event(Resume()) == ["common.welcome_back", "youth.question.ask"]


def test_menu_and_unknown_commands_work_everywhere() -> None:
    walk = Walk()
    walk.send("/start KOD")
    walk.send("2")
    assert walk.send("/meny") == ["youth.menu"]
    assert walk.send("/rm") == ["common.unknown_command", "youth.menu"]


def test_help_names_the_current_step() -> None:
    walk = Walk()
    walk.send("/start KOD")
    walk.send("3")
    assert walk.send("/hjälp") == ["youth.help.view", "common.commands", "youth.view.works"]


def test_the_menu_shows_the_next_meeting_only_before_it_starts() -> None:
    walk = Walk()
    meeting = walk.ports.world.meeting(walk.case.id, NOW + timedelta(days=7), 90)
    walk.send("/start KOD")
    assert walk.last is not None
    assert walk.last.replies[-1].params["meeting_at"] == NOW + timedelta(days=7)
    meeting.starts_at = NOW - timedelta(hours=1)
    walk.send("/meny")
    assert walk.last.replies[-1].params["meeting_at"] is None


def test_a_notice_goes_to_exactly_one_of_a_person_or_a_chat() -> None:
    Notice(say("x"), person_id=1)
    Notice(say("x"), chat=REF)
    with pytest.raises(ValueError):
        Notice(say("x"))
    with pytest.raises(ValueError):
        Notice(say("x"), person_id=1, chat=REF)
