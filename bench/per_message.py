"""CPU per handled update of the product as it runs, against an ordinary bare bot and a lean
durable bot measured in the same run (issue 26, targets 1 and 4).

Four paths get the same kind of Update objects through `Application.process_update` and talk
to the same in-process fake Bot API (no sockets):

- the baseline: an ordinary python-telegram-bot ConversationHandler answering with a text and
  four buttons;
- the floor: the same bot made durable as lean as this stack allows (state and an outbox row in
  one SQLite transaction in a worker thread, the typed text sealed by AES-GCM, the reply
  rendered by Jinja2, marked sent after the send);
- the product as `samverkan run` composes it: TelegramService, its pipeline, EventHandler (in a
  worker thread) and DeliveryLoop, each reply from the catalogue;
- the product's core without any platform, to show the platform's share.

For each: CPU and wall clock per update (median, p95), ratios, sends, and the statements and
commits each update sent (SQLAlchemy engine events). Run: `.venv/bin/python bench/per_message.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, text
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes, TypeHandler

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CommitMeter,
    StatementMeter,
    build_our_bot,
    catalogue,
    fresh_sqlite,
    inbound_from,
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
    as_sent_now,
    build_application,
    build_baseline,
    youth_updates,
)
from storage.db import make_engine, one_statement

# Issue 26, target 4: the product's CPU per update against the lean durable floor's.
FLOOR_TARGET = 2.0
# The floor's users: any ids, since it keeps its own two tables (no case data).
FLOOR_USER_BASE = 9_000_000


@dataclass
class PathResult:
    """One path's figures per handled update: CPU, wall clock, sends, database work."""

    name: str
    timed: Timed
    sends: float
    statements: float | None = None
    commits: float | None = None

    @property
    def median_ms(self) -> float:
        return median_ms(self.timed.cpu)

    def row(self, base: PathResult, floor: PathResult) -> tuple[object, ...]:
        """The path's line of the table."""
        counted = self.statements is not None and self.commits is not None
        return (
            self.name,
            self.median_ms,
            p95_ms(self.timed.cpu),
            median_ms(self.timed.wall),
            p95_ms(self.timed.wall),
            f"{self.median_ms / base.median_ms:.2f}x",
            f"{self.median_ms / floor.median_ms:.2f}x",
            f"{self.sends:.2f}",
            f"{self.statements:.2f}" if counted else "-",
            f"{self.commits:.2f}" if counted else "-",
        )


# The floor's reply, rendered at send time from a template as ours are (autoescaped HTML).
FLOOR_TEMPLATE = "<b>{{ title }}</b> {{ prompt }}"


