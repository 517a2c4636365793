"""A professional answers about the actions they own: one tap, a reason, a new date, a note."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.coordination import ActionStatus, Owner, OwnerKind
from storage import models as m
from storage.access import AccessDenied, Purpose
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code


@pytest.fixture
def sara(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Sara from BUP in two cases, K-1 (two actions for BUP, one for the family) and K-2."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    first = case_with_plan(
        maria,
        "Alex",
        "BUP: Boka utredning — 15 dec\nBUP: Skicka remiss — 1 dec\nFamiljen: Ansök — 20 dec",
    )
    second = case_with_plan(maria, "Robin", "BUP: Läkarintyg — 10 dec")
    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {first}")
    sara.send(f"/start {second}")
    sara.send("/meny")
    return sara


def test_the_list_shows_every_open_action_across_cases_soonest_first(sara: Chat) -> None:
    assert sara.ids() == ["pro.home"]
    assert "Du har 3 öppna åtgärder" in sara.text()
    assert sara.choices() == [
        "K-1: Skicka remiss (tisdag 1 december)",
        "K-2: Läkarintyg (torsdag 10 december)",
        "K-1: Boka utredning (tisdag 15 december)",
        "Visa igen",
        "Jag kan inte komma",
    ]


def test_blocked_asks_why_and_keeps_the_reason_and_the_note(
    sara: Chat, sessions: sessionmaker[Session]
) -> None:
    sara.choose("Skicka remiss")
    sara.choose("Hinder")
    assert sara.ids() == ["status.reason_ask"]
    sara.send("Väntar på samtycke")
    sara.send("Frågar igen på fredag")
    assert sara.ids() == ["status.saved", "pro.home"]
    with UnitOfWork(sessions) as uow:
        action = next(
            a
            for a in uow.coordination.actions(1, uow.gate.for_system(Purpose.OPERATOR))
            if a.description == "Skicka remiss"
        )
        sara_id = uow.members.actor_for(sara.ref).person_id  # type: ignore[union-attr]
        full = uow.coordination.action(action.id, sara_id)
    assert full is not None and full.status is ActionStatus.BLOCKED
    assert [(u.status, u.note, u.author) for u in full.history][-1] == (
        ActionStatus.BLOCKED,
        "Väntar på samtycke\nFrågar igen på fredag",
        "Sara",
    )


def test_in_progress_and_a_new_date_in_words(sara: Chat, sessions: sessionmaker[Session]) -> None:
    sara.choose("Läkarintyg")
    sara.choose("Pågår")
    sara.choose("Ingen kommentar")
    sara.choose("Läkarintyg")
    sara.choose("Nytt datum")
    sara.send("31 nov")
    assert sara.ids() == ["status.date_unknown", "status.date_ask"]
    sara.send("2026-01-01")
    assert sara.ids() == ["status.date_out_of_range", "status.date_ask"]
    sara.send("nästa fredag")
    sara.choose("Ingen kommentar")
    assert "Tack! Sparat: pågår, nytt datum fredag 4 december." in sara.text()
    with UnitOfWork(sessions) as uow:
        (action,) = uow.coordination.actions(2, uow.gate.for_system(Purpose.OPERATOR))
    assert action.status is ActionStatus.IN_PROGRESS and action.due == date(2026, 12, 4)


def test_done_actions_leave_the_list_and_back_changes_nothing(
    sara: Chat, sessions: sessionmaker[Session]
) -> None:
    sara.choose("Boka utredning")
    sara.choose("Tillbaka")
    assert sara.ids() == ["pro.home"] and len(sara.choices()) == 5
    sara.choose("Boka utredning")
    sara.choose("Klar")
    sara.choose("Ingen kommentar")
    assert "Du har 2 öppna åtgärder" in sara.text()


def test_someone_elses_action_cannot_be_answered(
    sara: Chat, sessions: sessionmaker[Session]
) -> None:
    with UnitOfWork(sessions) as uow:
        family = next(
            a
            for a in uow.coordination.actions(1, uow.gate.for_system(Purpose.OPERATOR))
            if a.description == "Ansök"
        )
        sara_id = uow.members.actor_for(sara.ref).person_id  # type: ignore[union-attr]
        assert not uow.coordination.may_update(family.id, sara_id)
    sara.tap(f"a:{family.id}")
    assert sara.ids() == ["common.stale_choice", "pro.home"]
    # The gate itself refuses, whatever a flow asks: only an owner or the coordinator.
    denied = pytest.raises(AccessDenied, match="owner or the case's coordinator")
    with UnitOfWork(sessions) as uow, denied:
        uow.coordination.record_update(
            family.id,
            sara_id,
            ActionStatus.DONE,
            None,
            None,
            datetime(2026, 11, 23, tzinfo=UTC),
        )


def test_a_status_reply_for_an_action_given_to_someone_else_is_refused_in_words(
    sara: Chat, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    sara.choose("Skicka remiss")
    sara.choose("Klar")
    assert sara.ids() == ["status.note_ask"]
    # Meanwhile Maria gives the action to the family: Sara no longer owns it.
    with UnitOfWork(sessions) as uow:
        (maria_id,) = uow.families.coordinators(1)
        action = next(
            a for a in uow.coordination.actions(1, maria_id) if a.description == "Skicka remiss"
        )
        family = Owner(OwnerKind.FAMILY, None, "")
        assert uow.coordination.change_action(action.id, maria_id, clock.now, owner=family)
        uow.commit()
    sara.choose("Ingen kommentar")
    assert sara.ids() == ["status.not_yours", "pro.home"]
    assert "Den åtgärden är inte din" in sara.text()
    assert "Skicka remiss" not in sara.text()
    with UnitOfWork(sessions) as uow:
        still = uow.coordination.action(action.id, maria_id)
    assert still is not None and still.status is ActionStatus.OPEN, "nothing was saved"


def test_a_professional_of_another_case_sees_nothing_of_this_plan(
    sara: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        (maria_id,) = uow.families.coordinators(2)
        (robins,) = uow.coordination.actions(2, maria_id)
        (alex_first, *_) = uow.coordination.actions(1, maria_id)
        sara_id = uow.members.actor_for(sara.ref).person_id  # type: ignore[union-attr]
        # Sara leaves K-2: Robin's plan no longer exists for her, not even by id.
        uow.session.execute(
            update(m.Membership)
            .where(m.Membership.person_id == sara_id, m.Membership.case_id == 2)
            .values(active=False)
        )
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.coordination.action(robins.id, sara_id) is None
        assert uow.coordination.action(alex_first.id, sara_id) is not None
        with pytest.raises(AccessDenied):
            uow.coordination.actions(2, sara_id)
        assert all(a.case_id == 1 for a in uow.coordination.actions_owned_by(sara_id))
