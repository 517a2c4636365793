"""What `samverkan run` imports at start: rarely used heavy libraries wait until they are used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each costs a tenth of a second or more at every start (bench/startup.py) and is used seldom:
# icalendar for a meeting's calendar file, matplotlib (in a child, bot/timeline_draw.py) for a
# report's picture.
LATE = ("icalendar", "matplotlib", "numpy")


def test_the_start_path_leaves_calendar_and_chart_libraries_unloaded() -> None:
    # A fresh interpreter, as the service starts: this test process has loaded everything.
    script = (
        "import sys\n"
        "import bot.cli, bot.runtime, bot.telegram.service, bot.ics, bot.followup_report\n"
        f"print(sorted(m for m in {LATE!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
