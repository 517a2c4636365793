"""The after-meeting part of the cycle, walked in the terminal demo as each of its people.

One demo database, one `samverkan demo --as ROLE` after another, scripted through stdin as a
person would type (numbers, or a choice's whole label): Alex shares two questions; Sara, the
demo's coordinator, enters a plan with an action for BUP and one for the family. The demo's
meeting is next week, so the operator moves it to this morning and books the next one
(`samverkan meeting move` / `meeting add`, what an operator has). Then Sara writes the notes
from "Efter mötet" and marks one question answered and one to follow up; Alex reads "Från
mötet"; Kim marks the family's action done in /plan; Jonas from BUP reports "Hinder" and Sara
is told; the next agenda carries the open question over, marked, in the chat and the file.

Piped input is one message a line (only a paste at a real terminal is joined), so the notes
are one line and the plan is entered an action at a time. The demo's own catch-up tick asks Sara
for the notes on the wall clock, between any two of her lines; her typed labels are words, so
they answer her menu whenever that request is printed (flows/choice_reading.py, rule 3).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli import run

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("Europe/Stockholm")
ANSWERED = "Varför måste jag byta skola?"
OPEN = "Kan jag få hjälp med läxorna?"
NOTES = "Vi bestämde att BUP gör en utredning. Vi ses igen om en månad."
REASON = "Väntar på remissen"


def lines(*typed: str) -> str:
    """What a person types, a line each."""
    return "".join(f"{line}\n" for line in typed)


def local(when: datetime) -> str:
    """A time as the operator commands take it (the bot's time zone)."""
    return when.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


class Demo:
    """The terminal demo and the operator's commands on one demo database."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.db = f"sqlite:///{home / 'demo.sqlite3'}"

    def as_(self, role: str, typed: str) -> str:
        """One terminal session as this person of the demo case; what the terminal showed."""
        done = run(["demo", "--as", role, "--db", self.db], self.home, typed)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout

    def operator(self, *args: str) -> str:
        """One operator command; its output."""
        done = run([*args, "--db", self.db], self.home)
        assert done.returncode == 0, done.stderr
        return done.stdout


def test_the_after_meeting_part_in_the_terminal_demo_as_each_role(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    now = datetime.now(ZONE)

    # Alex: yes to the bot (age 15, SIP yes), two questions, both shared with the meeting.
    alex = demo.as_(
        "youth",
        lines(
            *("1", "15", "1"),
            *("Steg 1 av 4: Mina frågor", ANSWERED, OPEN),
            *("/meny", "Steg 4 av 4: Välj vad du delar", "1", "2"),
        ),
    )
    assert "Du delar 2 nu." in alex

    # Sara enters the plan: one action a paste, each confirmed. The demo's BUP is "BUP Storstad".
    due_bup, due_family = ((now + timedelta(days=d)).date().isoformat() for d in (10, 9))
    sara = demo.as_(
        "coordinator",
        lines(
            "/meny",
            "Planen",
            "Klistra in en plan",
            f"BUP Storstad: Boka utredning — {due_bup}",
            "Ja, lägg till",
            "Klistra in en plan",
            f"Familjen: Ansök om bostadsbidrag — {due_family}",
            "Ja, lägg till",
        ),
    )
    assert "Planen – 2 åtgärder." in sara
    assert "BUP (ny verksamhet)" not in sara, "the action is Jonas's BUP's, not a new one"

    # Before the meeting there is nothing to write notes about.
    early = demo.as_("coordinator", lines("/meny", "Efter mötet"))
    assert "Inget möte i ärendet har varit än." in early

    # The operator: the demo's meeting (number 1) took place this morning; the next is booked.
    assert "meeting 1 moved" in demo.operator(
        "meeting", "move", "--case", "K-1", "--id", "1", "--at", local(now - timedelta(hours=3))
    )
    demo.operator("meeting", "add", "--case", "K-1", "--at", local(now + timedelta(days=30)))

    # Sara writes the notes from her menu, the same text for all, and marks the questions.
    sara = demo.as_(
        "coordinator",
        lines("/meny", "Efter mötet", NOTES, "Samma text till alla", "Besvarad", "Följs upp"),
    )
    assert f"Fråga 1 av 2, från Alex:\n{ANSWERED}" in sara
    assert "Frågor: 1 besvarade, 1 följs upp" in sara

    # Alex reads "Från mötet": the notes, the plan, and which of her questions got answers.
    alex = demo.as_("youth", lines("/meny", "Från mötet"))
    assert NOTES in alex
    assert "Ansök om bostadsbidrag. Vem: familjen." in alex
    assert "Boka utredning. Vem: BUP Storstad." in alex
    assert f"✅ {ANSWERED}: du fick svar." in alex
    assert f"⏳ {OPEN}: tas upp igen nästa gång." in alex
    assert "Jag fick inget svar: Varför måste jag byta…" in alex

    # Kim (first time here: yes to the bot and to SIP sharing) marks the family's action done.
    # 1: ✅ Klar (a typed label must be the whole label, emoji and all).
    kim = demo.as_("caregiver", lines("1", "1", "/plan", "1", "1", "Ingen kommentar"))
    assert "Ansök om bostadsbidrag: hur går det?" in kim
    assert "Tack! Sparat: klar." in kim
    assert "✅ Ansök om bostadsbidrag. Vem: familjen." in kim
    assert "Boka utredning: hur går det?" not in kim, "BUP's action is not Kim's to answer"

    # Jonas from BUP: his action, "Hinder" with the reason. Sara is told at once; in the demo
    # every person's messages print in the open terminal, marked as someone else's.
    jonas = demo.as_("professional", lines("1", "3", REASON, "Ingen kommentar"))  # 3: ⛔ Hinder
    assert "Tack! Sparat: hinder." in jonas
    told = jonas[jonas.index("[Till local-coordinator") :]
    assert "Jonas i ärende K-1 har stött på hinder med åtgärden ”Boka utredning”." in told
    assert f"Varför: ”{REASON}”" in told

    # Sara sees it in her plan, and the next agenda carries the open question over, marked,
    # without the answered one: in the chat, the file, and the operator's printed agenda.
    sara = demo.as_("coordinator", lines("/meny", "Planen", "Till ärendet", "Dagordning"))
    assert "⛔ Boka utredning (BUP Storstad)" in sara
    assert f"• {OPEN} (från förra mötet, följs upp)" in sara
    saved = Path(sara.split("Filen är sparad: ")[-1].split()[0])
    assert f"{OPEN} (från förra mötet, följs upp)" in saved.read_text(encoding="utf-8")
    agenda = demo.operator("report", "agenda", "--case", "K-1")
    assert f"- {OPEN} (från förra mötet, följs upp)" in agenda
    assert ANSWERED not in agenda
