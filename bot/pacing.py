"""Outgoing pacing for any platform: stays under its limits instead of hitting them.

A platform's limits are data (bot/connector.py `SendLimits`, e.g. Telegram's: about 30
messages a second per bot, one a second in a chat, 20 a minute in a group). The pacer admits
one send at a time per chat, spaces them, keeps every one-second window at or below the
global rate and every group's minute at or below its limit, stops every chat while the
platform asks to wait (a rate limit applies to the whole bot), and retries network failures
in place with exponential backoff. Which of a platform's errors mean "wait" and which "try
again" is the connector's to say (`SendErrors`; Telegram's in bot/telegram/pacer.py). Clock
and sleep are injected so tests run on a virtual clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.connector import SendLimits

log = logging.getLogger(__name__)

T = TypeVar("T")
MonotonicClock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


UNREACHED = 1_000_000


@dataclass(frozen=True, slots=True)
class PacerLimits:
    """The limits the pacer keeps; the defaults are Telegram's published ones."""

    per_second: int = 30
    # Telegram counts when a message arrives, not when we admitted it; the time between the
    # two varies (encoding, the event loop, the network), so a window is kept this much
    # longer than a second. Without it, 31 messages arrived within one second in
    # bench/delivery.py (at the cost of 30 per 1.05 s, 28.6 messages/s at most).
    window_margin: float = 0.05
    # When the window is full, a send waits not only for the oldest slot but also for the
    # slots freed up to this long after it, so the messages behind it go out together: one
    # wake-up per burst instead of one per message. Waiting for the oldest slot alone keeps
    # every gap between admissions (a gap only ever grows), until a backlog sent in turn
    # wakes up for nearly every message: about 500 wake-ups for 1,000 nudges in
    # bench/delivery.py, 81 with this. It costs at most this long per window: at least 30
    # per 1.1 s, 27.3 messages/s.
    burst_gather: float = 0.05
    chat_interval: float = 1.0
    # The same for a chat's spacing: a message slow on its way followed by a quick one
    # arrived 0.996 s after it in a CI run (tests/test_telegram_burst.py), so new messages to
    # a chat are admitted this much more than `chat_interval` apart. A private chat's next
    # new message waits 1.05 s instead of 1 s; answers that edit the tapped message do not
    # wait at all.
    chat_margin: float = 0.05
    group_per_minute: int = 20
    # Network failures (timeouts, 5xx, refused connections) are retried this often in
    # place before the outbox takes over with its own, slower, backoff.
    network_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # A 429 is honoured this many times for one message before it goes back to the outbox.
    rate_limit_attempts: int = 5

    @classmethod
    def of(cls, limits: SendLimits) -> PacerLimits:
        """The pacer's limits for a platform's published ones (bot/connector.py)."""
        # A limit the platform does not set is one the pacer never reaches.
        return cls(
            per_second=limits.per_second or UNREACHED,
            chat_interval=limits.chat_interval,
            group_per_minute=limits.group_per_minute or UNREACHED,
        )


class RateLimitedTooOften(Exception):
    """The platform kept asking to wait for one message; the outbox retries it later."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"still rate limited, retry after {seconds:.1f} s")
        self.seconds = seconds


def _never_asked_to_wait(exc: BaseException) -> float | None:
    """No error of an unknown platform is a request to wait."""
    return None


def _never_worth_retrying(exc: BaseException) -> bool:
    """No error of an unknown platform is retried in place (the outbox retries later)."""
    return False


@dataclass(frozen=True, slots=True)
class SendErrors:
    """How a platform's errors read to the pacer."""

    # Seconds the platform asks the whole bot to wait (HTTP 429), or None for other errors.
    retry_after: Callable[[BaseException], float | None] = _never_asked_to_wait
    # A network failure (timeout, 5xx, refused connection) worth trying again in place.
    transient: Callable[[BaseException], bool] = _never_worth_retrying


