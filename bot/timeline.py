"""The plan timeline picture: actions on a time axis, one row per owner, coloured by status."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
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


@dataclass(frozen=True, slots=True)
class CheckinMarks:
    """How the meetings were (the check-in): a row of its own, a mark and a label per meeting."""

    row: str
    marks: Sequence[tuple[date, str]] = ()


def render_timeline(
    actions: Sequence[ActionItem],
    today: date,
    title: str,
    owner_name: Callable[[ActionItem], str],
    status_name: Callable[[ActionStatus], str],
    today_label: str,
    checkins: CheckinMarks | None = None,
) -> bytes:
    """A PNG of the plan: each action a dot at its due date on its owner's row."""
    figure = timeline_figure(actions, today, title, owner_name, status_name, today_label, checkins)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def timeline_figure(
    actions: Sequence[ActionItem],
    today: date,
    title: str,
    owner_name: Callable[[ActionItem], str],
    status_name: Callable[[ActionStatus], str],
    today_label: str,
    checkins: CheckinMarks | None = None,
) -> Figure:
    """The plan's picture as a matplotlib figure (render_timeline makes it a PNG)."""
    # Imported here, not at the top: matplotlib takes a noticeable part of a second to
    # import, and every `samverkan run` would pay for it at start-up (bench/startup.py).
    import matplotlib

    # No display on a server: render straight to PNG bytes.
    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    live = [a for a in actions if a.status is not ActionStatus.CANCELLED]
    owners = list(dict.fromkeys(owner_name(a) for a in live))
    # The meetings' check-ins get the last row, so the plan and how the meetings felt read
    # on one time axis.
    marks = tuple(checkins.marks) if checkins else ()
    if marks and checkins is not None:
        owners.append(checkins.row)
    # Constrained layout makes room for the slanted dates and, below them, the legend.
    figure = Figure(figsize=(8, 1.6 + 0.6 * max(len(owners), 1)), dpi=100, layout="constrained")
    axes = figure.subplots()
    for action in live:
        row = owners.index(owner_name(action))
        axes.plot(
            [mdates.date2num(action.due)],
            [row],
            marker="o",
            markersize=12,
            color=STATUS_COLOURS[action.status],
            linestyle="none",
        )
    for day, label in marks:
        x = mdates.date2num(day)
        axes.plot([x], [len(owners) - 1], marker="D", markersize=10, color="#E69F00")
        axes.text(x, len(owners) - 1.35, label, ha="center", fontsize=7)
    axes.axvline(mdates.date2num(today), color="#444444", linestyle="--", linewidth=1)
    axes.text(mdates.date2num(today), -0.6, today_label, ha="center", fontsize=8)
    axes.set_yticks(range(len(owners)), owners)
    axes.set_ylim(-0.8, max(len(owners), 1) - 0.2)
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    figure.autofmt_xdate()
    axes.set_title(title)
    # The legend names only the statuses in the picture, so every colour seen means something.
    # It sits below the whole plot, dates included: placed under the axes it covered the dates.
    shown = [s for s in ActionStatus if any(a.status is s for a in live)]
    figure.legend(
        handles=[
            Line2D(
                [], [], marker="o", linestyle="none", color=STATUS_COLOURS[s], label=status_name(s)
            )
            for s in shown
        ],
        loc="outside lower center",
        ncol=max(len(shown), 1),
        frameon=False,
        fontsize=8,
    )
    return figure
