"""The optional monitoring listener ([health] in the config): GET /healthz and GET /metrics.

/healthz answers 200 with a JSON summary, or 503 naming what fails in "failing":
- database: reachable ("ok") or not ("unreachable");
- schema: at the migrations this code needs ("current") or not ("out of date");
- channels: each inbound channel of the process (Telegram, Matrix) "held" by this process,
  "held elsewhere" by another one, or "not held": nobody polls it, people go unanswered (or
  this process has not renewed its lease in time: it is held up);
- last_tick_age_seconds: since any process last finished a tick; stale after a few ticks.

/metrics gives bot/metrics.py's registry in the Prometheus text format.

It binds to loopback by default and has no authentication: neither answer holds a name, a
chat id or content, only counts, platform names and states. Requests are not logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import ChannelKeeper, InboundChannel
from bot.clock import Clock, system_clock
from bot.config import Config, ConfigError, HealthConfig
from bot.metrics import CONTENT_TYPE, Metrics
from storage.schema import current_revisions, head_revisions
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    # aiohttp.web takes a while to import: only a bot with [health] enabled does (start()).
    from aiohttp import web

    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# A check that takes longer than this counts as a database that does not answer.
CHECK_TIMEOUT_S = 10.0
# The last tick is stale after this many tick periods, and never sooner than the floor
# (a catch-up after downtime may take a while, and a tick only counts once it is done).
STALE_AFTER_TICKS = 5
STALE_FLOOR = timedelta(minutes=5)

HELD = "held"
HELD_ELSEWHERE = "held elsewhere"
NOT_HELD = "not held"


def stale_after(tick_every: timedelta) -> timedelta:
    """How old the last tick may be before /healthz says the bot stopped ticking."""
    return max(tick_every * STALE_AFTER_TICKS, STALE_FLOOR)


@dataclass(frozen=True, slots=True)
class Health:
    """One answer of /healthz: what was found, and which parts fail."""

    database: str = "ok"
    schema: str = "current"
    channels: dict[str, str] = field(default_factory=dict)
    last_tick_age_seconds: float | None = None
    failing: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing fails."""
        return not self.failing

    def body(self) -> dict[str, object]:
        """The JSON body."""
        return {
            "status": "ok" if self.ok else "failing",
            "database": self.database,
            "schema": self.schema,
            "channels": self.channels,
            "last_tick_age_seconds": self.last_tick_age_seconds,
            "failing": list(self.failing),
        }


class HealthServer:
    """The HTTP listener for /healthz and /metrics, beside the bot in one process."""

    def __init__(
        self,
        settings: HealthConfig,
        engine: Engine,
        sessions: sessionmaker[Session],
        keeper: ChannelKeeper,
        channels: Sequence[str],
        metrics: Metrics,
        *,
        process_id: str,
        tick_stale_after: timedelta = STALE_FLOOR,
        clock: Clock = system_clock,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._sessions = sessions
        self._keeper = keeper
        self._channels = list(channels)
        self._metrics = metrics
        self._process_id = process_id
        self._stale_after = tick_stale_after
        self._clock = clock
        # Read once: the migrations this code needs do not change while it runs.
        self._heads = head_revisions(engine)
        self._started = clock()
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose, when asked for port 0)."""
        if self._runner is None:
            raise RuntimeError("the health listener is not running")
        address = self._runner.addresses[0]
        return int(address[1])

    async def start(self) -> None:
        """Starts listening; a plain ConfigError when the address cannot be bound."""
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        # No access log: the requests are the monitoring's, every few seconds.
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._settings.listen, self._settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"[health] cannot listen on {self._settings.listen} port {self._settings.port}:"
                f" {exc.strerror or type(exc).__name__}"
            ) from exc
        self._runner = runner
        self._started = self._clock()
        log.info("health listener on %s port %d", self._settings.listen, self.port)

    async def stop(self) -> None:
        """Stops listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def check(self) -> Health:
        """Looks at the database, the schema, the channels and the last tick."""
        # The keeper is the event loop's: asked here, not in the worker thread.
        ours = {name: self._keeper.renewed_in_time(name) for name in self._channels}
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._check, ours, self._clock()), CHECK_TIMEOUT_S
            )
        except TimeoutError:
            log.warning("health: the database did not answer in time")
            return self._unreachable(ours)

    def _check(self, ours: dict[str, bool], now: datetime) -> Health:
        """The checks that read the database (in a worker thread)."""
        try:
            current = current_revisions(self._engine)
            with UnitOfWork(self._sessions) as uow:
                last_tick = uow.processes.last_tick()
                leases = {lease.channel: lease for lease in uow.leases.holders()}
        except Exception as exc:
            log.warning("health: the database cannot be read: %s", type(exc).__name__)
            return self._unreachable(ours)
        failing: list[str] = []
        schema = "current" if current == self._heads else "out of date"
        if current != self._heads:
            failing.append("schema")
        channels: dict[str, str] = {}
        for name, held in ours.items():
            lease = leases.get(name)
            if held:
                channels[name] = HELD
            elif lease is not None and lease.holder != self._process_id and lease.expires_at > now:
                channels[name] = HELD_ELSEWHERE
            else:
                channels[name] = NOT_HELD
        if NOT_HELD in channels.values():
            failing.append("channels")
        age = None if last_tick is None else max((now - last_tick).total_seconds(), 0.0)
        # A process just started is given the same time a tick may be late (its catch-up
        # tick runs first), even if the last tick of any process is older.
        since = self._started if last_tick is None else max(last_tick, self._started)
        if now - since > self._stale_after:
            failing.append("last_tick")
        return Health("ok", schema, channels, age, tuple(failing))

    def _unreachable(self, ours: dict[str, bool]) -> Health:
        """The answer when the database cannot be reached: only our own channels are known."""
        channels = {name: HELD if held else "unknown" for name, held in ours.items()}
        return Health("unreachable", "unknown", channels, None, ("database",))

    async def _healthz(self, _request: web.Request) -> web.Response:
        """GET /healthz."""
        from aiohttp import web

        health = await self.check()
        return web.Response(
            text=json.dumps(health.body()),
            status=200 if health.ok else 503,
            content_type="application/json",
        )

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        """GET /metrics (the outbox gauges query the database: off the event loop)."""
        from aiohttp import web

        body = await asyncio.to_thread(self._metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def serve_health(
    config: Config,
    engine: Engine,
    sessions: sessionmaker[Session],
    runtime: Runtime,
    channels: Sequence[InboundChannel],
    metrics: Metrics | None,
) -> HealthServer | None:
    """The listener `samverkan run` starts when [health] is enabled (None when not)."""
    if not config.health.enabled or metrics is None:
        return None
    return HealthServer(
        config.health,
        engine,
        sessions,
        runtime.keeper,
        [channel.name for channel in channels],
        metrics,
        process_id=runtime.process_id,
        tick_stale_after=stale_after(config.delivery.ticker().tick_every),
    )


@contextlib.asynccontextmanager
async def listening(server: HealthServer | None) -> AsyncIterator[None]:
    """Runs the listener (if there is one) for as long as the block runs."""
    if server is None:
        yield
        return
    await server.start()
    try:
        yield
    finally:
        await server.stop()
