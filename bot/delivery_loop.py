"""The process's one delivery loop: every connector's messages leave through here.

A connector attaches itself once it can send (Telegram after getMe, Matrix after its first
sync, the terminal at once) and detaches when it stops, so only the process that holds a
platform's channel sends its messages. Three ways in, one deliverer (bot/delivery.py) behind:

- `deliver(rows)`: what handling one event or one tick left to send, at once;
- `sweep()`: every few seconds, what is still pending (retries, rows a crash left behind),
  leaving fresh rows for a moment to the path that made them, so a chat's messages are never
  sent by two paths at once (which could mix their order);
- rows being sent by this process are remembered (`OutboxClaims`), so no path sends one twice;
- a follow-up: replies written while an older message of their chat was being sent (a
  reminder, another person's notice) are sent as soon as a delivery here ends, not by the
  next sweep: quick taps never wait for one (`Outgoing.waiting`, `_follow_up`).

The platforms' speed limits are the connectors' data (bot/connector.py `SendLimits`), kept by
each connector's pacer (bot/pacing.py) around every call it makes to its platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage
from bot.clock import Clock, system_clock
from bot.delivery import DEFAULT_POLICY, Deliverer, DeliveryPolicy, Outgoing, Transport
from bot.files import FileMaker
from bot.metrics import Metrics
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
# The sweep leaves fresh rows to the event that made them, so a chat's replies are not sent
# by two paths at once (which could mix their order).
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 100
# How long one sweep (or the sending of one tick's rows) goes on batch after batch; what is
# left waits for the next sweep, a few seconds later. A process's catch-up after start sweeps
# before its ticker runs, and the ticker renews the channel leases: this keeps the catch-up
# well inside the default lease's margin (45 s), so polling never pauses for a backlog.
SWEEP_BUDGET = timedelta(seconds=30)


@dataclass
class OutboxClaims:
    """Outbox rows being sent by this process, so no two paths send one twice."""

    claimed: set[int] = field(default_factory=set)

    def claim(self, ids: Iterable[int]) -> list[int]:
        """The ids nobody here is sending yet, now claimed."""
        free = [i for i in ids if i not in self.claimed]
        self.claimed.update(free)
        return free

    def release(self, ids: Iterable[int]) -> None:
        """Gives the ids back after a delivery attempt."""
        self.claimed.difference_update(ids)


class DeliveryLoop:
    """Sends the outbox of every attached connector: at once after an event, and by sweeps."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        *,
        clock: Clock = system_clock,
        file_makers: Mapping[str, FileMaker] | None = None,
        process_id: str = "local",
        policy: DeliveryPolicy = DEFAULT_POLICY,
        connectors: Sequence[Transport] = (),
        sweep_grace: timedelta = SWEEP_GRACE,
        metrics: Metrics | None = None,
        sweep_budget: timedelta = SWEEP_BUDGET,
    ) -> None:
        self._sessions = sessions
        self._sweep_grace = sweep_grace
        self._sweep_budget = sweep_budget.total_seconds()
        self._batch_size = policy.batch_size
        self._clock = clock
        self.catalogue = catalogue
        self.deliverer = Deliverer(
            sessions,
            catalogue,
            {c.platform: c for c in connectors},
            clock,
            file_makers,
            process_id=process_id,
            policy=policy,
            metrics=metrics,
        )
        self._claims = OutboxClaims()
        # Chats whose replies wait behind a send in flight (Outgoing.waiting), and since
        # when: looked at again as soon as any delivery here ends, until the sweep's grace
        # is over (then the sweep takes them, as it takes a chat held by a retry).
        self._waiting_chats: dict[tuple[str, str], datetime] = {}
        self._following_up = False
        self._sweeper: asyncio.Task[None] | None = None
        self._stop_sweeping = asyncio.Event()

    # --- connectors ----------------------------------------------------------------------

    def attach(self, connector: Transport) -> None:
        """From now on this process sends the connector's platform's messages."""
        self.deliverer.attach(connector)

    def detach(self, platform: str) -> None:
        """This process no longer sends to the platform (its channel stopped)."""
        self.deliverer.detach(platform)

    def connector(self, platform: str) -> Transport | None:
        """The attached connector of a platform, if any."""
        return self.deliverer.transport(platform)

    # --- sending -------------------------------------------------------------------------

    async def deliver(self, rows: Outgoing | Sequence[int]) -> int:
        """Sends what handling one event (or a tick) left; returns how many were sent."""
        sent = 0
        if isinstance(rows, Outgoing):
            # Noted before anything is awaited: a send to the chat that ends meanwhile then
            # finds them in its follow-up.
            self._waiting_chats.update(dict.fromkeys(rows.waiting, self._clock()))
            # Replies claimed in the handler's transaction are this process's alone (a sweep
            # takes a claimed row only once its claim ran out); notices are claimed as usual.
            if rows.claimed:
                sent += await self.deliverer.deliver(Outgoing(rows.claimed))
            ids = list(rows.ids)
        else:
            ids = list(rows)
        sent += await self._deliver_ids(ids)
        return sent + await self._follow_up()

    async def sweep(self, *, only: str | None = None, fresh_too: bool = False) -> int:
        """Sends the pending rows of the attached platforms (or `only` one) that have been
        due for a while, or whose claim ran out; `fresh_too` also the ones just written (for
        a connector that handles its events one at a time, so none of its own is in flight)."""
        wanted = [only] if only is not None else list(self.deliverer.platforms)
        due_by = self._clock() - (timedelta(0) if fresh_too else self._sweep_grace)
        # Batch after batch until nothing due by then is left (or the budget is spent): one
        # batch a sweep (every few seconds) held a backlog of nudges far below the platform's
        # rate (issue 26). Rows tried once in this sweep are not tried again in it (a failed
        # one is due again only after its backoff; one given back at once waits for the next
        # sweep), so it ends.
        started = time.monotonic()
        sent = 0
        tried: set[int] = set()
        while not self._spent(started) or not tried:
            # A connector detached meanwhile (its channel stopped) is no longer swept.
            platforms = [p for p in wanted if p in self.deliverer.platforms]
            if not platforms:
                break
            ids = await asyncio.to_thread(self._due_ids, platforms, due_by)
            new = [i for i in ids if i not in tried]
            if not new:
                break
            tried.update(new)
            sent += await self._deliver_ids(new, started)
            if len(ids) < SWEEP_BATCH:
                break  # no platform had a full batch: that was all that was due
        return sent + await self._follow_up()

    async def send_directly(self, platform: str, chat_id: str, message: RenderedMessage) -> None:
        """Sends one message outside the outbox (when the database itself failed us);
        a failure is logged, never raised: this is the last thing left to try."""
        connector = self.connector(platform)
        if connector is None:
            return
        try:
            await connector.send(chat_id, message, "")
        except Exception as exc:
            log.warning("could not tell a chat about a failure: %s", type(exc).__name__)

    async def _deliver_ids(self, ids: list[int], started: float | None = None) -> int:
        """Sends the rows nobody here is sending yet, a batch at a time, until the budget
        counted from `started` (now if not given) is spent; the rest waits for a sweep."""
        claimed = self._claims.claim(ids)
        if not claimed:
            return 0
        started = time.monotonic() if started is None else started
        sent = 0
        try:
            for start in range(0, len(claimed), self._batch_size):
                if start and self._spent(started):
                    break
                sent += await self.deliverer.deliver(claimed[start : start + self._batch_size])
            return sent
        finally:
            self._claims.release(claimed)

    def _spent(self, started: float) -> bool:
        """Whether a sweep begun at `started` (time.monotonic) has used up its budget."""
        return time.monotonic() - started >= self._sweep_budget

    async def _follow_up(self) -> int:
        """Sends the waiting chats' due rows now that a send here ended; returns how many.

        A chat whose older message is still on its way (sent by another delivery here, or
        by another process) stays waiting for the next delivery to end; one with nothing
        due left (sent, or waiting for a retry's time) is done, the sweep keeps the rest.
        """
        if not self._waiting_chats or self._following_up:
            return 0
        self._following_up = True
        sent = 0
        try:
            for chat, since in sorted(self._waiting_chats.items()):
                if chat[0] not in self.deliverer.platforms or (
                    self._clock() - since >= self._sweep_grace
                ):
                    # Another process sends this platform, or the sweep's turn has come.
                    self._waiting_chats.pop(chat, None)
                    continue
                ids = await asyncio.to_thread(self._chat_due_ids, chat)
                done = await self._deliver_ids(ids) if ids else 0
                sent += done
                if not ids or done:
                    self._waiting_chats.pop(chat, None)
        finally:
            self._following_up = False
        return sent

    def _chat_due_ids(self, chat: tuple[str, str]) -> list[int]:
        """One chat's pending rows due now, oldest first."""
        with UnitOfWork(self._sessions) as uow:
            return uow.outbox.chat_due_ids(chat[0], chat[1], self._clock())

    def _due_ids(self, platforms: list[str], due_by: datetime) -> list[int]:
        """Rows of the platforms due by then (or whose claim ran out), oldest first."""
        with UnitOfWork(self._sessions) as uow:
            ids: list[int] = []
            for platform in platforms:
                ids += uow.outbox.due_ids(due_by, platform, SWEEP_BATCH)
            return ids

    # --- the periodic sweep (for a connector run on its own; a process's Runtime sweeps
    # from its ticker instead) --------------------------------------------------------------

    def start_sweeping(self, every: float = SWEEP_SECONDS) -> None:
        """Sweeps every `every` seconds in the background until stop_sweeping()."""
        self._stop_sweeping = asyncio.Event()
        self._sweeper = asyncio.create_task(self._sweep_forever(every), name="outbox-sweeper")

    async def stop_sweeping(self) -> None:
        """Stops the background sweep after the one in hand."""
        task, self._sweeper = self._sweeper, None
        if task is None:
            return
        self._stop_sweeping.set()
        await task

    async def _sweep_forever(self, every: float) -> None:
        """Sweeps until asked to stop; a failed sweep is logged and tried again."""
        while not self._stop_sweeping.is_set():
            try:
                await self.sweep()
            except Exception as exc:
                log.error("outbox sweep failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_sweeping.wait(), every)
