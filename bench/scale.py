"""Scale invariance: per-message cost, the scheduler tick and loop stalls at 200 … 20,000 cases.

Each size gets its own SQLite database seeded with realistic rows (bench/common.py `seed`).
The same number of young people chat at every size, the same number of plan actions fall
due and the same number of follow-up meetings start in the next 48 hours, so any growth in
the ticks (the bench's own, and the product's with every default due-source) comes from the
size of the tables, not from more work. The due-row query and the due-sources' meeting window
are explained; the former is timed at 100,000 plan actions on SQLite and on a throwaway
PostgreSQL.
Run: `.venv/bin/python bench/scale.py` (add `--no-postgres` to skip the PostgreSQL part).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from bench.common import (
    TODAY,
    OurBot,
    PlanActionNudges,
    Seeded,
    build_our_bot,
    catalogue,
    due_rows_query,
    explain,
    fresh_sqlite,
    indexes_in,
    process_timed,
    seed,
    sessions_for,
    time_query,
    with_heartbeat,
)
from bench.report import (
    header,
    log_quietly,
    median_ms,
    p95_ms,
    print_table,
)
from bench.telegram_fakes import (
    NOW,
    UpdateFactory,
    youth_updates,
)
from bot.config import ReminderConfig
from bot.family_reminders import family_due_sources
from bot.nudge_config import NudgeConfig, ReportConfig
from bot.nudges import coordinator_sources, meetings_starting
from bot.scheduler import tick
from storage.db import make_engine
from storage.models import Outbox
from storage.schema import upgrade


def product_sources() -> list[Any]:
    """The product's own due-sources, all of them as `samverkan run` configures them by default.

    The coordinator side's (bot/nudges.py) and the families' (bot/family_reminders.py).
    (frozen dataclasses: their read-only `name` satisfies the protocol at run time only)
    """
    return [
        *coordinator_sources(NudgeConfig(), ReportConfig(), "Europe/Stockholm"),
        *family_due_sources(ReminderConfig()),
    ]


@dataclass
class Size:
    """One size's database, its bot, and what its rounds measured so far."""

    cases: int
    engine: Engine
    sessions: sessionmaker[Session]
    bot: OurBot
    seeded: Seeded
    seed_s: float
    factory: UpdateFactory
    # Each round's young people: fresh ones, so every round starts from the same state.
    users_by_round: list[list[int]]
    # Built once, as `samverkan run` builds them once: not part of any tick's cost.
    sources: list[Any] = field(default_factory=product_sources)
    messages: list[float] = field(default_factory=list)
    round_msg_ms: list[float] = field(default_factory=list)
    round_tick_ms: list[float] = field(default_factory=list)
    round_steady_ms: list[float] = field(default_factory=list)
    first: list[tuple[float, float, list[int]]] = field(default_factory=list)
    again: list[tuple[float, float, list[int]]] = field(default_factory=list)
    steady: list[tuple[float, list[int]]] = field(default_factory=list)
    catch_up: tuple[float, list[int]] = (0.0, [])
    # The database as seeded, before any tick: each round's catch-up tick runs on a copy, so
    # every round (and every size) has the same realistic due work to do.
    pristine: Path | None = None
    round_catchup_ms: list[float] = field(default_factory=list)
    catchup_new: list[int] = field(default_factory=list)
    message_stall: float = 0.0
    tick_stall: float = 0.0


async def prepare(cases: int, users: int, rounds: int, directory: Path) -> Size:
    """Seeds one size's database, starts its bot, warms it up and runs its catch-up tick."""
    engine = fresh_sqlite(directory / f"scale-{cases}.sqlite3")
    started = time.perf_counter()
    seeded = seed(engine, cases)
    seed_s = time.perf_counter() - started
    wanted = users * rounds + 2
    if wanted > len(seeded.youth_user_ids):
        engine.dispose()
        raise SystemExit(
            f"{cases} cases have {len(seeded.youth_user_ids)} young people; "
            f"{rounds} rounds of {users} need {wanted}: lower --users or --rounds"
        )
    chosen = random.Random(cases).sample(seeded.youth_user_ids, wanted)
    sessions = sessions_for(engine)
    bot = build_our_bot(sessions, catalogue())
    await bot.app.initialize()
    factory = UpdateFactory(bot.app.bot)
    await process_timed(bot.app, youth_updates(factory, chosen[:2]))  # warm-up
    size = Size(
        cases,
        engine,
        sessions,
        bot,
        seeded,
        seed_s,
        factory,
        [chosen[2 + r * users : 2 + (r + 1) * users] for r in range(rounds)],
    )
    size.pristine = directory / f"scale-{cases}-pristine.sqlite3"
    snapshot(engine, size.pristine)
    # The first tick of the day over the product's sources is the catch-up: it enqueues what
    # fell due (digests, agendas, follow-up reports, meeting reminders). Once per size here:
    # the ticks after it, measured in the rounds, are what every 30 s costs; the rounds also
    # repeat the catch-up on copies of the seeded database (catch_up_round).
    size.catch_up, stall = await with_heartbeat(lambda: product_tick(size))
    size.tick_stall = stall
    return size


