"""Quick taps: how long a young person waits for each answer, tapping every half second.

Young people tap and type through the preparation (the 12 updates of `YOUTH_ROUND`) every
`--interval` seconds, several at once, through the product as it runs: python-telegram-bot's
`Application` feeds each Update to the real `TelegramService` (its callback handling: answer
the press, take the old buttons off through the pacer), its `Pipeline` (per-chat order, the
handler's worker thread), `EventHandler` (one transaction), the `DeliveryLoop` with its
follow-up, `TelegramTransport` and the `Pacer` with Telegram's limits (or `--chat-interval`)
on the real clock, to the in-process fake Bot API (bench/telegram_fakes.py) with a round trip
of `--rtt` seconds: half of it before Telegram takes a message, half before the answer. An
update reaches the bot half a round trip after the tap.

Why not the Bot API emulator (`telegram-test-api`, as tests/support starts it): the
emulator is a Node process on the same two cores whose getUpdates answers on its own polling
schedule, so its timing would be measured along with ours; the fake network's round trip is
a parameter instead, and every request is still encoded and parsed by python-telegram-bot.

Per step: first answer (the tap to the first message of its answer reaching Telegram) and
full answer (to the last), median and p95; messages per step. An answer that replaced the
tapped message (bot/edit_in_place.py: an editMessageText) counts as its message arriving;
each tap is on the bot's newest message in the chat at that moment, and each text gets the
chat's next message id, as on Telegram (bench/telegram_fakes.py `as_sent_now`). Per chat:
the most NEW messages in any one-second window and the sustained rate over any ten seconds
(an edit adds no message to the chat, and Telegram does not space edits like new messages).
Baseline in the same run: a bare python-telegram-bot ConversationHandler answering each
update with one message, on the same network and schedule. Run: `.venv/bin/python bench/latency.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update

from bench.common import IDENTITY, catalogue, fresh_sqlite, seed, sessions_for
from bench.report import header, log_quietly, print_table
from bench.telegram_fakes import (
    NOW,
    TOKEN,
    YOUTH_ROUND,
    FakeTelegramNetwork,
    UpdateFactory,
    as_sent_now,
    build_application,
    build_baseline,
    youth_updates,
)
from bot.catalogue import Catalogue
from bot.config import TelegramConfig
from bot.delivery_loop import DeliveryLoop
from bot.handler import EventHandler
from bot.pacing import PacerLimits
from bot.pipeline import Pipeline
from bot.telegram.pacer import Pacer
from bot.telegram.service import TelegramService
from bot.telegram.transport import CAPABILITIES
from flows.conversation import Inbound
from flows.wiring import default_engine
from storage import models as m
from storage.unit_of_work import UnitOfWork

# The targets (issue 26, target 2).
FULL_ANSWER_P95 = 0.5
# Telegram's guidance for one chat: "avoid sending more than one message per second; short
# bursts over it are allowed, but eventually 429s come". Read as: at most 2 messages in any
# one second (a step's answer and the next one, a short burst), and at most 10 in any ten
# seconds (1 a second sustained). These are the numbers checked below.
CHAT_BURST_PER_SECOND = 2
CHAT_SUSTAINED_WINDOW = 10.0
CHAT_SUSTAINED_MAX = 10
# What the pacer counts in the bot's 30 messages a second (bot/pacing.py).
PACED_METHODS = ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup")


@dataclass
class Walk:
    """What one path did: per update its tap time, and the arrival times of its messages."""

    tapped: dict[int, float] = field(default_factory=dict)
    # Arrivals that were edits of a message already there (answers in place of a tap).
    edits: int = 0
    # update id → (step index, chat id)
    step_of: dict[int, tuple[int, str]] = field(default_factory=dict)
    # update id → arrival times of its messages
    arrived: dict[int, list[float]] = field(default_factory=dict)
    # chat id → arrival times of all its new messages (edits are not new messages)
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    unattributed: int = 0
    # Updates whose step ran after an update of their chat that was tapped later.
    overtaken: int = 0
    # Bot API calls that count in the bot's 30 a second (new messages, edits, buttons taken
    # off), and the seconds the taps took (first to last, plus one interval).
    paced_calls: int = 0
    span: float = 0.0


def _product(
    sessions: sessionmaker[Session],
    texts: Catalogue,
    network: FakeTelegramNetwork,
    limits: PacerLimits,
) -> tuple[Any, DeliveryLoop, dict[int, datetime]]:
    """The product's Telegram path (as bench/common.build_our_bot, with the real clock, the
    pacer and the sweeper); returns the Application, the delivery loop, and each update's
    transaction time."""
    started = time.monotonic()

    def clock() -> datetime:
        """The bench's fixed date, moving with the real clock (the sweep grace is real)."""
        return NOW + timedelta(seconds=time.monotonic() - started)

    app = build_application(network)
    handler = EventHandler(sessions, default_engine(), clock=clock, labels=texts.label)
    # Each update's transaction time, read from the handler's own clock in its thread: the
    # outbox rows it wrote carry it as created_at.
    local = threading.local()
    handled_at: dict[int, datetime] = {}

    def noting_clock() -> datetime:
        """The clock, remembered for the update this thread handles."""
        local.now = clock()
        return local.now  # type: ignore[no-any-return]

    handler._clock = noting_clock  # the bench only watches the clock
    handle = handler.handle

    def watched(inbound: Inbound) -> Any:
        """Handles one update and notes when its transaction ran."""
        outgoing = handle(inbound)
        if inbound.platform_event_id is not None:
            # "bot id:update id" (bot/telegram/updates.py event_id)
            handled_at[int(inbound.platform_event_id.rsplit(":", 1)[-1])] = local.now
        return outgoing

    handler.handle = watched  # type: ignore[method-assign]
    delivery = DeliveryLoop(sessions, texts, clock=clock)
    service = TelegramService(
        TelegramConfig(enabled=True),
        TOKEN,
        sessions,
        handler,
        texts,
        pacer=Pacer(limits),
        clock=clock,
        pipeline=Pipeline(handler, delivery),
        application=app,
    )
    service.ready_with(IDENTITY)
    delivery.start_sweeping()
    return app, delivery, handled_at


