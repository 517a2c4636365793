"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL for scale-out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.private_paths import create_private_file
from storage.writer_queue import turns_for

SQLITE_BUSY_TIMEOUT_MS = 5000
# Each connection's cache of database pages, kept as long as the connection lives: SQLite's
# default 2 MiB times the pooled connections left 5-15 MiB in the bot after a busy moment
# (bench/memory.py --probe allocators). The OS caches the file too: a miss is a read from it.
SQLITE_CACHE_KIB = 512
# Values per IN list: well below every database's limit on bound parameters (SQLite's is
# 32,766), and few enough statements for thousands of values.
IN_LIST_CHUNK = 500

_T = TypeVar("_T")


class SqliteSynchronous(StrEnum):
    """How hard SQLite syncs a commit to disk ([database] sqlite_synchronous).

    In WAL mode NORMAL loses nothing when the bot crashes, but a power loss or an OS crash may
    roll back the last commits; FULL survives those too, at an fsync per commit.
    """

    NORMAL = "NORMAL"
    FULL = "FULL"


def make_engine(url: str, synchronous: SqliteSynchronous = SqliteSynchronous.NORMAL) -> Engine:
    """Creates an engine; SQLite gets WAL, a busy timeout, foreign keys and write-locking BEGINs.

    Bound parameters are hidden from every error and echo line: they are what people wrote
    (an error's text ends up in a log as easily as in a traceback).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        # SQLite makes its WAL and shared-memory files with the database file's mode, so a
        # 0600 database keeps all three private.
        create_private_file(Path(parsed.database))
    engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
    _configure_sqlite(engine, SqliteSynchronous(synchronous))
    return engine


# Execution option for a transaction that only reads (`session.connection(execution_options=
# {READ_ONLY: True})` before its first statement): on SQLite it begins deferred, without the
# write lock, so a long read (a tick's due-sources) does not hold up people's messages.
READ_ONLY = "samverkan_read_only"

# Execution option for a transaction of exactly one statement (see one_statement below).
ONE_STATEMENT = "samverkan_one_statement"

# Execution option: how long a SQLite writer waits for its turn in this process's queue
# (storage/writer_queue.py) before it goes on to SQLite's own lock; the busy timeout if unset.
WRITER_WAIT_S = "samverkan_writer_wait_s"
_HAS_TURN = "samverkan_has_writer_turn"


def _configure_sqlite(engine: Engine, synchronous: SqliteSynchronous) -> None:
    """Sets pragmas on every connection and starts transactions with BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling starts transactions lazily and deferred, so
        # two writers can both read and then fail; we begin explicitly instead (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # The operator's choice (an enum member, never free text in the statement).
        cursor.execute(f"PRAGMA synchronous={synchronous.value}")
        # Deleted rows are overwritten with zeros, so erased free text leaves no trace in
        # free pages (erasure also checkpoints the WAL; see storage/erasure.py).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    turns = turns_for(str(engine.url.database or ":memory:"))

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(READ_ONLY):
            # A reader in WAL mode sees one snapshot and never holds up a writer.
            connection.exec_driver_sql("BEGIN")
            return
        # Writers queue in this process first (storage/writer_queue.py): SQLite's busy
        # handler let a writer that begins again at once starve the others.
        wait = options.get(WRITER_WAIT_S, SQLITE_BUSY_TIMEOUT_MS / 1000)
        if turns.acquire(wait):
            connection.info[_HAS_TURN] = True
        if options.get(ONE_STATEMENT):
            return  # pysqlite is in autocommit (isolation_level None): the statement commits
        # IMMEDIATE takes the write lock up front: one handled event is one serial transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _end_turn(info: dict[str, Any]) -> None:
        if info.pop(_HAS_TURN, False):
            turns.release()

    @event.listens_for(engine, "commit")
    def _on_commit(connection: Any) -> None:
        _end_turn(connection.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Any) -> None:
        _end_turn(connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # Back in the pool with its turn still taken (a BEGIN that failed, a connection
        # closed mid-transaction): the turn ends here at the latest.
        _end_turn(record.info)


@contextmanager
def one_statement(engine: Engine, writer_wait_s: float | None = None) -> Iterator[Connection]:
    """A connection for a transaction of exactly one statement, committed on leaving.

    On SQLite no BEGIN is sent: the statement is its own transaction, atomic as any, and it
    waits for the write lock through the busy timeout as BEGIN IMMEDIATE would. That saves
    the BEGIN and the COMMIT, two trips through the driver, on a path taken for every
    message sent (mark-sent). Never run a second statement on it: on SQLite it would be a
    transaction of its own, apart from the first.
    """
    options: dict[str, Any] = {ONE_STATEMENT: True}
    if writer_wait_s is not None:
        options[WRITER_WAIT_S] = writer_wait_s  # on SQLite, see WRITER_WAIT_S
    with engine.connect().execution_options(**options) as connection:
        yield connection
        connection.commit()


def execute_core(
    session: Session, statement: Executable, params: dict[str, Any]
) -> Result[*tuple[Any, ...]]:
    """Runs a Core statement on a table's columns (a read or a write, never of ORM objects)
    on the session's connection, in its transaction.

    `Session.execute` adds the ORM's execution machinery (about 0.06 ms a statement) that
    such a statement does not use; the statements made for every message go this way.
    Pending changes are flushed first, exactly as the session's autoflush would have done.
    It bypasses the session's execute events, so the access gate does not see a write made
    here: never use it to write what the gate reads (memberships, consents, ages, cases,
    people).
    """
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection().execute(statement, params)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (we return dataclasses, not rows)."""
    return sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: sessionmaker[Session]) -> Engine:
    """The engine a session factory is bound to, for one-statement writes without a session."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the session factory must be bound to an engine")
    return bind


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded SQLite database."""
    return engine.dialect.name == "sqlite"


def in_chunks(values: Sequence[_T], size: int = IN_LIST_CHUNK) -> Iterator[Sequence[_T]]:
    """Slices of `values` for IN lists that stay well below the databases' parameter limits."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
