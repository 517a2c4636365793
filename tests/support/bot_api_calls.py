"""When each Bot API call left this process, on the clock the pacer runs on.

    time = SteppedTime()
    with recorded_calls(time.clock) as calls:
        ... run the Telegram service with Pacer(clock=time.clock, sleep=time.sleep) ...
    busiest_second(calls.counted())

The record is taken where every call of python-telegram-bot goes out (its HTTP request
class), so a call that does not pass the pacer is seen as well as one that does. Telegram
counts messages when they arrive; the time between leaving here and arriving is the
pacer's window margin, tested on its own (tests/test_pacer_arrival_jitter.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from telegram.request import HTTPXRequest

# Calls that are not messages in a chat: Telegram's message limits do not count them.
# answerCallbackQuery only stops the spinner on the pressed button (it has no chat_id).
NOT_MESSAGES = frozenset(
    {"getUpdates", "getMe", "setMyCommands", "deleteWebhook", "setWebhook", "answerCallbackQuery"}
)


class SteppedTime:
    """A virtual clock that sleeping moves forward at once: pacing costs no wall time.

    A sleep moves the clock to the sleeper's moment (never back), so each waiting send is
    admitted at the earliest moment the pacer allows it; nothing else moves the clock.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        """The virtual time in seconds."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Moves the clock forward by `seconds`, then lets the other tasks run."""
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call: its method, the chat it was for (if any) and when it left."""

    method: str
    chat_id: str | None
    at: float


@dataclass
class RecordedCalls:
    """Every Bot API call this process made while recording, in the order they left."""

    calls: list[Call] = field(default_factory=list)

    def counted(self) -> list[Call]:
        """The calls Telegram's limits count: everything sent or changed in a chat."""
        return [c for c in self.calls if c.method not in NOT_MESSAGES and c.chat_id is not None]

    def by_chat(self) -> dict[str, list[Call]]:
        """The counted calls per chat, in order."""
        chats: dict[str, list[Call]] = defaultdict(list)
        for call in self.counted():
            assert call.chat_id is not None
            chats[call.chat_id].append(call)
        return dict(chats)


@contextlib.contextmanager
def recorded_calls(clock: Callable[[], float]) -> Iterator[RecordedCalls]:
    """Records every Bot API call made through python-telegram-bot while inside."""
    recorded = RecordedCalls()
    original = HTTPXRequest.do_request

    async def do_request(self: HTTPXRequest, url: str, method: str, *args: Any, **kw: Any) -> Any:
        request_data = args[0] if args else kw.get("request_data")
        parameters = request_data.parameters if request_data is not None else {}
        chat_id = parameters.get("chat_id")
        name = url.rsplit("/", 1)[-1]
        recorded.calls.append(Call(name, str(chat_id) if chat_id is not None else None, clock()))
        return await original(self, url, method, *args, **kw)

    HTTPXRequest.do_request = do_request  # type: ignore[method-assign]
    try:
        yield recorded
    finally:
        HTTPXRequest.do_request = original  # type: ignore[method-assign]


def most_in_any_window(moments: list[float], seconds: float) -> int:
    """The most moments in any window [t, t + seconds) (moments sorted)."""
    busiest, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= seconds:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest
