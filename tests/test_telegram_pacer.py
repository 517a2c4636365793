"""The pacer on a virtual clock: 300 chats at once, a 429 in the middle, outages, groups."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.pacing import PacerLimits, RateLimitedTooOften
from bot.telegram.pacer import Pacer

SETTLE_YIELDS = 200
# PTB's RetryAfter reads its own deprecated int form while it is built; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class VirtualTime:
    """A clock that only moves when every task is waiting: no test waits for real."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, work: Awaitable[object]) -> None:
        """Runs `work`, moving the clock to the next sleeper whenever all tasks wait."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(SETTLE_YIELDS):
                await asyncio.sleep(0)
                if task.done():
                    break
            if task.done():
                break
            assert self._sleepers, "deadlock: nothing runs and nothing sleeps"
            moment, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, moment)
            future.set_result(None)
        task.result()


@dataclass
class FakeBotApi:
    """Records when each chat's message went out; can answer 429 or fail like a network."""

    time: VirtualTime
    sent: list[tuple[float, str, int]] = field(default_factory=list)
    rate_limit_at: int | None = None  # answer 429 to the n-th call
    retry_after: int = 5
    outages: int = 0  # the next n calls fail with a network error
    calls: int = 0
    call_times: list[float] = field(default_factory=list)

    def call(self, chat_id: str, number: int) -> Callable[[], Awaitable[int]]:
        async def send() -> int:
            self.calls += 1
            self.call_times.append(self.time.now)
            if self.rate_limit_at is not None and self.calls == self.rate_limit_at:
                raise RetryAfter(timedelta(seconds=self.retry_after))
            if self.outages:
                self.outages -= 1
                raise NetworkError("Bad Gateway")
            self.sent.append((self.time.now, chat_id, number))
            return number

        return send


