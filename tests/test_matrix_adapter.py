"""The Matrix adapter through a real Synapse: encrypted DMs, a family room, restarts.

Each test is a conversation between matrix-nio clients (the young person, caregivers) and
the bot as `samverkan run` wires it, with the real handler, flows, catalogue and database.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage, TextFormat
from bot.config import MatrixConfig
from bot.delivery import PermanentSendError
from bot.handler import EventHandler
from flows.conversation import ConversationRef, Inbound
from flows.domain import Role
from flows.wiring import default_engine
from storage import models as m
from storage.db import session_factory
from storage.matrix_repository import StoredSession
from storage.unit_of_work import UnitOfWork
from tests.matrix_people import (
    MEGOLM,
    WAIT_S,
    Person,
    bot_config,
    run,
    start_bot,
    synapse_server,  # noqa: F401  (fixture "hs": the module's Synapse)
    unique,
)
from tests.seed import seed_case
from tests.support.synapse import Homeserver

pytestmark = pytest.mark.slow

BOT_PASSWORD = "bot-password"


def say(catalogue: Catalogue, message_id: str, **params: object) -> str:
    """What the bot's message looks like as plain text (without its choices)."""
    return catalogue.render(message_id, params, "sv", TextFormat.PLAIN)  # type: ignore[arg-type]


async def says_yes(person: Person, room: str, bot_user_id: str, *, youth: bool) -> Any:
    """First contact: yes to the bot, (a young person's) age 15, yes to SIP sharing.

    Returns the message the role's flow opens with (each step's answer is one message,
    its confirmation first: bot/one_message.py)."""
    await person.say(room, "1")  # Ja, det är okej
    await person.next_from(bot_user_id, room)
    if youth:
        await person.say(room, "15")
        await person.next_from(bot_user_id, room)
    await person.say(room, "1")  # Ja, alla får se det jag delar
    (opened,) = await person.next_from(bot_user_id, room)
    return opened


def new_bot(hs: Homeserver, tmp_path: Path) -> MatrixConfig:
    """A fresh bot account on the homeserver and its [matrix] settings."""
    user = hs.register(unique("samverkan"), BOT_PASSWORD)
    return bot_config(hs, user.user_id, tmp_path / "bot-store")


def server_history(hs: Homeserver, room_id: str, token: str) -> list[dict[str, object]]:
    """Every event of a room as the homeserver stores it."""
    answer = hs.api(
        "GET",
        f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/messages",
        access_token=token,
        query={"dir": "b", "limit": "200"},
    )
    chunk: list[dict[str, object]] = answer["chunk"]
    return chunk


