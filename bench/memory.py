"""Peak memory of the real `samverkan run` process: 10,000 cases, a burst, a report picture.

The bot runs as in production: `samverkan run` (this checkout's code) polling Telegram, here
a fake Bot API server on 127.0.0.1 (bench/startup.py), with its real pipeline, sweeper, pacer
and ticker. The parent seeds the database, starts the bot, waits for its first getUpdates,
then hands it a burst of updates from many young people and waits until every one is in the
inbox; then a coordinator opens the menu and taps the follow-up report, and the parent waits
until the report's picture (the plan timeline PNG) has arrived at the Bot API. The bot's
peak RSS (VmHWM, read from /proc while it runs) is taken after each phase. The picture is
drawn in a short-lived child (bot/timeline_draw.py); its own peak is shown apart, measured
on the same drawing. Baseline in the same run: a bare
python-telegram-bot ConversationHandler in a fresh process fed the same number of updates.

Where the growth is (`--probe`, a bench-only hook, bench/memory_trace.py): "allocators" has
the bot say at ready and after the burst how much is in pymalloc's arenas (and in use there),
in glibc's heaps (in use, and freed but kept), in SQLite's own heap, and what malloc_trim
gives back; "tracemalloc" also traces the bot's allocations from ready on and prints what is
still alive of them by line, by package and by the nearest line of our code (it slows the
bot: take the target's figures from a run without it).
Run: `.venv/bin/python bench/memory.py [--probe allocators|tracemalloc]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import memory_trace
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

ROOT = Path(__file__).resolve().parent.parent
TARGET_MIB = 150.0
# Phases wait for progress, not for a fixed time; a phase that stops moving this long ends.
STALL_S = 60.0
# How long the inbox must stay unchanged before the burst counts as handled.
QUIET_S = 3.0


def status_mib(pid: int, field: str) -> float:
    """One memory line (VmRSS, VmHWM) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def burst_json(messages: int, user_ids: list[int]) -> list[dict[str, Any]]:
    """The burst as Telegram's JSON: young people taking turns through their rounds."""
    from telegram import Bot

    from bench.telegram_fakes import TOKEN

    factory = UpdateFactory(Bot(TOKEN))
    rounds = messages // (12 * max(len(user_ids), 1)) + 1
    updates = youth_updates(factory, user_ids, rounds)[:messages]
    return [u.to_dict() for u in updates]


def inbox_count(db: Path) -> int:
    """The burst's updates recorded in the inbox so far (each handled update leaves one row).

    Only ours, by their event ids ("bot id:update id"): the catch-up's retention deletes the
    seeded rows meanwhile.
    """
    import sqlite3

    from bench.telegram_fakes import BOT_ID

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
        query = "SELECT count(*) FROM inbox_event WHERE platform_event_id LIKE ?"
        return int(connection.execute(query, (f"{BOT_ID}:%",)).fetchone()[0])


def last_outbox_id(db: Path) -> int:
    """The newest outbox row's id: the burst's replies come after it."""
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
        return int(connection.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0])


def unsent_to(db: Path, chat_ids: list[int], after_id: int) -> int:
    """The burst's replies not sent yet: rows since `after_id` to its chats, to send now."""
    import sqlite3

    marks = ",".join("?" * len(chat_ids))
    query = (
        f"SELECT count(*) FROM outbox WHERE id > ? AND chat_id IN ({marks}) "
        "AND status IN ('pending', 'sending') AND due_at IS NULL"
    )
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
        params = [after_id, *(str(c) for c in chat_ids)]
        return int(connection.execute(query, params).fetchone()[0])


def ticked(db: Path, pid: int) -> bool:
    """Whether the bot process has finished its first tick (the catch-up after start)."""
    import sqlite3

    query = "SELECT count(*) FROM bot_process WHERE pid = ? AND last_tick_at IS NOT NULL"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
        return bool(connection.execute(query, (pid,)).fetchone()[0])


def row_status(db: Path, outbox_id: int) -> str:
    """One outbox row's status."""
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
        found = connection.execute("SELECT status FROM outbox WHERE id = ?", (outbox_id,))
        return str(found.fetchone()[0])


