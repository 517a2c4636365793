"""Statements run on the session's connection (storage.db.execute_core) see what the session
would, and write in its transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from storage import models as m
from storage.db import execute_core, is_sqlite, one_statement

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
NAMES = select(m.Person.display_name, m.Person.locale).order_by(m.Person.id)


def test_a_read_on_the_connection_sees_what_was_added_but_not_yet_flushed(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        session.add(m.Person(display_name="Alex", locale="sv", created_at=NOW))
        # As Session.execute would: the pending person is flushed first, and the name comes
        # back decrypted through the column's own type.
        assert execute_core(session, NAMES, {}).all() == [("Alex", "sv")]
        assert execute_core(session, NAMES, {}).all() == session.execute(NAMES).all()


def test_without_autoflush_a_read_on_the_connection_flushes_nothing_either(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        with session.no_autoflush:
            session.add(m.Person(display_name="Kim", locale="en", created_at=NOW))
            assert execute_core(session, NAMES, {}).all() == session.execute(NAMES).all() == []
        assert execute_core(session, NAMES, {}).all() == [("Kim", "en")]


def test_a_write_on_the_connection_is_part_of_the_sessions_transaction(
    sessions: sessionmaker[Session],
) -> None:
    rename = m.Person.__table__.update().values(locale="en")
    with sessions() as session, session.begin():
        session.add(m.Person(display_name="Noa", locale="sv", created_at=NOW))
        # The pending person is flushed first, so the UPDATE finds (and counts) it.
        assert execute_core(session, rename, {}).rowcount == 1
        assert session.execute(NAMES).all() == [("Noa", "en")]
        session.rollback()  # the write goes with the session's transaction
    with sessions() as session:
        assert session.execute(NAMES).all() == []


def test_a_one_statement_transaction_sends_no_begin_on_sqlite_and_is_committed(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, session.begin():
        session.add(m.Person(display_name="Sam", locale="sv", created_at=NOW))
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        with one_statement(engine) as connection:
            connection.execute(m.Person.__table__.update().values(locale="en"))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if is_sqlite(engine):
        assert sent == ["UPDATE"]
    with sessions() as session:  # another connection sees it: it was committed
        assert session.execute(NAMES).all() == [("Sam", "en")]
