"""At rest: the files the bot makes are its user's only; the Matrix access token, meeting links,
organisation names and descriptions are ciphertext; a meeting link is a clean web link, and no
link a coordinator pastes crashes the chat."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.cli import main
from flows.coordinator import LINK_MAX_CHARS, ORG_MAX_CHARS
from flows.domain import MeetingKind
from storage import models as m
from storage.crypto import DATA_KEY_ENV, Keyring, key_id_of
from storage.db import make_engine, session_factory
from storage.keys import PLAINTEXT, key_ids_in_use, rotate
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.cli import run
from tests.conftest import FakeClock
from tests.coord_seed import chat, coordinator_code
from tests.test_canary import on_disk, stored_values

ORG = "Verksamhetkanarie5GH"
LINK = "https://video.example/Lankkanarie7TT"
TOKEN = "syt_Tokenkanarie3MM_" + "x" * 1000  # as long as a token may be (String(1024) before)
DESCRIPTION = "Vi är Beskrivningkanarie2QQ och hjälper till."
LONGEST_LINK = "https://video.example/" + "m" * (LINK_MAX_CHARS - 22)
LONGEST_ORG = "V" * ORG_MAX_CHARS
WHEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# (table, column) of everything this file checks is stored as ciphertext.
NOW_ENCRYPTED = [
    ("organisation", "name"),
    ("organisation", "description"),
    ("meeting", "remote_link"),
    ("matrix_account", "access_token"),
]


def mode(path: Path) -> int:
    """The permission bits of a file or folder."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a user (022): what the bot must not rely on being tighter."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("usual_umask")
