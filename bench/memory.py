"""Peak RSS of one bot process with 10,000 cases after a burst of 5,000 messages.

The parent seeds the database, then runs each side in a fresh child process, so every peak
(VmHWM) belongs to one process only: our bot behind python-telegram-bot, and the bare
python-telegram-bot ConversationHandler as the baseline, fed the same number of updates.
Run: `.venv/bin/python bench/memory.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import (
    current_rss_mib,
    header,
    log_quietly,
    peak_rss_mib,
    print_table,
)
from bench.telegram_fakes import (
    FakeTelegramNetwork,
    UpdateFactory,
    build_baseline,
    youth_updates,
)


async def child_ours(db: Path, messages: int, user_ids: list[int]) -> dict[str, float]:
    """Our bot: a burst of `messages` updates from many young people, one after another."""
    # Imported here: the baseline child must not load our code or its libraries.
    from bench.common import build_our_bot, catalogue, sessions_for
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    bot = build_our_bot(sessions_for(engine), catalogue())
    await bot.app.initialize()
    ready = current_rss_mib()
    factory = UpdateFactory(bot.app.bot)
    started = time.perf_counter()
    done = 0
    for update in youth_updates(factory, user_ids)[:messages]:
        await bot.app.process_update(update)
        done += 1
    seconds = time.perf_counter() - started
    await bot.app.shutdown()
    engine.dispose()
    return {"ready": ready, "peak": peak_rss_mib(), "messages": done, "seconds": seconds}


async def child_baseline(messages: int, user_ids: list[int]) -> dict[str, float]:
    """The bare ConversationHandler: /start for every user, then their taps and texts."""
    app = build_baseline(FakeTelegramNetwork())
    await app.initialize()
    ready = current_rss_mib()
    factory = UpdateFactory(app.bot)
    updates = [factory.text(u, "/start") for u in user_ids] + youth_updates(factory, user_ids)
    started = time.perf_counter()
    done = 0
    for update in updates[:messages]:
        await app.process_update(update)
        done += 1
    seconds = time.perf_counter() - started
    await app.shutdown()
    return {"ready": ready, "peak": peak_rss_mib(), "messages": done, "seconds": seconds}


def run_child(kind: str, db: Path, messages: int, user_ids: list[int]) -> dict[str, float]:
    """Runs one side in a fresh interpreter and reads its JSON answer."""
    ids = ",".join(map(str, user_ids))
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", str(db), "--messages", str(messages)],
        input=ids,
        capture_output=True,
        text=True,
        check=True,
    )
    answer: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def run(cases: int, messages: int, directory: Path) -> dict[str, Any]:
    """Seeds, then measures both sides in their own processes."""
    from bench.common import fresh_sqlite, seed

    db = directory / "memory.sqlite3"
    engine = fresh_sqlite(db)
    seeded = seed(engine, cases)
    engine.dispose()
    users = min(len(seeded.youth_user_ids), messages // 12 + 1)
    user_ids = seeded.youth_user_ids[:users]
    baseline = run_child("baseline", db, messages, user_ids)
    ours = run_child("ours", db, messages, user_ids)
    rows = []
    for name, r in (
        ("bare PTB ConversationHandler", baseline),
        ("ours: bot.telegram adapter + core", ours),
    ):
        rows.append(
            (
                name,
                int(r["messages"]),
                r["ready"],
                r["peak"],
                r["peak"] - r["ready"],
                f"{r['peak'] / baseline['peak']:.2f}x",
                r["seconds"],
            )
        )
    print_table(
        f"Memory: one process, {cases} cases in SQLite, a burst of {messages} messages "
        f"from {users} young people",
        ("process", "messages", "RSS ready MiB", "peak RSS MiB", "growth MiB", "ratio", "burst s"),
        rows,
    )
    print(
        f"\nTarget: peak RSS ≤ 150 MiB: {ours['peak']:.1f} MiB "
        f"({'met' if ours['peak'] <= 150 else 'missed'})"
    )
    return {"baseline": baseline, "ours": ours, "cases": cases}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--child", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    log_quietly()
    if args.child:
        user_ids = [int(u) for u in sys.stdin.read().split(",") if u]
        if args.child == "ours":
            result = asyncio.run(child_ours(args.db, args.messages, user_ids))
        else:
            result = asyncio.run(child_baseline(args.messages, user_ids))
        print(json.dumps(result))
        return result
    header("memory")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        return run(args.cases, args.messages, Path(directory))


if __name__ == "__main__":
    main()
