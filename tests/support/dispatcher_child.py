"""A bot process for fault tests: `run(argv)` in a forked process (or `python -m …`).

It is the real runtime (lock, registry, catch-up tick, claims, ticker, channel leases) with a
fake transport that appends every send to a file and fsyncs it before returning, so the
parent test can count sends across kill -9, and a fake inbound channel that logs each poll.

Modes: `drain` starts, sends everything due and exits 0; `serve` runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.catalogue import Catalogue, RenderedMessage
from bot.channels import LeaseSettings
from bot.connector import PLAIN_TEXT
from bot.delivery import DeliveryPolicy
from bot.delivery_loop import DeliveryLoop
from bot.instance import AnotherProcessRunning, new_process_id
from bot.runtime import Runtime
from bot.scheduler import TickerSettings
from storage.db import make_engine, session_factory
from tests.support.reminders import PLATFORM, MeetingReminders

EXIT_BUSY = 5


class FileTransport:
    """Appends "idempotency-key chat-id pid" to a file and fsyncs, like a platform that took
    it: once `send` returns, the parent can count the message whatever happens next."""

    platform = PLATFORM
    capabilities = PLAIN_TEXT

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Records one send durably."""
        os.write(self._fd, f"{idempotency_key} {chat_id} {os.getpid()}\n".encode())
        os.fsync(self._fd)


class LoggedChannel:
    """An inbound channel whose every poll is a line "pid unix-time" in a file."""

    name = "fake-poll"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._task: asyncio.Task[None] | None = None

    async def start(self, may_poll: Callable[[], bool]) -> None:
        """Starts polling every 20 ms, while `may_poll()` says yes."""
        self._task = asyncio.create_task(self._poll(may_poll))

    async def stop(self) -> None:
        """Stops polling."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def stopped_itself(self) -> bool:
        """Never: it polls (or skips polls) until it is stopped."""
        return False

    async def _poll(self, may_poll: Callable[[], bool]) -> None:
        """One line per poll."""
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        while True:
            if may_poll():
                os.write(fd, f"{os.getpid()} {time.time():.4f}\n".encode())
            await asyncio.sleep(0.02)


async def main(args: argparse.Namespace) -> int:
    """Runs one bot process in the chosen mode."""
    engine = make_engine(args.db)
    sessions = session_factory(engine)
    process_id = new_process_id()
    deliverer = DeliveryLoop(
        sessions,
        Catalogue(),
        connectors=[FileTransport(args.sends)],
        process_id=process_id,
        policy=DeliveryPolicy(claim_for=timedelta(seconds=args.claim_seconds), batch_size=20),
        # Each process sweeps what is due at once: the test is about who sends it.
        sweep_grace=timedelta(0),
    )
    lease = timedelta(seconds=args.lease_seconds)
    runtime = Runtime(
        engine,
        sessions,
        deliverer,
        process_id,
        sources=[MeetingReminders()],
        channels=[LoggedChannel(args.polls)] if args.polls else [],
        ticker=TickerSettings(
            tick_every=timedelta(seconds=0.5),
            dispatch_every=timedelta(seconds=0.2),
            keep_every=lease / 5,
        ),
        leases=LeaseSettings(ttl=lease, renew_every=lease / 5, margin=lease / 2),
    )
    try:
        await runtime.start()
    except AnotherProcessRunning as exc:
        print(exc, flush=True)
        return EXIT_BUSY
    if args.mode == "drain":
        await runtime.stop()
        return 0
    while True:
        await asyncio.sleep(3600)


def run(argv: list[str]) -> None:
    """Runs the process and exits with its status (the entry of a forked child)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["drain", "serve"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--sends", type=Path, required=True)
    parser.add_argument("--polls", type=Path)
    parser.add_argument("--lease-seconds", type=float, default=1.5)
    parser.add_argument("--claim-seconds", type=float, default=5.0)
    raise SystemExit(asyncio.run(main(parser.parse_args(argv))))


if __name__ == "__main__":
    run(sys.argv[1:])
