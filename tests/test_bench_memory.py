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
import time
from pathlib import Path

import httpx
import pytest

from bench import memory, memory_trace
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


def test_the_fake_bot_api_records_a_picture_to_its_chat_only_when_the_file_came_with_it() -> None:
    api = FakeBotApi(idle_poll_s=0.0)
    try:
        with httpx.Client() as client:
            client.post(
                f"{api.base_url}/sendPhoto",
                data={"chat_id": "4711", "caption": "Planen"},
                files={"photo": ("plan.png", b"\x89PNG" + bytes(1000))},
            ).raise_for_status()
            # A photo by file id (no file in the request) is not a picture that arrived here.
            client.post(
                f"{api.base_url}/sendPhoto", json={"chat_id": 99, "photo": "file-id"}
            ).raise_for_status()
    finally:
        api.close()
    assert api.files_to == {"4711": 1}


GROWER = """
import sys
print("ready", flush=True)
sys.stdin.readline()
kept = [str(number) * 20 for number in range(50_000)]  # the growth to be found
print("grown", flush=True)
sys.stdin.readline()
"""


def wait_for_file(path: Path, process: subprocess.Popen[str]) -> None:
    """Until the hook has written `path` (it answers a signal between two lines it reads)."""
    for _ in range(600):
        if path.exists():
            return
        assert process.poll() is None, "the traced process ended"
        time.sleep(0.05)
    raise AssertionError(f"{path.name} never written")


@pytest.mark.slow
def test_the_tracemalloc_hook_finds_the_line_that_grew_and_where_the_memory_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "grower.py"
    script.write_text(GROWER)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    traces = memory.traced_env(env, tmp_path, tracing=True)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert process.stdout.readline() == "ready\n"
        os.kill(process.pid, signal.SIGUSR1)  # ready: measure, trace from here on
        wait_for_file(traces / memory_trace.STARTED, process)
        process.stdin.write("grow\n")
        process.stdin.flush()
        assert process.stdout.readline() == "grown\n"
        os.kill(process.pid, signal.SIGUSR1)  # after the "burst": snapshot and measure
        wait_for_file(traces / memory_trace.FIGURES, process)
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    found = memory_trace.attribute(traces, ROOT)
    # The list's 50,000 strings (about 3 MiB) are the top line, by where they were made.
    assert found.by_line[0].where.endswith("grower.py:5")
    assert found.by_line[0].count >= 50_000
    assert found.traced >= 3 * 1024 * 1024
    # The allocators saw it too: the small strings live in pymalloc's arenas.
    growth = found.end["pymalloc_in_use"] - found.start["pymalloc_in_use"]
    assert growth >= 3 * 1024 * 1024
    memory.print_attribution(found)
    out = capsys.readouterr().out
    assert "Where the bot's memory is, at ready and after the burst" in out
    assert "grower.py:5" in out


def test_the_fake_bot_api_keeps_a_connection_open_for_the_next_call_as_telegram_does() -> None:
    api = FakeBotApi(idle_poll_s=0.0)
    try:
        with httpx.Client() as client:
            for number in range(20):
                sent = client.post(f"{api.base_url}/sendMessage", json={"chat_id": number})
                sent.raise_for_status()
    finally:
        api.close()
    assert api.calls["sendMessage"] == 20
    assert api.connections == 1  # not one connection a call