def a_coordinator_with_a_plan(db: Path) -> int:
    """The Telegram user id of a coordinator whose newest case has a plan (dots to draw)."""
    import sqlite3

    from bench.common import PLATFORM

    # A coordinator's menu works on the case they joined last (storage/repositories.py).
    query = """
        SELECT ci.external_user_id FROM membership m
        JOIN chat_identity ci ON ci.person_id = m.person_id AND ci.platform = ?
        WHERE m.role = 'coordinator' AND m.active
          AND EXISTS (SELECT 1 FROM plan_action p WHERE p.case_id = m.case_id)
        ORDER BY m.id LIMIT 1
    """
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
        return int(connection.execute(query, (PLATFORM,)).fetchone()[0])


def asks_for_the_report(coordinator: int) -> list[dict[str, Any]]:
    """A coordinator opens the menu (/meny) and taps the follow-up report, as Telegram sends it."""
    from telegram import Bot

    from bench.telegram_fakes import TOKEN

    factory = UpdateFactory(Bot(TOKEN))
    # Update ids go on from the burst's (one counter per process): the bot asks for them.
    opens = factory.text(coordinator, "/meny")
    taps = factory.tap(coordinator, "report")
    return [opens.to_dict(), taps.to_dict()]


class QuietFor:
    """True once a watched value has stayed the same for `seconds` (the work behind it ended)."""

    def __init__(self, watch: Any, seconds: float) -> None:
        self._watch = watch
        self._seconds = seconds
        self._value = watch()
        self._since = time.monotonic()

    def __call__(self) -> bool:
        """Reads the value again; says whether it has been still long enough."""
        value = self._watch()
        if value != self._value:
            self._value, self._since = value, time.monotonic()
        return time.monotonic() - self._since >= self._seconds


def sends(api: Any) -> int:
    """Bot API calls other than polling (an idle bot polls on and on)."""
    return sum(n for method, n in api.calls.items() if method != "getUpdates")


def wait_for(done: Any, progress: Any, limit_s: float = STALL_S) -> bool:
    """Polls `done()` until true; gives up once `progress()` has not changed for `limit_s`."""
    last, moved = progress(), time.monotonic()
    while not done():
        time.sleep(0.2)
        now = progress()
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > limit_s:
            return False
    return True


def traced_env(env: dict[str, str], directory: Path, tracing: bool) -> Path:
    """Puts the bench's tracemalloc hook (bench/memory_trace.py) into the bot's start-up.

    A sitecustomize.py in a directory of its own, first on the bot's path: Python imports it
    at start, and it only listens for the bench's signals. Nothing in bot/ takes part.
    """
    traces = directory / "tracemalloc"
    traces.mkdir()
    (traces / "sitecustomize.py").write_text(memory_trace.SITECUSTOMIZE)
    env["PYTHONPATH"] = os.pathsep.join([str(traces), env["PYTHONPATH"]])
    env[memory_trace.DIRECTORY_ENV] = str(traces)
    env[memory_trace.TRACE_ENV] = "1" if tracing else "0"
    return traces


def signal_and_wait(pid: int, written: Path, limit_s: float = STALL_S) -> None:
    """Signals the traced bot (SIGUSR1) and waits until it has written `written`."""
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + limit_s
    while not written.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the traced bot did not write {written.name}")
        time.sleep(0.1)


