"""One SQLite writer at a time in this process, in the order they asked.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps
and tries again (up to 100 ms apart) until the busy timeout. That is not a queue: a thread
that commits and begins again at once (the tick queueing a catch-up's thousands of messages
in batches) takes the lock again before a sleeping waiter looks, over and over. A test with
one writer holding 100 ms transactions back to back starved every other writer for the whole
5 s timeout ("database is locked"): people's answers and the marks of sent messages
(bench/memory.py saw both).

So writers of one database file queue here first, and the lock is handed to the longest
waiting one on release: no thread can take it back before the next in line. On SQLite only
this process writes (bot/instance.py holds a lock on the file), so the queue covers every
writer. A writer that waits longer than its timeout goes on to SQLite's own lock, as before:
a bug that kept a turn can slow writers down, never stop them.
"""

from __future__ import annotations

import threading
from collections import deque


class WriterTurns:
    """A lock handed over in the order it was asked for (FIFO), with a timeout."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        # One gate per waiter, locked until its turn comes.
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Waits for this caller's turn, at most `timeout` seconds; True once it has it."""
        with self._mutex:
            if not self._held and not self._waiting:
                self._held = True
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiting.append(gate)
        if gate.acquire(timeout=max(timeout, 0.0)):
            return True  # handed over: the lock stayed held, now for us
        with self._mutex:
            try:
                self._waiting.remove(gate)
            except ValueError:
                return True  # handed over just as the wait ran out: ours after all
        return False

    def release(self) -> None:
        """Ends the turn: hands the lock to the longest waiting caller, or frees it."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        """How many callers wait for a turn."""
        with self._mutex:
            return len(self._waiting)


_turns: dict[str, WriterTurns] = {}
_turns_lock = threading.Lock()


def turns_for(database: str) -> WriterTurns:
    """The one queue of this process's writers to a database file (every engine on it)."""
    with _turns_lock:
        return _turns.setdefault(database, WriterTurns())