def test_the_database_its_wal_and_the_folders_made_for_it_are_the_bot_users_only(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "var" / "samverkan"
    engine = make_engine(f"sqlite:///{folder / 'bot.sqlite3'}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM person"))
        files = {p.name: mode(p) for p in folder.iterdir()}
    engine.dispose()
    assert files == {"bot.sqlite3": 0o600, "bot.sqlite3-wal": 0o600, "bot.sqlite3-shm": 0o600}
    assert mode(folder) == 0o700 and mode(tmp_path / "var") == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_the_demos_folder_key_and_an_exported_report_are_the_users_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_KEY_ENV)  # the demo then makes its own key file
    demo = run(["demo"], tmp_path, "/hjälp\n")
    assert demo.returncode == 0, demo.stderr
    data = tmp_path / "data" / "samverkansboten"
    assert mode(tmp_path / "data") == 0o700 and mode(data) == 0o700
    assert {p.name: mode(p) for p in data.iterdir()} == {
        "samverkan.sqlite3": 0o600,
        "samverkan.sqlite3.key": 0o600,
    }
    db = f"sqlite:///{data / 'samverkan.sqlite3'}"
    report = tmp_path / "uppfoljning.md"
    exported = run(
        ["report", "followup", "--case", "K-1", "--output", str(report), "--db", db], tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    assert mode(report) == 0o600


def test_what_a_coordinator_types_and_the_matrix_token_are_ciphertext(
    tmp_path: Path, catalogue: Catalogue, clock: FakeClock, data_keyring: Keyring
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rest.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send(ORG)
    maria.choose("Till ärendet")
    maria.choose("Boka möte")
    maria.send("15 dec 13.00")
    maria.send(LINK)
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert "Mötet är bokat" in maria.text()
    with UnitOfWork(sessions) as uow:
        org = uow.families.find_organisation(ORG.lower())
        assert org is not None and org.name == ORG
        uow.families.set_organisation_description(org.id, DESCRIPTION)
        uow.matrix.save_login("@bot:example.org", "DEVICE", TOKEN, WHEN)
        uow.commit()

    # Readable through the application as they were written ...
    with UnitOfWork(sessions) as uow:
        assert [o.name for o in uow.families.all_organisations()] == [ORG]
        assert uow.session.scalar(select(m.Meeting.remote_link)) == LINK
        assert uow.matrix.session_for("@bot:example.org").access_token == TOKEN  # type: ignore[union-attr]
    # ... and ciphertext in their columns, plaintext nowhere in the file or its WAL.
    assert all(key_id_of(value) == "test" for value in raw_values(engine))
    plain = [p for _, p in stored_values(engine, data_keyring)]
    for secret in (ORG, LINK, TOKEN, DESCRIPTION):
        assert secret in plain
        assert secret.encode() not in on_disk(tmp_path)
    engine.dispose()


def test_the_longest_values_fit_their_columns_as_ciphertext(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        case = uow.cases.create_case(clock.now)
        uow.cases.add_meeting(case.id, MeetingKind.FIRST, clock.now, 90, None, LONGEST_LINK)
        org = uow.families.add_organisation(LONGEST_ORG, "other", DESCRIPTION)
        uow.matrix.save_login("@bot:example.org", "DEVICE", TOKEN, WHEN)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(m.Meeting.remote_link)) == LONGEST_LINK
        assert uow.families.find_organisation(str(org)).name == LONGEST_ORG  # type: ignore[union-attr]
        assert uow.matrix.session_for("@bot:example.org").access_token == TOKEN  # type: ignore[union-attr]


def raw_values(engine: Engine) -> list[str]:
    """Every stored value of the columns this file checks, exactly as in the database."""
    with engine.connect() as connection:
        return [
            value
            for table, column in NOW_ENCRYPTED
            for value in connection.execute(text(f"SELECT {column} FROM {table}")).scalars()
            if value is not None
        ]


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """A coordinator with a case, asked for the meeting's video link."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Boka möte")
    maria.send("15 dec 13.00")
    assert maria.ids() == ["coord.meeting_link_ask"]
    return maria


@pytest.mark.parametrize(
    "pasted",
    [
        "https://video.example/\ud800mote",  # a lone surrogate: no link, and no crash
        "ftp://video.example/mote",
        "javascript:alert(1)",
        "https://",
        "https://video.example/mote och mer text",
        "video.example/mote",
    ],
)
def test_what_is_not_a_web_link_is_refused_with_a_clear_message(
    maria: Chat, pasted: str, sessions: sessionmaker[Session]
) -> None:
    maria.send(pasted)
    assert maria.ids() == ["coord.meeting_bad_link", "coord.meeting_link_ask"]
    assert "https://" in maria.text()
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(m.Meeting.id)) is None


def test_a_link_keeps_no_control_bidi_or_nul_characters(
    maria: Chat, sessions: sessionmaker[Session]
) -> None:
    maria.send("\u202e https://video.example/\x00mo\u200bte\x1b[2J\u2066 \n")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert "Mötet är bokat" in maria.text()
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(m.Meeting.remote_link)) == "https://video.example/mote[2J"


def test_values_from_before_0013_stay_readable_and_rotation_encrypts_them(
    tmp_path: Path, data_keyring: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "db"
    url = f"sqlite:///{directory / 'old.sqlite3'}"
    engine = make_engine(url)
    # A database at every head before 0013 (0003 made matrix_account, on a branch).
    for head in ("0003", "0004", "0005", "0006", "0012"):
        upgrade(engine, head)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO case_file (id, reference, status, created_at) "
                "VALUES (1, 'K-1', 'open', '2026-11-01 10:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO organisation (id, name, kind, description) "
                "VALUES (1, :name, 'other', :description)"
            ),
            {"name": ORG, "description": DESCRIPTION},
        )
        connection.execute(
            text(
                "INSERT INTO meeting (case_id, kind, starts_at, duration_minutes, remote_link) "
                "VALUES (1, 'first', '2026-12-15 12:00:00', 90, :link)"
            ),
            {"link": LINK},
        )
        connection.execute(
            text(
                "INSERT INTO matrix_account (user_id, device_id, access_token, created_at, "
                "updated_at) VALUES ('@bot:example.org', 'D', :token, '2026-11-01 10:00:00', "
                "'2026-11-01 10:00:00')"
            ),
            {"token": TOKEN},
        )
    engine.dispose()
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "samverkan keys rotate" in capsys.readouterr().out

    sessions = session_factory(engine)
    with UnitOfWork(sessions) as uow:
        assert uow.families.find_organisation(ORG).description == DESCRIPTION  # type: ignore[union-attr]
        assert uow.session.scalar(select(m.Meeting.remote_link)) == LINK
        assert uow.matrix.session_for("@bot:example.org").access_token == TOKEN  # type: ignore[union-attr]
    assert PLAINTEXT in key_ids_in_use(engine)

    report = rotate(engine, data_keyring)
    assert report.reencrypted == 4
    assert report.key_ids_in_use == {"test"}
    assert all(key_id_of(value) == "test" for value in raw_values(engine))
    for secret in (ORG, LINK, TOKEN, DESCRIPTION):
        assert secret.encode() not in on_disk(directory)
    with UnitOfWork(sessions) as uow:
        assert uow.matrix.session_for("@bot:example.org").access_token == TOKEN  # type: ignore[union-attr]
    engine.dispose()
