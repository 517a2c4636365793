"""Run the Bot API emulator (telegram-test-api + shim) for end-to-end tests.

``running_emulator()`` starts ``tests/telegram_emulator/start.js`` with Node on
a free port of 127.0.0.1 and yields an :class:`EmulatorClient`. Point a PTB
application at it with::

    with running_emulator() as emulator:
        application = (
            Application.builder()
            .token(emulator.token)
            .base_url(emulator.bot_api_base_url)
            .build()
        )

The client's methods that talk to the emulator are coroutines, so a test can
run the PTB application and act as the user in the same event loop (a blocking
client would stall the bot while the test waits for it).

Prerequisites: Node >= 18 on PATH (or ``$TELEGRAM_EMULATOR_NODE``) and
``npm ci`` run in the repository root.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import httpx

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
START_SCRIPT: Final = REPO_ROOT / "tests" / "telegram_emulator" / "start.js"
READY_PREFIX: Final = "TELEGRAM_EMULATOR_READY "
DEFAULT_TOKEN: Final = "123456789:samverkansboten-test-token"

ChatType = Literal["private", "group", "supergroup"]
BotMessage = dict[str, Any]
"""A message the bot sent, as stored by the emulator.

Keys: ``message_id``, ``chat_id`` (int), ``date`` (Unix seconds) plus what the
bot passed to the Bot API method: ``text``, ``reply_markup`` (parsed dict),
``parse_mode``, ``caption``, ``edit_date`` (after an edit), ``document`` /
``photo`` and ``upload`` (``filename``, ``mime_type``, ``size``, ``sha256``
for sendDocument/sendPhoto uploads).
"""


class EmulatorError(RuntimeError):
    """The emulator could not be started or rejected a request."""


class EmulatorUnavailable(EmulatorError):
    """Node.js or the npm package is missing; tests may skip on this."""


@dataclass(frozen=True)
class EmulatedUser:
    """A Telegram user the test acts as."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("username", "last_name", "language_code"):
            value = getattr(self, key)
            if value is not None:
                user[key] = value
        return user


@dataclass(frozen=True)
class SentUpdate:
    """What the emulator created for a user action."""

    update_id: int
    message_id: int | None = None
    callback_query_id: str | None = None