def build_durable_floor(network: FakeTelegramNetwork, path: Path) -> Any:
    """A lean durable bot: the least any bot pays on this stack that loses nothing on a
    crash, keeps free text encrypted at rest and renders its texts from templates.

    For every update, in a worker thread (as ours: a transaction may wait for SQLite's write
    lock and must not stall the event loop): one SQLite transaction (WAL, BEGIN IMMEDIATE,
    as ours) saves the chat's state, with what the person wrote sealed by AES-GCM, and an
    outbox row naming the reply. Back on the loop the reply is rendered by Jinja2 and sent
    with four buttons, and the row is marked sent in a one-statement transaction. SQLAlchemy
    Core with prepared statements: no ORM, no flows, no access checks, no audit.
    """
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE chat_state (chat_id INTEGER PRIMARY KEY, step TEXT, data BLOB, "
            "version INTEGER)"
        )
        connection.exec_driver_sql(
            "CREATE TABLE reply (id INTEGER PRIMARY KEY, chat_id INTEGER, message TEXT, "
            "sent INTEGER)"
        )
    save_state = text(
        "INSERT INTO chat_state (chat_id, step, data, version) VALUES (:chat, :step, :data, 1) "
        "ON CONFLICT (chat_id) DO UPDATE SET step = :step, data = :data, "
        "version = chat_state.version + 1"
    )
    add_reply = text(
        "INSERT INTO reply (chat_id, message, sent) VALUES (:chat, :message, 0) RETURNING id"
    )
    mark_sent = text("UPDATE reply SET sent = 1 WHERE id = :id")
    sealer = AESGCM(AESGCM.generate_key(bit_length=256))
    template = jinja2.Environment(autoescape=True).from_string(FLOOR_TEMPLATE)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Steg {n}", callback_data=f"step{n}")] for n in range(1, 5)]
    )
    app = build_application(network)

    def save(chat: int, written: str) -> int:
        """State (sealed) and the reply's row in one transaction; returns the row's id."""
        nonce = os.urandom(12)
        sealed = nonce + sealer.encrypt(nonce, written.encode(), None)
        with engine.begin() as connection:
            connection.execute(save_state, {"chat": chat, "step": "menu", "data": sealed})
            return int(
                connection.execute(add_reply, {"chat": chat, "message": "step"}).scalar_one()
            )

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Saves, renders, sends, marks: the durable floor for one update."""
        assert update.effective_chat is not None
        chat = update.effective_chat.id
        if update.callback_query is not None:
            await update.callback_query.answer()
            written = update.callback_query.data or ""
        else:
            assert update.effective_message is not None
            written = update.effective_message.text or ""
        row = await asyncio.to_thread(save, chat, written)
        reply = template.render(title="Steg 1 av 4.", prompt="Dina frågor:")
        await context.bot.send_message(chat, reply, "HTML", reply_markup=keyboard)
        with one_statement(engine) as connection:
            connection.execute(mark_sent, {"id": row})

    app.add_handler(TypeHandler(Update, answer))
    app.bot_data["engine"] = engine
    return app


@dataclass
class Timed:
    """Each update's CPU and wall-clock seconds, and its commit CPU (ours only)."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    commit: list[float] = field(default_factory=list)

    def extend(self, other: Timed) -> None:
        """Adds another round's figures."""
        self.cpu += other.cpu
        self.wall += other.wall
        self.commit += other.commit


async def process_timed(
    app: Any,
    updates: list[Update],
    meter: CommitMeter | None,
    network: FakeTelegramNetwork | None = None,
) -> Timed:
    """Feeds updates one by one as `samverkan run` receives them; times each one.

    Given the path's network, each update is numbered as Telegram would when the person acts
    (a tap is on the bot's newest message in her chat, which the product answers in place).
    """
    timed = Timed()
    for update in updates:
        if network is not None:
            update = as_sent_now(update, network, app.bot)
        before_commit = meter.cpu if meter else 0.0
        started_wall = time.perf_counter()
        started = time.process_time()
        await app.process_update(update)
        timed.cpu.append(time.process_time() - started)
        timed.wall.append(time.perf_counter() - started_wall)
        timed.commit.append((meter.cpu - before_commit) if meter else 0.0)
        # Updates arrive one by one from the network; let other tasks run in between, as the
        # loop would while waiting for the next one.
        await asyncio.sleep(0)
    return timed


async def _core(
    bot: Any, updates: list[Any], meter: CommitMeter
) -> tuple[Timed, list[float], list[float]]:
    """Our path without any platform: handle, then deliver to a transport that drops it."""
    inbounds = [inbound_from(u) for u in updates]
    cpu, wall, commits, handle_cpu, deliver_cpu = [], [], [], [], []
    for inbound in inbounds:
        assert inbound is not None
        before = meter.cpu
        started_wall = time.perf_counter()
        started = time.process_time()
        ids = bot.handler.handle(inbound)
        handled = time.process_time()
        await bot.delivery.deliver(ids)
        done = time.process_time()
        wall.append(time.perf_counter() - started_wall)
        cpu.append(done - started)
        handle_cpu.append(handled - started)
        deliver_cpu.append(done - handled)
        commits.append(meter.cpu - before)
    return Timed(cpu, wall, commits), handle_cpu, deliver_cpu