def snapshot(engine: Engine, target: Path) -> None:
    """A consistent copy of a SQLite database (the online backup API, the WAL included)."""
    source = sqlite3.connect(str(engine.url.database))
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


async def catch_up_round(size: Size, directory: Path) -> None:
    """The product's tick with a day's due work: on a fresh copy of the seeded database.

    The same due work at every size (bench/common.py seeds it so), found among tables of
    that size: the tick that matters, since a steady tick finds nothing new to do.
    """
    assert size.pristine is not None
    scratch = directory / f"scale-{size.cases}-scratch.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(size.pristine, scratch)
    engine = make_engine(f"sqlite:///{scratch}")
    try:
        sessions = sessions_for(engine)
        cpu0 = time.process_time()
        new = await asyncio.to_thread(tick, sessions, size.sources, NOW)
        size.round_catchup_ms.append((time.process_time() - cpu0) * 1000)
        size.catchup_new.append(len(new or []))
    finally:
        engine.dispose()


async def product_tick(size: Size) -> tuple[float, list[int]]:
    """One tick over the product's sources in a worker thread, as bot/runtime.py runs it."""
    cpu0 = time.process_time()
    new = await asyncio.to_thread(tick, size.sessions, size.sources, NOW)
    return time.process_time() - cpu0, new or []


async def bench_tick(size: Size) -> tuple[float, float, list[int]]:
    """One tick of the bench's own source in a worker thread, as a ticker must run blocking work.

    Returns the process CPU seconds and wall seconds it took, and the new outbox rows.
    Run inline on the loop instead, the tick's wall time would be the loop's stall.
    """
    cpu0, wall0 = time.process_time(), time.perf_counter()
    new = await asyncio.to_thread(tick, size.sessions, [PlanActionNudges()], NOW)
    # None only when another process holds the tick: the bench is the only one.
    assert new is not None
    return time.process_time() - cpu0, time.perf_counter() - wall0, new


def remove_rows(size: Size, outbox_ids: list[int]) -> None:
    """Deletes the rows a bench tick enqueued, so the next tick has the same work."""
    with size.engine.begin() as connection:
        connection.execute(delete(Outbox).where(Outbox.id.in_(outbox_ids)))


async def measure_round(size: Size, round_index: int, repeat: Repeats, directory: Path) -> None:
    """One round on one size: its young people's messages, then the ticks, for their medians."""
    updates = youth_updates(size.factory, size.users_by_round[round_index])
    (cpu, _), stall = await with_heartbeat(lambda: process_timed(size.bot.app, updates))
    size.messages.extend(cpu)
    size.round_msg_ms.append(median_ms(cpu))
    size.message_stall = max(size.message_stall, stall)
    # The first tick of a day enqueues the bench's nudges; a later tick finds them again and
    # adds nothing (dedup). Each pair is repeated, the enqueued rows removed in between.
    first: list[float] = []
    for _ in range(repeat.ticks):
        result, stall = await with_heartbeat(lambda: bench_tick(size))
        size.first.append(result)
        first.append(result[0])
        size.tick_stall = max(size.tick_stall, stall)
        result, stall = await with_heartbeat(lambda: bench_tick(size))
        size.again.append(result)
        size.tick_stall = max(size.tick_stall, stall)
        remove_rows(size, size.first[-1][2])
    size.round_tick_ms.append(statistics.median(first) * 1000)
    steady: list[float] = []
    for _ in range(repeat.steady_ticks):
        (cpu_s, new), stall = await with_heartbeat(lambda: product_tick(size))
        size.steady.append((cpu_s, new))
        steady.append(cpu_s)
        size.tick_stall = max(size.tick_stall, stall)
    size.round_steady_ms.append(statistics.median(steady) * 1000)
    await catch_up_round(size, directory)


