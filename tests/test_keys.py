"""Data keys: AES-GCM with the key id beside the ciphertext; rotation re-encrypts everything
so the old key is no longer needed; the bot refuses to start without a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import EXIT_KEY, main
from flows.conversation import ConversationRef
from flows.domain import ConsentScope
from storage import models as m
from storage.crypto import (
    DATA_KEY_ENV,
    DataKey,
    DataKeyError,
    Keyring,
    install_keyring,
    keyring_from_env,
)
from storage.keys import key_ids_in_use, rotate
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.seed import add_youth, seed_case


def test_a_value_is_sealed_under_the_current_key_and_tampering_is_detected() -> None:
    ring = Keyring(DataKey.generate("a"))
    sealed = ring.encrypt("hemligt")
    assert sealed.startswith("enc1:a:") and "hemligt" not in sealed
    assert ring.decrypt(sealed) == "hemligt"
    assert ring.encrypt("hemligt") != sealed  # a fresh nonce every time
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(DataKeyError, match="does not open"):
        ring.decrypt(tampered)
    # The key id is bound to the ciphertext: relabelling it under another key fails.
    other = Keyring(DataKey("b", ring.current.secret))
    with pytest.raises(DataKeyError):
        other.decrypt(sealed.replace("enc1:a:", "enc1:b:"))


def test_keys_from_the_environment_are_checked_with_clear_errors() -> None:
    key = DataKey.generate("k1")
    ring = keyring_from_env({DATA_KEY_ENV: key.encode()})
    assert ring is not None and ring.current.key_id == "k1"
    assert keyring_from_env({}) is None
    with pytest.raises(DataKeyError, match="looks like"):
        keyring_from_env({DATA_KEY_ENV: "no-colon-here"})
    with pytest.raises(DataKeyError, match="32 bytes"):
        keyring_from_env({DATA_KEY_ENV: "k1:c2hvcnQ="})


def _write(sessions: sessionmaker[Session], clock: FakeClock) -> tuple[int, int]:
    """A young person with consent and one question; returns (case, person)."""
    case = seed_case(sessions, clock.now)
    person = add_youth(sessions, case.case_id, ConversationRef("t", "a", "a"), "Alex", clock.now)
    with UnitOfWork(sessions) as uow:
        uow.privacy.record_consent(person, case.case_id, ConsentScope.BOT, True, "v", clock.now)
        uow.preparation.add_question(case.case_id, person, "Vem bestämmer?", clock.now)
        uow.commit()
    return case.case_id, person


def test_rotation_reencrypts_everything_and_the_old_key_is_no_longer_needed(
    engine: Engine, sessions: sessionmaker[Session], clock: FakeClock, data_keyring: Keyring
) -> None:
    case_id, person = _write(sessions, clock)
    old = data_keyring.current
    assert key_ids_in_use(engine) == {old.key_id}

    new = DataKey.generate("new")
    both = Keyring(new, (old,))
    install_keyring(both)
    # Still readable while the rotation has not run: old rows name the old key.
    with UnitOfWork(sessions) as uow:
        assert uow.preparation.preparation(case_id, person).questions[0].text == "Vem bestämmer?"
    report = rotate(engine, both)
    assert report.reencrypted > 0
    assert report.key_ids_in_use == {"new"}
    assert rotate(engine, both).reencrypted == 0  # idempotent

    install_keyring(Keyring(new))  # the old key is gone
    with UnitOfWork(sessions) as uow:
        assert uow.preparation.preparation(case_id, person).questions[0].text == "Vem bestämmer?"
        assert uow.session.scalar(select(m.Person.display_name)) is not None

    install_keyring(Keyring(old))  # and the old key alone opens nothing any more
    with UnitOfWork(sessions) as uow, pytest.raises(DataKeyError, match="'new' is needed"):
        uow.preparation.preparation(case_id, person)


def test_run_refuses_to_start_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(DATA_KEY_ENV, raising=False)
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["db", "upgrade", "--db", db]) == 0  # migrations need no key
    code = main(["run", "--db", db])
    assert code == EXIT_KEY
    err = capsys.readouterr().err
    assert "SAMVERKAN_DATA_KEY must be set" in err and "samverkan keys new" in err


def test_the_demo_makes_its_own_key_file_beside_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    monkeypatch.delenv(DATA_KEY_ENV, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\n15\n1\n"))
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", f"sqlite:///{db}"]) == 0
    key_file = Path(f"{db}.key")
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    out = capsys.readouterr().out
    assert "Vad vill du göra nu?" in out  # consent given, the youth menu is shown
    # A second start reads the same key and the same data.
    monkeypatch.setattr(sys, "stdin", io.StringIO("/minadata\n"))
    assert main(["demo", "--db", f"sqlite:///{db}"]) == 0
    assert "svar om samtycke: 2" in capsys.readouterr().out