def real_process(
    db: Path, directory: Path, messages: int, user_ids: list[int], probe: str = ""
) -> dict[str, Any]:
    """Runs `samverkan run` through the burst and the picture; its memory after each phase.

    With `probe` "allocators", the bot says at ready and after the burst where its memory is
    (bench/memory_trace.py); with "tracemalloc" it also traces its allocations in between,
    and what is still alive of them is attributed.
    """
    from bench.startup import FakeBotApi, bot_command, bot_env, telegram_config

    api = FakeBotApi(idle_poll_s=0.2)
    env = bot_env(directory)
    traces = traced_env(env, directory, probe == "tracemalloc") if probe else None
    config = telegram_config(directory, api)
    argv = bot_command("run", "--config", str(config), "--db", f"sqlite:///{db}")
    burst = burst_json(messages, user_ids)
    before = inbox_count(db)
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, env=env
        )
        try:
            if not api.first_poll.wait(timeout=180):
                errors.seek(0)
                raise RuntimeError(f"the bot never polled: {errors.read().decode()[-500:]}")
            ready_s = time.perf_counter() - started
            ready = status_mib(process.pid, "VmRSS")
            ready_peak = status_mib(process.pid, "VmHWM")
            if traces is not None:
                signal_and_wait(process.pid, traces / memory_trace.STARTED)
            after_id = last_outbox_id(db)
            burst_started = time.perf_counter()
            api.feed(burst)
            last_id = burst[-1]["update_id"] if burst else 0

            # The catch-up tick after start (the due work of every case) runs beside the
            # burst: the peak by the time it has made its rows is noted apart.
            catch_up: dict[str, float] = {}

            def progress() -> tuple[int, int, int]:
                if not catch_up and ticked(db, process.pid):
                    catch_up["peak"] = status_mib(process.pid, "VmHWM")
                    catch_up["s"] = time.perf_counter() - burst_started
                return api.confirmed, inbox_count(db), sends(api)

            # Done: every update fetched and confirmed, every reply to those chats sent, and
            # the inbox still for a while (fetched is not yet handled: the replies come after).
            inbox_still = QuietFor(lambda: inbox_count(db), QUIET_S)
            handled = wait_for(
                lambda: (
                    api.confirmed >= last_id
                    and unsent_to(db, user_ids, after_id) == 0
                    and inbox_still()
                ),
                progress,
            )
            burst_s = time.perf_counter() - burst_started - QUIET_S
            inboxed = inbox_count(db) - before
            after_burst = status_mib(process.pid, "VmHWM")
            rss_after_burst = status_mib(process.pid, "VmRSS")
            sent_before = sends(api)
            attribution = None
            if traces is not None:
                signal_and_wait(process.pid, traces / memory_trace.FIGURES)
                attribution = memory_trace.attribute(traces, ROOT)

            def pictures() -> int:
                return api.calls["sendPhoto"] + api.calls["sendDocument"]

            # The report is asked for as a coordinator does, through the bot: its summary and
            # the timeline picture answer the tap (the picture drawn by bot/timeline_draw.py).
            # Their answer is sent at once, beside whatever backlog the catch-up left (a row
            # put straight into the outbox waited behind 13,000 overdue ones: 469 s once).
            coordinator = a_coordinator_with_a_plan(db)
            photos_before = api.photos_to[str(coordinator)]
            picture_started = time.perf_counter()
            api.feed(asks_for_the_report(coordinator))
            drawn = wait_for(
                lambda: api.photos_to[str(coordinator)] > photos_before,
                lambda: sends(api),
            )
            picture_s = time.perf_counter() - picture_started
            after_picture = status_mib(process.pid, "VmHWM")
            rss_end = status_mib(process.pid, "VmRSS")
            modules = loaded_libraries(process.pid)
            # The bot's own warnings (its log holds no message text, names or codes): they
            # say why a phase stalled, if one did.
            errors.seek(0)
            warnings = [
                line
                for line in errors.read().decode(errors="replace").splitlines()
                if "WARNING" in line or "ERROR" in line
            ]
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            api.close()
    return {
        "ready_s": ready_s,
        "ready": ready,
        "ready_peak": ready_peak,
        "messages": len(burst) if handled else inboxed,
        "inboxed": inboxed,
        "handled_all": handled,
        "burst_s": burst_s,
        "after_burst": after_burst,
        "rss_after_burst": rss_after_burst,
        "catch_up": catch_up,
        "attribution": attribution,
        "picture_sent": drawn,
        "pictures_arrived": api.photos_to[str(coordinator)] - photos_before,
        "pictures": pictures(),
        "picture_s": picture_s,
        "peak": after_picture,
        "rss_end": rss_end,
        "calls": dict(api.calls),
        "sends_during_burst": sent_before,
        "matplotlib_in_bot": "matplotlib" in modules,
        "warnings": warnings[-5:],
    }


def loaded_libraries(pid: int) -> str:
    """The shared objects mapped into a process (matplotlib's would show as its .so files)."""
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def drawing_child_peak() -> float:
    """The drawing child's own peak RSS in MiB, for a plan of 12 actions and 3 meetings."""
    from dataclasses import asdict
    from datetime import date

    from bot.timeline import DRAW_SCRIPT, CheckinMarks, timeline_spec
    from flows.coordination import ActionItem, ActionStatus, Owner, OwnerKind

    owners = [Owner(OwnerKind.ORGANISATION, n, f"Verksamhet {n}") for n in range(1, 4)]
    actions = [
        ActionItem(n, 1, "K-1", "x", owners[n % 3], date(2026, 12, 1 + 2 * n), status)
        for n, status in enumerate(list(ActionStatus) * 2 + [ActionStatus.OPEN] * 2)
    ]
    marks = CheckinMarks("Mötena", tuple((date(2026, 11, d), "2 Bra") for d in (3, 10, 17)))
    spec = timeline_spec(
        actions, date(2026, 12, 5), "Planen", lambda a: a.owner.name, str, "i dag", marks
    )
    # Linux counts the memory a process had when it forked into its child's ru_maxrss (a
    # 400 MiB parent makes an empty child report 414 MiB), so the drawing runs under a small
    # interpreter of its own, which reports its child's peak: the drawing's, not this bench's.
    measured = subprocess.run(
        [sys.executable, "-I", "-c", _MEASURE_CHILD, str(DRAW_SCRIPT)],
        input=json.dumps(asdict(spec)).encode(),
        capture_output=True,
        check=True,
    )
    size, _, png = measured.stdout.partition(b"\n")
    assert png.startswith(b"\x89PNG")
    return int(size) / 1024