def pages_written(size: Size) -> int:
    """The database pages one bench tick writes: the frames it adds to an emptied WAL.

    The tick's cost beyond its queries is mostly these pages (the commit writes each one).
    Its 150 rows go to random places in the outbox's key indexes, so they touch up to two
    pages each once the indexes are larger than the work; a small outbox has fewer pages
    than that, and its rows share them.
    """
    size.engine.dispose()
    # An open connection of our own, so no pooled one is the last to close (which would
    # checkpoint the WAL away before it is read).
    raw = sqlite3.connect(str(size.engine.url.database), isolation_level=None)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        new = tick(size.sessions, [PlanActionNudges()], NOW)
        assert new is not None
        frames = int(raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
        remove_rows(size, new)
    finally:
        raw.close()
    return frames


async def finish(size: Size, repeat: Repeats) -> dict[str, Any]:
    """Times the due-row query, explains the plans, stops the bot; returns the size's figures."""
    pages = pages_written(size)
    window = meetings_starting(NOW, timedelta(hours=ReportConfig().agenda_lead_hours))
    meetings_plan = explain(size.engine, window)
    query = time_query(size.engine, due_rows_query(TODAY), repeat.queries)
    plan = explain(size.engine, due_rows_query(TODAY))
    await size.bot.app.shutdown()
    size.engine.dispose()
    cpu = size.messages
    return {
        "cases": size.cases,
        "rows": size.seeded.total_rows,
        "seed_s": size.seed_s,
        "messages": len(cpu),
        "msg_ms": median_ms(cpu),
        "msg_p95_ms": p95_ms(cpu),
        "msg_max_ms": max(cpu) * 1000,
        "round_msg_ms": size.round_msg_ms,
        "round_tick_ms": size.round_tick_ms,
        "round_steady_ms": size.round_steady_ms,
        "tick_cpu_ms": statistics.median(r[0] for r in size.first) * 1000,
        "tick_enqueued": len(size.first[0][2]),
        "tick_pages": pages,
        "tick_again_ms": statistics.median(r[0] for r in size.again) * 1000,
        "tick_again_new": max(len(r[2]) for r in size.again),
        "real_tick_ms": size.catch_up[0] * 1000,
        "real_tick_new": len(size.catch_up[1]),
        "steady_tick_ms": statistics.median(r[0] for r in size.steady) * 1000,
        "round_catchup_ms": size.round_catchup_ms,
        "catchup_ms": statistics.median(size.round_catchup_ms),
        "catchup_new": max(size.catchup_new),
        "steady_tick_new": max(len(r[1]) for r in size.steady),
        "meetings_plan": meetings_plan,
        "stall_ms": max(size.message_stall, size.tick_stall) * 1000,
        "message_stall_ms": size.message_stall * 1000,
        "tick_stall_ms": size.tick_stall * 1000,
        "plan_actions": size.seeded.rows.get("plan_action", 0),
        "query_ms": median_ms(query),
        "query_p95_ms": p95_ms(query),
        "plan": plan,
    }


def round_ratios(results: list[dict[str, Any]], key: str) -> list[float]:
    """The largest size's figure over the smallest's, round by round (measured seconds apart)."""
    return [big / small for big, small in zip(results[-1][key], results[0][key], strict=True)]


@dataclass(frozen=True)
class Repeats:
    """How often things are repeated: rounds over the sizes, ticks per round, queries."""

    # The bench's tick is short too (30-40 ms): one run in three moved a median of three by
    # a third (1.22x and 1.41x in two runs of the same code).
    ticks: int = 5
    queries: int = 300
    # The product's steady tick is short (~60 ms) and on a shared machine one slow run in
    # three moved its median by half: more runs, for little time.
    steady_ticks: int = 5
    # The host's speed moved by a factor of two within minutes: measured one size after the
    # other, once each, the ratio between sizes compared two different machines. Every round
    # measures every size, minutes apart at most, in an order that rotates.
    rounds: int = 5


def postgres_query(cases: int, repeat: Repeats) -> dict[str, Any]:
    """The due-row query on a throwaway PostgreSQL seeded with `cases` cases' plan actions."""
    from tests.support.postgres import PostgresUnavailable, throwaway_postgres

    try:
        with throwaway_postgres() as url:
            engine = make_engine(url)
            try:
                upgrade(engine)
                seeded = seed(engine, cases, plan_only=True)
                times = time_query(engine, due_rows_query(TODAY), repeat.queries)
                return {
                    "plan_actions": seeded.rows["plan_action"],
                    "query_ms": median_ms(times),
                    "query_p95_ms": p95_ms(times),
                    "plan": explain(engine, due_rows_query(TODAY)),
                }
            finally:
                engine.dispose()
    except PostgresUnavailable as exc:
        return {"unavailable": str(exc).splitlines()[0]}


async def run(
    sizes: list[int], users: int, directory: Path, postgres_cases: int | None, repeat: Repeats
) -> dict[str, Any]:
    """Seeds every size, measures them in rounds, then the PostgreSQL query; prints the tables."""
    prepared = [await prepare(n, users, repeat.rounds, directory) for n in sizes]
    # As bot/runtime.py does once started: what start-up made is kept out of the collector.
    gc.freeze()
    for round_index in range(repeat.rounds):
        # Rotated, so no size is always measured first (or last, after the others' work).
        shift = round_index % len(prepared)
        for size in prepared[shift:] + prepared[:shift]:
            await measure_round(size, round_index, repeat, directory)
    results = [await finish(size, repeat) for size in prepared]
    gc.unfreeze()  # as Runtime.stop does
    base = results[0]
    msg_ratios = round_ratios(results, "round_msg_ms")
    tick_ratios = round_ratios(results, "round_tick_ms")
    steady_ratios = round_ratios(results, "round_steady_ms")
    print_table(
        f"Scale: {repeat.rounds} rounds over the sizes, each {users} young people × 12 messages "
        "then the ticks (CPU per message and per tick, medians over all rounds; the tick runs "
        "in a worker thread); the ratios against the smallest size are over the whole run",
        (
            "cases",
            "rows",
            "seed s",
            "msg median ms",
            "msg p95 ms",
            "ratio",
            "tick CPU ms (new rows)",
            "ratio",
            "tick pages written",
            "tick again CPU ms (new)",
            "product catch-up tick CPU ms (new)",
            "product tick CPU ms (new)",
            "ratio",
            "max msg CPU ms",
            "loop stall ms: msgs / tick",
            "due query ms",
        ),
        [
            (
                r["cases"],
                r["rows"],
                r["seed_s"],
                r["msg_ms"],
                r["msg_p95_ms"],
                f"{r['msg_ms'] / base['msg_ms']:.2f}x",
                f"{r['tick_cpu_ms']:.1f} ({r['tick_enqueued']})",
                f"{r['tick_cpu_ms'] / base['tick_cpu_ms']:.2f}x",
                r["tick_pages"],
                f"{r['tick_again_ms']:.1f} ({r['tick_again_new']})",
                f"{r['real_tick_ms']:.1f} ({r['real_tick_new']})",
                f"{r['steady_tick_ms']:.1f} ({r['steady_tick_new']})",
                f"{r['steady_tick_ms'] / base['steady_tick_ms']:.2f}x",
                r["msg_max_ms"],
                f"{r['message_stall_ms']:.0f} / {r['tick_stall_ms']:.0f}",
                r["query_ms"],
            )
            for r in results
        ],
    )
    largest = results[-1]
    pg = postgres_query(postgres_cases, repeat) if postgres_cases else {"unavailable": "skipped"}
    rows: list[tuple[object, ...]] = [
        (
            "SQLite",
            largest["plan_actions"],
            largest["query_ms"],
            largest["query_p95_ms"],
            indexes_in(largest["plan"]),
        )
    ]
    if "unavailable" in pg:
        rows.append(("PostgreSQL", "-", "-", "-", f"not measured: {pg['unavailable']}"))
    else:
        rows.append(
            (
                "PostgreSQL",
                pg["plan_actions"],
                pg["query_ms"],
                pg["query_p95_ms"],
                indexes_in(pg["plan"]),
            )
        )
    print_table(
        "Due-row query (open plan actions due in 3 days, today or yesterday): wall time in the "
        "bot, with driver and SQLAlchemy; the server's own time is in EXPLAIN ANALYZE below",
        ("database", "plan actions", "median ms", "p95 ms", "index used"),
        rows,
    )
    print(
        "\nSQLite EXPLAIN QUERY PLAN of the due-sources' meeting window "
        f"(bot.nudges.meetings_starting, {largest['cases']} cases):"
    )
    print("\n".join(f"  {line}" for line in largest["meetings_plan"]))
    print("\nSQLite EXPLAIN QUERY PLAN of the due-row query:")
    print("\n".join(f"  {line}" for line in largest["plan"]))
    if "plan" in pg:
        print("PostgreSQL EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF):")
        print("\n".join(f"  {line}" for line in pg["plan"]))
    catchup_ratios = round_ratios(results, "round_catchup_ms")
    print_table(
        f"Round by round: {largest['cases']} cases against {base['cases']}, each ratio between "
        "two sizes measured seconds apart",
        ("round", "message", "bench tick", "product steady tick", "product tick with a day's work"),
        [
            (n + 1, f"{m:.2f}x", f"{t:.2f}x", f"{p:.2f}x", f"{c:.2f}x")
            for n, (m, t, p, c) in enumerate(
                zip(msg_ratios, tick_ratios, steady_ratios, catchup_ratios, strict=True)
            )
        ],
    )
    print(
        f"\nThe product's tick with a day's due work (a fresh copy of each seeded database per "
        f"round): {base['catchup_ms']:.1f} ms CPU at {base['cases']} cases "
        f"({base['catchup_new']} rows queued), {largest['catchup_ms']:.1f} ms at "
        f"{largest['cases']} ({largest['catchup_new']} rows)"
    )
    stall = max(r["stall_ms"] for r in results)
    verdicts = {
        "message cost": verdict(msg_ratios),
        "product tick with a day's due work": verdict(catchup_ratios),
        "product steady tick": verdict(steady_ratios),
        "bench tick (150 nudges)": verdict(tick_ratios),
    }
    print(
        f"\nTarget 7 (scale): cost at {largest['cases']} cases ≤ {SCALE_LIMIT}x the cost at "
        f"{base['cases']}, median of {len(msg_ratios)} rounds' ratios (spread: the rounds' "
        "lowest and highest, and their middle half)"
    )
    for name, (median, text, met) in verdicts.items():
        print(f"  {name}: {median:.2f}x {text} ({'met' if met else 'missed'})")
    print(
        f"  loop stall ≤ 100 ms: {stall:.1f} ms ({'met' if stall <= 100 else 'missed'}); "
        f"due-row query ≤ 1 ms: SQLite {largest['query_ms']:.3f} ms"
        + ("" if "unavailable" in pg else f", PostgreSQL {pg['query_ms']:.3f} ms")
    )
    return {
        "sizes": results,
        "postgres": pg,
        "ratios": {
            "message": msg_ratios,
            "bench_tick": tick_ratios,
            "product_tick": steady_ratios,
            "catch_up_tick": catchup_ratios,
        },
        "verdicts": {name: met for name, (_, _, met) in verdicts.items()},
    }


SCALE_LIMIT = 1.25


def verdict(ratios: list[float]) -> tuple[float, str, bool]:
    """The median ratio, its spread in words, and met: the median within the limit.

    With one round there is no spread to show; with several, the words say whether the limit
    is beyond the rounds' noise (their middle half all below it) or within it.
    """
    median = statistics.median(ratios)
    if len(ratios) < 2:
        return median, "(one round: no spread)", median <= SCALE_LIMIT
    ordered = sorted(ratios)
    quarter = (
        statistics.quantiles(ordered, n=4) if len(ordered) >= 4 else [ordered[0], 0, ordered[-1]]
    )
    low, high = quarter[0], quarter[-1]
    if high <= SCALE_LIMIT:
        noise = "the middle half below the limit"
    elif median <= SCALE_LIMIT:
        noise = "the limit within the rounds' noise"
    else:
        noise = "above the limit"
    return (
        median,
        f"(rounds {ordered[0]:.2f}-{ordered[-1]:.2f}x, middle half {low:.2f}-{high:.2f}x: {noise})",
        median <= SCALE_LIMIT,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200,2000,20000", help="case counts, comma separated")
    parser.add_argument("--users", type=int, default=30, help="young people chatting per size")
    parser.add_argument(
        "--postgres-cases",
        type=int,
        default=20_000,
        help="cases (5 plan actions each) for the PostgreSQL query check",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all the sizes")
    parser.add_argument("--tick-repeat", type=int, default=5, help="tick pairs per size and round")
    parser.add_argument("--query-repeat", type=int, default=300, help="due-row queries timed")
    parser.add_argument(
        "--steady-repeat", type=int, default=5, help="product steady ticks per size and round"
    )
    args = parser.parse_args(argv)
    log_quietly()
    header("scale invariance")
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        return asyncio.run(
            run(
                sizes,
                args.users,
                Path(directory),
                None if args.no_postgres else args.postgres_cases,
                Repeats(args.tick_repeat, args.query_repeat, args.steady_repeat, args.rounds),
            )
        )


if __name__ == "__main__":
    main()
