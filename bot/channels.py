"""Inbound channels (a Telegram long-poll, a Matrix sync) and the lease that lets exactly one
process poll each.

A process polls a channel only while it holds the channel's lease. The holder renews every
`renew_every`; if it dies, the lease lapses after `ttl` and another process takes over, so
takeover is bounded by `ttl + renew_every`. A holder that cannot renew (database gone) stops
its channel `margin` before its lease runs out, so two pollers never overlap. Adapters
therefore keep one poll shorter than `margin` (e.g. a long-poll timeout of 10 s for a margin
of 15 s) and stop promptly when asked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class InboundChannel(Protocol):
    """A source of inbound updates that only one process may poll at a time."""

    # Stable over restarts and the same in every process, e.g. "telegram" or "matrix".
    name: str

    async def start(self) -> None:
        """Starts polling in the background and returns."""
        ...

    async def stop(self) -> None:
        """Stops polling; returns when no poll is in flight any more."""
        ...


@dataclass(frozen=True, slots=True)
class LeaseSettings:
    """How long a lease lasts, how often it is renewed, how early a holder gives up."""

    ttl: timedelta = timedelta(seconds=30)
    renew_every: timedelta = timedelta(seconds=10)
    margin: timedelta = timedelta(seconds=15)

    def __post_init__(self) -> None:
        if not self.renew_every < self.margin < self.ttl:
            raise ValueError("leases need renew_every < margin < ttl")


DEFAULT_LEASES = LeaseSettings()


class ChannelKeeper:
    """Takes, renews and gives up the leases of this process's channels, starting and
    stopping each channel to match."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Sequence[InboundChannel],
        holder: str,
        settings: LeaseSettings = DEFAULT_LEASES,
        clock: Clock = system_clock,
    ) -> None:
        self._sessions = sessions
        self._channels = list(channels)
        self._holder = holder
        self._settings = settings
        self._clock = clock
        self._held_until: dict[str, datetime] = {}

    def holds(self, name: str) -> bool:
        """True while this process may poll the channel."""
        until = self._held_until.get(name)
        return until is not None and self._clock() < until - self._settings.margin

    async def keep(self) -> None:
        """One round: take or renew each lease; start what we got, stop what we lost."""
        for channel in self._channels:
            now = self._clock()
            try:
                with UnitOfWork(self._sessions) as uow:
                    held = uow.leases.acquire(channel.name, self._holder, now, self._settings.ttl)
                    uow.commit()
            except Exception as exc:  # the database may be away; decide by the old lease
                log.warning("lease on %s not renewed: %s", channel.name, type(exc).__name__)
                if channel.name in self._held_until and not self.holds(channel.name):
                    await self._stop(channel)
                continue
            running = channel.name in self._held_until
            if held:
                self._held_until[channel.name] = now + self._settings.ttl
                if not running:
                    log.info("took the lease on channel %s; polling", channel.name)
                    await channel.start()
            elif running:
                await self._stop(channel)

    async def release_all(self) -> None:
        """Stops every channel and gives its lease up, for a clean shutdown."""
        for channel in self._channels:
            if channel.name in self._held_until:
                await self._stop(channel)
                with UnitOfWork(self._sessions) as uow:
                    uow.leases.release(channel.name, self._holder, self._clock())
                    uow.commit()

    async def _stop(self, channel: InboundChannel) -> None:
        """Stops polling a channel we no longer (surely) hold."""
        log.info("stopping channel %s: lease lost or given up", channel.name)
        self._held_until.pop(channel.name, None)
        await channel.stop()
