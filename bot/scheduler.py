"""The tick: asks every due-source what has fallen due and turns it into outbox rows.

A due-source looks at rows in the database (meetings, plan actions, shared pictures) and
returns notices with dedup keys, so a tick that runs twice, or in two processes, still
enqueues each reminder once. The scheduler that calls `tick` holds no state of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from flows.engine import Notice
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class DueSource(Protocol):
    """Something that knows which reminders are due at a given time."""

    name: str

    def due(self, uow: UnitOfWork, now: datetime) -> Iterable[Notice]:
        """The notices due at `now`; each with a dedup key."""
        ...


def tick(
    sessions: sessionmaker[Session],
    sources: Sequence[DueSource],
    now: datetime,
    default_locale: str = "sv",
) -> list[int]:
    """One pass over every source in one transaction; returns the new outbox ids."""
    ids: list[int] = []
    with UnitOfWork(sessions) as uow:
        for source in sources:
            found = 0
            for notice in source.due(uow, now):
                new = uow.outbox.enqueue_notice(notice, now, default_locale)
                found += len(new)
                ids += new
            if found:
                log.info("tick: %s enqueued %d messages", source.name, found)
        uow.commit()
    return ids
