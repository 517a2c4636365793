"""Sends outbox rows through the platform transports and records the outcome."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage, TextFormat
from bot.clock import Clock, system_clock
from bot.files import FileMaker, UnknownFileKind
from flows.replies import Reply
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(hours=1)


class PermanentSendError(Exception):
    """The platform will never accept this message (blocked bot, chat gone)."""


class RetryAfter(Exception):
    """The platform asked us to wait (HTTP 429, M_LIMIT_EXCEEDED) before sending again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:.1f} s")
        self.seconds = seconds


class Transport(Protocol):
    """Sends rendered messages to one platform."""

    platform: str
    text_format: TextFormat

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Sends one message; raises PermanentSendError or any other error for a retry."""
        ...


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return timedelta(seconds=random.uniform(ceiling.total_seconds() / 2, ceiling.total_seconds()))


class Deliverer:
    """Delivers pending outbox rows; a row is marked sent only after the platform took it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        transports: Mapping[str, Transport],
        clock: Clock = system_clock,
        file_makers: Mapping[str, FileMaker] | None = None,
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._transports = dict(transports)
        self._clock = clock
        self._file_makers = dict(file_makers or {})

    async def deliver(self, ids: list[int] | None = None) -> int:
        """Sends the given (or all due) pending rows in order; returns how many were sent."""
        with UnitOfWork(self._sessions) as uow:
            pending = [
                p for p in uow.outbox.pending(self._clock(), ids) if p.platform in self._transports
            ]
        sent = 0
        for message in pending:
            transport = self._transports[message.platform]
            try:
                rendered = self._render(message.reply, message.locale, transport.text_format)
                await transport.send(message.chat_id, rendered, message.idempotency_key)
            except RetryAfter as exc:
                log.info("outbox %d: platform asks to wait %.1f s", message.id, exc.seconds)
                self._record_failure(message.id, "RetryAfter", timedelta(seconds=exc.seconds))
            except (PermanentSendError, UnknownFileKind) as exc:
                log.warning("outbox %d failed permanently: %s", message.id, type(exc).__name__)
                self._record_failure(message.id, type(exc).__name__, None)
            except Exception as exc:  # any transport error is retried later, never lost
                attempts = message.attempts + 1
                retry = backoff(attempts) if attempts < MAX_ATTEMPTS else None
                log.warning(
                    "outbox %d attempt %d failed: %s", message.id, attempts, type(exc).__name__
                )
                self._record_failure(message.id, type(exc).__name__, retry)
            else:
                with UnitOfWork(self._sessions) as uow:
                    uow.outbox.mark_sent(message.id, self._clock())
                    uow.commit()
                sent += 1
        return sent

    def _render(self, reply: Reply, locale: str, fmt: TextFormat) -> RenderedMessage:
        """Renders the text and choices, and makes the attached file if there is one."""
        rendered = self._catalogue.render_reply(reply, locale, fmt)
        if reply.attachment is None:
            return rendered
        maker = self._file_makers.get(reply.attachment.kind)
        if maker is None:
            raise UnknownFileKind(reply.attachment.kind)
        with UnitOfWork(self._sessions) as uow:
            file = maker.make(uow, reply.attachment.params, locale, self._catalogue)
        return replace(rendered, file=file)

    def _record_failure(self, outbox_id: int, error: str, retry_in: timedelta | None) -> None:
        """Stores a failed attempt (error class only: never message content)."""
        with UnitOfWork(self._sessions) as uow:
            uow.outbox.mark_failed_attempt(outbox_id, error, self._clock(), retry_in)
            uow.commit()
