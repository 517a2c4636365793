"""A case that has had its meeting: Maria coordinates, Kim is the caregiver, Alex the young
person; the meeting was Tuesday 24 November 13.00 and the next is booked for 15 December."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, code_in, coordinator_code, run_tick

PLAN = "BUP: Boka utredning — 15 dec\nFamiljen: Ansök om bostadsbidrag — 24 dec"


@dataclass
class Family:
    """The people of the case, each in their private chat."""

    maria: Chat
    kim: Chat
    alex: Chat


def invite(maria: Chat, role: str, name: str) -> str:
    """Maria invites someone of this role to her case; their code."""
    maria.send("/meny")
    maria.choose("Bjud in")
    maria.choose(role)
    maria.send(name)
    return code_in(maria.text())


def book(maria: Chat, when: str) -> None:
    """Maria books a meeting without a video link: a place, 90 minutes."""
    maria.send("/meny")
    maria.choose("Boka möte")
    maria.send(when)
    maria.choose("Ingen länk")
    # Booking asks for the place and the length too since the meetings work was merged;
    # without them the meeting is never booked and nothing after it happens.
    maria.send("BUP, Storgatan 1")
    maria.choose("90 minuter")
    assert maria.ids()[0] in ("coord.meeting_booked", "meeting_edit.series_booked"), maria.ids()


def family(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    *,
    youth_consents: bool = True,
) -> Family:
    """The case with its plan, its two meetings and its family (Alex with or without consent)."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    case_with_plan(maria, "Alex", PLAN)
    book(maria, "24 nov 13.00")
    book(maria, "15 dec 13.00")
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {invite(maria, 'Vårdnadshavare', 'Kim')}")
    alex = Chat.for_user(sessions, catalogue, clock, "alex")
    if not youth_consents:
        alex = Chat(sessions, catalogue, clock, alex.ref, auto_consent=False)
    alex.send(f"/start {invite(maria, 'Den unga personen', 'Alex')}")
    return Family(maria, kim, alex)


def share_questions(alex: Chat, *questions: str) -> None:
    """Alex writes her questions and shares each with the meeting."""
    alex.send("/meny")
    alex.choose("Mina frågor")
    for question in questions:
        alex.send(question)
    for question in questions:
        alex.send("/meny")
        alex.choose("Välj vad du delar")
        alex.choose(question)


def tap_button(person: Chat, label: str) -> None:
    """Taps the button with this label on the newest message that has buttons (a notice's
    button is tapped, as on Telegram, not typed)."""
    for sent in reversed(person.history):
        if sent.rendered.choices:
            ids = [c.id for c in sent.rendered.choices if label in c.label]
            assert len(ids) == 1, (label, sent.rendered.choices)
            person.tap(ids[0])
            return
    raise AssertionError(f"no button {label!r}")


def meeting_passes(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    """The meeting on Tuesday 24 November (12.00–13.30 UTC) is over, and the tick runs."""
    clock.advance(days=1, hours=4)  # Tuesday 24 November, 14.00 UTC
    run_tick(sessions, clock)


__all__ = [
    "PLATFORM",
    "Family",
    "book",
    "family",
    "invite",
    "meeting_passes",
    "share_questions",
    "tap_button",
]
