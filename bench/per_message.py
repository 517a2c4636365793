"""Per-message CPU of the full path, against a bare python-telegram-bot ConversationHandler.

Both sides get the same kind of Update objects through `Application.process_update` and talk to
the same fake Bot API network (no sockets). Our side translates the update, handles it in one
transaction (inbox, state, flow step, outbox rows, commit), renders the replies from the
catalogue and sends them. Run: `.venv/bin/python bench/per_message.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes, TypeHandler

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CommitMeter,
    build_our_bot,
    catalogue,
    fresh_sqlite,
    inbound_from,
    process_timed,
    seed,
    sessions_for,
)
from bench.report import (
    header,
    log_quietly,
    median_ms,
    p95_ms,
    print_table,
)
from bench.telegram_fakes import (
    FakeTelegramNetwork,
    UpdateFactory,
    build_application,
    build_baseline,
    youth_updates,
)
from storage.db import make_engine

# The floor's users: any ids, since it keeps its own two tables (no case data).
FLOOR_USER_BASE = 9_000_000


@dataclass
class PathResult:
    """CPU seconds per update of one path, with the part spent committing."""

    name: str
    cpu: list[float]
    commit: list[float]
    sends: float

    @property
    def median_ms(self) -> float:
        return median_ms(self.cpu)

    @property
    def median_excl_commit_ms(self) -> float:
        return median_ms([c - k for c, k in zip(self.cpu, self.commit, strict=True)])

    @property
    def median_commit_ms(self) -> float:
        return median_ms(self.commit)


def build_durable_floor(network: FakeTelegramNetwork, path: Path) -> Any:
    """The baseline made durable, and nothing else: the least any bot that keeps its promise
    (nothing lost on a crash) pays on this stack.

    Every update saves the chat's state and a row for the reply in one SQLite transaction
    (WAL, BEGIN IMMEDIATE, as ours), sends the same text with four buttons, and marks the
    row sent in a second transaction: 2 transactions and 3 prepared statements through
    SQLAlchemy Core, no ORM, no flows, no access checks, no encryption, no templates.
    """
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE chat_state (chat_id INTEGER PRIMARY KEY, step TEXT, version INTEGER)"
        )
        connection.exec_driver_sql(
            "CREATE TABLE reply (id INTEGER PRIMARY KEY, chat_id INTEGER, text TEXT, sent INTEGER)"
        )
    save_state = text(
        "INSERT INTO chat_state (chat_id, step, version) VALUES (:chat, :step, 1) "
        "ON CONFLICT (chat_id) DO UPDATE SET step = :step, version = chat_state.version + 1"
    )
    add_reply = text(
        "INSERT INTO reply (chat_id, text, sent) VALUES (:chat, :text, 0) RETURNING id"
    )
    mark_sent = text("UPDATE reply SET sent = 1 WHERE id = :id")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Steg {n}", callback_data=f"step{n}")] for n in range(1, 5)]
    )
    app = build_application(network)

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Saves, sends, marks: the durable minimum for one update."""
        assert update.effective_chat is not None
        chat = update.effective_chat.id
        if update.callback_query is not None:
            await update.callback_query.answer()
        reply = "<b>Steg 1 av 4.</b> Dina frågor:"
        with engine.begin() as connection:
            connection.execute(save_state, {"chat": chat, "step": "menu"})
            row = connection.execute(add_reply, {"chat": chat, "text": reply}).scalar_one()
        await context.bot.send_message(chat, reply, "HTML", reply_markup=keyboard)
        with engine.begin() as connection:
            connection.execute(mark_sent, {"id": row})

    app.add_handler(TypeHandler(Update, answer))
    app.bot_data["engine"] = engine
    return app


async def _core(bot: Any, updates: list[Any], meter: CommitMeter) -> tuple[list[float], ...]:
    """Our path without any platform: handle, then deliver to a transport that drops it."""
    inbounds = [inbound_from(u) for u in updates]
    cpu, commits, handle_cpu, deliver_cpu = [], [], [], []
    for inbound in inbounds:
        assert inbound is not None
        before = meter.cpu
        started = time.process_time()
        ids = bot.handler.handle(inbound)
        handled = time.process_time()
        await bot.delivery.deliver(ids)
        done = time.process_time()
        cpu.append(done - started)
        handle_cpu.append(handled - started)
        deliver_cpu.append(done - handled)
        commits.append(meter.cpu - before)
    return cpu, commits, handle_cpu, deliver_cpu


