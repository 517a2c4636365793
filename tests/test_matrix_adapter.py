"""The Matrix adapter through a real Synapse: encrypted DMs, a family room, restarts.

Each test is a conversation between matrix-nio clients (the young person, caregivers) and
the bot as `samverkan run` wires it, with the real handler, flows, catalogue and database.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, TextFormat
from flows.conversation import ConversationRef
from flows.domain import Role
from storage import models as m
from storage.db import session_factory
from storage.unit_of_work import UnitOfWork
from tests.matrix_people import (
    MEGOLM,
    Person,
    bot_config,
    hs,  # noqa: F401  (the module's Synapse)
    run,
    start_bot,
    unique,
)
from tests.seed import seed_case
from tests.support.synapse import Homeserver

pytestmark = pytest.mark.slow


def say(catalogue: Catalogue, message_id: str, **params: object) -> str:
    """What the bot's message looks like as plain text (without its choices)."""
    return catalogue.render(message_id, params, "sv", TextFormat.PLAIN)  # type: ignore[arg-type]


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
    from datetime import UTC, datetime

    case = seed_case(sessions, datetime.now(UTC))
    bot_user = hs.register(unique("samverkan"), "bot-password")

    async def scenario() -> None:
        bot = await start_bot(
            bot_config(hs, bot_user.user_id, tmp_path / "bot-store"), "bot-password", sessions, catalogue
        )
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(bot.user_id)
            (greeting,) = await alex.next_from(bot.user_id, dm)
            assert greeting.body == say(catalogue, "onboarding.need_code")
            await alex.knows_devices_of(dm, bot.user_id)

            await alex.say(dm, f"/start {case.youth_code}")
            joined, menu = await alex.next_from(bot.user_id, dm, 2)
            assert joined.body == say(catalogue, "join.joined", name="Alex")
            assert "1) Vad är ett samverkansmöte?" in menu.body
            assert "<ol><li>Vad är ett samverkansmöte?</li>" in menu.formatted_body

            await alex.choose(dm, bot.user_id, "Mina frågor")
            await alex.next_from(bot.user_id, dm)
            await alex.say(dm, "Varför måste jag byta skola?")
            saved, questions = await alex.next_from(bot.user_id, dm, 2)
            assert saved.body == say(catalogue, "youth.question.saved")
            assert "1. Varför måste jag byta skola?" in questions.body

            await alex.say(dm, "/meny")
            await alex.next_from(bot.user_id, dm)
            await alex.choose(dm, bot.user_id, "Välj vad du delar")
            (review,) = await alex.next_from(bot.user_id, dm)
            assert "🔒 Bara jag: Varför måste jag byta skola?" in review.body
            await alex.choose(dm, bot.user_id, "Varför måste jag byta skola?")
            (shared,) = await alex.next_from(bot.user_id, dm)
            assert "✅ Delas: Varför måste jag byta skola?" in shared.body
            for event in [greeting, joined, menu, saved, questions, review, shared]:
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
