"""bot/later.py: what `samverkan run` builds behind its start is built once, and waited for."""

from __future__ import annotations

import threading

import pytest

from bot.later import Later


def test_the_first_get_waits_for_the_value_built_once_in_another_thread() -> None:
    builders: list[str] = []

    def build() -> str:
        builders.append(threading.current_thread().name)
        return "the conversations"

    later = Later(build)
    later.start()
    later.start()  # asked again (the first event came as polling began): still built once
    assert later.get() == later.get() == "the conversations"
    assert builders == ["build-behind-start"]


def test_what_went_wrong_in_building_reaches_every_event_that_waits() -> None:
    def broken() -> str:
        raise ValueError("a flow that cannot be built")

    later = Later(broken)  # never started: the first get() starts it
    for _ in range(2):
        with pytest.raises(ValueError, match="cannot be built"):
            later.get()
