"""The Matrix bookkeeping tables on SQLite and PostgreSQL: session, sync token, rooms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.matrix_repository import RoomKind, StoredRoom, StoredSession
from storage.models.matrix import MatrixOfferedChoices
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

BOT = "@samverkan:example.org"
ALEX = "@alex:example.org"


def test_the_session_is_kept_and_a_new_device_starts_its_sync_again(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.session_for(BOT) is None
        uow.matrix.save_login(BOT, "DEVICE1", "token1", clock())
        uow.matrix.save_sync_token(BOT, "s42", clock())
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.session_for(BOT) == StoredSession(BOT, "DEVICE1", "token1", "s42")
        # A new token for the same device keeps the resume point.
        uow.matrix.save_login(BOT, "DEVICE1", "token2", clock())
        assert uow.matrix.session_for(BOT) == StoredSession(BOT, "DEVICE1", "token2", "s42")
        # Another device has not seen that stream position.
        uow.matrix.save_login(BOT, "DEVICE2", None, clock())
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.session_for(BOT) == StoredSession(BOT, "DEVICE2", None, None)


def test_replies_to_a_person_go_to_their_latest_active_direct_room(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        uow.matrix.save_room("!old:x", RoomKind.DIRECT, ALEX, clock())
        clock.advance(minutes=1)
        uow.matrix.save_room("!new:x", RoomKind.DIRECT, ALEX, clock())
        uow.matrix.save_room("!family:x", RoomKind.GROUP, None, clock())
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.direct_room_for(ALEX) == "!new:x"
        clock.advance(minutes=1)
        uow.matrix.touch_direct_room("!old:x", clock())
        assert uow.matrix.direct_room_for(ALEX) == "!old:x"
        uow.matrix.leave_room("!old:x", clock())
        assert uow.matrix.direct_room_for(ALEX) == "!new:x"
        assert uow.matrix.room("!old:x") == StoredRoom("!old:x", RoomKind.DIRECT, ALEX, False)
        assert uow.matrix.direct_room_for("@kim:x") is None
        uow.commit()


def test_a_room_can_change_kind(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    with UnitOfWork(sessions) as uow:
        uow.matrix.save_room("!r:x", RoomKind.DIRECT, ALEX, clock())
        uow.matrix.save_room("!r:x", RoomKind.GROUP, None, clock())
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.room("!r:x") == StoredRoom("!r:x", RoomKind.GROUP, None, True)
        assert uow.matrix.direct_room_for(ALEX) is None


def test_typed_labels_are_recognised_without_keeping_the_labels(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        uow.matrix.remember_choices(ALEX, [("q1", "🔒 Bara jag: Min hemliga fråga")], clock())
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.choice_for_label(ALEX, "🔒 bara jag:   min hemliga FRÅGA") == "q1"
        assert uow.matrix.choice_for_label(ALEX, "Min hemliga fråga") is None
        assert uow.matrix.choice_for_label("@kim:x", "🔒 Bara jag: Min hemliga fråga") is None
        stored = uow.session.scalars(select(MatrixOfferedChoices.choices)).one()
        assert "hemliga" not in str(stored)
        # The next message with choices replaces the old ones.
        uow.matrix.remember_choices(ALEX, [("menu", "Till menyn")], clock())
        assert uow.matrix.choice_for_label(ALEX, "🔒 Bara jag: Min hemliga fråga") is None
        assert uow.matrix.choice_for_label(ALEX, "till menyn") == "menu"


def test_typed_numbers_mean_the_choices_of_the_newest_message_that_showed_any(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        # Alex's own questions are labels: one of them is just "2".
        uow.matrix.remember_choices(ALEX, [("q1", "2"), ("q2", "Varför?")], clock())
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.choice_for_number(ALEX, 1) == "q1"
        assert uow.matrix.choice_for_number(ALEX, 2) == "q2"
        assert uow.matrix.choice_for_number(ALEX, 3) is None
        assert uow.matrix.choice_for_label(ALEX, "2") == "q1", "a label is not a number"
        assert uow.matrix.choice_for_number("@kim:x", 1) is None
        # A reminder with one button is now the newest: "1" is its button.
        uow.matrix.remember_choices(ALEX, [("n:actions", "Visa mina åtgärder")], clock())
        assert uow.matrix.choice_for_number(ALEX, 1) == "n:actions"
        assert uow.matrix.choice_for_number(ALEX, 2) is None
