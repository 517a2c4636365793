"""The command line of the families' side, and the demo case in the terminal chat."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.catalogue import Catalogue
from bot.cli import EXIT_NOT_FOUND, EXIT_USAGE, main
from flows.conversation import ConversationRef
from storage import models as m
from storage.db import make_engine, session_factory
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, received, seed_family_case


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A migrated SQLite database the CLI and the test share."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    return url


@pytest.fixture
def case(db_url: str, clock: FakeClock) -> FamilyCase:
    """A family case in that database."""
    engine = make_engine(db_url)
    try:
        return seed_family_case(session_factory(engine), clock.now)
    finally:
        engine.dispose()


def test_publishing_a_picture_from_a_file_queues_the_questions(
    db_url: str,
    case: FamilyCase,
    clock: FakeClock,
    catalogue: Catalogue,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    alex = Chat(sessions, catalogue, clock, ConversationRef(PLATFORM, "alex", "alex"))
    alex.send(f"/start {case.youth_code}")
    text = tmp_path / "bild.txt"
    text.write_text("Alex vill ha hjälp med sömnen.\n", encoding="utf-8")
    assert (
        main(["picture", "publish", "--case", case.reference, "--file", str(text), "--db", db_url])
        == 0
    )
    assert (
        f"{case.reference}: shared picture version 1, 1 messages queued" in capsys.readouterr().out
    )
    assert (
        main(["picture", "publish", "--case", case.reference, "--file", str(text), "--db", db_url])
        == 0
    )
    with UnitOfWork(sessions) as uow:
        versions = uow.session.scalars(select(m.SharedPicture.version)).all()
        queued = uow.session.scalars(
            select(m.Outbox.message_id).where(
                m.Outbox.chat_id == "alex", m.Outbox.status == "pending"
            )
        ).all()
    assert sorted(versions) == [1, 2]
    assert queued == ["picture.published", "picture.published"]
    engine.dispose()


def test_publishing_refuses_an_empty_file_and_an_unknown_case(
    db_url: str, case: FamilyCase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "tom.txt"
    empty.write_text("  \n", encoding="utf-8")
    assert (
        main(["picture", "publish", "--case", case.reference, "--file", str(empty), "--db", db_url])
        == EXIT_USAGE
    )
    assert "is empty" in capsys.readouterr().err
    full = tmp_path / "bild.txt"
    full.write_text("Text", encoding="utf-8")
    assert (
        main(["picture", "publish", "--case", "K-999", "--file", str(full), "--db", db_url])
        == EXIT_NOT_FOUND
    )
    assert (
        main(
            [
                "picture",
                "publish",
                "--case",
                case.reference,
                "--file",
                str(tmp_path / "nej.txt"),
                "--db",
                db_url,
            ]
        )
        == EXIT_USAGE
    )


def test_an_organisation_description_is_set_and_cleared_from_the_command_line(
    db_url: str, case: FamilyCase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["org", "list", "--db", db_url]) == 0
    assert "bup\tBUP Storstad (default text)" in capsys.readouterr().out
    description = "Vi träffar barn och unga som mår dåligt."
    assert (
        main(
            [
                "org",
                "set-description",
                "--org",
                "bup storstad",
                "--text",
                description,
                "--db",
                db_url,
            ]
        )
        == 0
    )
    assert "BUP Storstad: description set" in capsys.readouterr().out
    engine = make_engine(db_url)
    with UnitOfWork(session_factory(engine)) as uow:
        (org,) = [o for o in uow.families.organisations(case.case_id) if o.kind == "bup"]
    assert org.description == description
    assert main(["org", "set-description", "--org", str(org.id), "--db", db_url]) == 0
    with UnitOfWork(session_factory(engine)) as uow:
        (org,) = [o for o in uow.families.organisations(case.case_id) if o.kind == "bup"]
    assert org.description is None
    engine.dispose()
    assert (
        main(["org", "set-description", "--org", "Finns inte", "--text", "x", "--db", db_url])
        == EXIT_NOT_FOUND
    )


def test_the_demo_youth_sees_the_meeting_and_answers_the_shared_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    # First contact: yes to the bot, age 15, yes to sharing between agencies.
    consent = ["1", "15", "1"]
    script = "\n".join([*consent, "/mote", "1", "2", "/bild", "2", "Jag bråkar inte i skolan.", ""])
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["demo", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "Första mötet" in out and "Var: BUP, Storgatan 1" in out
    assert "• samordnare, Socialtjänsten i Storstad" in out
    # The calendar file came with it, saved where the terminal says.
    [saved] = [line for line in out.splitlines() if "Filen är sparad: " in line]
    path = Path(saved.split("Filen är sparad: ", 1)[1].strip())
    assert path.suffix == ".ics" and path.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert path.is_relative_to(tmp_path)
    assert "BUP är en vård för barn och unga" in out  # who is who, default text
    assert "Gemensam bild, version 1" in out
    assert "Tack! Ditt svar är skickat till den som håller i mötet." in out
    engine = make_engine(url)
    with UnitOfWork(session_factory(engine)) as uow:
        verdicts = uow.session.scalars(select(m.PictureResponse.verdict)).all()
        alerts = uow.session.scalars(
            select(m.Outbox.message_id).where(m.Outbox.message_id == "alert.picture")
        ).all()
    engine.dispose()
    assert verdicts == ["partly"]
    # Sara, the demo coordinator, is told: she reads it with `samverkan demo --as coordinator`.
    assert alerts == ["alert.picture"]


def test_a_meeting_request_is_listed_and_answered_from_the_command_line(
    db_url: str,
    case: FamilyCase,
    clock: FakeClock,
    catalogue: Catalogue,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    alex_ref = ConversationRef(PLATFORM, "alex", "alex")
    alex = Chat(sessions, catalogue, clock, alex_ref)
    alex.send(f"/start {case.youth_code}")
    alex.send("/nyttmote")
    alex.send("Jag vill prata om skolan.")
    capsys.readouterr()
    assert main(["request", "list", "--case", case.reference, "--db", db_url]) == 0
    listed = capsys.readouterr().out.strip().split("\t")
    assert listed[-1] == "Jag vill prata om skolan."
    request_id = listed[0]
    assert (
        main(
            [
                "request",
                "answer",
                "--id",
                request_id,
                "--text",
                "Vi ses fredag kl. 10.",
                "--db",
                db_url,
            ]
        )
        == 0
    )
    (answered,) = [
        r for r in received(sessions, catalogue, alex_ref) if r.reply.message == "request.answered"
    ]
    assert "Vi ses fredag kl. 10." in answered.text
    assert (
        main(["request", "answer", "--id", request_id, "--text", "Igen", "--db", db_url])
        == EXIT_NOT_FOUND
    )
    capsys.readouterr()
    assert main(["request", "list", "--case", case.reference, "--db", db_url]) == 0
    assert capsys.readouterr().out == ""
    engine.dispose()
