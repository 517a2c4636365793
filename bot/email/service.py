"""Starting e-mail in `samverkan run`: the secrets from the environment, the connector
attached to the delivery loop while this process holds the "email" channel."""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.clock import Clock, system_clock
from bot.config import Config, ConfigError
from bot.email.connector import EmailConnector, smtp_login
from bot.email.links import LinkSigner
from bot.pipeline import Pipeline
from flows.coordinator_reminders import NudgeContent

LINK_KEY_ENV = "SAMVERKAN_LINK_KEY"
LINK_KEY_BYTES = 32


def link_signer(config: Config, environ: Mapping[str, str] | None = None) -> LinkSigner:
    """The signer of the answer links, with the key in SAMVERKAN_LINK_KEY (base64, 32 bytes)."""
    env = os.environ if environ is None else environ
    try:
        key = base64.b64decode(env.get(LINK_KEY_ENV, ""), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != LINK_KEY_BYTES:
        raise ConfigError(
            f"[email] set {LINK_KEY_ENV} to the base64 of {LINK_KEY_BYTES} random bytes "
            "(e.g. `openssl rand -base64 32`)"
        )
    return LinkSigner(key, config.email.public_url)


def email_connector(
    config: Config,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    environ: Mapping[str, str] | None = None,
    *,
    clock: Clock = system_clock,
) -> EmailConnector:
    """The connector [email] describes; refuses to start without the link key."""
    env = dict(os.environ if environ is None else environ)
    # The texts go by e-mail only when the operator allowed both (neutral by default).
    full = config.email.full_content and config.nudges.content is NudgeContent.FULL
    return EmailConnector(
        sessions,
        config.email,
        catalogue,
        link_signer(config, env),
        login=smtp_login(env),
        full_content=full,
        clock=clock,
    )


async def run_email(connector: EmailConnector, pipeline: Pipeline, stop: asyncio.Event) -> None:
    """Sends e-mail while this process holds the channel: what is pending at once, then
    with the delivery loop's sweeps, until `stop`."""
    pipeline.delivery.attach(connector)
    try:
        await pipeline.delivery.sweep(only=connector.platform, fresh_too=True)
        await stop.wait()
    finally:
        pipeline.delivery.detach(connector.platform)
