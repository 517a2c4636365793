"""bench/durability.py runs end to end at a tiny size (timing is printed, never asserted)."""

from __future__ import annotations

import pytest

from bench import durability


def test_durability_measures_both_levels_it_says_it_measures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = durability.main(["--commits", "5", "--rounds", "2"])
    # Each engine really ran at its level (read back from SQLite: OFF 0, NORMAL 1, FULL 2) ...
    assert result["pragma"] == {durability.OFF: 0, "NORMAL": 1, "FULL": 2}
    # ... and committed every transaction of every round.
    assert set(result["commits"].values()) == {10}
    out = capsys.readouterr().out
    assert "Target 6:" in out and "(met)" in out