class EmulatorClient:
    """Acts as Telegram users and inspects what the bot sent."""

    def __init__(
        self,
        base_url: str,
        token: str = DEFAULT_TOKEN,
        *,
        request_timeout: float = 10.0,
        log_source: Callable[[], list[str]] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._request_timeout = request_timeout
        self._log_source = log_source

    @property
    def base_url(self) -> str:
        """Root URL of the emulator, e.g. ``http://127.0.0.1:40123``."""
        return self._base_url

    @property
    def bot_api_base_url(self) -> str:
        """Value for PTB's ``ApplicationBuilder.base_url()`` / ``Bot(base_url=...)``."""
        return f"{self._base_url}/bot"

    @property
    def token(self) -> str:
        return self._token

    def emulator_log(self) -> list[str]:
        """Recent output lines of the emulator process (for diagnostics)."""
        return self._log_source() if self._log_source is not None else []

    # ------------------------------------------------------------ user actions

    async def send_message(
        self,
        chat_id: int,
        user: EmulatedUser,
        text: str,
        chat_type: ChatType = "private",
        *,
        chat_title: str | None = None,
    ) -> SentUpdate:
        """Deliver a text message from ``user`` in chat ``chat_id`` to the bot."""
        payload = self._message_payload(chat_id, user, text, chat_type, chat_title)
        return self._sent_update(await self._post("/sendMessage", payload))

    async def send_command(
        self,
        chat_id: int,
        user: EmulatedUser,
        command: str,
        args: str = "",
        chat_type: ChatType = "private",
        *,
        chat_title: str | None = None,
    ) -> SentUpdate:
        """Deliver ``/command args`` (``command`` with or without the slash)."""
        command_text = command if command.startswith("/") else f"/{command}"
        text = f"{command_text} {args}" if args else command_text
        payload = self._message_payload(chat_id, user, text, chat_type, chat_title)
        payload["entities"] = [{"offset": 0, "length": len(command_text), "type": "bot_command"}]
        return self._sent_update(await self._post("/sendCommand", payload))

    async def send_callback(
        self, chat_id: int, user: EmulatedUser, message_id: int, data: str
    ) -> SentUpdate:
        """Press an inline button (``data``) on the bot's message ``message_id``."""
        payload = {
            "botToken": self._token,
            "from": user.to_api(),
            "chat_id": chat_id,
            "message_id": message_id,
            "data": data,
        }
        return self._sent_update(await self._post("/sendCallback", payload))

    # ------------------------------------------------------------ inspection

    async def updates_history(self) -> list[dict[str, Any]]:
        """Raw ``/getUpdatesHistory`` entries (user and bot) for this token."""
        result = await self._post("/getUpdatesHistory", {"token": self._token})
        if not isinstance(result, list):
            raise EmulatorError(f"unexpected getUpdatesHistory result: {result!r}")
        return result

    async def bot_messages(self, chat_id: int) -> list[BotMessage]:
        """Messages the bot sent to ``chat_id`` (current state, after edits), oldest first."""
        messages: list[BotMessage] = []
        for entry in await self.updates_history():
            raw = entry.get("message")
            # Bot messages are stored as the bot's request (with chat_id);
            # user updates carry a chat object or a callbackQuery instead.
            if not isinstance(raw, dict) or "chat_id" not in raw:
                continue
            if str(raw["chat_id"]) != str(chat_id):
                continue
            message: BotMessage = {k: v for k, v in raw.items() if k != "botToken"}
            message["chat_id"] = chat_id
            message["message_id"] = entry["messageId"]
            message["date"] = int(entry["time"]) // 1000
            messages.append(message)
        messages.sort(key=lambda m: int(m["message_id"]))
        return messages

    async def wait_for_bot_messages(
        self, chat_id: int, count: int, timeout: float = 5.0, *, poll_interval: float = 0.05
    ) -> list[BotMessage]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id``."""
        deadline = time.monotonic() + timeout
        while True:
            messages = await self.bot_messages(chat_id)
            if len(messages) >= count:
                return messages
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected >= {count} bot message(s) in chat {chat_id} within {timeout}s,"
                    f" got {len(messages)}: {json.dumps(messages, ensure_ascii=False)}"
                )
            await asyncio.sleep(poll_interval)

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[BotMessage], bool],
        timeout: float = 5.0,
        *,
        poll_interval: float = 0.05,
    ) -> BotMessage:
        """Wait until a bot message in ``chat_id`` satisfies ``predicate`` (e.g. after an edit)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = await self.bot_messages(chat_id)
            for message in messages:
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no bot message in chat {chat_id} matched within {timeout}s;"
                    f" messages: {json.dumps(messages, ensure_ascii=False)}"
                )
            await asyncio.sleep(poll_interval)

    async def shim_state(self) -> dict[str, Any]:
        """Counters and recordings of the shim (see ``/shim/state`` in start.js)."""
        result = await self._post("/shim/state", {})
        if not isinstance(result, dict):
            raise EmulatorError(f"unexpected /shim/state result: {result!r}")
        return result

    async def method_calls(self) -> dict[str, int]:
        """Number of Bot API calls per method since the emulator started."""
        calls = (await self.shim_state())["method_calls"]
        return {str(name): int(count) for name, count in calls.items()}

    async def callback_answers(self) -> list[dict[str, Any]]:
        """``answerCallbackQuery`` calls the bot made, in order."""
        answers = (await self.shim_state())["callback_answers"]
        return list(answers)

    # ------------------------------------------------------------ internals

    def _message_payload(
        self,
        chat_id: int,
        user: EmulatedUser,
        text: str,
        chat_type: ChatType,
        chat_title: str | None,
    ) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = user.first_name
            if user.username is not None:
                chat["username"] = user.username
        else:
            chat["title"] = chat_title or "Test group"
        return {
            "botToken": self._token,
            "from": user.to_api(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }

    @staticmethod
    def _sent_update(result: Any) -> SentUpdate:
        if not isinstance(result, dict) or "update_id" not in result:
            raise EmulatorError(f"unexpected result from emulator: {result!r}")
        message_id = result.get("message_id")
        callback_id = result.get("callback_query_id")
        return SentUpdate(
            update_id=int(result["update_id"]),
            message_id=int(message_id) if message_id is not None else None,
            callback_query_id=str(callback_id) if callback_id is not None else None,
        )

    async def _post(self, path: str, payload: dict[str, Any]) -> Any:
        # A short-lived client per call: tests call asyncio.run() more than
        # once, and an AsyncClient must not outlive its event loop.
        # trust_env=False: never route 127.0.0.1 through an HTTP(S)_PROXY.
        async with httpx.AsyncClient(timeout=self._request_timeout, trust_env=False) as client:
            response = await client.post(f"{self._base_url}{path}", json=payload)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("ok") is not True:
            raise EmulatorError(
                f"emulator {path} failed: HTTP {response.status_code}: {response.text[:500]}"
            )
        return body.get("result")


class _OutputCollector:
    """Drains the emulator's stdout+stderr in a thread; spots the ready line."""

    def __init__(self, stream: Any, max_lines: int = 500) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._lock = threading.Lock()
        self.ready_line: str | None = None
        self.ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(stream,), name="telegram-emulator-output", daemon=True
        )
        self._thread.start()

    def _run(self, stream: Any) -> None:
        for line in stream:
            line = line.rstrip("\n")
            with self._lock:
                self._lines.append(line)
            if self.ready_line is None and line.startswith(READY_PREFIX):
                self.ready_line = line
                self.ready.set()

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def find_node() -> str:
    """Path of the Node.js executable; EmulatorUnavailable if it or the npm package is missing."""
    node = os.environ.get("TELEGRAM_EMULATOR_NODE") or shutil.which("node")
    if node is None:
        raise EmulatorUnavailable(
            "Node.js not found: install Node >= 18 or set TELEGRAM_EMULATOR_NODE"
        )
    if not (REPO_ROOT / "node_modules" / "telegram-test-api").is_dir():
        raise EmulatorUnavailable(
            f"npm package telegram-test-api is not installed: run `npm ci` in {REPO_ROOT}"
        )
    return node


