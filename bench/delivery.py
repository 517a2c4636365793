"""Delivery of due nudges: our outbox → Deliverer → python-telegram-bot → fake Bot API.

The issue's measure is delivery *through the Telegram pacer* against the platform limit of
30 messages/s. Until bot/telegram/pacer.py is merged, that part is printed as pending, and
this script measures what the pacer will sit on: how fast, and at what CPU per message, the
Deliverer can hand N pending nudges (N = 1,000 and 10,000, each to its own chat) to
python-telegram-bot on the fake network, without pacing. Baseline in the same run: a bare
loop of `bot.send_message` with the same text and keyboard on the same fake network.
CPU per message × 30 is the share of one core the bot would need at the platform limit.
Run: `.venv/bin/python bench/delivery.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert

from bench.common import PLATFORM, PtbTransport, catalogue, fresh_sqlite, seed, sessions_for
from bench.report import header, log_quietly, print_table
from bench.telegram_fakes import NOW, FakeTelegramNetwork, build_application
from bot.catalogue import TextFormat
from bot.delivery import Deliverer
from flows.replies import Choice, Reply, say
from storage import models as m
from storage.codec import encode_choices, encode_params

PLATFORM_LIMIT_PER_S = 30
# A nudge as a professional gets it: a text with a date and four one-tap answers.
NUDGE = say(
    "youth.menu",
    Choice("done", "youth.menu.about"),
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


async def ours(engine: Engine, count: int) -> tuple[float, float, int]:
    """Delivers every pending row; returns wall s, CPU s and how many the network received."""
    network = FakeTelegramNetwork()
    app = build_application(network)
    await app.initialize()
    deliverer = Deliverer(
        sessions_for(engine), catalogue(), {PLATFORM: PtbTransport(app.bot)}, clock=lambda: NOW
    )
    enqueue_nudges(engine, count, NUDGE)
    wall, cpu = time.perf_counter(), time.process_time()
    while await deliverer.deliver():
        pass
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await app.shutdown()
    return wall, cpu, network.calls["sendMessage"]


async def baseline(count: int) -> tuple[float, float, int]:
    """The same messages, rendered once, sent in a bare loop with python-telegram-bot."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    network = FakeTelegramNetwork()
    app = build_application(network)
    await app.initialize()
    rendered = catalogue().render_reply(NUDGE, "sv", TextFormat.HTML)
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
    return wall, cpu, network.calls["sendMessage"]


def pacer_available() -> bool:
    """True once the Telegram adapter's pacer is merged."""
    try:
        return importlib.util.find_spec("bot.telegram.pacer") is not None
    except ModuleNotFoundError:
        return False


async def run(sizes: list[int], directory: Path) -> dict[str, Any]:
    """Measures both sides at every size and prints the table."""
    rows: list[tuple[object, ...]] = []
    results: dict[int, dict[str, float]] = {}
    for count in sizes:
        engine = fresh_sqlite(directory / f"delivery-{count}.sqlite3")
        seed(engine, 200)
        b_wall, b_cpu, b_sent = await baseline(count)
        o_wall, o_cpu, o_sent = await ours(engine, count)
        engine.dispose()
        b_per, o_per = b_cpu / count, o_cpu / count
        results[count] = {
            "ours_cpu_ms": o_per * 1000,
            "baseline_cpu_ms": b_per * 1000,
            "ours_sent": o_sent,
            "baseline_sent": b_sent,
        }
        for name, wall, per, sent in (
            ("bare PTB send_message loop", b_wall, b_per, b_sent),
            ("ours: outbox → Deliverer → PTB", o_wall, o_per, o_sent),
        ):
            rows.append(
                (
                    name,
                    count,
                    sent,
                    wall,
                    count / wall,
                    per * 1000,
                    f"{per * PLATFORM_LIMIT_PER_S * 100:.1f}%",
                    f"{per / b_per:.2f}x",
                )
            )
    print_table(
        "Delivery without pacing (capacity under the pacer), fake Bot API in-process",
        (
            "path",
            "N",
            "sent",
            "wall s",
            "msgs/s",
            "CPU ms/msg",
            "core share at 30/s",
            "CPU ratio",
        ),
        rows,
    )
    if pacer_available():
        print("\nThrough the pacer: bot/telegram/pacer.py exists but is not measured here yet.")
    else:
        print(
            "\nThrough the Telegram pacer (≥ 25 msgs/s sustained, no second above 30): "
            "pending: pacer not merged (bot/telegram/pacer.py)"
        )
    largest = results[max(results)]
    share = largest["ours_cpu_ms"] / 1000 * PLATFORM_LIMIT_PER_S * 100
    print(
        f"Target: ≤ 5% of one core at the platform limit: {share:.1f}% "
        f"({'met' if share <= 5 else 'missed'}) — CPU only; the pacer's own cost is not in it"
    )
    return {"sizes": results, "pacer": pacer_available()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="nudge counts, comma separated")
    args = parser.parse_args(argv)
    log_quietly()
    header("delivery")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        return asyncio.run(run([int(s) for s in args.sizes.split(",")], Path(directory)))


if __name__ == "__main__":
    main()
