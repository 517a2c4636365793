"""A backlog goes out in bursts of 30 with one wake-up each, and still never 31 in a second.

The Deliverer sends a backlog one message after another, and each message takes a little
time (rendering, the request, marking it sent) that varies. Waiting only for the oldest slot
of the window keeps every gap between admissions, and a gap only ever grows, so the stream
spreads out until nearly every message waits on its own. The pacer therefore also waits for
the slots freed just after the oldest (PacerLimits.burst_gather).
"""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from bot.pacing import PacerLimits
from bot.telegram.pacer import Pacer
from tests.test_telegram_pacer import VirtualTime, max_in_any_window

# Work per message in seconds (render, request, mark sent), varying as the Deliverer's does.
WORK = (0.001, 0.004)


def send_one_after_another(pacer: Pacer, time: VirtualTime, count: int) -> list[float]:
    """Sends `count` messages to as many chats in turn, each taking some work; returns
    when each was sent."""
    sent: list[float] = []
    rng = random.Random(3)

    async def backlog() -> None:
        for number in range(count):

            async def call() -> None:
                time.now += rng.uniform(*WORK)  # the request is built and sent: time passes
                sent.append(time.now)

            await pacer.send(str(5000 + number), False, call)

    async def main() -> None:
        await time.run(backlog())

    asyncio.run(main())
    return sent


def test_a_backlog_sent_in_turn_wakes_up_once_per_burst() -> None:
    time = VirtualTime()
    sent = send_one_after_another(Pacer(clock=time.clock, sleep=time.sleep), time, 600)

    assert len(sent) == 600
    print(f"600 in turn: {len(time.slept)} waits, last sent at {max(sent):.2f} s")
    # Twenty windows of 30: nineteen waits, give or take one.
    assert len(time.slept) <= 21


def test_without_gathering_the_same_backlog_waits_for_nearly_every_message() -> None:
    # What burst_gather is for: with none, the varying work spreads the sends out.
    time = VirtualTime()
    pacer = Pacer(PacerLimits(burst_gather=0.0), clock=time.clock, sleep=time.sleep)
    send_one_after_another(pacer, time, 600)
    assert len(time.slept) > 300


@pytest.mark.parametrize("gather", [0.0, 0.05, 0.2])
def test_gathering_never_lets_31_into_a_second_nor_slows_the_rate_much(gather: float) -> None:
    limits = PacerLimits(burst_gather=gather)
    time = VirtualTime()
    sent = send_one_after_another(Pacer(limits, clock=time.clock, sleep=time.sleep), time, 600)

    # Admission is what the pacer controls; each send here starts at once and its work
    # ends at most max(WORK) later, so windows widened by that hold at most 30 too.
    window = 1.0 + limits.window_margin - max(WORK)
    assert max_in_any_window(sent, window) <= 30
    # The rate stays at least 30 per (window + gather), however the work varies.
    windows = 600 / 30 - 1
    assert max(sent) <= windows * (1.0 + limits.window_margin + gather) + 30 * max(WORK)


def test_concurrent_senders_with_random_work_keep_every_limit() -> None:
    # Many tasks at once (replies beside a drain), groups among them, random work: the limits
    # are kept whatever the mix, and a group still gets at most 20 a minute.
    rng = random.Random(9)
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    sent: list[tuple[float, str]] = []
    chats = [str(100 + n) for n in range(40)] + ["-7", "-8"]

    async def sender(chat: str, messages: int) -> None:
        for _ in range(messages):

            async def call(chat: str = chat) -> None:
                time.now += rng.uniform(0.0005, 0.02)
                sent.append((time.now, chat))

            await pacer.send(chat, chat.startswith("-"), call)

    async def main() -> None:
        await time.run(asyncio.gather(*(sender(chat, 12) for chat in chats)))

    asyncio.run(main())

    assert len(sent) == 12 * len(chats)
    times = [moment for moment, _ in sent]
    assert max_in_any_window(times, 1.0) <= 30
    for chat in chats:
        mine = sorted(moment for moment, c in sent if c == chat)
        # Admitted a second apart; the work after admission varies by under 0.02 s.
        assert min(b - a for a, b in itertools.pairwise(mine)) >= 1.0 - 0.02
        if chat.startswith("-"):
            assert max_in_any_window(mine, 60.0 - 0.02) <= 20
