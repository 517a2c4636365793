"""`samverkan run` caps glibc's malloc arenas before its threads start (bot/malloc_arenas.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.malloc_arenas import limit_malloc_arenas


def test_the_cap_is_set_on_glibc_and_an_operators_own_choice_stands() -> None:
    # This machine runs glibc (as the supported Debian/Ubuntu servers do).
    assert limit_malloc_arenas(environ={}) is True
    assert limit_malloc_arenas(environ={"MALLOC_ARENA_MAX": "4"}) is False


def test_run_caps_the_arenas_before_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    monkeypatch.setattr(cli, "limit_malloc_arenas", lambda: order.append("cap") or True)
    monkeypatch.setattr(cli, "_serve", lambda *args, **kwargs: order.append("serve") or 0)
    database = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    assert cli.main(["db", "upgrade", "--db", database]) == 0
    assert cli.main(["run", "--db", database]) == 0
    assert order == ["cap", "serve"]
