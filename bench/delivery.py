"""Delivery of due nudges: outbox → Deliverer → TelegramTransport → Pacer → fake Bot API.

N = 1,000 and 10,000 pending nudges, each to its own chat, go through the Telegram adapter's
transport and pacer with Telegram's limits; the script reports the sustained rate against the
platform limit (N/30 s), the busiest one-second window, and the CPU per message and share of a
core. N up to --real-clock-max runs on the real clock; larger N on a virtual clock (pacing
waits cost no wall time there, the CPU is real), so 10,000 nudges fit in five minutes.
First, the smallest N unpaced, against a baseline measured in the same run: a bare loop of
`bot.send_message` with the same text and keyboard on the same in-process fake network.
Run: `.venv/bin/python bench/delivery.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert

from bench.common import PLATFORM, UNPACED, catalogue, fresh_sqlite, seed, sessions_for
from bench.report import header, log_quietly, print_table
from bench.telegram_fakes import NOW, FakeTelegramNetwork, build_application
from bot.catalogue import TextFormat
from bot.delivery import Deliverer
from bot.pacing import PacerLimits
from bot.telegram.pacer import Pacer
from bot.telegram.transport import TelegramTransport
from flows.replies import Choice, Reply, say
from storage import models as m
from storage.codec import encode_choices, encode_params

PLATFORM_LIMIT_PER_S = 30
# A nudge as a professional gets it: a text with a date and four one-tap answers, the first
# a notice's own button (n:…), as the product's nudges have.
NUDGE = say(
    "youth.menu",
    Choice("n:actions", "youth.menu.about"),
    Choice("progress", "youth.menu.questions", {"step": 1, "total": 4}),
    Choice("blocked", "youth.menu.view", {"step": 2, "total": 4}),
    Choice("new_date", "youth.menu.participation", {"step": 3, "total": 4}),
    meeting_at=NOW + timedelta(days=3),
)
CHUNK = 5_000


def enqueue_nudges(engine: Engine, count: int, reply: Reply) -> None:
    """Bulk-inserts `count` pending outbox rows, each to its own chat, all due now."""
    params, choices = encode_params(reply.params), encode_choices(reply.choices)
    rows = [
        {
            "platform": PLATFORM,
            "chat_id": str(2_000_000 + n),
            "message_id": reply.message,
            "params": params,
            "choices": choices,
            "attachment": None,
            "locale": "sv",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": NOW,
            "idempotency_key": uuid.uuid4().hex,
            "created_at": NOW,
        }
        for n in range(count)
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(
                insert(m.Base.metadata.tables["outbox"]), rows[start : start + CHUNK]
            )


async def ours(engine: Engine, count: int) -> tuple[float, float, int, float]:
    """Delivers every pending row; returns wall s, CPU s, how many the network received and
    the CPU s the fake Bot API spent on its side."""
    network = FakeTelegramNetwork()
    app = build_application(network)
    await app.initialize()
    deliverer = Deliverer(
        sessions_for(engine),
        catalogue(),
        {PLATFORM: TelegramTransport(app.bot, Pacer(UNPACED))},
        clock=lambda: NOW,
    )
    enqueue_nudges(engine, count, NUDGE)
    network.server_cpu = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    while await deliverer.deliver():
        pass
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await app.shutdown()
    return wall, cpu, network.calls["sendMessage"], network.server_cpu


async def baseline(count: int) -> tuple[float, float, int, float]:
    """The same messages, rendered once, sent in a bare loop with python-telegram-bot."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    network = FakeTelegramNetwork()
    app = build_application(network)
    await app.initialize()
    rendered = catalogue().render_reply(NUDGE, "sv", TextFormat.HTML)
    network.server_cpu = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(c.label, callback_data=c.id)] for c in rendered.choices]
        )
        await app.bot.send_message(
            2_000_000 + n, rendered.text, parse_mode="HTML", reply_markup=markup
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await app.shutdown()
    return wall, cpu, network.calls["sendMessage"], network.server_cpu


class VirtualClock:
    """A clock that sleeping moves forward at once: pacing on it takes no wall time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Moves time forward, then lets other tasks run."""
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window [t, t + 1) that starts at a send."""
    busiest, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


async def through_pacer(engine: Engine, count: int, virtual: bool) -> dict[str, float]:
    """Delivers `count` nudges through TelegramTransport and the Pacer with Telegram's limits.

    On the real clock the run takes count/30 seconds; on the virtual clock the pacer's
    waiting costs no wall time, while the CPU (rendering, the Bot API client, the outbox
    bookkeeping, the pacer's own admission logic) is all real.
    """
    clock = VirtualClock() if virtual else None
    now: Callable[[], float] = clock if clock is not None else time.monotonic
    network = FakeTelegramNetwork(clock=now)
    app = build_application(network)
    await app.initialize()
    pacer = Pacer(PacerLimits(), clock=now, sleep=clock.sleep if clock else asyncio.sleep)
    deliverer = Deliverer(
        sessions_for(engine),
        catalogue(),
        {PLATFORM: TelegramTransport(app.bot, pacer)},
        clock=lambda: NOW,
    )
    enqueue_nudges(engine, count, NUDGE)
    network.server_cpu = 0.0
    started, cpu = now(), time.process_time()
    while await deliverer.deliver():
        pass
    elapsed, cpu = now() - started, time.process_time() - cpu
    await app.shutdown()
    sent = network.sent_at
    span = sent[-1] - sent[0] if len(sent) > 1 else 0.0
    return {
        "sent": len(sent),
        "seconds": elapsed,
        "rate": (len(sent) - 1) / span if span else float("inf"),
        "busiest": busiest_second(sent),
        "cpu_ms": cpu / max(len(sent), 1) * 1000,
        "fake_api_cpu_ms": network.server_cpu / max(len(sent), 1) * 1000,
        "core_share": cpu / elapsed * 100 if elapsed else float("nan"),
    }


async def run(sizes: list[int], directory: Path, real_clock_max: int) -> dict[str, Any]:
    """Measures both sides at every size and prints the table."""
    rows: list[tuple[object, ...]] = []
    results: dict[int, dict[str, float]] = {}
    # Unpaced only at the smallest size: it shows the capacity, and more rows add no news.
    for count in sizes[:1]:
        engine = fresh_sqlite(directory / f"delivery-{count}.sqlite3")
        seed(engine, 200)
        b_wall, b_cpu, b_sent, b_fake = await baseline(count)
        o_wall, o_cpu, o_sent, o_fake = await ours(engine, count)
        engine.dispose()
        b_per, o_per = b_cpu / count, o_cpu / count
        results[count] = {
            "ours_cpu_ms": o_per * 1000,
            "baseline_cpu_ms": b_per * 1000,
            "ours_sent": o_sent,
            "baseline_sent": b_sent,
        }
        for name, wall, per, sent, fake in (
            ("bare PTB send_message loop", b_wall, b_per, b_sent, b_fake),
            ("ours: outbox → Deliverer → PTB", o_wall, o_per, o_sent, o_fake),
        ):
            rows.append(
                (
                    name,
                    count,
                    sent,
                    wall,
                    count / wall,
                    per * 1000,
                    fake / count * 1000,
                    f"{per * PLATFORM_LIMIT_PER_S * 100:.1f}%",
                    f"{per / b_per:.2f}x",
                )
            )
    print_table(
        "Delivery without pacing (the capacity under the pacer), fake Bot API in-process",
        (
            "path",
            "N",
            "sent",
            "wall s",
            "msgs/s",
            "CPU ms/msg",
            "of it fake API",
            "core share at 30/s",
            "CPU ratio",
        ),
        rows,
    )
    paced_rows: list[tuple[object, ...]] = []
    paced: dict[int, dict[str, float]] = {}
    for count in sizes:
        # The real clock for up to real_clock_max nudges (count/30 s of waiting); beyond,
        # the virtual clock, so 10,000 nudges fit in the five minutes a benchmark may take.
        virtual = count > real_clock_max
        engine = fresh_sqlite(directory / f"paced-{count}.sqlite3")
        seed(engine, 200)
        r = await through_pacer(engine, count, virtual)
        engine.dispose()
        paced[count] = r
        paced_rows.append(
            (
                count,
                "virtual" if virtual else "real",
                r["sent"],
                r["seconds"],
                count / PLATFORM_LIMIT_PER_S,
                r["rate"],
                f"{r['rate'] / PLATFORM_LIMIT_PER_S * 100:.0f}%",
                r["busiest"],
                r["cpu_ms"],
                r["fake_api_cpu_ms"],
                f"{r['core_share']:.1f}%",
            )
        )
    print_table(
        "Through the Telegram pacer (TelegramTransport + Pacer with Telegram's limits) to the "
        "fake Bot API; each nudge to its own chat",
        (
            "N",
            "clock",
            "sent",
            "took s",
            "limit N/30 s",
            "msgs/s",
            "of limit",
            "busiest second",
            "CPU ms/msg",
            "of it fake API",
            "core share",
        ),
        paced_rows,
    )
    worst_rate = min(r["rate"] for r in paced.values())
    busiest = max(r["busiest"] for r in paced.values())
    share = max(r["core_share"] for r in paced.values())
    print(
        "\nCPU is the whole process's, the fake Bot API's side included (\"of it fake API\": "
        "reading the request, writing the answer). It is not subtracted: a real HTTP client "
        "(httpx, TLS, sockets), which the fake replaces, costs the bot at least as much."
    )
    print(
        f"\nTargets: ≥ 25 msgs/s sustained: {worst_rate:.1f} "
        f"({'met' if worst_rate >= 25 else 'missed'}); no second above 30: {busiest} "
        f"({'met' if busiest <= 30 else 'missed'}); ≤ 5% of one core: {share:.1f}% "
        f"({'met' if share <= 5 else 'missed'})"
    )
    return {"sizes": results, "paced": paced}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="nudge counts, comma separated")
    parser.add_argument(
        "--real-clock-max",
        type=int,
        default=1000,
        help="largest N paced on the real clock (N/30 s); larger N use a virtual clock",
    )
    args = parser.parse_args(argv)
    log_quietly()
    header("delivery")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        sizes = [int(s) for s in args.sizes.split(",")]
        return asyncio.run(run(sizes, Path(directory), args.real_clock_max))


if __name__ == "__main__":
    main()