def max_in_any_window(times: list[float], width: float) -> int:
    """The most sends in any half-open window [t, t + width)."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        j = i
        while j < len(ordered) and ordered[j] < start + width:
            j += 1
        best = max(best, j - i)
    return best


def spacing_by_chat(sent: list[tuple[float, str, int]]) -> float:
    """The smallest gap between two messages to the same chat."""
    gaps = []
    last: dict[str, float] = {}
    for moment, chat, _ in sorted(sent):
        if chat in last:
            gaps.append(moment - last[chat])
        last[chat] = moment
    return min(gaps) if gaps else float("inf")


def run_sends(
    time: VirtualTime, pacer: Pacer, api: FakeBotApi, messages: list[tuple[str, bool]]
) -> list[int | BaseException]:
    """Sends every message concurrently (as due outbox rows of many chats would be)."""
    results: list[int | BaseException] = []

    async def scenario() -> None:
        tasks = [
            pacer.send(chat, group, api.call(chat, number))
            for number, (chat, group) in enumerate(messages)
        ]
        results.extend(await asyncio.gather(*tasks, return_exceptions=True))

    async def main() -> None:
        await time.run(scenario())

    asyncio.run(main())
    return results


def test_300_chats_never_exceed_30_in_any_second_even_after_a_429() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    api = FakeBotApi(time, rate_limit_at=150, retry_after=5)
    messages = [(str(1000 + n), False) for n in range(300)]

    results = run_sends(time, pacer, api, messages)

    assert sorted(r for r in results if isinstance(r, int)) == list(range(300)), "nothing lost"
    times = [moment for moment, _, _ in api.sent]
    assert len(times) == 300
    assert max_in_any_window(times, 1.0) <= 30
    # The 429 stopped everyone for 5 s: nothing was sent while it was in force.
    limited_at = sorted(times)[148]
    assert not [t for t in times if limited_at < t < limited_at + 5.0 - 1e-9]
    after = [t for t in times if t >= limited_at + 5.0]
    assert max_in_any_window(after, 1.0) <= 30, "no burst after the pause"
    # 300 messages at 30/s take 9 s of sending plus the 5 s pause, not much more.
    print(
        f"300 chats: last send at {max(times):.2f} s, max {max_in_any_window(times, 1.0)} "
        f"per 1-s window, {len(after)} sent after the 429 pause"
    )
    assert max(times) < 9.0 + 5.0 + 1.0


def test_messages_to_one_chat_are_a_second_apart_and_in_order() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    api = FakeBotApi(time)
    # Three replies to each of 50 chats, all due at once.
    messages = [(str(chat), False) for _ in range(3) for chat in range(50)]

    run_sends(time, pacer, api, messages)

    assert len(api.sent) == 150
    print(
        f"150 messages to 50 chats: min same-chat gap {spacing_by_chat(api.sent):.2f} s, "
        f"max {max_in_any_window([t for t, _, _ in api.sent], 1.0)} per 1-s window"
    )
    assert spacing_by_chat(api.sent) >= 1.0
    for chat in map(str, range(50)):
        numbers = [n for _, c, n in sorted(api.sent) if c == chat]
        assert numbers == sorted(numbers), "a chat's messages keep their order"
    assert max_in_any_window([t for t, _, _ in api.sent], 1.0) <= 30


def test_a_group_gets_at_most_20_messages_a_minute() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    api = FakeBotApi(time)
    messages = [("-100", True)] * 45 + [("42", False)] * 3

    run_sends(time, pacer, api, messages)

    group = [t for t, chat, _ in api.sent if chat == "-100"]
    print(
        f"45 messages to one group: max {max_in_any_window(group, 60.0)} per 60-s window, "
        f"last at {max(group):.1f} s"
    )
    assert len(group) == 45
    assert max_in_any_window(group, 60.0) <= 20
    # The private chat was not held up behind the group's minute limit.
    private = [t for t, chat, _ in api.sent if chat == "42"]
    assert max(private) < 3.0


def test_network_errors_are_retried_with_growing_backoff() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep, jitter=lambda low, high: high)
    api = FakeBotApi(time, outages=3)

    results = run_sends(time, pacer, api, [("7", False)])

    assert results == [0]
    assert api.calls == 4
    gaps = [b - a for a, b in itertools.pairwise(api.call_times)]
    # 0.5, 1 and 2 s of backoff, but never closer than the chat's spacing (1 s and margin).
    spacing = 1.0 + PacerLimits().chat_margin
    assert gaps == pytest.approx([spacing, spacing, 2.0])
    assert 0.5 in time.slept and 2.0 in time.slept


def test_an_outage_longer_than_the_retries_goes_back_to_the_outbox() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    api = FakeBotApi(time, outages=10)

    [result] = run_sends(time, pacer, api, [("7", False)])

    assert isinstance(result, NetworkError)
    assert api.calls == PacerLimits().network_attempts


def test_a_bad_request_is_not_retried() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    calls = Counter[str]()

    async def refused() -> None:
        calls["sendMessage"] += 1
        raise BadRequest("Can't parse entities")

    async def main() -> None:
        with pytest.raises(BadRequest):
            await time.run(pacer.send("7", False, refused))

    asyncio.run(main())
    assert calls["sendMessage"] == 1


def test_repeated_429s_hand_the_message_back_with_the_wait() -> None:
    time = VirtualTime()
    pacer = Pacer(PacerLimits(rate_limit_attempts=2), clock=time.clock, sleep=time.sleep)

    async def always_limited() -> None:
        raise RetryAfter(timedelta(seconds=3))

    async def main() -> None:
        with pytest.raises(RateLimitedTooOften) as caught:
            await time.run(pacer.send("7", False, always_limited))
        assert caught.value.seconds == 3

    asyncio.run(main())
    assert time.now >= 3.0, "the first 429 was honoured before trying again"


def test_a_timeout_counts_as_a_network_error() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    attempts = Counter[str]()

    async def slow_then_fine() -> str:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise TimedOut()
        return "ok"

    async def main() -> None:
        task = asyncio.ensure_future(pacer.send("7", False, slow_then_fine))
        await time.run(task)
        assert task.result() == "ok"

    asyncio.run(main())
    assert attempts["n"] == 2


def test_a_groups_21st_message_leaves_more_than_a_minute_after_its_1st() -> None:
    # Telegram counts arrivals: a message admitted exactly 60.0 s after the window's first
    # can arrive within that same minute (seen as 21 in 60 s in tests/test_telegram_burst.py).
    time = VirtualTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    api = FakeBotApi(time)

    run_sends(time, pacer, api, [("-100", True)] * 21)

    group = sorted(t for t, chat, _ in api.sent if chat == "-100")
    assert group[20] - group[0] > 60.0