def test_young_person_prepares_and_shares_questions_in_an_encrypted_dm(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    case = seed_case(sessions, datetime.now(UTC))
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(bot.user_id)
            (greeting,) = await alex.next_from(bot.user_id, dm)
            assert greeting.body == say(catalogue, "onboarding.need_code")
            await alex.knows_devices_of(dm, bot.user_id)

            await alex.say(dm, f"/start {case.youth_code}")
            (joined,) = await alex.next_from(bot.user_id, dm)
            assert joined.body.startswith(say(catalogue, "join.joined", name="Alex") + "\n\n")
            assert "Får jag spara det du skriver?" in joined.body
            menu = await says_yes(alex, dm, bot.user_id, youth=True)
            assert "1) Vad är ett samverkansmöte?" in menu.body
            assert "<ol><li>Vad är ett samverkansmöte?</li>" in menu.formatted_body

            # A choice can be typed as its label instead of its number.
            await alex.say(dm, "steg 1 av 4:  mina FRÅGOR")
            (step_one,) = await alex.next_from(bot.user_id, dm)
            assert step_one.body.startswith("Steg 1 av 4: Mina frågor")
            await alex.say(dm, "Varför måste jag byta skola?")
            (questions,) = await alex.next_from(bot.user_id, dm)
            assert questions.body.startswith(say(catalogue, "youth.question.saved") + "\n\n")
            assert "1. Varför måste jag byta skola?" in questions.body

            await alex.say(dm, "/meny")
            await alex.next_from(bot.user_id, dm)
            await alex.choose(dm, bot.user_id, "Välj vad du delar")
            (review,) = await alex.next_from(bot.user_id, dm)
            assert "🔒 Bara jag: Varför måste jag byta skola?" in review.body
            await alex.choose(dm, bot.user_id, "Varför måste jag byta skola?")
            (shared,) = await alex.next_from(bot.user_id, dm)
            assert "✅ Delas: Varför måste jag byta skola?" in shared.body
            for event in [greeting, joined, menu, questions, review, shared]:
                assert event.decrypted, "the bot's replies are end-to-end encrypted"

            # Our database: Alex is the young person of the case, reachable in private.
            with UnitOfWork(sessions) as uow:
                rows = uow.session.execute(
                    select(m.Question.text, m.Question.shared).where(
                        m.Question.case_id == case.case_id
                    )
                ).all()
                identity = uow.session.execute(
                    select(m.ChatIdentity.external_user_id, m.ChatIdentity.private_chat_id)
                ).one()
                actor = uow.members.actor_for(ConversationRef("matrix", alex.user_id, alex.user_id))
            assert rows == [("Varför måste jag byta skola?", True)]
            # A direct room is addressed by the person's id: the transport finds the room.
            assert identity == (alex.user_id, alex.user_id)
            assert actor is not None and actor.role is Role.YOUTH

            # Synapse's database: every message, both ways, is ciphertext only.
            history = server_history(hs, dm, alex.user.access_token)
            messages = [e for e in history if e["type"] in ("m.room.message", "m.room.encrypted")]
            assert len(messages) >= 14
            assert all(e["type"] == "m.room.encrypted" for e in messages)
            assert all(e["content"]["algorithm"] == MEGOLM for e in messages)  # type: ignore[index]
            dump = json.dumps(history, ensure_ascii=False)
            assert "Varför måste jag byta skola?" not in dump
            assert "Bara jag" not in dump
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


def test_family_room_with_two_caregivers_who_join_privately_with_their_own_codes(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    now = datetime.now(UTC)
    case = seed_case(sessions, now)
    with UnitOfWork(sessions) as uow:
        second_code = uow.cases.create_invite(case.case_id, Role.CAREGIVER, "Sam", now)
        uow.commit()
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
        kim = await Person.start(hs, "kim", tmp_path)
        sam = await Person.start(hs, "sam", tmp_path)
        try:
            family = await kim.open_group([bot.user_id, sam.user_id], "Familjen")
            await sam.accept(family)
            await kim.knows_devices_of(family, bot.user_id, sam.user_id)

            # A code sent in the family room is not used there: consent is personal.
            await kim.say(family, f"/start {case.caregiver_code}")
            (pointer,) = await kim.next_from(bot.user_id, family)
            assert pointer.body == say(catalogue, "join.in_group")
            for person, code in ((kim, case.caregiver_code), (sam, second_code)):
                dm = await person.open_dm(bot.user_id)
                await person.next_from(bot.user_id, dm)
                await person.knows_devices_of(dm, bot.user_id)
                await person.say(dm, f"/start {code}")
                await person.next_from(bot.user_id, dm)
                await says_yes(person, dm, bot.user_id, youth=False)

            # Back in the room, each prepares together with the other, by name.
            await kim.say(family, "/meny")
            (home_kim,) = await kim.next_from(bot.user_id, family)
            assert "Hej Kim! Här förbereder ni vuxna mötet." in home_kim.body
            assert "Det ni skriver här ser alla i gruppen." in home_kim.body
            await sam.knows_devices_of(family, bot.user_id, kim.user_id)
            await sam.say(family, "/meny")
            # Sam reads the whole room, decrypted: the pointer, Kim's menu, then Sam's own.
            seen_by_sam = await sam.next_from(bot.user_id, family, 3)
            assert all(e.decrypted for e in seen_by_sam)
            assert "Hej Sam! Här förbereder ni vuxna mötet." in seen_by_sam[2].body
            # A private command in the room gets only the pointer.
            await sam.say(family, "/minadata")
            (mine,) = await sam.next_from(bot.user_id, family)
            assert mine.body == say(catalogue, "common.private_only")

            with UnitOfWork(sessions) as uow:
                members = uow.session.execute(
                    select(
                        m.ChatIdentity.external_user_id,
                        m.ChatIdentity.private_chat_id,
                        m.Membership.role,
                    )
                    .join(m.Membership, m.Membership.person_id == m.ChatIdentity.person_id)
                    .order_by(m.ChatIdentity.id)
                ).all()
                in_room = uow.session.execute(
                    select(m.ConversationState.chat_id, m.ConversationState.user_id)
                    .where(m.ConversationState.chat_id == family)
                    .order_by(m.ConversationState.id)
                ).all()
                room = uow.matrix.room(family)
            # A Matrix direct chat is the person's id; the family room is no one's private chat.
            assert members == [
                (kim.user_id, kim.user_id, Role.CAREGIVER),
                (sam.user_id, sam.user_id, Role.CAREGIVER),
            ]
            assert in_room == [(family, kim.user_id), (family, sam.user_id)]
            assert room is not None and room.kind.value == "group"
        finally:
            await kim.stop()
            await sam.stop()
            await bot.stop()

    run(hs, scenario())


def test_restart_mid_conversation_neither_loses_nor_repeats_anything(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    case = seed_case(sessions, datetime.now(UTC))
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(bot.user_id)
            await alex.next_from(bot.user_id, dm)
            await alex.knows_devices_of(dm, bot.user_id)
            await alex.say(dm, f"/start {case.youth_code}")
            await alex.next_from(bot.user_id, dm)
            await says_yes(alex, dm, bot.user_id, youth=True)
            await alex.choose(dm, bot.user_id, "Mina frågor")
            await alex.next_from(bot.user_id, dm)
            first_device = bot.device_id
            token = bot_token(sessions, bot.user_id)
            devices_before = device_ids(hs, token)
            await bot.stop()
            stored_sync_token = stored_session(sessions, bot.user_id).sync_token
            assert stored_sync_token is not None

            # While the bot is down Alex writes on; more than one sync's timeline holds.
            for question in ("Fråga ett", "Fråga två", "Fråga tre"):
                await alex.say(dm, question)
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue, timeline_limit=2)
            assert bot.device_id == first_device
            assert bot.resumed_from == stored_sync_token

            answers = await alex.next_from(bot.user_id, dm, 3)
            saved = say(catalogue, "youth.question.saved")
            assert all(a.body.startswith(saved + "\n\n") for a in answers)
            assert "1. Fråga ett\n2. Fråga två\n3. Fråga tre" in answers[-1].body
            await alex.say(dm, "/meny")
            (menu,) = await alex.next_from(bot.user_id, dm)
            assert "Steg 1 av 4: Mina frågor" in menu.body
            # Nothing was answered twice: every bot message so far has been read in order.
            assert alex.unread_from(bot.user_id, dm) == []
            # greeting, join, consent (1 + 1 + 1), step 1, three answers, the menu
            assert len(alex.messages_from(bot.user_id, dm)) == 1 + 1 + 3 + 1 + 3 + 1

            assert device_ids(hs, token) == devices_before
            assert stored_session(sessions, bot.user_id).device_id == first_device
            with UnitOfWork(sessions) as uow:
                texts = uow.session.scalars(select(m.Question.text).order_by(m.Question.id)).all()
            assert texts == ["Fråga ett", "Fråga två", "Fråga tre"]
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


HOSTILE = "<b>fet</b> & <script>alert('x')</script> {{ 7*7 }} &amp; <a href=x>länk</a>"


class _Markup(HTMLParser):
    """Collects the tags and the text a Matrix client would render from formatted_body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def test_hostile_text_round_trips_literally_in_body_and_formatted_body(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    case = seed_case(sessions, datetime.now(UTC))
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(bot.user_id)
            await alex.next_from(bot.user_id, dm)
            await alex.knows_devices_of(dm, bot.user_id)
            await alex.say(dm, f"/start {case.youth_code}")
            await alex.next_from(bot.user_id, dm)
            await says_yes(alex, dm, bot.user_id, youth=True)
            await alex.choose(dm, bot.user_id, "Mina frågor")
            await alex.next_from(bot.user_id, dm)
            await alex.say(dm, HOSTILE, format="org.matrix.custom.html", formatted_body=HOSTILE)
            (questions,) = await alex.next_from(bot.user_id, dm)

            assert f"1. {HOSTILE}" in questions.body
            markup = _Markup()
            markup.feed(questions.formatted_body)
            assert f"1. {HOSTILE}" in markup.text
            assert markup.tags <= {"b", "i", "code", "br", "ol", "li"}
            assert "<script>" not in questions.formatted_body
            assert "&lt;script&gt;" in questions.formatted_body
            with UnitOfWork(sessions) as uow:
                assert uow.session.scalars(select(m.Question.text)).all() == [HOSTILE]
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


def test_a_message_the_bot_cannot_decrypt_gets_an_honest_answer(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(bot.user_id)
            await alex.next_from(bot.user_id, dm)
            await alex.knows_devices_of(dm, bot.user_id)
            # Alex's app refuses to give the bot's device the key (a blocked session).
            for device in alex.client.device_store.active_user_devices(bot.user_id):
                alex.client.blacklist_device(device)
            await alex.say(dm, "Det här kan boten inte läsa")
            (answer,) = await alex.next_from(bot.user_id, dm)
            assert answer.body == say(catalogue, "matrix.undecryptable")
            with UnitOfWork(sessions) as uow:
                # The flows never saw it: no conversation was started by it.
                assert uow.session.scalars(select(m.ConversationState.step)).all() == [
                    "waiting_for_code"
                ]
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


def test_when_the_person_leaves_a_direct_room_the_bot_leaves_and_sends_nothing_more(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(bot.user_id)
            await alex.next_from(bot.user_id, dm)
            with UnitOfWork(sessions) as uow:
                assert uow.matrix.direct_room_for(alex.user_id) == dm
            await alex.client.room_leave(dm)

            async def bot_has_left() -> None:
                while True:
                    with UnitOfWork(sessions) as uow:
                        room = uow.matrix.room(dm)
                    if room is not None and not room.active:
                        return
                    # Bounded poll of another task's progress (the bot's sync loop).
                    await asyncio.sleep(0.1)

            await asyncio.wait_for(bot_has_left(), timeout=30)
            with pytest.raises(PermanentSendError):
                await bot.transport.send(alex.user_id, RenderedMessage("Hallå?", ()), "k-left")
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


class HeldHandler(EventHandler):
    """A handler with a slow database: each event waits until the test lets it go."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(sessions, default_engine())
        self.entered = threading.Event()
        self.released = threading.Event()
        self.waited_in_vain = False

    def handle(self, inbound: Inbound) -> list[int]:
        """Waits (bounded) for the test's go-ahead, then handles the event as usual."""
        self.entered.set()
        # If this ran on the event loop, the test could never give the go-ahead.
        if not self.released.wait(timeout=HELD_FOR_S):
            self.waited_in_vain = True
        return super().handle(inbound)


HELD_FOR_S = 10.0


def test_a_slow_handler_does_not_stop_the_event_loop(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    handler = HeldHandler(sessions)
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue, handler=handler)
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(bot.user_id)
            # The bot is inside the flows' step for Alex's new room ...
            assert await asyncio.to_thread(handler.entered.wait, WAIT_S)
            # ... and this coroutine, on the same loop, still runs and lets it go on.
            handler.released.set()
            (greeting,) = await alex.next_from(bot.user_id, dm)
            assert greeting.body == say(catalogue, "onboarding.need_code")
            assert not handler.waited_in_vain
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


def bot_token(sessions: sessionmaker[Session], user_id: str) -> str:
    """The access token the bot stored for itself."""
    token = stored_session(sessions, user_id).access_token
    assert token is not None
    return token


def stored_session(sessions: sessionmaker[Session], user_id: str) -> StoredSession:
    """The bot's stored Matrix session."""
    with UnitOfWork(sessions) as uow:
        stored = uow.matrix.session_for(user_id)
    assert stored is not None
    return stored


def device_ids(hs: Homeserver, token: str) -> set[str]:
    """The ids of every device of the token's user, as the homeserver lists them."""
    answer = hs.api("GET", "/_matrix/client/v3/devices", access_token=token)
    return {d["device_id"] for d in answer["devices"]}
