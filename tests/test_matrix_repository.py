"""The Matrix bookkeeping tables on SQLite and PostgreSQL: session, sync token, rooms."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from storage.matrix_repository import RoomKind, StoredRoom, StoredSession
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
