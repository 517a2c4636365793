"""What the process counts for Prometheus, served on /metrics by bot/health.py.

Counted as it happens (cheap, in memory, no database): handled events and the handler's
latency (bot/pipeline.py), deliveries per platform (bot/delivery.py), tick durations
(bot/runtime.py). Read at scrape time from the database, in one aggregate query: how many
messages wait, failed or were parked, and how old the oldest waiting one is.

Labels are platform names and fixed outcome words only: never a chat id, a name or content.
Every Metrics has a registry of its own, not prometheus_client's global one, so several can
live in one process (tests) and nothing a library registers globally is exposed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

PREFIX = "samverkan"
# The content type Prometheus scrapes (text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Handler steps take milliseconds; a step of seconds means a slow database.
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A tick with many cases takes seconds.
TICK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class HandledOutcome(StrEnum):
    """How handling one inbound update ended."""

    HANDLED = "handled"
    UNREADABLE = "unreadable"  # answered with "I cannot read that"
    ERROR = "error"  # not handled (the database was away); the person was told


class DeliveryOutcome(StrEnum):
    """How one attempt to send an outbox row ended."""

    SENT = "sent"
    RETRY = "retry"  # a failed attempt; tried again later
    RATE_LIMITED = "rate_limited"  # the platform asked to wait; no failure
    FAILED = "failed"  # given up on: refused, cannot be made, parked or out of attempts
    DROPPED = "dropped"  # no longer relevant (expired)


class Metrics:
    """The counters and histograms of one process, and the database gauges on scrape."""

    def __init__(
        self, sessions: sessionmaker[Session] | None = None, clock: Clock = system_clock
    ) -> None:
        self.registry = CollectorRegistry()
        self.handled = Counter(
            f"{PREFIX}_handled_events",
            "Inbound updates handled, by platform and outcome.",
            ("platform", "outcome"),
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            f"{PREFIX}_handler_duration_seconds",
            "Time the flow step took for one inbound update (not the wait for its chat's turn).",
            ("platform",),
            buckets=HANDLER_BUCKETS,
            registry=self.registry,
        )
        self.deliveries = Counter(
            f"{PREFIX}_deliveries",
            "Attempts to send an outgoing message, by platform and outcome.",
            ("platform", "outcome"),
            registry=self.registry,
        )
        self.tick_seconds = Histogram(
            f"{PREFIX}_tick_duration_seconds",
            "Time one tick took (reminders that fell due, and sending them).",
            buckets=TICK_BUCKETS,
            registry=self.registry,
        )
        if sessions is not None:
            self.registry.register(OutboxCollector(sessions, clock))

    def handled_event(self, platform: str, outcome: HandledOutcome, seconds: float) -> None:
        """Counts one inbound update and how long its step took."""
        self.handled.labels(platform, outcome.value).inc()
        self.handler_seconds.labels(platform).observe(seconds)

    def delivery(self, platform: str, outcome: DeliveryOutcome) -> None:
        """Counts one send attempt's outcome (in memory only: no database per message)."""
        self.deliveries.labels(platform, outcome.value).inc()

    def tick(self, seconds: float) -> None:
        """Records how long one tick took."""
        self.tick_seconds.observe(seconds)

    def exposition(self) -> bytes:
        """Everything in the Prometheus text format (queries the database: call off the loop)."""
        return generate_latest(self.registry)


class OutboxCollector(Collector):
    """The outbox gauges, read from the database at each scrape."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Nothing up front: describing must not query the database at registration."""
        return iter(())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The outbox by state and the oldest waiting message's age; a database that cannot
        be read gives `samverkan_database_up 0` instead of failing the whole scrape."""
        up = GaugeMetricFamily(f"{PREFIX}_database_up", "1 if the last scrape read the database.")
        try:
            with UnitOfWork(self._sessions) as uow:
                gauges = uow.outbox.gauges()
        except Exception as exc:
            log.warning("metrics: the outbox could not be read: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        messages = GaugeMetricFamily(
            f"{PREFIX}_outbox_messages",
            "Outgoing messages by state: pending, sending, failed (given up on at once) and "
            "parked (given up on after their sends kept failing).",
            labels=("state",),
        )
        for state, count in (
            ("pending", gauges.pending),
            ("sending", gauges.sending),
            ("failed", gauges.failed),
            ("parked", gauges.parked),
        ):
            messages.add_metric([state], count)
        yield messages
        oldest = gauges.oldest_open_at
        age = max((self._clock() - oldest).total_seconds(), 0.0) if oldest else 0.0
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_pending_age_seconds",
            "Age of the oldest message not sent yet (0 when none waits).",
            value=age,
        )
