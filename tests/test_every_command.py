"""Every role × chat kind × command gets an answer, and never an unhandled error.

The people of one family case (tests/family_seed.py) and two coordinators talk to the real
handler and storage: each, in their private chat and in the family's group chat, sends every
command the bot knows (plus an unknown one, plain text, a typed number and an old button) twice,
then writes plain text, picks the first choice offered by its number, and writes again.
Every message must be answered, and none may raise: an error in one step must not leave the
conversation so that every later text fails again.

Only "an answer and no exception" is asserted here, not which message: what a group chat may be
shown is the audience rule's business (tested where that rule lives).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import COMMAND_ALIASES, Command, ConversationRef
from flows.domain import Role
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import coordinator_code
from tests.family_seed import FamilyCase, publish, seed_family_case

FAMILY_GROUP = "family"


class Who(StrEnum):
    """The people who may write to the bot."""

    YOUTH = "youth"
    CAREGIVER = "caregiver"
    NETWORK = "network"
    COORDINATOR = "coordinator"
    COORDINATOR_NO_CASE = "coordinator_no_case"
    PROFESSIONAL = "professional"
    STRANGER = "stranger"
    SAID_NO = "said_no"


class Where(StrEnum):
    """The kinds of chat they write in."""

    PRIVATE = "private"
    GROUP = "group"


def _first_alias(command: Command) -> str:
    """The first (Swedish) word of a command, as the help texts show it."""
    return next(word for word, known in COMMAND_ALIASES.items() if known is command)


# Every command by its Swedish word, and what else a person may send.
INPUTS: dict[str, str] = {
    **{command.value: f"/{_first_alias(command)}" for command in Command},
    "unknown_command": "/finnsinte",
    "plain_text": "hej",
    "typed_number": "7",
}
STALE_BUTTON = "stale_button"


@dataclass(frozen=True)
class Family:
    """The seeded case and what the people were given to join it."""

    case: FamilyCase
    professional_code: str
    coordinator_code: str


def _seed(sessions: sessionmaker[Session], clock: FakeClock) -> Family:
    """A family case with a published shared picture and a professional's invite."""
    case = seed_family_case(sessions, clock.now)
    with UnitOfWork(sessions) as uow:
        # The seed's BUP, now one of the case's organisations as the coordinator adds it.
        bup = uow.coordination.add_organisation(case.case_id, "BUP Storstad")
        professional = uow.coordination.create_invite(
            case.case_id, Role.PROFESSIONAL, "Noor", bup.id, case.coordinator_id, clock.now
        )
        uow.commit()
    publish(sessions, case, "Alex har det svårt i skolan. Alla vill hjälpa.", clock.now)
    return Family(case, professional, coordinator_code(sessions, clock, "Maria"))


def _join(chat: Chat, code: str) -> None:
    """The person joins with their code in their private chat."""
    chat.send(f"/start {code}")


def _joined(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, family: Family
) -> dict[Who, Callable[[], str]]:
    """How each person gets to be who they are; returns the chat user of each."""

    def private(user: str, *, auto_consent: bool = True) -> Chat:
        """The person's private chat."""
        ref = ConversationRef(PLATFORM, user, user)
        return Chat(sessions, catalogue, clock, ref, auto_consent=auto_consent)

    def youth() -> str:
        _join(private("alex"), family.case.youth_code)
        return "alex"

    def caregiver() -> str:
        _join(private("kim"), family.case.caregiver_codes[0])
        return "kim"

    def network() -> str:
        _join(private("eva"), family.case.network_code)
        return "eva"

    def coordinator() -> str:
        # Sara is linked to her chat by the seed (tests/family_seed.py).
        return "sara"

    def coordinator_no_case() -> str:
        _join(private("maria"), family.coordinator_code)
        return "maria"

    def professional() -> str:
        _join(private("noor"), family.professional_code)
        return "noor"

    def stranger() -> str:
        return "okand"

    def said_no() -> str:
        robin = private("robin", auto_consent=False)
        _join(robin, family.case.caregiver_codes[1])
        robin.choose("Nej tack")
        assert robin.said("consent.declined")
        return "robin"

    return {
        Who.YOUTH: youth,
        Who.CAREGIVER: caregiver,
        Who.NETWORK: network,
        Who.COORDINATOR: coordinator,
        Who.COORDINATOR_NO_CASE: coordinator_no_case,
        Who.PROFESSIONAL: professional,
        Who.STRANGER: stranger,
        Who.SAID_NO: said_no,
    }


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test (the migrations run once, not 240 times)."""
    path = tmp_path_factory.mktemp("matrix") / "migrated.sqlite3"
    db = make_engine(f"sqlite:///{path}")
    upgrade(db)
    # Disposing closes the last connection, which folds the write-ahead log into the file.
    db.dispose()
    return path


@pytest.fixture
def sessions(migrated: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """SQLite only: the matrix is about the flows, and the storage contract runs elsewhere."""
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated, path)
    db = make_engine(f"sqlite:///{path}")
    yield session_factory(db)
    db.dispose()


def _answered(chat: Chat, send: Callable[[], object], what: str) -> None:
    """One message in, at least one answer out (an exception fails the test by itself)."""
    send()
    assert chat.turn, f"no answer to {what}"


@pytest.mark.parametrize("what", [*INPUTS, STALE_BUTTON])
@pytest.mark.parametrize("where", list(Where))
@pytest.mark.parametrize("who", list(Who))
def test_every_message_is_answered_by_every_role_in_every_chat(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    who: Who,
    where: Where,
    what: str,
) -> None:
    """Twice the message, then text, the first choice offered and text: each is answered."""
    family = _seed(sessions, clock)
    user = _joined(sessions, catalogue, clock, family)[who]()
    chat_id = FAMILY_GROUP if where is Where.GROUP else user
    chat = Chat(sessions, catalogue, clock, ConversationRef(PLATFORM, chat_id, user))

    def message() -> object:
        """The message under test."""
        if what == STALE_BUTTON:
            return chat.tap("picture:gone-long-ago")
        return chat.send(INPUTS[what])

    _answered(chat, message, what)
    _answered(chat, message, f"{what}, again")
    # Text is what a step that waits for words takes (the reason /nyttmote asks for).
    _answered(chat, lambda: chat.send("Vi behöver prata om skolan."), f"text after {what}")
    # The first choice it offered, by number (answering /bild: "Stämmer").
    _answered(chat, lambda: chat.send("1"), f"the first choice after {what}")
    _answered(chat, lambda: chat.send("hej"), f"more text after {what}")
