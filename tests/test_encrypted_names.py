"""Names on the coordinator side are encrypted at rest (migration 0008): new names are written
as ciphertext; names written before the migration stay readable and `samverkan keys rotate`
encrypts them, after which no plaintext is left in the SQLite file or its WAL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from storage import models as m
from storage.crypto import Keyring, key_id_of
from storage.db import make_engine, session_factory
from storage.keys import PLAINTEXT, key_ids_in_use, rotate
from storage.schema import current_revisions, head_revisions, require_current, upgrade
from storage.unit_of_work import UnitOfWork

YOUTH = "Ungdomsnamn4RT"
COORDINATOR = "Samordnarnamn8PK"
WHEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _on_disk(directory: Path) -> bytes:
    """The database file, its WAL and shared memory file."""
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def _raw_names(engine: Engine) -> list[str]:
    """The stored youth names and invite names exactly as they are in the database."""
    with engine.connect() as connection:
        youth = connection.execute(text("SELECT youth_name FROM case_profile")).scalars()
        invites = connection.execute(text("SELECT display_name FROM coordinator_invite"))
        return [*youth, *invites.scalars()]


def test_new_names_are_stored_as_ciphertext(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    with UnitOfWork(sessions) as uow:
        person = m.Person(display_name="Maria", locale="sv", created_at=WHEN)
        uow.session.add(person)
        uow.session.flush()
        summary = uow.coordination.open_case(person.id, YOUTH, WHEN)
        uow.coordination.create_coordinator_invite(COORDINATOR, WHEN)
        uow.commit()
    stored = _raw_names(engine)
    assert len(stored) == 2
    assert all(key_id_of(value) == "test" for value in stored)
    assert not any(YOUTH in value or COORDINATOR in value for value in stored)
    with UnitOfWork(sessions) as uow:
        assert uow.coordination.case(summary.id).youth_name == YOUTH  # type: ignore[union-attr]
        assert uow.session.scalar(select(m.CoordinatorInvite.display_name)) == COORDINATOR


def test_names_from_before_0008_stay_readable_and_rotation_encrypts_them(
    tmp_path: Path, data_keyring: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "db"
    url = f"sqlite:///{directory / 'old.sqlite3'}"
    engine = make_engine(url)
    # A database at the coordinators' revision, with names written before encryption.
    upgrade(engine, "0007")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO case_file (id, reference, status, created_at) "
                "VALUES (1, 'K-1', 'open', '2026-11-01 10:00:00')"
            )
        )
        connection.execute(
            text("INSERT INTO case_profile (case_id, youth_name) VALUES (1, :name)"),
            {"name": YOUTH},
        )
        connection.execute(
            text(
                "INSERT INTO coordinator_invite (display_name, code_hash, created_at, expires_at)"
                " VALUES (:name, 'h', '2026-11-01 10:00:00', '2026-11-15 10:00:00')"
            ),
            {"name": COORDINATOR},
        )

    # The operator upgrades (no key needed) and is told what is left to encrypt.
    engine.dispose()
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "samverkan keys rotate" in capsys.readouterr().out
    # At the heads, past 0008 (later migrations build on it), no longer at 0007.
    assert "0007" not in current_revisions(engine)
    assert current_revisions(engine) == head_revisions(engine)
    require_current(engine)

    # Still readable as they were, before any rotation.
    sessions = session_factory(engine)
    with UnitOfWork(sessions) as uow:
        assert uow.coordination.case(1).youth_name == YOUTH  # type: ignore[union-attr]
        assert uow.session.scalar(select(m.CoordinatorInvite.display_name)) == COORDINATOR
    assert PLAINTEXT in key_ids_in_use(engine)

    report = rotate(engine, data_keyring)
    assert report.reencrypted == 2
    assert report.key_ids_in_use == {"test"}
    assert all(key_id_of(value) == "test" for value in _raw_names(engine))
    raw = _on_disk(directory)
    assert YOUTH.encode() not in raw and COORDINATOR.encode() not in raw
    with UnitOfWork(sessions) as uow:
        assert uow.coordination.case(1).youth_name == YOUTH  # type: ignore[union-attr]
        assert uow.session.scalar(select(m.CoordinatorInvite.display_name)) == COORDINATOR
    engine.dispose()

    # Nothing left to encrypt: the upgrade command no longer asks for a rotation.
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "keys rotate" not in capsys.readouterr().out
