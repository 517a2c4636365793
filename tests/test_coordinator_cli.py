"""Operator commands: add a coordinator, list and show cases, print the follow-up report."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.cli import main
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.coord_seed import chat


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A migrated SQLite database's URL."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _sessions(url: str) -> sessionmaker[Session]:
    """Sessions on the CLI's database."""
    return session_factory(make_engine(url))


def test_add_coordinator_prints_a_code_that_starts_a_coordinator(
    db: str,
    capsys: pytest.CaptureFixture[str],
    catalogue: Catalogue,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    assert (
        main(
            ["admin", "add-coordinator", "--name", "Maria", "--db", db, "--bot-username", "sambot"]
        )
        == 0
    )
    out = capsys.readouterr().out
    code = out.split("/start ", 1)[1].split()[0]
    assert f"https://t.me/sambot?start={code.replace('-', '')}" in out
    maria = chat(_sessions(db), catalogue, clock, "maria")
    maria.send(f"/start {code}")
    assert maria.ids() == ["join.joined", "coord.home_no_case"]
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send("BUP: Boka <b>utredning</b> — 2026-12-15")
    maria.choose("Ja")

    assert main(["case", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "K-1" in listing and "open" in listing

    assert main(["case", "show", "--case", "K-1", "--db", db]) == 0
    shown = capsys.readouterr().out
    assert "coordinator" in shown and "due 2026-12-15, open" in shown
    assert "Alex" not in shown and "utredning" not in shown, "operators see no case text"

    assert main(["report", "followup", "--case", "K-1", "--db", db, "--format", "html"]) == 0
    html = capsys.readouterr().out
    assert "Boka &lt;b&gt;utredning&lt;/b&gt;" in html

    assert main(["report", "followup", "--case", "K-1", "--db", db, "--format", "png"]) == 2
    assert "needs --output" in capsys.readouterr().err
    target = tmp_path / "plan.png"
    args = ["report", "followup", "--case", "K-1", "--db", db, "--format", "png"]
    assert main([*args, "--output", str(target)]) == 0
    assert target.read_bytes().startswith(b"\x89PNG")


def test_a_closed_case_is_shown_without_its_plan_and_has_no_report(
    db: str, capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    with UnitOfWork(_sessions(db)) as uow:
        case = uow.cases.create_case(clock.now)
        case.status, case.closed_at = "closed", clock.now
        uow.commit()
    assert main(["case", "show", "--case", "K-1", "--db", db]) == 0
    assert "K-1 (closed)" in capsys.readouterr().out
    assert main(["report", "followup", "--case", "K-1", "--db", db]) == 3
    assert "case K-1 is closed" in capsys.readouterr().err


def test_unknown_case_is_a_clear_error(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["case", "show", "--case", "K-404", "--db", db]) == 3
    assert "no case 'K-404'" in capsys.readouterr().err
    assert main(["report", "followup", "--case", "K-404", "--db", db]) == 3


def test_case_show_names_each_meeting_by_the_id_meeting_move_takes(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["case", "create", "--db", db]) == 0
    at = "2027-01-12 13:00"
    assert main(["meeting", "add", "--case", "K-1", "--at", at, "--db", db]) == 0
    capsys.readouterr()
    assert main(["case", "show", "--case", "K-1", "--db", db]) == 0
    shown = capsys.readouterr().out
    line = next(x for x in shown.splitlines() if "2027-01-12" in x)
    meeting_id = line.split("meeting ", 1)[1].split(":", 1)[0]
    new_at = "2027-01-19 13:00"
    args = ["meeting", "move", "--case", "K-1", "--id", meeting_id, "--at", new_at, "--db", db]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["case", "show", "--case", "K-1", "--db", db]) == 0
    assert f"meeting {meeting_id}: 2027-01-19 12:00 UTC" in capsys.readouterr().out
