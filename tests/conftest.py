"""Shared fixtures: databases (SQLite and a throwaway PostgreSQL), a clock, the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from storage.crypto import DATA_KEY_ENV, DataKey, Keyring, install_keyring
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from tests.support.postgres import throwaway_postgres

if TYPE_CHECKING:
    from tests.support.strict_bot_api import StrictBotApi
    from tests.support.telegram_emulator import EmulatorClient


class FakeClock:
    """A clock tests move by hand; nothing ever sleeps to wait for time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Moves time forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    """Monday 23 November 2026, 10.00 UTC."""
    return FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


@pytest.fixture(autouse=True)
def data_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Keyring]:
    """A fresh data key per test: free text is always encrypted, as in production.

    It is also in the environment, as an operator sets it, for `samverkan` run in-process or
    as a subprocess; tests about a missing key remove it."""
    keyring = Keyring(DataKey.generate("test"))
    install_keyring(keyring)
    monkeypatch.setenv(DATA_KEY_ENV, keyring.current.encode())
    yield keyring
    install_keyring(None)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The real message catalogue."""
    return Catalogue()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL 15 cluster for the whole session."""
    with throwaway_postgres() as url:
        yield url


def _fresh_postgres(url: str) -> Engine:
    """An engine on an empty public schema."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database: SQLite in a temp dir, or the throwaway PostgreSQL."""
    if request.param == "sqlite":
        db = make_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    else:
        db = _fresh_postgres(request.getfixturevalue("postgres_url"))
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database only (for tests whose subject is not the database)."""
    db = make_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def db(sqlite_engine: Engine) -> sessionmaker[Session]:
    """Sessions on a migrated SQLite database (a module may define its own `db`)."""
    return session_factory(sqlite_engine)


@pytest.fixture
def telegram() -> Iterator[tuple[EmulatorClient, StrictBotApi]]:
    """The Telegram emulator behind the strict front, fresh for each test."""
    # Imported here: only the Telegram tests start Node and need the driver.
    from tests.support.telegram_driver import emulated_telegram

    with emulated_telegram() as pair:
        yield pair


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the parametrised database."""
    return session_factory(engine)
