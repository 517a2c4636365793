"""Nudges: one digest per person per run, neutral by default, quiet hours, one-time escalation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.nudge_config import NudgeConfig, NudgeContent
from bot.nudges import is_quiet, stage_of
from flows.conversation import ConversationRef, ReminderDue
from flows.coordination import ActionStatus, NewAction, Owner, OwnerKind
from flows.coordinator_reminders import Nudges
from flows.domain import ConsentScope, Role
from flows.reminders import Reminders
from storage import models as m
from storage.access import Purpose
from storage.outbox_repository import _NEWEST_SENT
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code, run_tick

MONDAY = date(2026, 11, 23)
CASE = 1


def _person(uow: UnitOfWork, name: str, now: datetime) -> int:
    """A person reachable in a private chat named after them."""
    person = uow.cases.add_person(name, "sv", now)
    uow.cases.link_identity(person.id, ConversationRef(PLATFORM, name.lower(), name.lower()))
    return person.id


def seed(sessions: sessionmaker[Session], now: datetime, dues: dict[str, date]) -> dict[str, int]:
    """Case K-1: Maria coordinates, Sara works at BUP, Kim is a caregiver; BUP owns `dues`."""
    with UnitOfWork(sessions) as uow:
        maria = _person(uow, "Maria", now)
        case = uow.coordination.open_case(maria, "Alex", now)
        bup = uow.coordination.add_organisation(case.id, "BUP")
        sara = _person(uow, "Sara", now)
        uow.session.add(
            m.Membership(
                case_id=case.id,
                person_id=sara,
                role=Role.PROFESSIONAL,
                organisation_id=bup.id,
                active=True,
                joined_at=now,
            )
        )
        kim = _person(uow, "Kim", now)
        uow.cases.add_member(case.id, kim, Role.CAREGIVER, now)
        owner = Owner(OwnerKind.ORGANISATION, bup.id, "BUP")
        ids = uow.coordination.add_actions(
            case.id, [NewAction(owner, text, due) for text, due in dues.items()], maria, now
        )
        uow.commit()
    return dict(zip(dues, ids, strict=True))


@pytest.fixture
def people(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> dict[str, Chat]:
    """The three people's private chats."""
    return {n: chat(sessions, catalogue, clock, n) for n in ("maria", "sara", "kim")}


