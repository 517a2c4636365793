"""Erasure covers every table by introspection; export gives a person everything about them;
retention erases closed cases and keeps the audit log, pseudonymised."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.cli import main
from bot.config import PrivacyConfig
from bot.privacy_files import PersonalDataFile
from flows.conversation import ConversationRef
from storage import models as m
from storage.crypto import DATA_KEY_ENV, Keyring
from storage.erasure import ERASURE_RULES, ErasureRuleMissing, check_rules
from storage.models import Base
from storage.retention import run_retention
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import SeededCase, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")


def test_every_table_has_an_erasure_rule() -> None:
    check_rules()
    assert set(ERASURE_RULES) == set(Base.metadata.tables)


def _schema_copy() -> MetaData:
    """The models' schema, copied, so an experiment cannot leak into other tests."""
    copy = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_a_new_table_without_a_rule_fails_the_build() -> None:
    schema = _schema_copy()
    Table(
        "diary_entry",
        schema,
        Column("id", Integer, primary_key=True),
        Column("person_id", ForeignKey("person.id")),
    )
    with pytest.raises(ErasureRuleMissing, match="diary_entry"):
        check_rules(schema)


def test_a_new_person_column_must_be_named_by_its_rule() -> None:
    schema = _schema_copy()
    schema.tables["question"].append_column(Column("reviewer_id", ForeignKey("person.id")))
    with pytest.raises(ErasureRuleMissing, match=r"question\.reviewer_id"):
        check_rules(schema)


def joined(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    code: str,
    ref: ConversationRef,
) -> Chat:
    """A member who said yes to everything."""
    chat = Chat(sessions, catalogue, clock, ref, auto_consent=False)
    chat.send(f"/start {code}")
    chat.choose("Ja, det är okej")
    if chat.said("consent.age"):
        chat.send("15")
    chat.choose("Ja, alla får se")
    return chat


def test_mina_data_sends_a_summary_and_everything_as_json(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = joined(sessions, catalogue, clock, case.youth_code, ALEX)
    alex.choose("Mina frågor")
    alex.send("Får jag byta lärare?")
    alex.send("/minadata")
    assert alex.ids() == ["privacy.export", "youth.menu"]
    assert "• frågor: 1" in alex.text()
    export = alex.turn[0].reply.attachment
    assert export is not None and export.kind == "personal_data"
    with UnitOfWork(sessions) as uow:
        file = PersonalDataFile().make(uow, export.params, "sv", catalogue)
    data = json.loads(file.data)
    assert data["question"][0]["text"] == "Får jag byta lärare?"
    assert data["person"][0]["display_name"] == "Alex"
    assert {c["scope"] for c in data["consent"]} == {"bot", "sip"}


def test_glom_mig_asks_first_and_no_keeps_everything(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = joined(sessions, catalogue, clock, case.youth_code, ALEX)
    alex.send("/glommig")
    assert alex.ids() == ["privacy.forget.confirm"]
    assert "Det går inte att ångra" in alex.text()
    alex.choose("Nej, behåll allt")
    assert alex.ids() == ["privacy.forget.kept", "youth.menu"]
    with UnitOfWork(sessions) as uow:
        assert uow.members.actor_for(ALEX) is not None


def test_withdrawal_can_lead_straight_to_erasure(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = joined(sessions, catalogue, clock, case.youth_code, ALEX)
    alex.send("/samtycke")
    alex.choose("Ta tillbaka mitt ja")
    alex.choose("Ja, radera allt")
    assert alex.ids() == ["privacy.forget.confirm"]
    alex.choose("Ja, glöm mig")
    assert alex.ids() == ["privacy.forgotten"]
    with UnitOfWork(sessions) as uow:
        assert uow.members.actor_for(ALEX) is None
        assert uow.session.scalars(select(m.ConversationState)).all() == []


def test_retention_erases_closed_cases_after_the_period_and_pseudonymises_the_audit(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    data_keyring: Keyring,
) -> None:
    case = seed_case(sessions, clock.now)
    other = seed_case(sessions, clock.now)
    alex = joined(sessions, catalogue, clock, case.youth_code, ALEX)
    alex.choose("Mina frågor")
    alex.send("Fråga")
    joined(sessions, catalogue, clock, other.youth_code, KIM)
    with UnitOfWork(sessions) as uow:
        alex_id = uow.members.actor_for(ALEX).person_id  # type: ignore[union-attr]
        closed = uow.session.get_one(m.Case, case.case_id)
        closed.status, closed.closed_at = "closed", clock.now
        uow.commit()
    engine = sessions.kw["bind"]
    policy = PrivacyConfig(closed_case_days=30)

    assert run_retention(engine, policy, clock.now + timedelta(days=29)).cases == 0
    report = run_retention(engine, policy, clock.now + timedelta(days=31))
    assert report.cases == 1
    with UnitOfWork(sessions) as uow:
        assert uow.session.get(m.Case, case.case_id) is None
        assert uow.session.get(m.Person, alex_id) is None
        assert uow.session.scalars(select(m.Question)).all() == []
        assert uow.members.actor_for(KIM) is not None  # the other case is untouched
        trail = uow.session.scalars(
            select(m.AuditEvent).where(m.AuditEvent.case_id == case.case_id)
        ).all()
        assert trail and all(a.actor_person_id is None for a in trail)
        assert {a.actor_pseudonym for a in trail if a.action == "change_item"} == {
            data_keyring.pseudonym("person", alex_id)
        }


def test_audit_command_shows_who_did_what_without_content(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    catalogue: Catalogue,
    clock: FakeClock,
    data_keyring: Keyring,
) -> None:
    from storage.db import make_engine, session_factory
    from storage.schema import upgrade

    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    case: SeededCase = seed_case(sessions, clock.now)
    alex = joined(sessions, catalogue, clock, case.youth_code, ALEX)
    alex.choose("Mina frågor")
    alex.send("Hemlig fråga")
    engine.dispose()
    monkeypatch.setenv(DATA_KEY_ENV, data_keyring.current.encode())
    assert main(["audit", "--db", url, "--case", case.reference]) == 0
    out = capsys.readouterr().out
    assert "consent_bot" in out and "change_item" in out and "person " in out
    assert "Hemlig" not in out
