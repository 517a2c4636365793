"""The plan timeline is drawn in a child process: the bot never loads matplotlib."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot import timeline
from bot.timeline import CheckinMarks, TimelineError, render_timeline, timeline_spec
from bot.timeline_draw import png_from_spec
from flows.coordination import ActionItem, ActionStatus, Owner, OwnerKind

ROOT = Path(__file__).resolve().parent.parent

OWNERS = [Owner(OwnerKind.ORGANISATION, n, f"Verksamhet {n}") for n in range(1, 4)]
ACTIONS = [
    ActionItem(n, 1, "K-1", f"Åtgärd {n}", OWNERS[n % 3], date(2026, 12, 1 + 2 * n), status)
    for n, status in enumerate(list(ActionStatus) * 2)
]
MEETINGS = CheckinMarks("Mötena", ((date(2026, 12, 3), "2 Bra · 1 Både och"),))


def _draw() -> bytes:
    """A coordinator's report picture, as the file maker asks for it."""
    return render_timeline(
        ACTIONS, date(2026, 12, 5), "Planen – K-1", lambda a: a.owner.name, str, "i dag", MEETINGS
    )


def test_a_rendered_report_picture_leaves_matplotlib_out_of_the_bot() -> None:
    # A fresh interpreter: this test process may have loaded matplotlib for other tests.
    script = (
        "import sys\n"
        "from tests.test_timeline_child import _draw\n"
        "png = _draw()\n"
        "assert png.startswith(b'\\x89PNG'), png[:8]\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'numpy')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_child_draws_exactly_the_picture_drawn_in_process() -> None:
    spec = timeline_spec(
        ACTIONS, date(2026, 12, 5), "Planen – K-1", lambda a: a.owner.name, str, "i dag", MEETINGS
    )
    in_process = png_from_spec(_plain(spec))
    assert _draw() == in_process


def _plain(spec: timeline.TimelineSpec) -> dict[str, object]:
    """The description as the child reads it (through JSON)."""
    import json
    from dataclasses import asdict

    loaded: dict[str, object] = json.loads(json.dumps(asdict(spec)))
    return loaded


def test_a_failing_child_is_an_error_that_names_nobody(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "draw.py"
    broken.write_text("import sys\nsys.stderr.write(sys.stdin.read())\nsys.exit(3)\n")
    monkeypatch.setattr(timeline, "DRAW_SCRIPT", broken)
    with pytest.raises(TimelineError) as caught:
        _draw()
    assert "exit 3" in str(caught.value)
    assert "Verksamhet" not in str(caught.value) and "Åtgärd" not in str(caught.value)