# Runs the drawing script as its child and prints the child's peak RSS (KiB), then the PNG.
_MEASURE_CHILD = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-I", sys.argv[1]], stdout=subprocess.PIPE)
png = child.stdout.read()
_, _, usage = os.wait4(child.pid, 0)
sys.stdout.buffer.write(str(usage.ru_maxrss).encode() + b"\\n" + png)
"""


async def child_baseline(messages: int, user_ids: list[int]) -> dict[str, float]:
    """The bare ConversationHandler: /start for every user, then their taps and texts."""
    app = build_baseline(FakeTelegramNetwork())
    await app.initialize()
    ready = current_rss_mib()
    factory = UpdateFactory(app.bot)
    updates = [factory.text(u, "/start") for u in user_ids] + youth_updates(
        factory, user_ids, messages // (12 * max(len(user_ids), 1)) + 1
    )
    started = time.perf_counter()
    done = 0
    for update in updates[:messages]:
        await app.process_update(update)
        done += 1
    seconds = time.perf_counter() - started
    await app.shutdown()
    return {"ready": ready, "peak": peak_rss_mib(), "messages": done, "seconds": seconds}


def run_baseline(messages: int, user_ids: list[int]) -> dict[str, float]:
    """Runs the baseline in a fresh interpreter and reads its JSON answer."""
    ids = ",".join(map(str, user_ids))
    result = subprocess.run(
        [sys.executable, __file__, "--child", "--messages", str(messages)],
        input=ids,
        capture_output=True,
        text=True,
        check=True,
    )
    answer: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def print_attribution(found: memory_trace.Attribution) -> None:
    """Where the burst's growth is: by allocator, then (traced) by line, package, our line."""
    mib = 1024 * 1024
    start, end = found.start, found.end
    rows: list[tuple[str, float, float]] = [
        ("RSS", start["rss_kib"] / 1024, end["rss_kib"] / 1024),
        ("pymalloc arenas (small objects)", start["pymalloc_arenas"] / mib, 0.0),
        ("  of which objects in use", start["pymalloc_in_use"] / mib, 0.0),
        ("glibc heaps in use (larger objects, C libraries)", start["malloc_in_use"] / mib, 0.0),
        ("glibc heaps freed but kept", start["malloc_free_kept"] / mib, 0.0),
        ("SQLite's own heap (page caches, statements)", start["sqlite_used"] / mib, 0.0),
    ]
    keys = [
        "rss_kib",
        "pymalloc_arenas",
        "pymalloc_in_use",
        "malloc_in_use",
        "malloc_free_kept",
        "sqlite_used",
    ]
    rows = [
        (name, at_ready, end[key] / (1024 if key == "rss_kib" else mib))
        for (name, at_ready, _), key in zip(rows, keys, strict=True)
    ]
    print_table(
        "Where the bot's memory is, at ready and after the burst",
        ("", "at ready MiB", "after burst MiB", "growth MiB"),
        [(name, before, after, after - before) for name, before, after in rows],
    )
    print(
        f"malloc_trim(0) after the burst took RSS from {end['rss_kib'] / 1024:.1f} to "
        f"{end['rss_trimmed_kib'] / 1024:.1f} MiB."
    )
    if not found.by_line:
        return
    print(
        f"Traced (tracemalloc from ready on, {memory_trace.FRAMES} frames): Python's "
        f"allocations still alive after the burst {found.traced / mib:.1f} MiB (at most "
        f"{found.traced_peak / mib:.1f} MiB at once); tracemalloc's own bookkeeping "
        f"{found.overhead / mib:.1f} MiB, freed before the figures above were taken (it shows "
        "in the freed-but-kept row)."
    )
    for title, growth in (
        ("by the line that allocated", found.by_line),
        ("by package (of the line that allocated)", found.by_package),
        ("by the nearest line of our code on the way (the cause)", found.by_our_line),
    ):
        print_table(
            f"The burst's allocations still alive after it (tracemalloc, {title})",
            ("where", "MiB", "blocks"),
            [(g.where, g.size / mib, g.count) for g in growth],
        )


