"""The plan for the family: the young person and the caregivers see who does what, by when,
and how it is going; a caregiver answers the family's own actions with one tap."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, code_in, coordinator_code, run_tick

PLAN = (
    "BUP: Boka utredning — 15 dec\n"
    "Familjen: Ansök om bostadsbidrag — 24 nov\n"
    "Skolan: Anpassa schemat — 10 dec"
)


def _invite(maria: Chat, role: str, name: str) -> str:
    """Maria invites someone of this role to the case she is in; their code."""
    maria.send("/meny")
    maria.choose("Bjud in")
    maria.choose(role)
    maria.send(name)
    return code_in(maria.text())


@pytest.fixture
def family(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> dict[str, Chat]:
    """Case K-1 with a plan: Maria coordinates, Kim is Alex's caregiver; codes for Alex."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    case_with_plan(maria, "Alex", PLAN)
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {_invite(maria, 'Vårdnadshavare', 'Kim')}")
    return {"maria": maria, "kim": kim}


def test_a_caregiver_reminded_of_a_family_action_marks_it_done_with_one_tap(
    family: dict[str, Chat], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    kim, maria = family["kim"], family["maria"]
    clock.advance(days=1)  # Tuesday 24 November: the family's action is due today
    run_tick(sessions, clock)
    kim.receive()
    assert "ska vara klar i dag" in kim.text()
    assert kim.choices() == ["Visa mina åtgärder"]
    kim.tap("n:actions")
    assert "Det förstod jag inte" not in kim.text()
    assert kim.ids() == ["plan.family"]
    assert "Ansök om bostadsbidrag" in kim.text()
    kim.choose("Ansök om bostadsbidrag")
    assert kim.ids() == ["status.pick"]
    kim.choose("Klar")
    kim.choose("Ingen kommentar")
    assert kim.ids() == ["status.saved", "plan.family"]
    assert "klar" in kim.text().lower()
    maria.send("/meny")
    maria.choose("Planen")
    line = next(c for c in maria.choices() if "Ansök om bostadsbidrag" in c)
    assert line.startswith("✅"), "the coordinator's plan shows it done"


def test_the_young_person_opens_the_plan_and_sees_who_does_what_by_when(
    family: dict[str, Chat],
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {_invite(family['maria'], 'Den unga personen', 'Alex')}")
    assert alex.ids()[-1] == "youth.menu"
    assert any("Planen" in c for c in alex.choices()), "the plan is in her menu"
    alex.send("/plan")
    assert alex.ids() == ["plan.family"]
    text = alex.text()
    for what, who, when in (
        ("Boka utredning", "BUP", "15 december"),
        ("Ansök om bostadsbidrag", "Familjen", "24 november"),
        ("Anpassa schemat", "Skolan", "10 december"),
    ):
        line = next(x for x in text.splitlines() if what in x)
        assert who.lower() in line.lower() and when in line, line
    assert alex.choices() == ["Tillbaka"], "she owns no action: nothing to answer"
    alex.choose("Tillbaka")
    assert alex.ids() == ["youth.menu"]


def test_without_consent_the_young_person_gets_the_consent_question_not_the_plan(
    family: dict[str, Chat],
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    ref = ConversationRef(PLATFORM, "alex", "alex")
    alex = Chat(sessions, catalogue, clock, ref, auto_consent=False)
    alex.send(f"/start {_invite(family['maria'], 'Den unga personen', 'Alex')}")
    alex.send("/plan")
    assert alex.ids() and all(i.startswith("consent.") for i in alex.ids()), alex.ids()
    assert "Boka utredning" not in alex.text()


def test_the_plan_in_the_family_group_gives_only_the_pointer(
    family: dict[str, Chat],
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    group = Chat.for_user(sessions, catalogue, clock, user="kim", chat="family-group")
    group.send("/plan")
    assert group.ids() == ["common.private_only"]
    assert "Ansök" not in group.text()


def test_staff_are_pointed_to_their_own_plan(family: dict[str, Chat]) -> None:
    maria = family["maria"]
    maria.send("/plan")
    assert maria.ids()[0] == "plan.not_here.coordinator"


@pytest.mark.parametrize(("answer", "told"), [("Klar", "klar"), ("Hinder", "hinder")])
def test_the_family_is_told_in_neutral_words_when_an_action_is_done_or_blocked(
    family: dict[str, Chat],
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    answer: str,
    told: str,
) -> None:
    maria, kim = family["maria"], family["kim"]
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {_invite(maria, 'Den unga personen', 'Alex')}")
    maria.send("/meny")
    maria.choose("Planen")
    maria.choose("Boka utredning")
    maria.choose("Lägesrapport")
    maria.choose(answer)
    if answer == "Hinder":
        maria.send("Väntar på remissen")
    maria.choose("Ingen kommentar")
    assert maria.said("status.saved")
    for person in (alex, kim):
        person.receive()
        assert person.ids() == ["plan.told"], person.ids()
        text = person.text()
        assert told in text.lower()
        assert "Boka utredning" not in text and "BUP" not in text and "remissen" not in text
        person.choose("Visa planen")
        assert person.ids() == ["plan.family"]
    assert maria.receive() == [], "who answered is not told"


def test_a_caregiver_marking_a_family_action_done_tells_the_young_person_not_herself(
    family: dict[str, Chat], sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    kim = family["kim"]
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {_invite(family['maria'], 'Den unga personen', 'Alex')}")
    kim.send("/plan")
    kim.choose("Ansök om bostadsbidrag")
    kim.choose("Klar")
    kim.choose("Ingen kommentar")
    assert kim.ids() == ["status.saved", "plan.family"]
    assert [s.message_id for s in alex.receive()] == ["plan.told"]
    assert kim.receive() == []
