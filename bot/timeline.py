"""The plan timeline picture: actions on a time axis, one row per owner, coloured by status.

The picture is drawn by matplotlib in a short-lived child process (bot/timeline_draw.py), so
the bot's own process never loads it: matplotlib would stay in its memory for good, 50-60
MiB of the peak that bench/memory.py measures. The child gets a plain description (rows,
dates, colours, the labels' text) on its stdin and nothing else: no database, no keys.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from flows.coordination import ActionItem, ActionStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Colours that stay apart for the common kinds of colour blindness (Okabe–Ito).
STATUS_COLOURS = {
    ActionStatus.OPEN: "#999999",
    ActionStatus.IN_PROGRESS: "#0072B2",
    ActionStatus.BLOCKED: "#D55E00",
    ActionStatus.DONE: "#009E73",
    ActionStatus.CANCELLED: "#CCCCCC",
}

DRAW_SCRIPT = Path(__file__).resolve().parent / "timeline_draw.py"
# A picture takes the child about a second (most of it importing matplotlib); a child that
# hangs must not hold the delivery worker for ever.
DRAW_TIMEOUT_S = 60.0


class TimelineError(RuntimeError):
    """The drawing child failed; the message says how, never what was drawn."""


@dataclass(frozen=True, slots=True)
class CheckinMarks:
    """How the meetings were (the check-in): a row of its own, a mark and a label per meeting."""

    row: str
    marks: Sequence[tuple[date, str]] = ()


@dataclass(frozen=True, slots=True)
class TimelineSpec:
    """What the picture shows, in plain values: the drawing child's whole input."""

    title: str
    today: str
    today_label: str
    rows: list[str]
    # (due date ISO, row index, colour) per action shown, in the plan's order.
    dots: list[tuple[str, int, str]]
    # (date ISO, label) per meeting, on the last row.
    marks: list[tuple[str, str]]
    # (colour, status name) for the statuses in the picture, in ActionStatus order.
    legend: list[tuple[str, str]]


def timeline_spec(
    actions: Sequence[ActionItem],
    today: date,
    title: str,
    owner_name: Callable[[ActionItem], str],
    status_name: Callable[[ActionStatus], str],
    today_label: str,
    checkins: CheckinMarks | None = None,
) -> TimelineSpec:
    """The picture's description: each action a dot at its due date on its owner's row."""
    live = [a for a in actions if a.status is not ActionStatus.CANCELLED]
    owners = list(dict.fromkeys(owner_name(a) for a in live))
    # The meetings' check-ins get the last row, so the plan and how the meetings felt read
    # on one time axis.
    marks = tuple(checkins.marks) if checkins else ()
    if marks and checkins is not None:
        owners.append(checkins.row)
    shown = [s for s in ActionStatus if any(a.status is s for a in live)]
    return TimelineSpec(
        title=title,
        today=today.isoformat(),
        today_label=today_label,
        rows=owners,
        dots=[
            (a.due.isoformat(), owners.index(owner_name(a)), STATUS_COLOURS[a.status]) for a in live
        ],
        marks=[(day.isoformat(), label) for day, label in marks],
        legend=[(STATUS_COLOURS[s], status_name(s)) for s in shown],
    )


def render_timeline(
    actions: Sequence[ActionItem],
    today: date,
    title: str,
    owner_name: Callable[[ActionItem], str],
    status_name: Callable[[ActionStatus], str],
    today_label: str,
    checkins: CheckinMarks | None = None,
) -> bytes:
    """A PNG of the plan, drawn in a child process (blocking: call it off the event loop)."""
    spec = timeline_spec(actions, today, title, owner_name, status_name, today_label, checkins)
    return draw_in_child(spec)


def draw_in_child(spec: TimelineSpec) -> bytes:
    """Runs bot/timeline_draw.py on the description and returns its PNG."""
    # -I: isolated, so neither the script's folder (bot/, whose module names could shadow
    # the standard library's) nor PYTHON* variables reach the child's imports.
    try:
        result = subprocess.run(
            [sys.executable, "-I", str(DRAW_SCRIPT)],
            input=json.dumps(asdict(spec)).encode("utf-8"),
            capture_output=True,
            timeout=DRAW_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise TimelineError(f"drawing the timeline took over {DRAW_TIMEOUT_S:.0f} s") from exc
    if result.returncode != 0 or not result.stdout.startswith(b"\x89PNG"):
        # Its stderr may quote the labels (names): only the exit status is told.
        raise TimelineError(f"drawing the timeline failed (exit {result.returncode})")
    return result.stdout


def timeline_figure(
    actions: Sequence[ActionItem],
    today: date,
    title: str,
    owner_name: Callable[[ActionItem], str],
    status_name: Callable[[ActionStatus], str],
    today_label: str,
    checkins: CheckinMarks | None = None,
) -> Figure:
    """The plan's picture as a matplotlib figure in this process (for tests of its layout)."""
    from bot.timeline_draw import figure_from_spec

    spec = timeline_spec(actions, today, title, owner_name, status_name, today_label, checkins)
    # Through JSON, exactly as the child receives it.
    plain = json.loads(json.dumps(asdict(spec)))
    return figure_from_spec(plain)
