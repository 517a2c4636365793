"""Starts the Matrix adapter from the [matrix] config: log in, then sync until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.clock import Clock, system_clock
from bot.config import MatrixConfig
from bot.delivery_loop import DeliveryLoop
from bot.files import FileMaker
from bot.handler import EventHandler
from bot.matrix.adapter import MatrixAdapter, wait_or_stop
from bot.matrix.login import MatrixSecrets, MatrixUnreachable, log_in, new_client
from bot.matrix.transport import MatrixTransport
from bot.pipeline import Pipeline

log = logging.getLogger(__name__)

# A homeserver that is down at start is asked again after 1, 2, 4, … seconds, at most a minute.
FIRST_START_PAUSE_S = 1.0
MAX_START_PAUSE_S = 60.0
NETWORK_ERRORS = (TimeoutError, OSError, aiohttp.ClientError)
Pause = Callable[[float], Awaitable[None]]


async def run_matrix(
    config: MatrixConfig,
    sessions: sessionmaker[Session],
    handler: EventHandler,
    catalogue: Catalogue,
    *,
    default_locale: str = "sv",
    file_makers: Mapping[str, FileMaker] | None = None,
    environ: Mapping[str, str] | None = None,
    stop: asyncio.Event | None = None,
    clock: Clock = system_clock,
    pause: Pause | None = None,
    pipeline: Pipeline | None = None,
) -> None:
    """Runs the bot account of `config` until `stop` is set or the task is cancelled.

    `clock` is the one the handler and the scheduler use too: the adapter sends the outbox
    rows that are due by it, so a reminder the tick enqueued goes out at the next sync.
    `pause` waits between start attempts while the homeserver is unreachable (tests pass
    their own); by default it wakes early when `stop` is set. `pipeline` is the process's
    (bot/pipeline.py); run on its own, the adapter gets one of its own.
    """
    stop = stop or asyncio.Event()
    wait = pause or (lambda seconds: wait_or_stop(stop, seconds))
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # nio narrates room and user ids at INFO; user ids can hold people's names.
        logging.getLogger("nio").setLevel(logging.WARNING)
    secrets = MatrixSecrets.from_environment(config, environ)
    client = new_client(config, secrets)
    try:
        delay = FIRST_START_PAUSE_S
        while True:
            try:
                sync_token = await log_in(client, config, secrets, sessions)
                break
            except (*NETWORK_ERRORS, MatrixUnreachable) as exc:
                # Nothing is wrong with the bot: a homeserver (or network) that is not up yet.
                reason = str(exc) if isinstance(exc, MatrixUnreachable) else type(exc).__name__
                log.warning(
                    "matrix: the homeserver is not reachable (%s); trying again in %.0f s",
                    reason,
                    delay,
                )
            await wait(delay)
            if stop.is_set():
                return
            delay = min(delay * 2, MAX_START_PAUSE_S)
        transport = MatrixTransport(client, sessions)
        pipeline = pipeline or Pipeline(
            handler, DeliveryLoop(sessions, catalogue, clock=clock, file_makers=file_makers)
        )
        adapter = MatrixAdapter(
            client,
            sessions,
            pipeline,
            transport,
            sync_token=sync_token,
            sync_timeout_ms=config.sync_timeout_seconds * 1000,
            default_locale=default_locale,
            clock=clock,
        )
        await adapter.run(stop)
    finally:
        await client.close()
