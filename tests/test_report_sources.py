"""Agendas and follow-up reports reach coordinators by themselves, the configured hours ahead."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.nudge_config import ReportConfig
from bot.scheduler import tick
from flows.conversation import ConversationRef
from flows.coordinator_reminders import Agendas, FailedReports, FollowupReports
from flows.domain import MeetingKind, Role
from flows.reminders import Reminders
from flows.replies import say
from storage import models as m
from storage.outbox_repository import _outbox_values
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
    # The first meeting is over too, so its notes are asked for as well.
    assert sorted(received) == [
        "coord.agenda",
        "coord.notes.due",
        "coord.report",
        "coord.report_timeline",
    ]
    files = [s.rendered.file for s in maria.turn if s.message_id != "coord.notes.due"]
    assert all(f is not None for f in files)


def test_a_report_already_in_the_outbox_is_not_built_again_on_the_next_tick(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    _case(sessions, clock)
    chat(sessions, catalogue, clock, "maria")
    chat(sessions, catalogue, clock, "nils")
    clock.advance(days=8)  # a day before the follow-up (the first meeting is past)
    agendas, reports = Agendas(DAY_AHEAD), FollowupReports(DAY_AHEAD)
    with UnitOfWork(sessions) as uow:
        assert len(list(agendas.due(uow, clock.now))) == 2  # one per coordinator
        assert len(list(reports.due(uow, clock.now))) == 4  # summary + timeline each
    # The two agendas and four report parts, and each coordinator asked for the first
    # meeting's notes.
    assert len(run_tick(sessions, clock, reports=DAY_AHEAD)) == 8
    # Once enqueued for every coordinator's chat, a tick finds nothing left to build.
    with UnitOfWork(sessions) as uow:
        assert list(agendas.due(uow, clock.now)) == []
        assert list(reports.due(uow, clock.now)) == []


def _outbox_row(uow: UnitOfWork, chat_id: str, message: str, status: str, at: datetime) -> int:
    """An outbox row of a coordinator's report (or other message) in some state."""
    values = _outbox_values(PLATFORM, chat_id, say(message, case="K-1"), "sv", at)
    values["status"] = status
    row_id: int = uow.session.execute(
        m.Outbox.__table__.insert().returning(m.Outbox.id), values
    ).scalar_one()
    return row_id


def test_a_report_that_finally_failed_is_told_to_its_coordinator_once(
    sessions: sessionmaker[Session], engine: Engine, clock: FakeClock
) -> None:
    _case(sessions, clock)
    with UnitOfWork(sessions) as uow:
        # Many sent rows (as in a real outbox), and statistics taken when all were sent.
        for _ in range(300):
            _outbox_row(uow, "maria", "coord.agenda", "sent", clock.now)
        uow.commit()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    with UnitOfWork(sessions) as uow:
        failed = [
            _outbox_row(uow, "maria", "coord.report", "failed", clock.now),
            _outbox_row(uow, "nils", "coord.agenda", "failed", clock.now),
            _outbox_row(uow, "nils", "coord.report_timeline", "failed", clock.now),
        ]
        _outbox_row(uow, "stranger", "coord.report", "failed", clock.now)  # nobody we know
        _outbox_row(uow, "maria", "youth.menu", "failed", clock.now)  # not a report
        _outbox_row(uow, "maria", "coord.report", "failed", clock.now - timedelta(days=15))
        uow.commit()
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    source = FailedReports()
    clock.advance(hours=1)
    with UnitOfWork(sessions) as uow:
        event.listen(engine, "before_cursor_execute", record)
        try:
            # Found due and said, in the tick's one transaction: still two reads in all.
            notices = [
                notice
                for due in source.due(uow, clock.now)
                for notice in Reminders([source]).remind(due, uow, clock.now)
            ]
        finally:
            event.remove(engine, "before_cursor_execute", record)
        people = {
            chat_id: person_id
            for chat_id, person_id in uow.session.execute(
                select(m.ChatIdentity.private_chat_id, m.ChatIdentity.person_id)
            )
        }
    assert sorted((n.person_id, n.reply.message) for n in notices) == sorted(
        [
            (people["maria"], "coord.report_failed"),
            (people["nils"], "coord.report_failed"),
            (people["nils"], "coord.report_failed"),
        ]
    )
    assert len({n.dedup_key for n in notices}) == len(failed)
    reads = [(sql, params) for sql, params in seen if sql.lstrip().startswith("SELECT")]
    assert len(reads) == 2  # the failed rows, then whose chats they were: not one per row
    if engine.dialect.name == "sqlite":
        statement, parameters = reads[0]
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            assert "ix_outbox_status_next" in " ".join(str(row[-1]) for row in plan)
    assert len(tick(sessions, [source], clock.now) or []) == 3
    assert tick(sessions, [source], clock.now) == []  # told once
