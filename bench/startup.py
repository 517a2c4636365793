"""Start-up: from `samverkan run` to ready, with 20,000 cases in the database.

"Ready" is observable from outside: the bot has checked the schema, loaded the catalogue,
connected its adapters and answered its first event, i.e. the first line it writes to the
terminal chat (the answer to the adapter's opening Resume). The clock runs from spawning the
process to reading that line. Baselines in the same run: the bare interpreter, and a bare
python-telegram-bot Application that initialises (getMe on the fake network) and says ready.
Run: `.venv/bin/python bench/startup.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import header, log_quietly, print_table

SAMVERKAN = Path(sys.executable).parent / "samverkan"


def time_to_first_line(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Spawns a process; returns wall seconds until its first stdout line, and its CPU seconds.

    Stdin stays open until the line is read (a terminal chat waits for input), then closes,
    and the process ends on its own.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    line = process.stdout.readline()
    ready = time.perf_counter() - started
    if not line:
        process.wait()
        raise RuntimeError(f"{argv[0]} ended without output (exit {process.returncode})")
    process.stdin.close()
    process.stdout.read()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped above; keep Popen from waiting again
    return ready, usage.ru_utime + usage.ru_stime


async def baseline_child() -> None:
    """A bare python-telegram-bot Application: initialise, then say ready."""
    from bench.telegram_fakes import FakeTelegramNetwork, build_baseline

    app = build_baseline(FakeTelegramNetwork())
    await app.initialize()
    print("ready", flush=True)
    sys.stdin.read()
    await app.shutdown()


def run(cases: int, repeat: int, directory: Path) -> dict[str, Any]:
    """Seeds once, then starts each contender `repeat` times, alternating, and tabulates."""
    from bench.common import fresh_sqlite, seed

    empty = directory / "empty.sqlite3"
    fresh_sqlite(empty).dispose()
    full = directory / "full.sqlite3"
    engine = fresh_sqlite(full)
    seed(engine, cases)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if k != "SAMVERKAN_DATABASE_URL"}
    env["HOME"] = str(directory)  # no user config or data directory gets in the way
    contenders = {
        "python -c (bare interpreter)": [sys.executable, "-c", "print('ready')"],
        "bare PTB Application (initialize)": [sys.executable, __file__, "--child"],
        "samverkan run, empty database": [str(SAMVERKAN), "run", "--db", f"sqlite:///{empty}"],
        f"samverkan run, {cases} cases": [str(SAMVERKAN), "run", "--db", f"sqlite:///{full}"],
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, argv in contenders.items():
            times[name].append(time_to_first_line(argv, env))
    baseline = statistics.median(t[0] for t in times["bare PTB Application (initialize)"])
    rows = []
    results: dict[str, float] = {}
    for name, samples in times.items():
        wall = statistics.median(t[0] for t in samples)
        cpu = statistics.median(t[1] for t in samples)
        results[name] = wall
        rows.append((name, wall, min(t[0] for t in samples), cpu, f"{wall / baseline:.2f}x"))
    print_table(
        f"Start-up to ready (first line written), median of {repeat} starts each",
        ("process", "median s", "best s", "CPU s (whole run)", "ratio to bare PTB"),
        rows,
    )
    ours = results[f"samverkan run, {cases} cases"]
    print(f"\nTarget: ≤ 2 s with {cases} cases: {ours:.2f} s ({'met' if ours <= 2 else 'missed'})")
    return {"cases": cases, "seconds": results}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5, help="starts per contender")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    log_quietly()
    if args.child:
        asyncio.run(baseline_child())
        return {}
    header("start-up")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        return run(args.cases, args.repeat, Path(directory))


if __name__ == "__main__":
    main()