@contextlib.contextmanager
def running_emulator(
    token: str = DEFAULT_TOKEN,
    *,
    startup_timeout: float = 20.0,
    verbose: bool = False,
) -> Iterator[EmulatorClient]:
    """Start the emulator on a free 127.0.0.1 port; stop it on exit.

    The port is chosen by the OS (the script listens on port 0 and reports the
    real port in its ready line), so parallel test processes cannot collide.
    """
    command = [find_node(), str(START_SCRIPT), "--port", "0", "--exit-with-stdin"]
    if verbose:
        command.append("--verbose")
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_EMULATOR_PORT"}
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    assert process.stdout is not None
    output = _OutputCollector(process.stdout)
    try:
        deadline = time.monotonic() + startup_timeout
        while not output.ready.wait(0.05):
            if process.poll() is not None:
                output.join(1.0)
                raise EmulatorError(
                    f"emulator exited with code {process.returncode} before it was ready;"
                    f" output:\n" + "\n".join(output.lines())
                )
            if time.monotonic() >= deadline:
                raise EmulatorError(
                    f"emulator not ready within {startup_timeout}s; output:\n"
                    + "\n".join(output.lines())
                )
        assert output.ready_line is not None
        info = json.loads(output.ready_line[len(READY_PREFIX) :])
        yield EmulatorClient(str(info["url"]), token, log_source=output.lines)
    finally:
        _stop(process)
        output.join(2.0)
        with contextlib.suppress(OSError):
            process.stdout.close()


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
