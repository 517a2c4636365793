"""The coordinator's chat: the plan by hand and by paste, changing actions, meetings, cases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.coordination import ActionStatus
from flows.domain import Role
from flows.picture_loop import OPEN_CHOICE
from storage import models as m
from storage.access import Purpose
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, code_in, coordinator_code


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """A coordinator in her new case K-1 (BUP takes part), at the case menu."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("BUP")
    maria.choose("Till ärendet")
    assert maria.ids() == ["coord.home"]
    return maria


def history(sessions: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    """(status, note) of every update of every action, in order."""
    with UnitOfWork(sessions) as uow:
        rows = uow.session.execute(
            select(m.ActionUpdate.status, m.ActionUpdate.note).order_by(m.ActionUpdate.id)
        ).all()
    return [(s, n) for s, n in rows]


def test_an_action_is_added_step_by_step(maria: Chat, sessions: sessionmaker[Session]) -> None:
    maria.choose("Planen")
    maria.choose("Lägg till en åtgärd")
    assert maria.choices() == ["BUP", "Maria", "Familjen", "Avbryt"]
    maria.choose("BUP")
    maria.send("Boka utredning")
    maria.send("snart")
    assert maria.ids() == ["status.date_unknown", "coord.add_date_ask"]
    maria.send("15 dec")
    assert maria.ids() == ["coord.plan_added", "coord.plan"]
    assert "○ Boka utredning (BUP)" in maria.choices()


def test_a_paste_with_mistakes_names_the_lines_and_adds_nothing(
    maria: Chat, sessions: sessionmaker[Session]
) -> None:
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send("BUP: Boka utredning — 15 dec\nSkolan schema 15 dec\nFamiljen: Ansök — sen")
    assert maria.ids() == ["coord.paste_problems"]
    assert "Rad 2: ingen ansvarig före kolon" in maria.text()
    assert "Rad 3: datumet förstod jag inte" in maria.text()
    with UnitOfWork(sessions) as uow:
        assert uow.coordination.actions(1, uow.gate.for_system(Purpose.OPERATOR)) == []


def test_saying_no_to_the_pasted_plan_drops_it(
    maria: Chat, sessions: sessionmaker[Session]
) -> None:
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send("BUP: Boka utredning — 15 dec")
    maria.choose("Nej, släng")
    assert maria.ids() == ["coord.paste_dropped", "coord.plan"]
    with UnitOfWork(sessions) as uow:
        assert uow.coordination.actions(1, uow.gate.for_system(Purpose.OPERATOR)) == []


def test_an_action_is_edited_reassigned_given_a_status_and_cancelled_with_history_kept(
    maria: Chat, sessions: sessionmaker[Session]
) -> None:
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send("BUP: Boka utredning — 15 dec")
    maria.choose("Ja")
    maria.choose("Boka utredning")
    assert maria.ids() == ["coord.action"]
    maria.choose("Ändra texten")
    maria.send("Boka neuropsykiatrisk utredning")
    assert maria.ids() == ["coord.action_changed", "coord.action"]
    maria.choose("Byt ansvarig")
    maria.choose("Familjen")
    assert "Ny ansvarig: Familjen." in maria.text()
    maria.choose("Lägesrapport")
    maria.choose("Hinder")
    maria.send("Väntar på remiss från vårdcentralen")
    maria.choose("Ingen kommentar")
    assert maria.ids() == ["status.saved", "coord.plan"]
    maria.choose("Boka neuropsykiatrisk")
    assert "hinder – ”Väntar på remiss från vårdcentralen”" in maria.text()
    maria.choose("Stryk åtgärden")
    maria.choose("Ja, stryk")
    assert maria.ids() == ["coord.action_cancelled", "coord.plan"]
    assert "coord.plan" in maria.ids() and len(maria.choices()) == 3  # paste, add, home
    assert history(sessions) == [
        ("open", None),
        ("open", None),
        ("blocked", "Väntar på remiss från vårdcentralen"),
        ("cancelled", None),
    ]
    with UnitOfWork(sessions) as uow:
        (action,) = uow.coordination.actions(1, uow.gate.for_system(Purpose.OPERATOR))
    assert action.status is ActionStatus.CANCELLED and action.owner.name == ""


def test_a_single_meeting_needs_a_future_time_and_a_real_link(maria: Chat) -> None:
    maria.choose("Boka möte")
    maria.send("någon gång")
    assert maria.ids() == ["coord.meeting_unknown", "coord.meeting_ask"]
    maria.send("2026-11-01 10.00")
    assert maria.ids() == ["coord.meeting_past", "coord.meeting_ask"]
    maria.send("15 dec 13.00")
    maria.send("javascript:alert(1)")
    assert maria.ids() == ["coord.meeting_bad_link", "coord.meeting_link_ask"]
    maria.choose("Ingen länk")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert "Mötet är bokat tisdag 15 december kl. 13.00." in maria.text()
    assert "Nästa möte: tisdag 15 december kl. 13.00." in maria.text()


def test_the_agenda_is_there_on_demand_with_open_actions_carried_over(maria: Chat) -> None:
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send("BUP: Boka utredning — 15 dec")
    maria.choose("Ja")
    maria.choose("Till ärendet")
    maria.choose("Dagordning")
    assert maria.ids() == ["coord.agenda", "coord.home"]
    assert "Ingen har delat något än." in maria.text()
    assert "• Boka utredning (BUP, senast tisdag 15 december)" in maria.text()
    document = maria.turn[0].rendered.file
    assert document is not None
    html = document.data.decode()
    assert "Öppna åtgärder från tidigare möten" in html
    assert "Boka utredning – BUP, senast tisdag 15 december (ej påbörjad)" in html
    assert html.rstrip().endswith("</html>")


def test_the_coordinator_publishes_the_shared_picture_and_the_family_is_asked(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        case = uow.cases.find_case("K-1")
        assert case is not None
        code = uow.cases.create_invite(case.id, Role.YOUTH, "Alex", clock.now)
        uow.commit()
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {code}")

    maria.choose("Skriv gemensam bild")
    assert maria.ids() == ["coord.picture.ask"]
    assert "version 1" in maria.text()
    maria.send("Alex trivs på fotbollen men sover dåligt.")
    assert maria.ids() == ["coord.picture.confirm"]
    assert "Alex trivs på fotbollen men sover dåligt." in maria.text()
    maria.choose("Publicera")
    assert maria.ids() == ["coord.picture.published", "coord.home"]
    assert "Version 1 är publicerad. 1 mottagare" in maria.text()

    assert [s.message_id for s in alex.receive()] == ["picture.published"]
    alex.tap(OPEN_CHOICE)  # the notice's "Läs och svara" button
    assert alex.ids() == ["picture.show"]
    assert "Alex trivs på fotbollen men sover dåligt." in alex.text()


def test_a_shared_picture_is_not_published_without_a_yes(
    maria: Chat, sessions: sessionmaker[Session]
) -> None:
    maria.choose("Skriv gemensam bild")
    maria.send("Ett utkast")
    maria.choose("Avbryt")
    assert maria.ids() == ["coord.picture.not_published", "coord.home"]
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(m.SharedPicture)).all() == []


def test_a_coordinator_switches_between_cases_and_closes_one(
    maria: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria.choose("Byt ärende")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Robin")
    maria.choose("Till ärendet")
    assert "Ärende K-2" in maria.text()
    maria.choose("Byt ärende")
    maria.choose("K-1 – Alex")
    maria.choose("Till ärendet")
    assert "Ärende K-1" in maria.text()
    maria.choose("Bjud in")
    maria.choose("Vårdnadshavare")
    maria.send("Kim")
    code = code_in(maria.text())
    maria.choose("Stäng ärendet")
    maria.choose("Ja, stäng")
    assert maria.ids() == ["coord.closed"]
    maria.choose("Till ärendet")
    assert "Ärende K-2" in maria.text(), "the other open case is shown"
    with UnitOfWork(sessions) as uow:
        assert uow.session.get_one(m.Case, 1).status == "closed"
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {code}")
    assert kim.ids() == ["join.expired"], "a closed case takes nobody in"


def test_names_are_first_names_only(maria: Chat) -> None:
    maria.choose("Bjud in")
    maria.choose("Den unga personen")
    maria.send("Alex Svensson Berg")
    assert maria.ids() == ["coord.name_rules", "coord.invite_name_ask"]
    maria.send("19080412-1234")
    assert maria.ids() == ["coord.personnummer", "coord.invite_name_ask"]


def test_a_pasted_owner_may_be_the_first_word_of_an_organisations_name(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    # The case has "BUP Storstad"; a coordinator writes "BUP:" and means it, as people do.
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("BUP Storstad")
    maria.choose("Till ärendet")
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send("BUP: Boka utredning — 15 dec")
    assert "ny verksamhet" not in maria.text().lower()
    maria.choose("Ja")
    assert "○ Boka utredning (BUP Storstad)" in maria.choices()
    with UnitOfWork(sessions) as uow:
        names = uow.session.scalars(select(m.Organisation.name)).all()
    assert sorted(names).count("BUP") == 0, "no second organisation called BUP"
