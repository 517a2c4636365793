"""Runs the real `samverkan` command in a subprocess, as a user or operator would."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path


def samverkan_env(home: Path) -> dict[str, str]:
    """The environment for a subprocess: its own home, so no real user data is touched."""
    env = dict(os.environ)
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), PYTHONUNBUFFERED="1")
    env.pop("SAMVERKAN_DATABASE_URL", None)
    return env


def run(
    args: list[str], home: Path, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs one command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=samverkan_env(home),
        check=False,
    )


class LiveProcess:
    """A running `samverkan` whose output is read line by line with deadlines."""

    def __init__(self, args: list[str], home: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=samverkan_env(home),
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def send(self, line: str) -> None:
        """Types one line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Reads output until a line contains `text`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"process ended before {text!r}:\n{''.join(self.output)}")
            self.output.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} within {timeout} s:\n{''.join(self.output)}")

    def kill(self) -> None:
        """kill -9: no chance to clean up."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def finish(self, timeout: float = 60) -> str:
        """Closes standard input (end of the conversation) and returns all output."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=timeout)
        while (line := self._lines.get(timeout=timeout)) is not None:
            self.output.append(line)
        return "".join(self.output)
