"""The README's promise: a scripted demo, then the agenda shows only what was shared."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli import run, samverkan_env

# First contact: yes to the bot, age 15, yes to sharing between agencies.
CONSENT = "1\n15\n1\n"

SCRIPT = CONSENT + "\n".join(
    [
        "2",  # Steg 1: Mina frågor
        "Varför måste jag byta skola?",
        "Kan jag slippa vara med hela tiden?",
        "Vem bestämmer om min medicin?",
        "4",  # Nästa steg
        "Fotbollen går bra",
        "1",  # Hoppa över: svårt
        "1",  # Hoppa över: hjälp
        "2",  # En del av mötet
        "1",  # dela fråga 1
        "3",  # dela fråga 3
        "7",  # Klar (6 is "Vem får läsa det jag delar?")
    ]
)


def test_scripted_demo_then_agenda_shows_exactly_the_shared_questions(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    demo = run(["demo", "--db", db], tmp_path, SCRIPT + "\n")
    assert demo.returncode == 0, demo.stderr
    assert "Demo-ärende: K-1" in demo.stdout
    assert "Du delar 2 saker." in demo.stdout

    agenda = run(["report", "agenda", "--case", "K-1", "--db", db], tmp_path)
    assert agenda.returncode == 0, agenda.stderr
    assert "Varför måste jag byta skola?" in agenda.stdout
    assert "Vem bestämmer om min medicin?" in agenda.stdout
    assert "Kan jag slippa" not in agenda.stdout
    assert "Fotbollen" not in agenda.stdout
    assert "En del av mötet" not in agenda.stdout
    assert "Alex (ung person)" in agenda.stdout

    html = run(["report", "agenda", "--case", "1", "--format", "html", "--db", db], tmp_path)
    # Each item says who reads it (Alex said yes to sharing with everyone who helps).
    assert (
        "<li>Varför måste jag byta skola? "
        '<small class="readers">(Alla i mötet läser detta)</small></li>'
    ) in html.stdout
    assert "Kan jag slippa" not in html.stdout


def test_the_demo_works_with_no_configuration_at_all(tmp_path: Path) -> None:
    demo = run(["demo"], tmp_path, CONSENT + "/hjälp\n")
    assert demo.returncode == 0, demo.stderr
    assert "Välj ett steg i menyn" in demo.stdout
    assert (tmp_path / "data" / "samverkansboten" / "samverkan.sqlite3").exists()
    # A second start finds the same demo case instead of making another.
    again = run(["demo"], tmp_path, "")
    assert "Demo-ärende: K-1" in again.stdout


def test_the_demo_speaks_english_on_request(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    demo = run(["demo", "--locale", "en", "--db", db], tmp_path, CONSENT)
    assert "Before we start, let me tell you what I am." in demo.stdout
    assert "What do you want to do now?" in demo.stdout


def test_the_demo_can_be_tried_in_each_of_the_families_languages(tmp_path: Path) -> None:
    # The draft languages too: a reviewer reads them in the demo before anyone uses them.
    for locale, first_line in (
        ("ar", "قبل أن نبدأ أريد أن أخبرك ما أنا."),
        ("uk", "Перш ніж почати"),
    ):
        db = f"sqlite:///{tmp_path / f'{locale}.sqlite3'}"
        demo = run(["demo", "--locale", locale, "--db", db], tmp_path, CONSENT)
        assert demo.returncode == 0, demo.stderr
        assert first_line in demo.stdout, locale


def test_run_refuses_an_empty_database_and_names_the_fix(tmp_path: Path) -> None:
    result = run(["run", "--db", f"sqlite:///{tmp_path / 'new.sqlite3'}"], tmp_path)
    assert result.returncode == 4
    assert "samverkan db upgrade" in result.stderr


def test_invites_are_printed_once_and_unknown_cases_named(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    run(["demo", "--db", db], tmp_path)
    invite = ["invite", "create", "--role", "caregiver", "--name", "Kim", "--db", db]
    created = run([*invite, "--case", "K-1"], tmp_path)
    assert created.returncode == 0, created.stderr
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{1,5}){5}\n", created.stdout)
    missing = run([*invite, "--case", "K-9"], tmp_path)
    assert missing.returncode == 3
    assert "no case 'K-9'" in missing.stderr


def test_report_for_an_unknown_case_says_so(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    run(["db", "upgrade", "--db", db], tmp_path)
    result = run(["report", "agenda", "--case", "K-404", "--db", db], tmp_path)
    assert result.returncode == 3
    assert "no case 'K-404'" in result.stderr


def test_help_documents_every_command(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    for command in ("demo", "run", "db", "invite", "report"):
        assert command in result.stdout


def test_the_demo_can_be_tried_as_the_caregiver_and_the_coordinator(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'roles.sqlite3'}"
    kim = run(["demo", "--as", "caregiver", "--db", db], tmp_path, "1\n1\n/meny\n")  # consent first
    assert kim.returncode == 0, kim.stderr
    assert "Du är Kim (vårdnadshavare) i ärendet." in kim.stdout
    assert "Be om ett nytt möte" in kim.stdout
    sara = run(["demo", "--as", "coordinator", "--db", db], tmp_path, "/meny\n")
    assert "Du är Sara (samordnare) i ärendet." in sara.stdout
    assert "Skriv gemensam bild" in sara.stdout


# What each demo person types before their first command: consent where they are asked.
FIRST_WORDS = {"youth": CONSENT, "caregiver": "1\n1\n", "coordinator": "", "professional": ""}
DEMO_NAMES = {"youth": "Alex", "caregiver": "Kim", "coordinator": "Sara", "professional": "Jonas"}


def test_the_demo_starts_again_after_anyone_in_it_was_forgotten_or_its_case_closed(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'again.sqlite3'}"
    for forgotten in ("caregiver", "youth", "coordinator", "professional"):
        erased = run(["demo", "--as", forgotten, "--db", db], tmp_path, "/glommig\n1\n")
        assert erased.returncode == 0, erased.stderr
        assert "Jag har raderat allt om dig" in erased.stdout
        # Every demo person can start again, the one just forgotten too, in a demo case
        # that has all of them.
        for role, name in DEMO_NAMES.items():
            again = run(["demo", "--as", role, "--db", db], tmp_path, FIRST_WORDS[role] + "/meny\n")
            assert again.returncode == 0, again.stderr
            assert f"Du är {name} (" in again.stdout
            assert "För att börja behöver du en kod" not in again.stdout

    with sqlite3.connect(tmp_path / "again.sqlite3") as connection:
        connection.execute("UPDATE case_file SET status = 'closed'")
    after_close = run(["demo", "--db", db], tmp_path, CONSENT + "/meny\n")
    assert after_close.returncode == 0, after_close.stderr
    assert "Du är Alex (ung person)" in after_close.stdout
    assert "Steg 1 av 4: Mina frågor" in after_close.stdout


def test_the_demo_shows_no_log_lines_in_the_chat(tmp_path: Path) -> None:
    demo = run(["demo", "--db", f"sqlite:///{tmp_path / 'd.sqlite3'}"], tmp_path, CONSENT)
    assert demo.returncode == 0, demo.stderr
    # A terminal shows stdout and stderr together: neither carries routine log lines.
    for shown in (demo.stdout, demo.stderr):
        assert not re.search(r"\b(DEBUG|INFO)\b", shown), shown


def test_the_demo_saves_the_calendar_file_and_says_where(tmp_path: Path) -> None:
    demo = run(
        ["demo", "--db", f"sqlite:///{tmp_path / 'd.sqlite3'}"], tmp_path, CONSENT + "/mote\n"
    )
    assert demo.returncode == 0, demo.stderr
    saved = re.search(r"Filen är sparad: (\S+)", demo.stdout)
    assert saved is not None, demo.stdout
    path = Path(saved.group(1))
    assert path.suffix == ".ics" and path.read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")
    assert path.is_relative_to(tmp_path), "the demo's files stay in the user's data folder"


def test_ctrl_c_ends_the_demo_at_once(tmp_path: Path) -> None:
    # Input that never ends (a terminal nobody types in): the read must not hold the exit.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--db", f"sqlite:///{tmp_path / 'd.sqlite3'}"],
        stdin=read_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=samverkan_env(tmp_path),
    )
    os.close(read_end)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait for the first question
            if "Får jag spara det du skriver?" in line:
                break
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError("Ctrl-C did not end the demo") from None
        assert proc.returncode in (0, 130)
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        os.close(write_end)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