class Pacer:
    """Admits sends one at a time per chat within the global, chat and group limits."""

    def __init__(
        self,
        limits: PacerLimits | None = None,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
        errors: SendErrors | None = None,
    ) -> None:
        self.limits = limits or PacerLimits()
        self._errors = errors or SendErrors()
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        # Admission times of the last `per_second` sends, for the sliding one-second window.
        self._recent: deque[float] = deque(maxlen=self.limits.per_second)
        self._group_recent: dict[str, deque[float]] = {}
        self._chat_next: dict[str, float] = {}
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._chat_users: dict[str, int] = {}
        self._global = asyncio.Lock()
        self._paused_until = 0.0

    @property
    def paused_until(self) -> float:
        """Clock time until which nothing is sent (after a 429)."""
        return self._paused_until

    def pause(self, seconds: float) -> None:
        """Stops every send for `seconds`: a platform's rate limit is for the whole bot."""
        until = self._clock() + max(seconds, 0.0)
        if until > self._paused_until:
            self._paused_until = until
            log.warning("the platform asked to wait %.1f s; all sending paused", seconds)

    async def send(
        self,
        chat_id: str,
        is_group: bool,
        call: Callable[[], Awaitable[T]],
        *,
        new_message: bool = True,
    ) -> T:
        """Runs one Bot API call for a chat when the limits allow, retrying 429s and outages.

        An edit of a message already in the chat (`new_message=False`, e.g. taking pressed
        buttons off) counts in the bot's one-second window and the group's minute like any
        message, but neither waits for nor delays the chat's next message: the one per
        second per chat is about new messages, and the answer to the press follows at once.
        """
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        self._chat_users[chat_id] = self._chat_users.get(chat_id, 0) + 1
        try:
            async with lock:
                return await self._send_in_order(chat_id, is_group, call, new_message)
        finally:
            self._chat_users[chat_id] -= 1
            if self._chat_users[chat_id] == 0:
                # Forget idle chats' locks so memory does not grow with every chat ever seen;
                # their spacing times stay until they are in the past (see _forget_old).
                del self._chat_users[chat_id]
                self._chat_locks.pop(chat_id, None)

    async def _send_in_order(
        self, chat_id: str, is_group: bool, call: Callable[[], Awaitable[T]], new_message: bool
    ) -> T:
        """One message of one chat: admission, call, and the retries it needs."""
        network_failures = 0
        rate_limits = 0
        while True:
            await self._admit(chat_id, is_group, new_message)
            try:
                return await call()
            except Exception as exc:
                seconds = self._errors.retry_after(exc)
                if seconds is not None:
                    rate_limits += 1
                    self.pause(seconds)
                    if rate_limits >= self.limits.rate_limit_attempts:
                        raise RateLimitedTooOften(seconds) from exc
                    continue
                if not self._errors.transient(exc):
                    raise
                network_failures += 1
                if network_failures >= self.limits.network_attempts:
                    raise
                delay = self._backoff(network_failures)
                log.info(
                    "send failed (%s); retry %d in %.1f s",
                    type(exc).__name__,
                    network_failures,
                    delay,
                )
                await self._sleep(delay)

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with jitter, so many chats do not retry in step."""
        ceiling = min(self.limits.backoff_base * 2 ** (failures - 1), self.limits.backoff_max)
        return self._jitter(ceiling / 2, ceiling)

    async def _admit(self, chat_id: str, is_group: bool, new_message: bool = True) -> None:
        """Waits until this chat may send, then takes a slot in the global window."""
        # Chat and group spacing are waited for outside the global lock, so a chat that must
        # wait never holds up the others.
        if new_message:
            await self._sleep_until(self._chat_next.get(chat_id, 0.0))
        if is_group:
            window = self._group_recent.setdefault(
                chat_id, deque(maxlen=self.limits.group_per_minute)
            )
            if len(window) == window.maxlen:
                # As for the bot's second: Telegram counts arrivals, kept a margin apart.
                await self._sleep_until(window[0] + 60.0 + self.limits.window_margin)
        async with self._global:
            while True:
                now = self._clock()
                ready = self._paused_until
                second = 1.0 + self.limits.window_margin
                if len(self._recent) == self._recent.maxlen and now < self._recent[0] + second:
                    # The oldest of the last `per_second` sends must be a full second ago;
                    # those admitted just after it are waited for too (burst_gather).
                    ready = max(ready, self._gathered_slot() + second)
                if now >= ready:
                    break
                await self._sleep(ready - now)
            self._recent.append(now)
        if new_message and self.limits.chat_interval > 0:
            self._chat_next[chat_id] = now + self.limits.chat_interval + self.limits.chat_margin
        if is_group:
            self._group_recent[chat_id].append(now)
        self._forget_old(now)

    def _gathered_slot(self) -> float:
        """The newest admission at most `burst_gather` after the oldest in the window."""
        limit = self._recent[0] + self.limits.burst_gather
        gathered = self._recent[0]
        for moment in self._recent:  # in admission order: the clock never goes back
            if moment > limit:
                break
            gathered = moment
        return gathered

    async def _sleep_until(self, moment: float) -> None:
        """Sleeps until the clock reaches `moment` (at once if it has)."""
        while (remaining := moment - self._clock()) > 0:
            await self._sleep(remaining)

    def _forget_old(self, now: float) -> None:
        """Drops spacing records that can no longer delay anyone (bounded memory)."""
        if len(self._chat_next) > 4 * self.limits.per_second:
            for chat_id in [c for c, t in self._chat_next.items() if t <= now]:
                del self._chat_next[chat_id]
                window = self._group_recent.get(chat_id)
                if window is not None and (not window or window[-1] + 60.0 <= now):
                    del self._group_recent[chat_id]