def test_many_actions_falling_due_make_one_digest_per_person_per_run(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(
        sessions,
        clock.now,
        {
            "Boka utredning": MONDAY + timedelta(days=2),
            "Skicka remiss": MONDAY + timedelta(days=1),
            "Ring skolan": MONDAY,
            "Läkarintyg": MONDAY - timedelta(days=1),
            "Långt fram": MONDAY + timedelta(days=30),
        },
    )
    run_tick(sessions, clock)
    sara = people["sara"].receive()
    assert [s.message_id for s in sara] == ["nudge.digest"]
    assert people["sara"].text() == (
        "Du har 4 åtgärder i ärende K-1, 1 är försenad, 1 ska vara klar i dag, 2 förfaller snart."
    )
    assert people["kim"].receive() == [] and people["maria"].receive() == []
    run_tick(sessions, clock)
    assert people["sara"].receive() == []


def test_a_nudge_carries_no_case_text_by_default_only_a_button(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {"Boka neuropsykiatrisk utredning": MONDAY})
    run_tick(sessions, clock)
    people["sara"].receive()
    text = people["sara"].text()
    assert "utredning" not in text and "Alex" not in text and "BUP" not in text
    assert "K-1" in text
    assert people["sara"].choices() == ["Visa mina åtgärder"]
    people["sara"].tap("n:actions")
    assert people["sara"].ids() == ["pro.home"]
    assert people["sara"].choices()[0].startswith("K-1: Boka neuropsykiatrisk")


def test_the_operator_can_choose_the_fuller_form(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {"Boka neuropsykiatrisk utredning": MONDAY})
    run_tick(sessions, clock, nudges=NudgeConfig(content=NudgeContent.FULL))
    people["sara"].receive()
    assert "K-1: Boka neuropsykiatrisk utredning – senast måndag 23 november" in (
        people["sara"].text()
    )


def test_nudges_wait_out_quiet_hours(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {"Ring skolan": MONDAY + timedelta(days=1)})
    clock.now = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # 20.30 in Stockholm
    assert run_tick(sessions, clock) == []
    clock.now = datetime(2026, 11, 24, 6, 59, tzinfo=UTC)  # 07.59
    assert run_tick(sessions, clock) == []
    clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08.00
    run_tick(sessions, clock)
    assert [s.message_id for s in people["sara"].receive()] == ["nudge.digest"]
    assert "1 ska vara klar i dag" in people["sara"].text()


def test_nudges_wait_for_monday_unless_weekends_are_allowed(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {"Ring skolan": date(2026, 11, 30)})
    clock.now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday
    assert run_tick(sessions, clock) == []
    run_tick(sessions, clock, nudges=NudgeConfig(weekends=True))
    assert [s.message_id for s in people["sara"].receive()] == ["nudge.digest"]


def test_the_coordinator_is_told_once_when_an_action_is_long_overdue(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {"Läkarintyg": MONDAY - timedelta(days=6)})
    run_tick(sessions, clock)
    assert people["maria"].receive() == [], "six days late is not yet past the threshold"
    assert [s.message_id for s in people["sara"].receive()] == ["nudge.digest"]
    clock.now += timedelta(days=1)
    run_tick(sessions, clock)
    assert [s.message_id for s in people["maria"].receive()] == ["nudge.escalation"]
    assert people["maria"].text() == "En åtgärd i ärende K-1 är försenad mer än 7 dagar."
    overdue_nudges = 0
    for _ in range(10):
        clock.now += timedelta(days=1)
        run_tick(sessions, clock)
        assert people["maria"].receive() == []
        overdue_nudges += len(people["sara"].receive())
    # Sara keeps getting an overdue reminder every third weekday-run, never a burst.
    assert 2 <= overdue_nudges <= 4


def test_done_actions_and_closed_cases_are_left_alone(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    ids = seed(sessions, clock.now, {"Klar sak": MONDAY, "Annan sak": MONDAY})
    with UnitOfWork(sessions) as uow:
        uow.coordination.record_update(ids["Klar sak"], 1, ActionStatus.DONE, None, None, clock.now)
        uow.commit()
    run_tick(sessions, clock)
    assert "Du har 1 åtgärd" in people["sara"].receive()[0].rendered.text
    with UnitOfWork(sessions) as uow:
        uow.coordination.close_case(CASE, 1, clock.now)
        uow.commit()
    clock.now += timedelta(days=3)
    assert run_tick(sessions, clock) == []


def test_a_new_date_starts_the_reminders_over(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    ids = seed(sessions, clock.now, {"Ring skolan": MONDAY})
    run_tick(sessions, clock)
    assert len(people["sara"].receive()) == 1
    with UnitOfWork(sessions) as uow:
        uow.coordination.record_update(
            ids["Ring skolan"],
            2,
            ActionStatus.IN_PROGRESS,
            None,
            MONDAY + timedelta(days=1),
            clock.now,
        )
        uow.commit()
    run_tick(sessions, clock)
    assert "1 förfaller snart" in people["sara"].receive()[0].rendered.text
    with UnitOfWork(sessions) as uow:
        stages = uow.session.scalars(select(m.NudgeSent.stage).order_by(m.NudgeSent.id)).all()
    assert stages == ["on", "before"]


def test_family_actions_remind_the_caregivers_not_the_young_person(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {})
    with UnitOfWork(sessions) as uow:
        alex = _person(uow, "Alex", clock.now)
        uow.cases.add_member(CASE, alex, Role.YOUTH, clock.now)
        # Both said yes to the bot: the young person is left out for their role, not consent.
        for person in (alex, _id(uow, "Kim")):
            uow.privacy.record_consent(person, CASE, ConsentScope.BOT, True, "t", clock.now)
        uow.coordination.add_actions(
            CASE, [NewAction(Owner(OwnerKind.FAMILY, None, ""), "Ansök", MONDAY)], 1, clock.now
        )
        uow.commit()
    run_tick(sessions, clock)
    assert [s.message_id for s in people["kim"].receive()] == ["nudge.digest"]
    assert people["sara"].receive() == [], "Sara owns nothing here"
    with UnitOfWork(sessions) as uow:
        targets = uow.session.scalars(select(m.Outbox.chat_id)).all()
    assert "alex" not in targets


def test_a_caregiver_without_consent_in_effect_is_not_reminded(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {})
    with UnitOfWork(sessions) as uow:
        kim = _id(uow, "Kim")
        uow.privacy.record_consent(kim, CASE, ConsentScope.BOT, True, "t", clock.now)
        uow.privacy.withdraw(kim, CASE, clock.now)
        uow.coordination.add_actions(
            CASE, [NewAction(Owner(OwnerKind.FAMILY, None, ""), "Ansök", MONDAY)], 1, clock.now
        )
        uow.commit()
    run_tick(sessions, clock)
    assert people["kim"].receive() == [], "the gate's NUDGE purpose reads admitted owners only"
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(m.NudgeSent.id)).all() == []


def _id(uow: UnitOfWork, name: str) -> int:
    """A seeded person's id by the name of their chat."""
    person = uow.members.actor_for(ConversationRef(PLATFORM, name.lower(), name.lower()))
    assert person is not None
    return person.person_id


@pytest.mark.parametrize(
    ("due", "stage"),
    [
        (MONDAY + timedelta(days=3), None),
        (MONDAY + timedelta(days=2), "before"),
        (MONDAY + timedelta(days=1), "before"),
        (MONDAY, "on"),
        (MONDAY - timedelta(days=1), "overdue:0"),
        (MONDAY - timedelta(days=3), "overdue:0"),
        (MONDAY - timedelta(days=4), "overdue:1"),
    ],
)
def test_stages_follow_the_configured_schedule(due: date, stage: str | None) -> None:
    assert stage_of(due, MONDAY, NudgeConfig()) == stage


def test_quiet_hours_may_pass_midnight_or_be_off() -> None:
    config = NudgeConfig()
    monday = datetime(2026, 11, 23)
    assert is_quiet(monday.replace(hour=22), config)
    assert is_quiet(monday.replace(hour=7, minute=59), config)
    assert not is_quiet(monday.replace(hour=12), config)
    off = replace(config, quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert not is_quiet(monday.replace(hour=3), off)


def test_the_due_actions_are_read_by_index_ranges_of_the_open_statuses(
    sessions: sessionmaker[Session], engine: Engine, clock: FakeClock
) -> None:
    # Many done actions of the past (most of a plan after a while), statistics taken then.
    dues = {f"Gjort {n}": MONDAY - timedelta(days=n) for n in range(200)}
    ids = seed(sessions, clock.now, {**dues, "Sen sak": MONDAY - timedelta(days=10)})
    with UnitOfWork(sessions) as uow:
        uow.session.execute(
            update(m.PlanAction)
            .where(m.PlanAction.id.in_([ids[d] for d in dues]))
            .values(status=ActionStatus.DONE.value)
        )
        uow.commit()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM plan_action" in statement:
            seen.append((statement, parameters))

    with UnitOfWork(sessions) as uow:
        event.listen(engine, "before_cursor_execute", record)
        try:
            late = uow.coordination.due_actions(uow.gate.for_system(Purpose.ESCALATION), MONDAY)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert [a.description for a in late] == ["Sen sak"]
    if engine.dialect.name == "sqlite":
        statement, parameters = seen[0]
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " ".join(str(row[-1]) for row in rows)
        assert "ix_plan_action_status_due (status=? AND due_date<?)" in plan
        # With statistics, SQLite would build a Bloom filter of every open case for a join
        # to case_file, a scan that grew with the number of cases (bench/scale.py, round 6):
        # no statement of the tick may walk all cases.
        for statement, parameters in seen:
            with engine.connect() as connection:
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                plan = " ".join(str(row[-1]) for row in rows)
            assert "BLOOM FILTER" not in plan and "SCAN case_file" not in plan, plan


def test_a_cases_plan_is_read_through_its_own_index_not_every_cases(
    sessions: sessionmaker[Session], engine: Engine, clock: FakeClock
) -> None:
    # Three cases' plans; agendas, reports and "my actions" each read one case's.
    seed(sessions, clock.now, {f"Sak {n}": MONDAY + timedelta(days=n) for n in range(30)})
    with UnitOfWork(sessions) as uow:
        maria, sara = (
            uow.session.scalars(
                select(m.ChatIdentity.person_id).where(m.ChatIdentity.external_user_id == name)
            ).one()
            for name in ("maria", "sara")
        )
        for youth in ("Bo", "Cleo"):
            case = uow.coordination.open_case(maria, youth, clock.now)
            bup = uow.coordination.add_organisation(case.id, "BUP")
            owner = Owner(OwnerKind.ORGANISATION, bup.id, "BUP")
            others = [NewAction(owner, f"Annan {n}", MONDAY) for n in range(30)]
            uow.coordination.add_actions(case.id, others, maria, clock.now)
        first_case = uow.session.scalars(select(m.Case.id).order_by(m.Case.id)).first()
        uow.commit()
    assert first_case is not None
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM plan_action" in statement:
            seen.append((statement, parameters))

    with UnitOfWork(sessions) as uow:
        event.listen(engine, "before_cursor_execute", record)
        try:
            plan = uow.coordination.actions(first_case, uow.gate.for_system(Purpose.REPORT))
            mine = uow.coordination.actions_owned_by(sara)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert len(plan) == 30 and len(mine) == 30
    if engine.dialect.name != "sqlite":
        return
    assert len(seen) == 2
    for statement, parameters in seen:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan_text = " ".join(str(row[-1]) for row in rows)
        assert "ix_plan_action_case_due (case_id=?)" in plan_text, plan_text
        assert "SCAN plan_action" not in plan_text


def test_a_number_typed_after_a_nudge_answers_the_nudge_not_the_older_list(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {"Ring skolan": MONDAY, "Skicka remiss": MONDAY + timedelta(days=9)})
    sara = people["sara"]
    sara.send("hej")  # her own list: its first line is an action
    assert sara.choices()[0].startswith("K-1: Ring skolan")
    run_tick(sessions, clock)
    sara.receive()
    assert sara.choices() == ["Visa mina åtgärder"]
    # Typed, as on any platform where people answer with the number they see.
    sara.send("1")
    assert sara.ids() == ["pro.home"], "the nudge's button, not the list's first action"
    # Once she has a newer list of her own, a number means its line again.
    clock.advance(seconds=5)
    sara.send("1")
    assert sara.ids() == ["status.pick"]


def test_the_words_of_a_nudges_button_typed_in_a_private_chat_answer_the_nudge(
    sessions: sessionmaker[Session], clock: FakeClock, people: dict[str, Chat]
) -> None:
    seed(sessions, clock.now, {"Ring skolan": MONDAY, "Skicka remiss": MONDAY + timedelta(days=9)})
    sara = people["sara"]
    sara.send("hej")
    run_tick(sessions, clock)
    sara.receive()
    assert sara.choices() == ["Visa mina åtgärder"]
    # She types what the button says instead of tapping it (Telegram, say), as on Matrix.
    sara.send("visa mina åtgärder")
    assert sara.ids() == ["pro.home"], "the nudge's button, not a text for her current step"


def test_the_newest_message_with_choices_is_read_without_walking_the_chats_history(
    engine: Engine,
) -> None:
    # Asked for every number someone types: never a scan or a sort of a long history.
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan; PostgreSQL plans by its statistics")
    compiled = _NEWEST_SENT.compile(dialect=engine.dialect)
    values = compiled.construct_params({"platform": PLATFORM, "chat_id": "sara", "user_id": "sara"})
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(values[k] for k in compiled.positiontup or ())
        )
        plan = " ".join(str(row[-1]) for row in rows)
    assert "ix_outbox_chat_status (platform=? AND chat_id=? AND status=?)" in plan, plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan


def test_ten_full_digests_are_said_without_reading_again(
    sessions: sessionmaker[Session], engine: Engine, clock: FakeClock
) -> None:
    ids = seed(sessions, clock.now, {"Boka utredning": MONDAY, "Ring skolan": MONDAY})
    # Nine more at BUP: ten owners, ten digests, each with both actions' texts.
    with UnitOfWork(sessions) as uow:
        case_id, bup = uow.session.execute(
            select(m.PlanAction.case_id, m.PlanAction.owner_organisation_id).where(
                m.PlanAction.id == ids["Boka utredning"]
            )
        ).one()
        for n in range(9):
            uow.session.add(
                m.Membership(
                    case_id=case_id,
                    person_id=_person(uow, f"Pro{n}", clock.now),
                    role=Role.PROFESSIONAL,
                    organisation_id=bup,
                    active=True,
                    joined_at=clock.now,
                )
            )
        uow.commit()
    kind = Nudges(NudgeConfig(content=NudgeContent.FULL), ZoneInfo("Europe/Stockholm"))
    reads: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT"):
            reads.append(statement)

    with UnitOfWork(sessions) as uow:
        events = list(kind.due(uow, clock.now))
        event.listen(engine, "before_cursor_execute", record)
        try:
            notices = [n for due in events for n in Reminders([kind]).remind(due, uow, clock.now)]
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert len(notices) == 10
    assert all(len(n.reply.params["actions"]) == 2 for n in notices)  # type: ignore[arg-type]
    # The events carry only ids; the texts come from what finding them due read, in the same
    # transaction: a tick of thousands of digests makes no query per person told.
    assert reads == []


def test_a_nudge_composed_after_its_case_closed_says_nothing(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
    with UnitOfWork(sessions) as uow:
        action_id, case_id = uow.session.execute(
            select(m.PlanAction.id, m.PlanAction.case_id)
        ).one()
        uow.coordination.close_case(case_id, 1, clock.now)
        uow.commit()
    due = ReminderDue("nudges", "nudge:test", person_id=1, ids=(action_id,))
    with UnitOfWork(sessions) as uow:
        # Read afresh (not kept from a tick's `due`): the closed case's action is not read.
        assert Nudges(NudgeConfig(content=NudgeContent.FULL)).compose(due, uow, clock.now) is None
