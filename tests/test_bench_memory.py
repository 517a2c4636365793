"""The memory bench's own parts: its fake Bot API under many sends at once, its tracemalloc hook.

bench/memory.py measures the real bot through a burst and a report picture; these check the
pieces it relies on, fast and without the bot: a send must not fail because of the bench.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from bench import memory_trace
from bench.startup import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


def test_the_fake_bot_api_answers_fifty_sends_at_once_photos_and_texts() -> None:
    api = FakeBotApi(idle_poll_s=0.0)
    failed: list[str] = []

    async def send_all() -> None:
        # The bot's pacer sends to many chats at once, a new connection each (HTTP/1.0).
        async with httpx.AsyncClient() as client:

            async def one(number: int) -> None:
                try:
                    if number % 2:
                        answer = await client.post(
                            f"{api.base_url}/sendPhoto",
                            data={"chat_id": str(number)},
                            files={"photo": ("plan.png", b"\x89PNG" + bytes(30_000))},
                        )
                    else:
                        answer = await client.post(
                            f"{api.base_url}/sendMessage", json={"chat_id": number, "text": "Hej"}
                        )
                    answer.raise_for_status()
                except httpx.HTTPError as error:
                    failed.append(type(error).__name__)

            await asyncio.gather(*(one(n) for n in range(50)))

    try:
        asyncio.run(send_all())
    finally:
        api.close()
    assert failed == []  # every send answered: none reset for want of room to queue it
    assert api.calls["sendPhoto"] == api.calls["sendMessage"] == 25
