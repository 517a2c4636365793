"""An operator sets up a case from the shell, with no chat step by a coordinator:
`samverkan org add`, `case create`, `meeting add|move|cancel` and `invite create --org`.
The people then join with the printed codes and find their meeting and their actions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.cli import EXIT_NOT_FOUND, EXIT_USAGE, main
from bot.clock import system_clock
from bot.family_reminders import MeetingReminders
from bot.scheduler import tick
from flows.conversation import ConversationRef
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import received

ALEX = ConversationRef(PLATFORM, "alex", "alex")
SARA = ConversationRef(PLATFORM, "sara", "sara")
MARIA = ConversationRef(PLATFORM, "maria", "maria")
TWO_DAYS_BEFORE = MeetingReminders((timedelta(days=2),))
MATRIX_SECRETS = (
    "SAMVERKAN_MATRIX_PICKLE_KEY",
    "SAMVERKAN_MATRIX_PASSWORD",
    "SAMVERKAN_MATRIX_ACCESS_TOKEN",
)


@dataclass
class Shell:
    """The operator's terminal: `samverkan …` in-process on one fresh SQLite file."""

    url: str
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str) -> tuple[int, str, str]:
        """Runs one command; its exit code, standard output and standard error."""
        code = main([*args, "--db", self.url])
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str) -> str:
        """Runs a command that must work; the one line it printed."""
        code, out, err = self.run(*args)
        assert code == 0, err
        assert err == ""
        (line,) = out.splitlines()
        return line


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file with the schema, as after `samverkan db upgrade`."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def shell(database: Engine, capsys: pytest.CaptureFixture[str]) -> Shell:
    """The operator's shell on the fresh database."""
    return Shell(database.url.render_as_string(hide_password=False), capsys)


@pytest.fixture
def sessions(database: Engine) -> sessionmaker[Session]:
    """Sessions on the fresh database, for the people's chats."""
    return session_factory(database)


def meeting_reminders(
    sessions: sessionmaker[Session], catalogue: Catalogue, ref: ConversationRef
) -> list[str]:
    """The meeting reminders one chat has been sent."""
    return [
        r.text for r in received(sessions, catalogue, ref) if r.reply.message == "meeting.reminder"
    ]


