"""Where a running bot's memory grows: tracemalloc inside `samverkan run`, for bench/memory.py.

Bench-only. `bench/memory.py --tracemalloc` writes a sitecustomize.py into a temporary
directory first on the bot's PYTHONPATH; it calls `install()` here, and nothing in bot/ knows.
The bench then signals the bot (SIGUSR1): the first signal starts tracing (at "ready", so
import-time objects are not counted and cost nothing), the second writes a snapshot of what is
still alive of what was allocated since, with its traced and resident figures beside it. The
parent reads both back (`attribute`) and prints the growth by line, by package and by the
nearest line of our own code on the way (the cause to look at).
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import sys
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

# The directory the snapshots go to (set by bench/memory.py for the bot it starts).
DIRECTORY_ENV = "SAMVERKAN_BENCH_TRACE_DIR"
# "0": only measure where the memory is (allocators, SQLite), without tracemalloc's cost.
TRACE_ENV = "SAMVERKAN_BENCH_TRACEMALLOC"
# Enough frames to reach our own code from inside most of SQLAlchemy or python-telegram-bot,
# few enough that the traced bot keeps up with the burst (25 slowed it fourfold).
FRAMES = 12
SNAPSHOT = "after.snapshot"
FIGURES = "figures.json"
STARTED = "started.json"
OUR_PACKAGES = ("bot", "flows", "storage")

SITECUSTOMIZE = (
    "# Written by bench/memory.py --tracemalloc: the bench's own hook, not the product's.\n"
    "from bench.memory_trace import install\n"
    "install()\n"
)


def install() -> None:
    """Listens for the bench's SIGUSR1 (only in a bot the bench started with the hook)."""
    if os.environ.get(DIRECTORY_ENV):
        signal.signal(signal.SIGUSR1, _on_signal)


def _status_kib(field: str) -> int:
    """One memory line of this process's /proc status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _write(path: Path, data: dict[str, float]) -> None:
    """Writes JSON whole: the bench waits for the file and must not read half of it."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data))
    partial.rename(path)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """First signal: measure, start tracing. Second: snapshot what is alive, measure again."""
    directory = Path(os.environ[DIRECTORY_ENV])
    tracing = os.environ.get(TRACE_ENV, "1") == "1"
    if not (directory / STARTED).exists():
        gc.collect()
        _write(directory / STARTED, probe())
        if tracing:
            tracemalloc.start(FRAMES)
        return
    # Garbage waiting for the cycle collector is not growth that stays.
    gc.collect()
    figures: dict[str, float] = {}
    if tracing:
        snapshot = tracemalloc.take_snapshot()
        traced, traced_peak = tracemalloc.get_traced_memory()
        figures.update(
            traced=traced,
            traced_peak=traced_peak,
            tracemalloc_overhead=tracemalloc.get_tracemalloc_memory(),
        )
        snapshot.dump(str(directory / (SNAPSHOT + ".partial")))
        (directory / (SNAPSHOT + ".partial")).rename(directory / SNAPSHOT)
        del snapshot
        tracemalloc.stop()  # frees its bookkeeping, so the figures below are the bot's own
    figures.update(probe())
    # What glibc hands back when asked (malloc_trim): memory freed but kept in its heaps.
    _libc().malloc_trim(0)
    figures["rss_trimmed_kib"] = _status_kib("VmRSS")
    _write(directory / FIGURES, figures)


