"""Canary: a unique string written by one person in every free-text field is never stored
as plaintext (database file, WAL, logs); after that person's erasure it is found nowhere, in
any form, and everyone else's data is intact."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, Engine, select

from bot.catalogue import Catalogue
from bot.config import PrivacyConfig
from flows.conversation import ConversationRef
from flows.domain import MeetingKind, Role
from storage import models as m
from storage.crypto import Keyring, key_id_of
from storage.db import make_engine, session_factory
from storage.keys import _raw_view, encrypted_columns
from storage.retention import run_retention
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock

CANARY = "Kanariefågel7Q3ZX"
OTHER = "KimsEgnaFråga9WV"
ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    """A migrated SQLite file in WAL mode, and its directory."""
    engine = make_engine(f"sqlite:///{tmp_path / 'canary.sqlite3'}")
    upgrade(engine)
    yield engine, tmp_path
    engine.dispose()


def on_disk(directory: Path) -> bytes:
    """Every byte of the database, its WAL and shared memory file."""
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def stored_values(engine: Engine, keyring: Keyring) -> list[tuple[str, str]]:
    """(ciphertext, plaintext) of every encrypted value in the database."""
    found: list[tuple[str, str]] = []
    with engine.connect() as connection:
        for table, column in encrypted_columns():
            value = _raw_view(table, column).c[column.name]
            for (stored,) in connection.execute(select(value).where(value.is_not(None))):
                assert key_id_of(stored) is not None, f"{table.name}.{column.name} is plaintext"
                found.append((stored, keyring.decrypt(stored)))
    return found


def test_the_canary_is_never_plaintext_and_is_gone_after_erasure(
    db: tuple[Engine, Path],
    catalogue: Catalogue,
    clock: FakeClock,
    data_keyring: Keyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, directory = db
    caplog.set_level(logging.DEBUG)
    sessions = session_factory(engine)
    now = clock.now
    with UnitOfWork(sessions) as uow:
        case = uow.cases.create_case(now)
        uow.cases.add_meeting(case.id, MeetingKind.FIRST, now + timedelta(days=7), 90, "BUP")
        youth_code = uow.cases.create_invite(case.id, Role.YOUTH, f"Alex {CANARY}", now)
        kim_code = uow.cases.create_invite(case.id, Role.CAREGIVER, "Kim", now)
        uow.commit()

    alex = Chat(sessions, catalogue, clock, ALEX, auto_consent=False)
    alex.send(f"/start {youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("15")
    alex.choose("Ja, alla får se")
    alex.choose("Mina frågor")
    alex.send(f"Första {CANARY}")
    alex.choose("Ändra en fråga")
    alex.choose(CANARY)
    alex.send(f"Ändrad {CANARY}")
    alex.choose("Nästa steg")
    for aspect in ("funkar", "svårt", "hjälp"):
        alex.send(f"{aspect} {CANARY}")
    alex.choose("En del av mötet")
    alex.choose(f"Ändrad {CANARY}")  # shares the question

    kim = Chat(sessions, catalogue, clock, KIM, auto_consent=False)
    kim.send(f"/start {kim_code}")
    kim.choose("Ja, det är okej")
    kim.choose("Ja, alla får se")

    with UnitOfWork(sessions) as uow:
        alex_id = uow.members.actor_for(ALEX).person_id  # type: ignore[union-attr]
        kim_id = uow.members.actor_for(KIM).person_id  # type: ignore[union-attr]
        uow.preparation.add_question(case.id, kim_id, OTHER, now)
        # Fields whose flows other engineers build: written as Alex would, through the models.
        picture = m.SharedPicture(case_id=case.id, version=1, text="Bilden", published_at=now)
        uow.session.add(picture)
        uow.session.flush()
        uow.session.add(
            m.PictureResponse(
                picture_id=picture.id,
                person_id=alex_id,
                verdict="partly",
                comment=f"kommentar {CANARY}",
                answered_at=now,
            )
        )
        action = m.PlanAction(
            case_id=case.id,
            description="Träffa skolkuratorn",
            due_date=date(2026, 12, 1),
            created_at=now,
            updated_at=now,
        )
        uow.session.add(action)
        uow.session.flush()
        uow.session.add(
            m.ActionUpdate(
                action_id=action.id, author_id=alex_id, status="done", note=CANARY, created_at=now
            )
        )
        uow.session.add(
            m.MeetingRequest(
                case_id=case.id, requested_by_id=alex_id, reason=f"skäl {CANARY}", created_at=now
            )
        )
        uow.commit()

    # 1. Written everywhere, readable through the application, plaintext nowhere.
    values = stored_values(engine, data_keyring)
    with_canary = [cipher for cipher, plain in values if CANARY in plain]
    tables_with_canary = set()
    with engine.connect() as connection:
        for table, column in encrypted_columns():
            value = _raw_view(table, column).c[column.name]
            for (stored,) in connection.execute(select(value).where(value.is_not(None))):
                if stored in with_canary:
                    tables_with_canary.add(f"{table.name}.{column.name}")
    assert tables_with_canary >= {
        "person.display_name",
        "invite.display_name",
        "question.text",
        "view.text",
        "picture_response.comment",
        "action_update.note",
        "meeting_request.reason",
        "outbox.params",
        "outbox.choices",
    }
    raw = on_disk(directory)
    assert CANARY.encode() not in raw
    assert CANARY not in caplog.text

    # 2. Alex asks to be forgotten.
    alex.send("/glommig")
    assert alex.ids() == ["privacy.forget.confirm"]
    alex.choose("Ja, glöm mig")
    assert alex.ids() == ["privacy.forgotten"]
    alex.send("hej")
    assert alex.ids() == ["onboarding.need_code"]  # a stranger now

    # 3. Found nowhere, in any form: not as plaintext, not as any of its old ciphertexts.
    assert not [p for _, p in stored_values(engine, data_keyring) if CANARY in p]
    raw = on_disk(directory)
    assert CANARY.encode() not in raw
    for cipher in with_canary:
        blob = cipher.split(":", 2)[2]
        assert blob.encode() not in raw
        assert base64.b64decode(blob)[12:44] not in raw  # not even the raw ciphertext bytes
    assert CANARY not in caplog.text

    # 4. Everyone else's data is intact.
    with UnitOfWork(sessions) as uow:
        assert uow.session.get(m.Person, alex_id) is None
        kim_prep = uow.preparation.preparation(case.id, kim_id)
        assert [q.text for q in kim_prep.questions] == [OTHER]
        assert uow.session.scalar(select(m.SharedPicture.text)) == "Bilden"
        assert uow.session.scalar(select(m.PlanAction.description)) == "Träffa skolkuratorn"
        assert uow.members.actor_for(KIM) is not None
        audit = uow.session.scalars(select(m.AuditEvent)).all()
        assert all(a.actor_person_id != alex_id for a in audit)
        assert any(a.action == "erased" and a.actor_pseudonym for a in audit)


# Names pass the coordinator's name rules (letters only, at most two words).
YOUTH_NAME = "Zqxkanariewv"
COORDINATOR_NAME = "Vwkanariezqx"
MARIA = ConversationRef(PLATFORM, "maria", "maria")


def test_names_on_the_coordinator_side_are_never_plaintext_and_go_with_erasure_and_purge(
    db: tuple[Engine, Path],
    catalogue: Catalogue,
    clock: FakeClock,
    data_keyring: Keyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, directory = db
    caplog.set_level(logging.DEBUG)
    sessions = session_factory(engine)
    with UnitOfWork(sessions) as uow:
        code = uow.coordination.create_coordinator_invite(f"Maria {COORDINATOR_NAME}", clock.now)
        uow.commit()

    # The operator's invite names Maria; she joins and opens a case for the young person.
    maria = Chat(sessions, catalogue, clock, MARIA)
    maria.send(f"/start {code}")
    assert maria.ids() == ["join.joined", "coord.home_no_case"]
    maria.choose("Öppna ett nytt ärende")
    maria.send(YOUTH_NAME)
    assert maria.ids() == ["coord.case_opened", "coord.case_next_steps"]
    assert YOUTH_NAME in maria.text()

    # 1. Both names are ciphertext in their columns, and plaintext nowhere on disk or in logs.
    values = stored_values(engine, data_keyring)
    with engine.connect() as connection:
        youth_stored = connection.scalar(select(_raw("case_profile", "youth_name")))
        invite_stored = connection.scalar(select(_raw("coordinator_invite", "display_name")))
    assert data_keyring.decrypt(str(youth_stored)) == YOUTH_NAME
    assert data_keyring.decrypt(str(invite_stored)) == f"Maria {COORDINATOR_NAME}"
    with_names = [c for c, p in values if YOUTH_NAME in p or COORDINATOR_NAME in p]
    raw = on_disk(directory)
    assert YOUTH_NAME.encode() not in raw and COORDINATOR_NAME.encode() not in raw
    assert YOUTH_NAME not in caplog.text and COORDINATOR_NAME not in caplog.text

    # 2. Maria asks to be forgotten: her name (in the invite she used) is gone.
    maria.send("/glommig")
    maria.choose("Ja, glöm mig")
    assert maria.ids() == ["privacy.forgotten"]
    assert not [p for _, p in stored_values(engine, data_keyring) if COORDINATOR_NAME in p]

    # 3. The case is closed and purged after the retention period: the young person's name too.
    with UnitOfWork(sessions) as uow:
        case = uow.session.scalars(select(m.Case)).one()
        case.status, case.closed_at = "closed", clock.now
        uow.commit()
    run_retention(engine, PrivacyConfig(), clock.now + timedelta(days=366))
    assert not [p for _, p in stored_values(engine, data_keyring) if YOUTH_NAME in p]
    raw = on_disk(directory)
    assert YOUTH_NAME.encode() not in raw and COORDINATOR_NAME.encode() not in raw
    for cipher in with_names:
        assert cipher.split(":", 2)[2].encode() not in raw
    assert YOUTH_NAME not in caplog.text and COORDINATOR_NAME not in caplog.text


def _raw(table: str, name: str) -> ColumnElement[str]:
    """One encrypted column as stored (ciphertext); fails unless the column is encrypted."""
    found = [(t, c) for t, c in encrypted_columns() if t.name == table and c.name == name]
    assert found, f"{table}.{name} is not an encrypted column"
    return _raw_view(*found[0]).c[name]