async def run(cases: int, users: int, rounds: int, directory: Path) -> dict[str, Any]:
    """Measures the four paths, round by round in turn so load drifts hit them alike."""
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
    db = StatementMeter(engine).install()
    floor_db = StatementMeter(floor.bot_data["engine"]).install()
    base_t, floor_t, our_t, core_t = Timed(), Timed(), Timed(), Timed()
    handle_cpu: list[float] = []
    deliver_cpu: list[float] = []
    our_work = [0, 0]
    floor_work = [0, 0]
    try:
        # Warm-up: the baseline's users open their conversation with /start; every path runs
        # one round for two other users, so templates are compiled and caches are filled.
        for update in [base_f.text(u, "/start") for u in base_users + warm]:
            await baseline.process_update(update)
        await process_timed(baseline, youth_updates(base_f, warm), None, base_net)
        await process_timed(floor, youth_updates(floor_f, [FLOOR_USER_BASE - 1]), None, floor_net)
        await process_timed(ours.app, youth_updates(our_f, warm), None, ours.network)
        await _core(core, youth_updates(core_f, warm[1:]), meter)
        sends_before = {
            "base": base_net.calls["sendMessage"],
            "floor": floor_net.calls["sendMessage"],
            "ours": ours.network.calls["sendMessage"],
        }
        edits_before = ours.network.calls["editMessageText"]
        marked = 0  # the product's rows marked sent: each should be one send
        for _ in range(rounds):
            base_t.extend(
                await process_timed(baseline, youth_updates(base_f, base_users), None, base_net)
            )
            before = floor_db.snapshot()
            floor_t.extend(
                await process_timed(floor, youth_updates(floor_f, floor_users), None, floor_net)
            )
            floor_work = _plus(floor_work, before, floor_db.snapshot())
            marked_before = _sent_rows(engine)  # before the snapshot: not counted
            before = db.snapshot()
            our_t.extend(
                await process_timed(ours.app, youth_updates(our_f, our_users), meter, ours.network)
            )
            our_work = _plus(our_work, before, db.snapshot())
            marked += _sent_rows(engine) - marked_before
            c, h, d = await _core(core, youth_updates(core_f, core_users), meter)
            core_t.extend(c)
            handle_cpu += h
            deliver_cpu += d
        our_new = ours.network.calls["sendMessage"] - sends_before["ours"]
        # Answers to taps replace the tapped message (bot/edit_in_place.py): messages too.
        our_sends = our_new + ours.network.calls["editMessageText"] - edits_before
        per_statement = _statement_cost(floor.bot_data["engine"])
    finally:
        meter.uninstall()
        db.uninstall()
        floor_db.uninstall()
        for app in (baseline, floor, ours.app, core.app):
            await app.shutdown()
        engine.dispose()
        floor.bot_data["engine"].dispose()
    n = len(base_t.cpu)
    base = PathResult(
        "bare PTB ConversationHandler (baseline)",
        base_t,
        (base_net.calls["sendMessage"] - sends_before["base"]) / n,
    )
    durable = PathResult(
        "lean durable bot (floor)",
        floor_t,
        (floor_net.calls["sendMessage"] - sends_before["floor"]) / n,
        floor_work[0] / n,
        floor_work[1] / n,
    )
    our = PathResult(
        "product: TelegramService path",
        our_t,
        our_sends / n,
        our_work[0] / n,
        our_work[1] / n,
    )
    our_core = PathResult("product, core only (no platform)", core_t, our.sends)
    rows = [r.row(base, durable) for r in (base, durable, our, our_core)]
    rows.append(_part("  core: EventHandler.handle", handle_cpu))
    rows.append(_part("  core: Deliverer.deliver", deliver_cpu))
    rows.append(_part("  product: commit inside handle", our_t.commit))
    print_table(
        f"Per handled update, {n} updates per path, {cases} cases in SQLite "
        "(CPU: time.process_time; wall: perf_counter)",
        (
            "path",
            "CPU median ms",
            "CPU p95 ms",
            "wall median ms",
            "wall p95 ms",
            "x baseline",
            "x floor",
            "sends",
            "statements",
            "commits",
        ),
        rows,
    )
    ratio = our.median_ms / durable.median_ms
    met = ratio <= FLOOR_TARGET
    print(
        "\nTarget 1 (drives the product as `samverkan run` composes it: TelegramService, "
        "its pipeline, EventHandler and DeliveryLoop, to the fake Bot API; CPU and wall "
        "clock printed): met"
    )
    print(
        f"Target 4 (product CPU per update <= {FLOOR_TARGET:g}x the lean durable floor): "
        f"{our.median_ms:.2f} ms against {durable.median_ms:.2f} ms, {ratio:.2f}x: "
        f"{'met' if met else 'missed'}"
    )
    assert our.statements is not None and durable.statements is not None
    extra = our.statements - durable.statements
    print(
        f"  Database work: the product sends {our.statements:.1f} statements and "
        f"{our.commits:.2f} commits an update, the floor {durable.statements:.1f} and "
        f"{durable.commits:.2f}; one prepared Core statement costs {per_statement * 1e3:.3f} ms "
        f"CPU through SQLAlchemy here, so the {extra:.1f} more cost about "
        f"{extra * per_statement * 1e3:.2f} ms. The product also sends {our.sends:.2f} "
        f"messages an update (the floor 1.00), {our_new / n:.2f} of them new and the rest "
        f"in place of the tapped message: the handler's step is "
        f"{median_ms(handle_cpu):.2f} ms, delivery {median_ms(deliver_cpu):.2f} ms."
    )
    if not met:
        print(
            "  Missed: besides its statements the product runs what the floor leaves out: "
            "the access gate, inbox de-duplication, choice reading, the flow step, the "
            "audience check and the catalogue. Meeting 2x would take a hand-written storage "
            "path (bare DB-API statements beside the models) for the per-message work and "
            "rendering the fixed prompts without Jinja."
        )
    return {
        "updates": n,
        "baseline_ms": base.median_ms,
        "floor_ms": durable.median_ms,
        "ours_ms": our.median_ms,
        "core_ms": our_core.median_ms,
        "ratio_to_floor": ratio,
        "met": met,
        "statements_per_update": our.statements,
        "floor_statements_per_update": durable.statements,
        "commits_per_update": our.commits,
        "handler_commits_per_update": statistics.mean(1 if c else 0 for c in our_t.commit),
        "sends": our_sends,
        "marked_sent": marked,
        "floor_sends_per_update": durable.sends,
        "statement_ms": per_statement * 1e3,
    }


def _statement_cost(engine: Engine, repeat: int = 300) -> float:
    """CPU seconds of one prepared one-row SELECT through SQLAlchemy Core, median of
    batches: what each statement the product sends beyond the floor's costs at least."""
    read = text("SELECT step FROM chat_state WHERE chat_id = :chat")
    batches: list[float] = []
    with engine.connect() as connection:
        for _ in range(5):
            started = time.process_time()
            for _ in range(repeat):
                connection.execute(read, {"chat": FLOOR_USER_BASE}).first()
            batches.append((time.process_time() - started) / repeat)
    return statistics.median(batches)


def _plus(total: list[int], before: tuple[int, int], after: tuple[int, int]) -> list[int]:
    """Adds the statements and commits between two meter snapshots to a running total."""
    return [total[0] + after[0] - before[0], total[1] + after[1] - before[1]]


def _part(name: str, seconds: list[float]) -> tuple[object, ...]:
    """A line of the table for a part of a path: its CPU only."""
    return (name, median_ms(seconds), p95_ms(seconds), "", "", "", "", "", "", "")


def _sent_rows(engine: Engine) -> int:
    """The outbox rows marked sent so far."""
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM outbox WHERE status = 'sent'"
            ).scalar_one()
        )


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
