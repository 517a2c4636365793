"""The one inbound pipeline every connector hands its updates to.

What a platform update goes through after its connector translated it, the same for the
terminal, Telegram and Matrix:

1. **Per-chat order**, here and nowhere else: one update of a chat at a time, in the order
   the connector submitted them (asyncio locks are first come, first served), many chats at
   once. The replies of one update are sent before the next update of its chat is handled.
2. **The handler's thread**: the flow step waits on the database, so it runs in a worker
   thread while the event loop goes on with the other chats, the ticker and the leases.
3. **The step** (bot/handler.py): inbox, state, what a typed number or label means
   (flows/choice_reading.py, through the engine), the flow, the audience check, the outbox, all
   in one transaction.
4. **Delivery** through the process's one delivery loop (bot/delivery_loop.py).
5. **Errors**: when handling fails for a reason of ours (the database is away), the person
   is told to try again in a moment, directly, since the outbox is what failed. A connector
   that can replay the update later (Matrix's sync token) gets database errors raised back,
   so it does not move past an update that was never handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from bot.catalogue import RenderedMessage
from bot.connector import Unreadable
from bot.delivery import Outgoing
from bot.delivery_loop import DeliveryLoop
from bot.handler import EventHandler
from bot.metrics import HandledOutcome, Metrics
from flows.conversation import ConversationRef, Inbound

log = logging.getLogger(__name__)

# What someone hears when their message could not be handled at all (see 5. above).
TRY_AGAIN = "common.try_again"


class KeyedLocks:
    """One asyncio lock per key, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        """Holds the key's lock; waiters get it in the order they asked (asyncio is FIFO)."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class Pipeline:
    """Hands translated updates to the flows, one at a time per chat, and sends the replies."""

    def __init__(
        self, handler: EventHandler, delivery: DeliveryLoop, metrics: Metrics | None = None
    ) -> None:
        self.handler = handler
        self.delivery = delivery
        self.metrics = metrics
        self._chats = KeyedLocks()

    async def submit(
        self,
        update: Inbound | Unreadable,
        *,
        replayable: bool = False,
        first: Callable[[], Awaitable[None]] | None = None,
        before_delivery: Callable[[Outgoing], Awaitable[None]] | None = None,
    ) -> None:
        """Handles one translated update in its chat's turn and sends what it answered.

        With `replayable`, a database error is raised back after the person was told, so
        the connector can hand the update in again later instead of skipping it. `first`
        runs in the chat's turn before the update is handled (a connector's own work for it,
        such as taking a pressed button's keyboard away), so that work cannot let a later
        update of the chat overtake this one. `before_delivery` runs in the same turn once the
        update was handled, given what it answered (not after a failure).
        """
        ref = update.ref
        async with self._chats.hold((ref.platform, ref.chat_id)):
            if first is not None:
                await first()
            started = time.perf_counter()
            try:
                if isinstance(update, Unreadable):
                    rows = await asyncio.to_thread(self.handler.answer_unreadable, update)
                else:
                    rows = await asyncio.to_thread(self.handler.handle, update)
            except Exception as exc:
                self._count(ref.platform, HandledOutcome.ERROR, started)
                # The update is not recorded (its transaction rolled back); no content logged.
                log.error(
                    "an update on %s could not be handled: %s", ref.platform, type(exc).__name__
                )
                await self._say_try_again(ref)
                if replayable and isinstance(exc, SQLAlchemyError):
                    raise
                return
            readable = not isinstance(update, Unreadable)
            outcome = HandledOutcome.HANDLED if readable else HandledOutcome.UNREADABLE
            self._count(ref.platform, outcome, started)
            if before_delivery is not None:
                await before_delivery(rows)
            await self.deliver(rows)

    def _count(self, platform: str, outcome: HandledOutcome, started: float) -> None:
        """Counts one update and its step's latency, when the process keeps metrics."""
        if self.metrics is not None:
            self.metrics.handled_event(platform, outcome, time.perf_counter() - started)

    async def deliver(self, rows: Outgoing) -> None:
        """Sends what one update left, through the process's delivery loop."""
        if rows:
            await self.delivery.deliver(rows)

    async def _say_try_again(self, ref: ConversationRef) -> None:
        """Tells the person something failed on our side, rather than leaving them in silence."""
        connector = self.delivery.connector(ref.platform)
        if connector is None:
            return
        catalogue = self.delivery.catalogue
        text = catalogue.render(
            TRY_AGAIN, {}, catalogue.default_locale, connector.capabilities.text_format
        )
        await self.delivery.send_directly(ref.platform, ref.chat_id, RenderedMessage(text, ()))
