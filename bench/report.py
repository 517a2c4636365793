"""Tables, machine description and small statistics for the benchmarks (standard library only)."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Prints a plain-text table with a title, columns padded to their widest cell."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def _cell(value: object) -> str:
    """A table cell: floats with three significant decimals."""
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:.0f}"
    return str(value)


def machine() -> str:
    """One line about where this ran: cores, load, Python, SQLite."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (
        f"{platform.machine()} {os.cpu_count()} cores, load {load[0]:.2f} at start, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}"
    )


OUR_PACKAGES = ("bot", "flows", "storage")


def compiled_as_installed() -> bool:
    """Compiles this checkout's packages to bytecode, as `pip install` does for the deployed
    bot (docs/operations.md); True if every module compiled.

    Run from a checkout with PYTHONDONTWRITEBYTECODE set (this machine's environment has it),
    the bot compiled its 260 modules from source at every start (0.13 s counted as start-up)
    and at every first use of a module (a first tick's imports held the event loop up to 100
    ms in bench/scale.py). Reading bytecode needs no permission to write it.
    """
    import compileall

    root = Path(__file__).resolve().parent.parent
    return all(
        compileall.compile_dir(root / package, quiet=2, workers=1) for package in OUR_PACKAGES
    )


def header(name: str) -> None:
    """Prints what is being measured and on what; compiles our code first, as installed."""
    print(f"# {name}")
    print(f"# {machine()}")
    if compiled_as_installed():
        print("# bot/, flows/ and storage/ compiled to bytecode first, as pip install does")


def median_ms(seconds: Sequence[float]) -> float:
    """Median of durations in seconds, in milliseconds."""
    return statistics.median(seconds) * 1000 if seconds else float("nan")


def p95_ms(seconds: Sequence[float]) -> float:
    """95th percentile of durations in seconds, in milliseconds."""
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def peak_rss_mib() -> float:
    """This process's peak resident set size (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    """This process's resident set size now (VmRSS) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def log_quietly() -> None:
    """Benchmarks print tables; the bot's INFO logging would only add noise and cost."""
    import logging

    logging.basicConfig(level=logging.WARNING)