async def run(cases: int, users: int, rounds: int, directory: Path) -> dict[str, Any]:
    """Measures the three paths, round by round in turn so load drifts hit them alike."""
    engine = fresh_sqlite(directory / "per_message.sqlite3")
    seeded = seed(engine, cases)
    if len(seeded.youth_user_ids) < 3 * users + 2:
        raise SystemExit(f"need at least {3 * users + 2} cases for {users} users per path")
    sessions = sessions_for(engine)
    texts = catalogue()
    base_net = FakeTelegramNetwork()
    baseline = build_baseline(base_net)
    floor_net = FakeTelegramNetwork()
    floor = build_durable_floor(floor_net, directory / "floor.sqlite3")
    ours = build_our_bot(sessions, texts)
    core = build_our_bot(sessions, texts, null_transport=True)
    for app in (baseline, floor, ours.app, core.app):
        await app.initialize()
    ids = seeded.youth_user_ids
    base_users, our_users, core_users = (
        ids[:users],
        ids[users : 2 * users],
        ids[2 * users : 3 * users],
    )
    warm = ids[3 * users : 3 * users + 2]
    floor_users = [FLOOR_USER_BASE + n for n in range(users)]
    base_f, floor_f, our_f, core_f = (
        UpdateFactory(a.bot) for a in (baseline, floor, ours.app, core.app)
    )
    meter = CommitMeter().install()
    try:
        # Warm-up: the baseline's users open their conversation with /start; every path runs
        # one round for two other users, so templates are compiled and caches are filled.
        for update in [base_f.text(u, "/start") for u in base_users + warm]:
            await baseline.process_update(update)
        await process_timed(baseline, youth_updates(base_f, warm))
        await process_timed(floor, youth_updates(floor_f, [FLOOR_USER_BASE - 1]))
        await process_timed(ours.app, youth_updates(our_f, warm))
        await _core(core, youth_updates(core_f, warm[1:]), meter)
        sends_before = {
            "base": base_net.calls["sendMessage"],
            "floor": floor_net.calls["sendMessage"],
            "ours": ours.network.calls["sendMessage"],
        }
        base_cpu: list[float] = []
        floor_cpu: list[float] = []
        our_cpu: list[float] = []
        our_commit: list[float] = []
        core_cpu: list[float] = []
        core_commit: list[float] = []
        handle_cpu: list[float] = []
        deliver_cpu: list[float] = []
        for _ in range(rounds):
            b, _ = await process_timed(baseline, youth_updates(base_f, base_users))
            f, _ = await process_timed(floor, youth_updates(floor_f, floor_users))
            o, oc = await process_timed(ours.app, youth_updates(our_f, our_users), meter)
            c, cc, h, d = await _core(core, youth_updates(core_f, core_users), meter)
            base_cpu += b
            floor_cpu += f
            our_cpu += o
            our_commit += oc
            core_cpu += c
            core_commit += cc
            handle_cpu += h
            deliver_cpu += d
    finally:
        meter.uninstall()
        for app in (baseline, floor, ours.app, core.app):
            await app.shutdown()
        engine.dispose()
        floor.bot_data["engine"].dispose()
    n = len(base_cpu)
    base = PathResult(
        "bare PTB ConversationHandler",
        base_cpu,
        [0.0] * n,
        (base_net.calls["sendMessage"] - sends_before["base"]) / n,
    )
    durable = PathResult(
        "bare PTB + durable minimum (floor)",
        floor_cpu,
        [0.0] * n,
        (floor_net.calls["sendMessage"] - sends_before["floor"]) / n,
    )
    our = PathResult(
        "ours: bot.telegram adapter + core",
        our_cpu,
        our_commit,
        (ours.network.calls["sendMessage"] - sends_before["ours"]) / n,
    )
    our_core = PathResult("ours, core only (no platform)", core_cpu, core_commit, our.sends)
    rows: list[tuple[object, ...]] = []
    for r in (base, durable, our, our_core):
        rows.append(
            (
                r.name,
                r.median_ms,
                p95_ms(r.cpu),
                r.median_commit_ms,
                r.median_excl_commit_ms,
                f"{r.median_excl_commit_ms / base.median_ms:.2f}x",
                f"{r.median_ms / base.median_ms:.2f}x",
                f"{r.sends:.2f}",
            )
        )
    rows.append(
        (
            "  core: EventHandler.handle",
            median_ms(handle_cpu),
            p95_ms(handle_cpu),
            "",
            "",
            "",
            "",
            "",
        )
    )
    rows.append(
        (
            "  core: Deliverer.deliver",
            median_ms(deliver_cpu),
            p95_ms(deliver_cpu),
            "",
            "",
            "",
            "",
            "",
        )
    )
    print_table(
        f"Per-message CPU (time.process_time), {n} updates per path, {cases} cases in SQLite",
        (
            "path",
            "median ms",
            "p95 ms",
            "commit ms",
            "excl. commit ms",
            "ratio excl. commit",
            "ratio with commit",
            "sends/update",
        ),
        rows,
    )
    ratio = our.median_excl_commit_ms / base.median_ms
    print(
        f"\nThe durable minimum alone costs {durable.median_ms:.2f} ms, "
        f"{durable.median_ms / base.median_ms:.2f}x the baseline; ours is "
        f"{our.median_ms / durable.median_ms:.2f}x the durable minimum."
    )
    print(
        f"\nTargets: ours ≤ 3x baseline excluding the commit: {ratio:.2f}x "
        f"({'met' if ratio <= 3 else 'missed'}); ≤ 1.5 ms median with an SQLite commit: "
        f"{our.median_ms:.2f} ms ({'met' if our.median_ms <= 1.5 else 'missed'})"
    )
    return {
        "updates": n,
        "baseline_ms": base.median_ms,
        "ours_ms": our.median_ms,
        "ours_excl_commit_ms": our.median_excl_commit_ms,
        "core_ms": our_core.median_ms,
        "floor_ms": durable.median_ms,
        "ratio_excl_commit": ratio,
        "commits_per_update": statistics.mean(1 if c else 0 for c in our_commit),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=400, help="seeded cases (default 400)")
    parser.add_argument("--users", type=int, default=40, help="young people per path")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 12 messages per user")
    args = parser.parse_args(argv)
    log_quietly()
    header("per-message CPU")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        return asyncio.run(run(args.cases, args.users, args.rounds, Path(directory)))


if __name__ == "__main__":
    main()
