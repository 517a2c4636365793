"""Agendas and follow-up reports reach coordinators by themselves, the configured hours ahead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.nudge_config import ReportConfig
from bot.nudges import AgendaSource, FollowupReportSource
from flows.conversation import ConversationRef
from flows.domain import MeetingKind, Role
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM
from tests.conftest import FakeClock
from tests.coord_seed import chat, run_tick

DAY_AHEAD = ReportConfig(agenda_lead_hours=24, followup_lead_hours=24)


def _case(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    """K-1 with two coordinators, a first meeting in two days and a follow-up a week later."""
    with UnitOfWork(sessions) as uow:
        ids = []
        for name in ("maria", "nils"):
            person = uow.cases.add_person(name.title(), "sv", clock.now)
            uow.cases.link_identity(person.id, ConversationRef(PLATFORM, name, name))
            ids.append(person.id)
        case = uow.coordination.open_case(ids[0], "Alex", clock.now)
        uow.cases.add_member(case.id, ids[1], Role.COORDINATOR, clock.now)
        first = clock.now + timedelta(days=2)
        uow.coordination.schedule_meetings(
            case.id, MeetingKind.FIRST, [first], None, None, clock.now
        )
        follow_up = clock.now + timedelta(days=9)
        uow.coordination.schedule_meetings(
            case.id, MeetingKind.FOLLOW_UP, [follow_up], None, None, clock.now
        )
        uow.commit()


def test_the_agenda_comes_the_configured_hours_before_to_every_coordinator_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    _case(sessions, clock)
    maria, nils = (chat(sessions, catalogue, clock, n) for n in ("maria", "nils"))
    clock.advance(hours=23)  # 25 hours before the first meeting
    assert run_tick(sessions, clock, reports=DAY_AHEAD) == []
    clock.advance(hours=2)  # 23 hours before
    run_tick(sessions, clock, reports=DAY_AHEAD)
    run_tick(sessions, clock, reports=DAY_AHEAD)
    assert [s.message_id for s in maria.receive()] == ["coord.agenda"]
    assert [s.message_id for s in nils.receive()] == ["coord.agenda"]


def test_the_follow_up_report_comes_only_before_follow_up_meetings(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    _case(sessions, clock)
    maria = chat(sessions, catalogue, clock, "maria")
    clock.advance(days=1, hours=1)
    run_tick(sessions, clock, reports=DAY_AHEAD)
    assert [s.message_id for s in maria.receive()] == ["coord.agenda"]
    clock.advance(days=7)  # a day before the follow-up
    run_tick(sessions, clock, reports=DAY_AHEAD)
    received = [s.message_id for s in maria.receive()]
    assert sorted(received) == ["coord.agenda", "coord.report", "coord.report_timeline"]
    files = [s.rendered.file for s in maria.turn]
    assert all(f is not None for f in files)


def test_a_report_already_in_the_outbox_is_not_built_again_on_the_next_tick(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    _case(sessions, clock)
    chat(sessions, catalogue, clock, "maria")
    chat(sessions, catalogue, clock, "nils")
    clock.advance(days=8)  # a day before the follow-up (the first meeting is past)
    agendas, reports = AgendaSource(DAY_AHEAD), FollowupReportSource(DAY_AHEAD)
    with UnitOfWork(sessions) as uow:
        assert len(list(agendas.due(uow, clock.now))) == 2  # one per coordinator
        assert len(list(reports.due(uow, clock.now))) == 4  # summary + timeline each
    assert len(run_tick(sessions, clock, reports=DAY_AHEAD)) == 6
    # Once enqueued for every coordinator's chat, a tick finds nothing left to build.
    with UnitOfWork(sessions) as uow:
        assert list(agendas.due(uow, clock.now)) == []
        assert list(reports.due(uow, clock.now)) == []
