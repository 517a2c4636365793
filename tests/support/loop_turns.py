"""Counts how often the event loop comes round while a test awaits something slow: the
"other chats" that must go on while the database is busy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

TURN_S = 0.01


@dataclass
class LoopTurns:
    """How many times a task sleeping `TURN_S` at a time got to run."""

    count: int = 0


@asynccontextmanager
async def counting_loop_turns() -> AsyncIterator[LoopTurns]:
    """Runs a task that counts its turns on the event loop until the block ends."""
    turns = LoopTurns()

    async def turning() -> None:
        while True:
            turns.count += 1
            await asyncio.sleep(TURN_S)

    task = asyncio.create_task(turning())
    try:
        yield turns
    finally:
        task.cancel()
