"""Starts the Matrix adapter from the [matrix] config: log in, then sync until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import aiohttp
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.clock import Clock, system_clock
from bot.config import MatrixConfig
from bot.delivery import Deliverer
from bot.files import FileMaker
from bot.handler import EventHandler
from bot.matrix import PLATFORM
from bot.matrix.adapter import MatrixAdapter
from bot.matrix.login import MatrixSecrets, MatrixStartError, log_in, new_client
from bot.matrix.transport import MatrixTransport


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
) -> None:
    """Runs the bot account of `config` until `stop` is set or the task is cancelled.

    `clock` is the one the handler and the scheduler use too: the adapter sends the outbox
    rows that are due by it, so a reminder the tick enqueued goes out at the next sync.
    """
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # nio narrates room and user ids at INFO; user ids can hold people's names.
        logging.getLogger("nio").setLevel(logging.WARNING)
    secrets = MatrixSecrets.from_environment(config, environ)
    client = new_client(config, secrets)
    try:
        try:
            sync_token = await log_in(client, config, secrets, sessions)
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise MatrixStartError(
                f"cannot reach the homeserver {config.homeserver}: {type(exc).__name__}"
            ) from exc
        transport = MatrixTransport(client, sessions, clock)
        deliverer = Deliverer(
            sessions, catalogue, {PLATFORM: transport}, clock, file_makers=file_makers
        )
        adapter = MatrixAdapter(
            client,
            sessions,
            handler,
            deliverer,
            sync_token=sync_token,
            sync_timeout_ms=config.sync_timeout_seconds * 1000,
            default_locale=default_locale,
            clock=clock,
        )
        await adapter.run(stop)
    finally:
        await client.close()
