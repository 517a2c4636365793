"""A professional answers a nudge in an encrypted Matrix DM, through a real Synapse.

Maria (the coordinator, in the test chat) opens a case with a plan and invites Sara from BUP.
Sara writes to the bot from her Matrix client, as Element would: an encrypted direct chat.
The scheduler's tick (the test's clock, nothing sleeps) makes the nudge; the bot's sync loop
sends it into Sara's DM; Sara answers it with the number Matrix shows, then marks the action
done. Her answer must reach the flows as the nudge's choice, whatever her conversation had
offered before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.catalogue import Catalogue
from flows.coordination import ActionStatus
from storage.access import Purpose
from storage.db import session_factory
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code, run_tick
from tests.matrix_people import (
    Person,
    run,
    start_bot,
    synapse_server,  # noqa: F401  (fixture "hs": the module's Synapse)
)
from tests.support.synapse import Homeserver
from tests.test_matrix_adapter import BOT_PASSWORD, new_bot, say

pytestmark = pytest.mark.slow


def test_a_professional_marks_an_action_done_from_a_nudge_in_an_encrypted_dm(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, clock: FakeClock, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    # Monday 23 November: Maria's plan gives BUP two actions, the sooner due on Wednesday.
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    sara_code = case_with_plan(
        maria, "Alex", "BUP: Skicka remiss — 25 nov\nBUP: Boka utredning — 15 dec"
    )
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue, clock=clock)
        sara = await Person.start(hs, "sara", tmp_path)
        try:
            dm = await sara.open_dm(bot.user_id)
            await sara.next_from(bot.user_id, dm)
            await sara.knows_devices_of(dm, bot.user_id)
            await sara.say(dm, f"/start {sara_code}")
            # Joined, and her home, as one message (bot/one_message.py).
            (home,) = await sara.next_from(bot.user_id, dm)
            assert home.body.startswith(say(catalogue, "join.joined", name="Sara") + "\n\n")
            # Her list offers "1) K-1: Skicka remiss …": the number the nudge will reuse.
            assert "1) K-1: Skicka remiss (onsdag 25 november)" in home.body

            # The scheduler's tick on Monday: Skicka remiss is due in two days.
            assert run_tick(sessions, clock)
            (nudge,) = await sara.next_from(bot.user_id, dm)
            assert nudge.decrypted
            digest = say(
                catalogue,
                "nudge.digest",
                count=1,
                cases=["K-1"],
                overdue=0,
                due_today=0,
                due_soon=1,
            )
            assert nudge.body == f"{digest}\n1) Visa mina åtgärder"
            assert "remiss" not in nudge.body, "a nudge names no action by default"

            # "1" answers the newest message: the nudge's button, not her list's first line.
            await sara.say(dm, "1")
            (actions,) = await sara.next_from(bot.user_id, dm)
            assert actions.body.startswith("Hej Sara! Du har 2 öppna åtgärder.")
            await sara.choose(dm, bot.user_id, "Skicka remiss")
            (pick,) = await sara.next_from(bot.user_id, dm)
            assert pick.body.startswith("Skicka remiss (ärende K-1)")
            await sara.choose(dm, bot.user_id, "Klar")
            (note_ask,) = await sara.next_from(bot.user_id, dm)
            assert note_ask.body.startswith(say(catalogue, "status.note_ask"))
            await sara.say(dm, "Ingen kommentar")
            (home_after,) = await sara.next_from(bot.user_id, dm)
            assert home_after.body.startswith("Tack! Sparat: klar.\n\nHej Sara! Du har 1 öppen")
            for event in (nudge, actions, pick, note_ask, home_after):
                assert event.decrypted, "the bot's messages are end-to-end encrypted"

            # Three weeks on, the other action's nudge; Sara types the button's text.
            clock.advance(days=21)  # Monday 14 December: Boka utredning is due tomorrow
            assert run_tick(sessions, clock)
            (second,) = await sara.next_from(bot.user_id, dm)
            assert second.body.endswith("\n1) Visa mina åtgärder")
            await sara.say(dm, "visa mina åtgärder")
            (listed,) = await sara.next_from(bot.user_id, dm)
            assert "1) K-1: Boka utredning (tisdag 15 december)" in listed.body

            with UnitOfWork(sessions) as uow:
                # Read as the operator: the plan with its history, through the gate.
                operator = uow.gate.for_system(Purpose.OPERATOR)
                plan = uow.coordination.actions(1, operator, with_history=True)
                by_text = {a.description: a for a in plan}
            remiss = by_text["Skicka remiss"]
            assert by_text["Boka utredning"].status is ActionStatus.OPEN
            assert remiss.status is ActionStatus.DONE
            assert [(u.status, u.note, u.author) for u in remiss.history][-1] == (
                ActionStatus.DONE,
                None,
                "Sara",
            )
        finally:
            await sara.stop()
            await bot.stop()

    run(hs, scenario())