async def _walk(
    app: Any,
    network: FakeTelegramNetwork,
    updates: list[tuple[int, Update]],
    interval: float,
    rtt: float,
    users: int,
) -> dict[int, float]:
    """Each user's updates every `interval` s, users staggered; returns update id → tap time."""
    tapped: dict[int, float] = {}
    by_user: dict[int, list[Update]] = defaultdict(list)
    for user, update in updates:
        by_user[user].append(update)
    start = time.monotonic() + 0.05
    tasks: list[asyncio.Task[None]] = []

    async def one(update: Update, at: float) -> None:
        """Taps at `at`; the update reaches the bot half a round trip later."""
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        tapped[update.update_id] = time.monotonic()
        # Numbered as Telegram would now: the tap is on what she sees, the newest message.
        update = as_sent_now(update, network, app.bot)
        await asyncio.sleep(rtt / 2)
        await app.process_update(update)

    for n, (_user, own) in enumerate(sorted(by_user.items())):
        offset = interval * n / max(users, 1)
        for k, update in enumerate(own):
            tasks.append(asyncio.create_task(one(update, start + offset + k * interval)))
    await asyncio.gather(*tasks)
    return tapped


async def _settle(network: FakeTelegramNetwork, expected: Callable[[], int], limit: float) -> None:
    """Waits until every expected message arrived (or `limit` s passed)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(network.sent_at) >= expected():
            return
        await asyncio.sleep(0.05)


def _rows_by_update(
    sessions: sessionmaker[Session], handled_at: dict[int, datetime]
) -> dict[int, list[int]]:
    """Outbox row ids of each update, by the transaction time they were written at."""
    by_time: dict[tuple[str, datetime], list[int]] = defaultdict(list)
    with UnitOfWork(sessions) as uow:
        rows = uow.session.execute(
            select(m.Outbox.id, m.Outbox.chat_id, m.Outbox.created_at).order_by(m.Outbox.id)
        ).all()
    for row in rows:
        by_time[(row.chat_id, row.created_at.replace(tzinfo=None))].append(row.id)
    result: dict[int, list[int]] = {}
    for update_id, at in handled_at.items():
        chat_rows = [ids for (chat, t), ids in by_time.items() if t == at.replace(tzinfo=None)]
        result[update_id] = chat_rows[0] if chat_rows else []
    return result


async def run_product(
    directory: Path,
    cases: int,
    users: int,
    rounds: int,
    interval: float,
    rtt: float,
    limits: PacerLimits,
    name: str,
) -> Walk:
    """The young people's walk through the product; arrival times attributed per update."""
    engine = fresh_sqlite(directory / f"latency-{name}.sqlite3")
    seeded = seed(engine, cases)
    if len(seeded.youth_user_ids) < users:
        raise SystemExit(f"need at least {users} cases for {users} users")
    sessions = sessions_for(engine)
    network = FakeTelegramNetwork(round_trip=rtt)
    app, delivery, handled_at = _product(sessions, catalogue(), network, limits)
    await app.initialize()
    factory = UpdateFactory(app.bot)
    ids = seeded.youth_user_ids[:users]
    walk = Walk()
    updates: list[tuple[int, Update]] = []
    for n, update in enumerate(youth_updates(factory, ids, rounds)):
        user = ids[n % len(ids)]
        updates.append((user, update))
        walk.step_of[update.update_id] = ((n // len(ids)) % len(YOUTH_ROUND), str(user))
    walk.tapped = await _walk(app, network, updates, interval, rtt, users)

    def written() -> int:
        """Rows the walk's updates wrote (each is one message)."""
        return sum(len(r) for r in _rows_by_update(sessions, handled_at).values())

    await _settle(network, written, limit=60.0 + 2 * len(YOUTH_ROUND) * rounds)
    await delivery.stop_sweeping()
    await app.shutdown()
    rows = _rows_by_update(sessions, handled_at)
    for chat in {c for _s, c in walk.step_of.values()}:
        mine = [u for u, (_s, c) in walk.step_of.items() if c == chat and u in handled_at]
        handled = sorted(mine, key=lambda u: handled_at[u])
        walk.overtaken += sum(1 for a, b in zip(sorted(mine), handled, strict=True) if a != b)
    # A chat's messages arrive in the order of its rows (one row, one message: no youth
    # answer is longer than one Telegram message).
    for chat, arrivals in network.arrivals_by_chat().items():
        chat_updates = [u for u, (_step, c) in walk.step_of.items() if c == chat]
        ordered = sorted((row, u) for u in chat_updates for row in rows.get(u, []))
        if len(ordered) != len(arrivals):
            walk.unattributed += abs(len(arrivals) - len(ordered))
        for (_row, update_id), at in zip(ordered, arrivals, strict=False):
            walk.arrived.setdefault(update_id, []).append(at)
    walk.arrivals = network.arrivals_by_chat(new_only=True)
    walk.edits = network.sent_new.count(False)
    walk.paced_calls = sum(network.calls[m] for m in PACED_METHODS)
    if walk.tapped:
        walk.span = max(walk.tapped.values()) - min(walk.tapped.values()) + interval
    engine.dispose()
    return walk


async def run_baseline(users: int, rounds: int, interval: float, rtt: float) -> Walk:
    """The bare ConversationHandler on the same network and schedule: one message an update."""
    network = FakeTelegramNetwork(round_trip=rtt)
    app = build_baseline(network)
    await app.initialize()
    factory = UpdateFactory(app.bot)
    ids = [8_000_000 + n for n in range(users)]
    for user in ids:
        await app.process_update(factory.text(user, "/start"))
    network.clear_arrivals()  # the /start answers are not part of the walk
    walk = Walk()
    updates: list[tuple[int, Update]] = []
    for n, update in enumerate(youth_updates(factory, ids, rounds)):
        user = ids[n % len(ids)]
        updates.append((user, update))
        walk.step_of[update.update_id] = ((n // len(ids)) % len(YOUTH_ROUND), str(user))
    walk.tapped = await _walk(app, network, updates, interval, rtt, users)
    await _settle(network, lambda: len(updates), limit=30.0)
    await app.shutdown()
    for chat, arrivals in network.arrivals_by_chat().items():
        chat_updates = sorted(u for u, (_s, c) in walk.step_of.items() if c == chat)
        for update_id, at in zip(chat_updates, arrivals, strict=False):
            walk.arrived[update_id] = [at]
    walk.arrivals = network.arrivals_by_chat(new_only=True)
    walk.edits = network.sent_new.count(False)
    return walk


def _p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


@dataclass
class Figures:
    """A walk's latencies and rates."""

    first: list[float]
    full: list[float]
    per_step: dict[int, tuple[list[float], list[float], list[int]]]
    burst: int
    sustained: int
    messages: int
    answered: int
    updates: int
    edits: int = 0


def figures(walk: Walk) -> Figures:
    """Latency per update and step, and the busiest windows of any chat."""
    first: list[float] = []
    full: list[float] = []
    per_step: dict[int, tuple[list[float], list[float], list[int]]] = defaultdict(
        lambda: ([], [], [])
    )
    for update_id, (step, _chat) in walk.step_of.items():
        arrived = walk.arrived.get(update_id, [])
        per_step[step][2].append(len(arrived))
        if not arrived or update_id not in walk.tapped:
            continue
        tap = walk.tapped[update_id]
        first.append(min(arrived) - tap)
        full.append(max(arrived) - tap)
        per_step[step][0].append(min(arrived) - tap)
        per_step[step][1].append(max(arrived) - tap)
    burst = sustained = messages = 0
    for times in walk.arrivals.values():
        times = sorted(times)
        messages += len(times)
        for i, t in enumerate(times):
            burst = max(burst, sum(1 for u in times[i:] if u - t < 1.0))
            sustained = max(sustained, sum(1 for u in times[i:] if u - t < CHAT_SUSTAINED_WINDOW))
    return Figures(
        first,
        full,
        dict(per_step),
        burst,
        sustained,
        messages,
        len(full),
        len(walk.step_of),
        walk.edits,
    )


def _ms(values: list[float], how: Callable[[list[float]], float]) -> str:
    """Seconds as milliseconds, or a dash when there are none."""
    return f"{how(values) * 1000:.0f}" if values else "-"


def report(name: str, ours: Figures, base: Figures) -> dict[str, Any]:
    """Prints one walk's tables and its targets; returns the figures."""
    rows = []
    for step, (first, full, counts) in sorted(ours.per_step.items()):
        kind, value = YOUTH_ROUND[step]
        rows.append(
            (
                f"{step + 1:2d} {kind} {value[:24]}",
                _ms(first, statistics.median),
                _ms(first, _p95),
                _ms(full, statistics.median),
                _ms(full, _p95),
                f"{statistics.mean(counts):.2f}" if counts else "-",
            )
        )
    print_table(
        f"{name}: per step (ms from the tap to the message reaching Telegram)",
        ("step", "first med", "first p95", "full med", "full p95", "msgs/step"),
        rows,
    )
    p95 = _p95(ours.full) if ours.full else float("inf")
    base_p95 = _p95(base.full) if base.full else float("nan")
    print_table(
        f"{name}: all steps",
        ("path", "first med", "first p95", "full med", "full p95", "new msgs", "edits", "answered"),
        [
            (
                "ours",
                _ms(ours.first, statistics.median),
                _ms(ours.first, _p95),
                _ms(ours.full, statistics.median),
                _ms(ours.full, _p95),
                ours.messages,
                ours.edits,
                f"{ours.answered}/{ours.updates}",
            ),
            (
                "bare PTB (baseline)",
                _ms(base.first, statistics.median),
                _ms(base.first, _p95),
                _ms(base.full, statistics.median),
                _ms(base.full, _p95),
                base.messages,
                base.edits,
                f"{base.answered}/{base.updates}",
            ),
        ],
    )
    ratio = p95 / base_p95 if base.full else float("nan")
    met_latency = ours.answered == ours.updates and p95 <= FULL_ANSWER_P95
    met_burst = ours.burst <= CHAT_BURST_PER_SECOND
    met_sustained = ours.sustained <= CHAT_SUSTAINED_MAX
    print(
        f"\ntarget full answer ≤ {FULL_ANSWER_P95 * 1000:.0f} ms p95 with taps every "
        f"{name.split('@')[-1]}: {p95 * 1000:.0f} ms ({ratio:.2f}× the bare bot's p95): "
        f"{'met' if met_latency else 'missed'}"
    )
    print(
        f"target per chat ≤ {CHAT_BURST_PER_SECOND} new messages in any 1 s: {ours.burst}: "
        f"{'met' if met_burst else 'missed'}"
    )
    print(
        f"target per chat ≤ {CHAT_SUSTAINED_MAX} new messages in any "
        f"{CHAT_SUSTAINED_WINDOW:.0f} s "
        f"(1/s sustained): {ours.sustained}: {'met' if met_sustained else 'missed'}"
    )
    return {
        "full_p95": p95,
        "first_p95": _p95(ours.first) if ours.first else float("inf"),
        "burst": ours.burst,
        "sustained": ours.sustained,
        "messages": ours.messages,
        "edits": ours.edits,
        "answered": ours.answered,
        "updates": ours.updates,
        "messages_per_step": {
            step: statistics.mean(c) if c else 0.0 for step, (_f, _u, c) in ours.per_step.items()
        },
        "baseline_full_p95": base_p95,
        "met": {"latency": met_latency, "burst": met_burst, "sustained": met_sustained},
    }


async def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    """The product with Telegram's limits, then (optionally) with another chat interval."""
    connector = PacerLimits.of(CAPABILITIES.limits)
    print(
        f"\nTelegram's limits as bot/connector.py data (TelegramTransport.capabilities): "
        f"{connector.per_second}/s per bot, one message per {connector.chat_interval:g} s per "
        f"chat, {connector.group_per_minute}/min per group; the pacer's defaults "
        f"{'agree' if connector == PacerLimits() else 'DISAGREE'}"
    )
    results: dict[str, Any] = {}
    intervals = [args.chat_interval]
    if args.what_if and args.what_if != args.chat_interval:
        intervals.append(args.what_if)
    base = figures(await run_baseline(args.users, args.rounds, args.interval, args.rtt))
    for chat_interval in intervals:
        limits = PacerLimits(
            per_second=connector.per_second,
            chat_interval=chat_interval,
            group_per_minute=connector.group_per_minute,
        )
        name = (
            f"chat interval {chat_interval:g} s, rtt {args.rtt * 1000:.0f} ms @{args.interval:g} s"
        )
        walk = await run_product(
            directory,
            args.cases,
            args.users,
            args.rounds,
            args.interval,
            args.rtt,
            limits,
            f"{chat_interval:g}",
        )
        ours = figures(walk)
        results[f"{chat_interval:g}"] = report(name, ours, base)
        results[f"{chat_interval:g}"]["unattributed"] = walk.unattributed
        results[f"{chat_interval:g}"]["overtaken"] = walk.overtaken
        print(
            f"updates handled out of their chat's tap order: {walk.overtaken} of "
            f"{len(walk.step_of)} (a later tap's step ran first)"
        )
        if walk.span:
            # Each tap costs two calls (the pressed buttons off, then the answer in place):
            # past the bot's 30 a second, answers queue in the pacer and arrive late.
            print(
                f"Bot API calls the taps asked of the pacer (the bot's limit "
                f"{connector.per_second}/s): {walk.paced_calls} in {walk.span:.1f} s of tapping "
                f"= {walk.paced_calls / walk.span:.1f}/s"
            )
        if walk.unattributed:
            print(f"({walk.unattributed} messages could not be matched to their update)")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes and times are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=40, help="seeded cases")
    parser.add_argument("--users", type=int, default=10, help="young people tapping at once")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the 12 steps each")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between taps")
    parser.add_argument("--rtt", type=float, default=0.06, help="Bot API round trip, seconds")
    parser.add_argument(
        "--chat-interval",
        type=float,
        default=PacerLimits.of(CAPABILITIES.limits).chat_interval,
        help="the pacer's seconds between two messages in one chat (Telegram's by default)",
    )
    parser.add_argument(
        "--what-if",
        type=float,
        default=0.5,
        help="a second run with this chat interval: what meeting the target costs (0: none)",
    )
    args = parser.parse_args(argv)
    log_quietly()
    header("latency (quick taps)")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        return asyncio.run(run(args, Path(directory)))


if __name__ == "__main__":
    main()