def run(cases: int, messages: int, directory: Path, probe: str = "") -> dict[str, Any]:
    """Seeds, measures the baseline and the real bot, prints the table and the target."""
    from bench.common import fresh_sqlite, seed

    db = directory / "memory.sqlite3"
    engine = fresh_sqlite(db)
    seeded = seed(engine, cases)
    engine.dispose()
    users = min(len(seeded.youth_user_ids), messages // 12 + 1)
    user_ids = seeded.youth_user_ids[:users]
    baseline = run_baseline(messages, user_ids)
    ours = real_process(db, directory, messages, user_ids, probe)
    child_peak = drawing_child_peak()
    print_table(
        f"Memory: {cases} cases in SQLite, a burst of {messages} updates from {users} young "
        "people, then one report picture (peak RSS = VmHWM)",
        (
            "process",
            "updates",
            "RSS ready MiB",
            "peak after burst MiB",
            "peak after picture MiB",
            "ratio",
            "burst s",
        ),
        [
            (
                "bare PTB ConversationHandler (in-process fake network)",
                int(baseline["messages"]),
                baseline["ready"],
                baseline["peak"],
                "-",
                "1.00x",
                baseline["seconds"],
            ),
            (
                "samverkan run (Telegram, fake Bot API on 127.0.0.1)",
                ours["messages"],
                ours["ready"],
                ours["after_burst"],
                ours["peak"],
                f"{ours['peak'] / baseline['peak']:.2f}x",
                ours["burst_s"],
            ),
            ("timeline drawing child (short-lived, apart)", "-", "-", "-", child_peak, "-", "-"),
        ],
    )
    print(
        f"\nThe bot: ready in {ours['ready_s']:.2f} s; every update of the burst handled and "
        f"every reply to those chats sent: {'yes' if ours['handled_all'] else 'NO'} "
        f"({ours['inboxed']} of them recorded in the inbox); "
        f"{ours['sends_during_burst']} Bot API calls (not polls) by then; "
        f"report picture arrived at the Bot API: {'yes' if ours['picture_sent'] else 'NO'} "
        f"({ours['picture_s']:.1f} s after the tap); matplotlib mapped into the bot: "
        f"{'yes' if ours['matplotlib_in_bot'] else 'no'}"
    )
    if ours["catch_up"]:
        print(
            f"The catch-up tick after start had made its rows {ours['catch_up']['s']:.1f} s into "
            f"the burst; the bot's peak by then: {ours['catch_up']['peak']:.1f} MiB."
        )
    else:
        print("The catch-up tick after start was not done by the end of the burst.")
    if ours["warnings"]:
        print("The bot's last warnings:\n" + "\n".join(f"  {w[:200]}" for w in ours["warnings"]))
    if ours["attribution"] is not None:
        print_attribution(ours["attribution"])
        if ours["attribution"].by_line:
            print(
                "(With tracemalloc on, the bot ran slower and its RSS above includes the "
                "tracing's bookkeeping: take the target's figure from a run without it.)"
            )
    met = ours["peak"] <= TARGET_MIB and ours["picture_sent"] and ours["handled_all"]
    print(
        f"\nTarget 5 (memory): peak RSS ≤ {TARGET_MIB:.0f} MiB for `samverkan run` with {cases} "
        f"cases after the burst and a rendered report: {ours['peak']:.1f} MiB "
        f"({'met' if met else 'missed'})"
    )
    return {"baseline": baseline, "ours": ours, "child_peak": child_peak, "cases": cases}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes are adjustable so the smoke test can run it small."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument(
        "--probe",
        choices=("allocators", "tracemalloc"),
        default="",
        help="say where the burst's growth is: in which allocator (cheap), or also by line "
        "(tracemalloc in the bot: slows it and inflates its RSS)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    log_quietly()
    if args.child:
        user_ids = [int(u) for u in sys.stdin.read().split(",") if u]
        result = asyncio.run(child_baseline(args.messages, user_ids))
        print(json.dumps(result))
        return result
    header("memory")
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as directory:
        return run(args.cases, args.messages, Path(directory), args.probe)


if __name__ == "__main__":
    main()