def test_an_operator_sets_up_a_case_whose_people_join_and_find_meeting_and_actions(
    shell: Shell, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    assert shell.ok("org", "add", "--name", "BUP Norr", "--kind", "bup") == (
        "organisation 1: BUP Norr (bup)"
    )
    assert shell.ok("case", "create") == "K-1"
    assert shell.ok(
        "meeting", "add", "--case", "K-1", "--at", "2026-12-15 13:00", "--place", "BUP Norr"
    ) == ("K-1: meeting 1 (first) on 2026-12-15 13:00 Europe/Stockholm, 90 minutes")
    youth = shell.ok("invite", "create", "--case", "K-1", "--role", "youth", "--name", "Alex")
    professional = shell.ok(
        "invite", "create", "--case", "K-1", "--role", "professional", "--name", "Sara",
        "--org", "BUP Norr",
    )  # fmt: skip
    coordinator = shell.ok(
        "invite", "create", "--case", "K-1", "--role", "coordinator", "--name", "Maria"
    )

    # The young person joins and sees the meeting the operator booked, with BUP Norr invited.
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {youth}")
    sara = Chat(sessions, catalogue, clock, SARA)
    sara.send(f"/start {professional}")
    alex.send("/meny")
    alex.choose("När är mötet?")
    assert "När: tisdag 15 december kl. 13.00 till 14.30." in alex.text()
    assert "Var: BUP Norr" in alex.text()
    assert "• yrkesperson, BUP Norr" in alex.text()

    # The coordinator joins the same way and writes a plan; BUP Norr owns an action.
    maria = Chat(sessions, catalogue, clock, MARIA)
    maria.send(f"/start {coordinator}")
    maria.send("/meny")
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send("BUP Norr: Boka utredning — 10 dec")
    maria.choose("Ja")

    # The action owned by the organisation reaches the professional from it.
    sara.send("/meny")
    assert sara.ids() == ["pro.home"]
    assert "K-1: Boka utredning (torsdag 10 december)" in sara.choices()

    # Moved: the meeting info shows the new time, and the reminder follows it.
    assert shell.ok(
        "meeting", "move", "--case", "K-1", "--id", "1", "--at", "2026-12-16 09:00"
    ) == ("K-1: meeting 1 moved to 2026-12-16 09:00 Europe/Stockholm")
    # Everyone in the case is told at once, with the updated calendar file; the shell queued
    # it at its own (real) time, so the delivery loop on the real clock sends it.
    for ref in (ALEX, SARA, MARIA):
        told = Chat(sessions, catalogue, system_clock, ref).receive()
        assert [t.message_id for t in told] == ["meeting_changes.moved"]
        assert told[0].rendered.file is not None
    alex.send("/meny")
    alex.choose("När är mötet?")
    assert "När: onsdag 16 december kl. 09.00 till 10.30." in alex.text()
    clock.now = datetime(2026, 12, 13, 12, 1, tzinfo=UTC)  # two days before the old time
    tick(sessions, [TWO_DAYS_BEFORE], clock.now)
    assert meeting_reminders(sessions, catalogue, ALEX) == []
    clock.now = datetime(2026, 12, 14, 8, 1, tzinfo=UTC)  # two days before the new time
    tick(sessions, [TWO_DAYS_BEFORE], clock.now)
    assert meeting_reminders(sessions, catalogue, ALEX) == [
        "Påminnelse: mötet är onsdag 16 december kl. 09.00. Tryck på knappen för att se var det "
        "är och vilka som kommer."
    ]

    # Cancelled: no meeting is shown and no reminder comes.
    assert shell.ok("meeting", "cancel", "--case", "K-1", "--id", "1") == (
        "K-1: meeting 1 cancelled"
    )
    alex.send("/meny")
    alex.choose("När är mötet?")
    assert "Det finns inget möte inbokat just nu." in alex.text()
    clock.now = datetime(2026, 12, 16, 7, 30, tzinfo=UTC)
    assert tick(sessions, [MeetingReminders((timedelta(hours=2),))], clock.now) == []


def test_a_given_reference_is_kept_and_a_taken_one_refused(shell: Shell) -> None:
    assert shell.ok("case", "create", "--reference", "sip-2026-7") == "SIP-2026-7"
    assert shell.ok("case", "create") == "K-2"
    code, out, err = shell.run("case", "create", "--reference", "SIP-2026-7")
    assert (code, out) == (EXIT_USAGE, "")
    assert err == "samverkan: a case SIP-2026-7 exists already\n"


@pytest.mark.parametrize(
    ("command", "exit_code", "complaint"),
    [
        (["meeting", "add", "--case", "K-9", "--at", "2026-12-15 13:00"], EXIT_NOT_FOUND,
         "samverkan: no case 'K-9'"),
        (["meeting", "add", "--case", "K-1", "--at", "15/12 kl 13"], EXIT_USAGE,
         "samverkan: --at '15/12 kl 13' is not a time like 2026-12-15 13:00"),
        (["meeting", "add", "--case", "K-1", "--at", "2026-12-15 13:00", "--minutes", "0"],
         EXIT_USAGE, "samverkan: --minutes must be at least 1"),
        (["meeting", "move", "--case", "K-1", "--id", "7", "--at", "2026-12-15 13:00"],
         EXIT_NOT_FOUND, "samverkan: case K-1 has no meeting 7"),
        (["meeting", "cancel", "--case", "K-1", "--id", "7"], EXIT_NOT_FOUND,
         "samverkan: case K-1 has no meeting 7"),
        (["invite", "create", "--case", "K-1", "--role", "professional", "--name", "Sara",
          "--org", "BUP Söder"], EXIT_NOT_FOUND, "samverkan: no organisation 'BUP Söder'"),
        (["invite", "create", "--case", "K-1", "--role", "youth", "--name", "Alex",
          "--org", "BUP Norr"], EXIT_USAGE,
         "samverkan: --org is for professionals, coordinators and network members"),
        (["org", "add", "--name", "  "], EXIT_USAGE, "samverkan: --name is empty"),
    ],
)  # fmt: skip
def test_a_wrong_command_gets_one_plain_line_and_no_traceback(
    shell: Shell, command: list[str], exit_code: int, complaint: str
) -> None:
    shell.ok("case", "create")
    shell.ok("org", "add", "--name", "BUP Norr")
    code, out, err = shell.run(*command)
    assert (code, out) == (exit_code, "")
    assert err == complaint + "\n"


def test_commands_that_start_no_platform_need_none_of_its_secrets(
    shell: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{shell.url}"\n\n'
        "[matrix]\nenabled = true\n"
        'homeserver = "https://matrix.example.org"\n'
        'user_id = "@samverkan:example.org"\n'
        f'store_path = "{tmp_path / "matrix-store"}"\n',
        encoding="utf-8",
    )
    for name in MATRIX_SECRETS:
        monkeypatch.delenv(name, raising=False)
    assert main(["case", "create", "--config", str(config)]) == 0
    assert main(["status", "--config", str(config)]) == 0
    invite = ["invite", "create", "--case", "K-1", "--role", "youth", "--name", "Alex"]
    assert main([*invite, "--config", str(config)]) == 0
    # Starting the platform still needs them, and says which one is missing.
    shell.capsys.readouterr()
    assert main(["run", "--config", str(config)]) == EXIT_USAGE
    (line,) = shell.capsys.readouterr().err.splitlines()
    assert "SAMVERKAN_MATRIX_PICKLE_KEY" in line
