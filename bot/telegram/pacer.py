"""Telegram's side of pacing (bot/pacing.py): which Bot API errors mean "wait" and which
"try again", and the pacer that reads them so.

A 429 (`RetryAfter`) pauses every chat for as long as Telegram says; a timeout, a refused
connection or a 5xx (`NetworkError`, `TimedOut`) is tried again in place with backoff; a
`BadRequest` (a subclass of `NetworkError`) never is: sending it again cannot fix it.
"""

from __future__ import annotations

import asyncio
import random
import time
import warnings
from collections.abc import Callable

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot import pacing
from bot.pacing import MonotonicClock, PacerLimits, SendErrors, Sleep


def _retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for; PTB 22 gives int seconds or (opted in) a timedelta."""
    with warnings.catch_warnings():
        # Reading it as int warns about the coming change; both types are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after: object = exc.retry_after
    total = getattr(retry_after, "total_seconds", None)
    if callable(total):
        return float(total())
    return float(retry_after)  # type: ignore[arg-type]


def telegram_wait(exc: BaseException) -> float | None:
    """The seconds a 429 asks every chat to wait; None for any other error."""
    return _retry_after_seconds(exc) if isinstance(exc, RetryAfter) else None


def telegram_transient(exc: BaseException) -> bool:
    """A network failure or a 5xx, worth trying again in place (never a bad request)."""
    return isinstance(exc, TimedOut | NetworkError) and not isinstance(exc, BadRequest)


TELEGRAM_ERRORS = SendErrors(retry_after=telegram_wait, transient=telegram_transient)


class Pacer(pacing.Pacer):
    """The pacer, reading the Bot API's errors (see the module docstring)."""

    def __init__(
        self,
        limits: PacerLimits | None = None,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        super().__init__(limits, clock, sleep, jitter, errors=TELEGRAM_ERRORS)
