"""A part of the bot built behind its start: in a worker thread, once the bot listens.

`samverkan run` reaches its first poll sooner when what the first poll does not need (the
conversations: flows.wiring and every flow module) is imported and built after it
(issue 26, bench/startup.py). The first event that needs it waits for it; should it fail to
build, that event (and every later one) gets the error it raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Later(Generic[T]):
    """A value built once, in a worker thread started by start() or the first get()."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._value: T | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        """Starts building in a worker thread, unless it has started already."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="build-behind-start", daemon=True
                )
                self._thread.start()

    def get(self) -> T:
        """The value, built (and waited for) if need be; raises what building raised."""
        self.start()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value

    def _run(self) -> None:
        """Builds the value, or keeps what went wrong for get()."""
        try:
            self._value = self._build()
        except BaseException as exc:  # handed to every get(), where an event waits for it
            self._error = exc
