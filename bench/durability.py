"""Durability: what a commit costs with SQLite's synchronous=NORMAL against FULL.

`[database] sqlite_synchronous` chooses between them (config.example.toml says what each
survives). Both are measured here, in alternating rounds on the same disk, through
`storage.db.make_engine` as the bot opens its database: each commit is one event's durable
minimum, a chat's state saved and a reply row queued in one BEGIN IMMEDIATE transaction. The
baseline in the same run is the same transaction with synchronous=OFF (no sync at all: what
no setting of the bot allows, the floor of the disk-free cost).
Run: `.venv/bin/python bench/durability.py` (the database goes in --dir: put it on the disk
the bot's database lives on; the default is the system's temporary folder).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, event, text

from bench.report import header, median_ms, p95_ms, print_table
from storage.db import SqliteSynchronous, make_engine

OFF = "OFF (baseline, not allowed by the bot)"

SCHEMA = (
    "CREATE TABLE state (chat INTEGER PRIMARY KEY, step TEXT NOT NULL, version INTEGER NOT NULL)",
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY, chat INTEGER NOT NULL, body BLOB NOT NULL)",
)
UPSERT = text(
    "INSERT INTO state (chat, step, version) VALUES (:chat, :step, 1) "
    "ON CONFLICT (chat) DO UPDATE SET step = excluded.step, version = state.version + 1"
)
ENQUEUE = text("INSERT INTO outbox (chat, body) VALUES (:chat, :body)")
# About an encrypted reply's size.
BODY = bytes(range(256)) * 2


def engine_for(path: Path, level: str) -> Engine:
    """The bot's engine for `level`; OFF, the bench's baseline, is set after the bot's pragmas."""
    if level == OFF:
        engine = make_engine(f"sqlite:///{path}", SqliteSynchronous.NORMAL)

        @event.listens_for(engine, "connect")
        def _off(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous=OFF")

        return engine
    return make_engine(f"sqlite:///{path}", SqliteSynchronous(level))


def commits(engine: Engine, count: int, offset: int) -> tuple[list[float], list[float]]:
    """`count` one-event transactions; returns each one's wall and CPU seconds."""
    walls: list[float] = []
    cpus: list[float] = []
    for n in range(offset, offset + count):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        with engine.begin() as connection:
            connection.execute(UPSERT, {"chat": n % 50, "step": f"step-{n % 12}"})
            connection.execute(ENQUEUE, {"chat": n % 50, "body": BODY})
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    return walls, cpus


def run(directory: Path, per_round: int, rounds: int) -> dict[str, Any]:
    """Alternates the levels round by round on one disk; prints the table and the target."""
    levels = [OFF, SqliteSynchronous.NORMAL.value, SqliteSynchronous.FULL.value]
    engines: dict[str, Engine] = {}
    for n, level in enumerate(levels):
        path = directory / f"durability-{n}.sqlite3"
        engine = engine_for(path, level)
        with engine.begin() as connection:
            for statement in SCHEMA:
                connection.execute(text(statement))
        engines[level] = engine
    walls: dict[str, list[float]] = {level: [] for level in levels}
    cpus: dict[str, list[float]] = {level: [] for level in levels}
    round_ratio: list[float] = []
    try:
        for round_index in range(rounds):
            shift = round_index % len(levels)
            medians: dict[str, float] = {}
            for level in levels[shift:] + levels[:shift]:
                wall, cpu = commits(engines[level], per_round, round_index * per_round)
                walls[level].extend(wall)
                cpus[level].extend(cpu)
                medians[level] = statistics.median(wall)
            round_ratio.append(medians["FULL"] / medians["NORMAL"])
        read_back = {}
        for level in levels:
            with engines[level].connect() as connection:
                read_back[level] = connection.exec_driver_sql("PRAGMA synchronous").scalar_one()
    finally:
        for engine in engines.values():
            engine.dispose()
    base = statistics.median(walls[OFF])
    rows = [
        (
            level,
            read_back[level],
            len(walls[level]),
            median_ms(walls[level]),
            p95_ms(walls[level]),
            median_ms(cpus[level]),
            f"{statistics.median(walls[level]) / base:.2f}x",
        )
        for level in levels
    ]
    print_table(
        f"One event's commit (state upsert + outbox row, BEGIN IMMEDIATE … COMMIT) in WAL mode, "
        f"{rounds} rotating rounds of {per_round}, on {directory}",
        (
            "synchronous",
            "PRAGMA reads",
            "commits",
            "wall median ms",
            "wall p95 ms",
            "CPU ms",
            "ratio to OFF",
        ),
        rows,
    )
    normal, full = statistics.median(walls["NORMAL"]), statistics.median(walls["FULL"])
    print(
        "\nFULL against NORMAL, round by round: "
        + ", ".join(f"{r:.2f}x" for r in round_ratio)
        + f"; median {statistics.median(round_ratio):.2f}x, "
        f"{1000 * (full - normal):+.3f} ms a commit"
    )
    measured = all(walls[level] for level in ("NORMAL", "FULL"))
    print(
        "\nTarget 6: durability stated (config.example.toml, docs/operations.md) and both levels "
        f"measured: NORMAL {1000 * normal:.3f} ms, FULL {1000 * full:.3f} ms a commit "
        f"({'met' if measured else 'missed'})"
    )
    return {
        "pragma": read_back,
        "commits": {level: len(w) for level, w in walls.items()},
        "wall_ms": {level: median_ms(w) for level, w in walls.items()},
        "full_over_normal": round_ratio,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=200, help="commits per level and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over the levels")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the database files")
    args = parser.parse_args(argv)
    header("durability")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-", dir=args.dir) as directory:
        return run(Path(directory), args.commits, args.rounds)


if __name__ == "__main__":
    main()