class _MallInfo2(ctypes.Structure):
    """glibc's struct mallinfo2 (2.33+): the main and other arenas' figures, in bytes."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> ctypes.CDLL:
    """The C library the interpreter runs on."""
    return ctypes.CDLL(None)


def probe() -> dict[str, float]:
    """Where this process's memory is: RSS, pymalloc's arenas, glibc's heaps, SQLite's heap."""
    found: dict[str, float] = {
        "rss_kib": _status_kib("VmRSS"),
        "hwm_kib": _status_kib("VmHWM"),
        **_pymalloc(),
    }
    try:
        sqlite = ctypes.CDLL("libsqlite3.so.0")
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
        sqlite.sqlite3_memory_highwater.restype = ctypes.c_int64
        found["sqlite_used"] = sqlite.sqlite3_memory_used()
        found["sqlite_highwater"] = sqlite.sqlite3_memory_highwater(0)
    except (OSError, AttributeError):
        pass
    try:
        mallinfo2 = _libc().mallinfo2
        mallinfo2.restype = _MallInfo2
        info = mallinfo2()
        found["malloc_in_use"] = info.uordblks + info.hblkhd
        found["malloc_free_kept"] = info.fordblks
    except AttributeError:
        pass
    return found


def _pymalloc() -> dict[str, float]:
    """pymalloc's arenas (small Python objects; an arena is freed only once it is empty).

    sys._debugmallocstats() writes to C's stderr: it is caught in a file for the moment.
    """
    import tempfile

    with tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(caught.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        lines = caught.read().decode(errors="replace").splitlines()
    found: dict[str, float] = {}
    for line in lines:
        figure = line.split("=")[-1].strip().replace(",", "")
        if line.startswith("# bytes in allocated blocks"):
            found["pymalloc_in_use"] = int(figure)
        elif line.startswith("Total") and "pymalloc_arenas" not in found:
            found["pymalloc_arenas"] = int(figure)  # the first total: the arenas' bytes
    return found


@dataclass(frozen=True)
class Growth:
    """One row of the attribution: where, how many bytes and blocks are still alive."""

    where: str
    size: int
    count: int


@dataclass(frozen=True)
class Attribution:
    """Where the bot's memory was at ready and after the burst; what tracemalloc saw grow."""

    by_line: list[Growth]
    by_package: list[Growth]
    by_our_line: list[Growth]
    traced: int
    traced_peak: int
    overhead: int
    start: dict[str, float]
    end: dict[str, float]


def package_of(filename: str, root: Path) -> str:
    """A source file's package: our top-level package, an installed one, or the stdlib's module."""
    path = Path(filename)
    if path.is_relative_to(root):
        return path.relative_to(root).parts[0]
    parts = path.parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1 :]
        return rest[0].removesuffix(".py") if rest else filename
    if filename.startswith("<"):
        return filename
    return f"stdlib {path.stem if path.parent.name.startswith('python') else path.parent.name}"


def our_line(trace: tracemalloc.Traceback, root: Path) -> str:
    """The most recent frame in our own code (bot/, flows/, storage/), as file:line."""
    for frame in reversed(trace):  # a Traceback runs from the oldest frame to the newest
        path = Path(frame.filename)
        if path.is_relative_to(root):
            relative = path.relative_to(root)
            if relative.parts[0] in OUR_PACKAGES:
                return f"{relative}:{frame.lineno}"
    return f"(no frame in bot/, flows/, storage/ within {FRAMES})"


def attribute(directory: Path, root: Path, top: int = 10) -> Attribution:
    """Reads the bot's figures (and snapshot) back: by line, by package, by our nearest line."""
    figures = json.loads((directory / FIGURES).read_text())
    started = json.loads((directory / STARTED).read_text())
    if not (directory / SNAPSHOT).exists():  # measured without tracemalloc
        return Attribution([], [], [], 0, 0, 0, started, figures)
    snapshot = tracemalloc.Snapshot.load(str(directory / SNAPSHOT))
    by_line = [
        Growth(f"{_short(s.traceback[0].filename, root)}:{s.traceback[0].lineno}", s.size, s.count)
        for s in snapshot.statistics("lineno")[:top]
    ]
    packages: dict[str, list[int]] = {}
    ours: dict[str, list[int]] = {}
    for stat in snapshot.statistics("traceback"):
        for key, table in (
            (package_of(stat.traceback[-1].filename, root), packages),
            (our_line(stat.traceback, root), ours),
        ):
            entry = table.setdefault(key, [0, 0])
            entry[0] += stat.size
            entry[1] += stat.count

    def ranked(table: dict[str, list[int]]) -> list[Growth]:
        rows = [Growth(k, size, count) for k, (size, count) in table.items()]
        return sorted(rows, key=lambda g: -g.size)[:top]

    return Attribution(
        by_line=by_line,
        by_package=ranked(packages),
        by_our_line=ranked(ours),
        traced=int(figures["traced"]),
        traced_peak=int(figures["traced_peak"]),
        overhead=int(figures["tracemalloc_overhead"]),
        start=started,
        end=figures,
    )


def _short(filename: str, root: Path) -> str:
    """A file name without the checkout's or the environment's prefix."""
    path = Path(filename)
    if path.is_relative_to(root):
        return str(path.relative_to(root))
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    return "/".join(parts[-2:])
