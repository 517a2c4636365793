"""Draws the plan timeline PNG from a plain description, in a short-lived child process.

matplotlib costs the process that loads it 50-60 MiB for good (bench/memory.py), so the bot
never loads it: bot/timeline.py describes the picture (strings, dates, colours: no names of
ours) and runs this file as a child (`python -I bot/timeline_draw.py`, the description as JSON
on stdin, the PNG on stdout). It imports only the standard library and matplotlib, so the
child starts without the bot's code or its database.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_from_spec(spec: dict[str, Any]) -> Figure:
    """The picture as a matplotlib figure, from bot.timeline.TimelineSpec's plain form."""
    import matplotlib

    # No display on a server: render straight to PNG bytes.
    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    rows: list[str] = spec["rows"]
    today = date.fromisoformat(spec["today"])
    # Constrained layout makes room for the slanted dates and, below them, the legend.
    figure = Figure(figsize=(8, 1.6 + 0.6 * max(len(rows), 1)), dpi=100, layout="constrained")
    axes = figure.subplots()
    for due, row, colour in spec["dots"]:
        axes.plot(
            [mdates.date2num(date.fromisoformat(due))],
            [row],
            marker="o",
            markersize=12,
            color=colour,
            linestyle="none",
        )
    for day, label in spec["marks"]:
        x = mdates.date2num(date.fromisoformat(day))
        axes.plot([x], [len(rows) - 1], marker="D", markersize=10, color="#E69F00")
        axes.text(x, len(rows) - 1.35, label, ha="center", fontsize=7)
    axes.axvline(mdates.date2num(today), color="#444444", linestyle="--", linewidth=1)
    axes.text(mdates.date2num(today), -0.6, spec["today_label"], ha="center", fontsize=8)
    axes.set_yticks(range(len(rows)), rows)
    axes.set_ylim(-0.8, max(len(rows), 1) - 0.2)
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    figure.autofmt_xdate()
    axes.set_title(spec["title"])
    # The legend names only the statuses in the picture, so every colour seen means something.
    # It sits below the whole plot, dates included: placed under the axes it covered the dates.
    legend: list[tuple[str, str]] = [(colour, label) for colour, label in spec["legend"]]
    figure.legend(
        handles=[
            Line2D([], [], marker="o", linestyle="none", color=colour, label=label)
            for colour, label in legend
        ],
        loc="outside lower center",
        ncol=max(len(legend), 1),
        frameon=False,
        fontsize=8,
    )
    return figure


def png_from_spec(spec: dict[str, Any]) -> bytes:
    """The PNG bytes of the picture (no software name in its metadata)."""
    buffer = io.BytesIO()
    figure_from_spec(spec).savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def main() -> None:
    """Child process: a description as JSON on stdin, the PNG on stdout."""
    spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdout.buffer.write(png_from_spec(spec))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
