"""The [health] listener: the monitoring scrapes /healthz and /metrics while the bot works.

Sara types into the terminal chat and someone writes from Telegram, whose messages this
process cannot send (another process holds the Telegram connector): their replies wait in
the outbox. Meanwhile the monitoring asks /healthz and /metrics, as Prometheus would.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.channels import ChannelKeeper
from bot.config import ConfigError, HealthConfig, load_config
from bot.console import ConsoleConnector
from bot.delivery_loop import DeliveryLoop
from bot.handler import EventHandler
from bot.health import HealthServer, listening
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from flows.conversation import ConversationRef, Inbound, TextMessage
from flows.wiring import default_engine
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

SARA = ConversationRef("console", "local", "local")
# A Telegram chat whose id must never show up in the metrics.
TELEGRAM_CHAT = ConversationRef("telegram", "4711", "4711")
PROCESS = "p-health"


class PolledChannel:
    """An inbound channel that is simply polled while its lease is held."""

    name = "telegram"

    async def start(self, may_poll: Callable[[], bool]) -> None:
        """Nothing to start: the test submits the updates itself."""

    async def stop(self) -> None:
        """Nothing to stop."""

    def stopped_itself(self) -> bool:
        """Never: it polls (or skips polls) until it is stopped."""
        return False


@dataclass
class Scrape:
    """One answer of the listener."""

    status: int
    text: str

    def json(self) -> dict[str, Any]:
        """The body as JSON (/healthz)."""
        body: dict[str, Any] = json.loads(self.text)
        return body

    def sample(self, name: str, **labels: str) -> float | None:
        """The value of one sample of /metrics, None when it is not there."""
        for family in text_string_to_metric_families(self.text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return None


async def scrape(server: HealthServer, path: str) -> Scrape:
    """GET one path of the listener, as the monitoring does."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}{path}") as response,
    ):
        return Scrape(response.status, await response.text())


@dataclass
class Bot:
    """One bot process with metrics and the listener, on a database."""

    sessions: sessionmaker[Session]
    terminal: io.StringIO
    pipeline: Pipeline
    runtime: Runtime
    health: HealthServer

    async def types(self, ref: ConversationRef, line: str) -> None:
        """Someone writes one line."""
        await self.pipeline.submit(Inbound(ref, TextMessage(line)))


@asynccontextmanager
async def running_bot(
    engine: Engine, catalogue: Catalogue, clock: FakeClock, *, channels: bool = True
) -> AsyncIterator[Bot]:
    """Starts the process (catch-up tick included) and the listener on a free port."""
    sessions = session_factory(engine)
    metrics = Metrics(sessions, clock)
    out = io.StringIO()
    handler = EventHandler(sessions, default_engine(), clock=clock, labels=catalogue.label)
    delivery = DeliveryLoop(
        sessions,
        catalogue,
        clock=clock,
        process_id=PROCESS,
        connectors=[ConsoleConnector(out, SARA)],
        metrics=metrics,
    )
    pipeline = Pipeline(handler, delivery, metrics)
    inbound = [PolledChannel()] if channels else []
    runtime = Runtime(
        engine, sessions, delivery, PROCESS, channels=inbound, clock=clock, metrics=metrics
    )
    health = HealthServer(
        HealthConfig(enabled=True, port=0),
        engine,
        sessions,
        runtime.keeper,
        [c.name for c in inbound],
        metrics,
        process_id=PROCESS,
        clock=clock,
    )
    await runtime.start()
    await runtime.caught_up()
    try:
        async with listening(health):
            yield Bot(sessions, out, pipeline, runtime, health)
    finally:
        await runtime.stop()


def test_the_monitoring_scrapes_health_and_metrics_while_people_write(
    engine: Engine, catalogue: Catalogue, clock: FakeClock
) -> None:
    async def scenario() -> None:
        async with running_bot(engine, catalogue, clock) as bot:
            # Five messages, and the monitoring asking in the middle of them.
            during = await asyncio.gather(
                bot.types(SARA, "hej"),
                bot.types(TELEGRAM_CHAT, "hej"),
                scrape(bot.health, "/healthz"),
                bot.types(SARA, "vad gör du?"),
                scrape(bot.health, "/metrics"),
                bot.types(TELEGRAM_CHAT, "hallå?"),
                bot.types(SARA, "tack"),
            )
            assert [s.status for s in during if isinstance(s, Scrape)] == [200, 200]
            assert bot.terminal.getvalue(), "Sara got her answers"

            health = await scrape(bot.health, "/healthz")
            assert health.status == 200, health.text
            assert health.json() == {
                "status": "ok",
                "database": "ok",
                "schema": "current",
                "channels": {"telegram": "held"},
                "last_tick_age_seconds": 0.0,
                "failing": [],
            }

            with UnitOfWork(bot.sessions) as uow:
                waiting = uow.outbox.counts().pending
            assert waiting >= 2, "the Telegram chat's replies wait for its connector"
            clock.advance(seconds=10)
            metrics = await scrape(bot.health, "/metrics")
            assert metrics.status == 200
            handled = "samverkan_handled_events_total"
            assert metrics.sample(handled, platform="console", outcome="handled") == 3
            assert metrics.sample(handled, platform="telegram", outcome="handled") == 2
            latency = "samverkan_handler_duration_seconds_count"
            assert metrics.sample(latency, platform="console") == 3
            sent = metrics.sample("samverkan_deliveries_total", platform="console", outcome="sent")
            assert sent is not None and sent >= 3, "each of Sara's messages was answered"
            assert metrics.sample("samverkan_outbox_messages", state="pending") == waiting
            assert metrics.sample("samverkan_outbox_messages", state="failed") == 0
            assert metrics.sample("samverkan_outbox_messages", state="parked") == 0
            assert metrics.sample("samverkan_outbox_oldest_pending_age_seconds") == 10.0
            ticks = metrics.sample("samverkan_tick_duration_seconds_count")
            assert ticks is not None and ticks >= 1, "the catch-up tick was timed"
            assert metrics.sample("samverkan_database_up") == 1
            # Labels are platforms and outcomes: no chat id, no text anyone wrote.
            assert "4711" not in metrics.text
            assert "hallå" not in metrics.text and "tack" not in metrics.text

    asyncio.run(scenario())


def test_health_fails_when_nothing_has_ticked_for_a_while(
    sqlite_engine: Engine, catalogue: Catalogue, clock: FakeClock
) -> None:
    async def scenario() -> None:
        async with running_bot(sqlite_engine, catalogue, clock, channels=False) as bot:
            assert (await scrape(bot.health, "/healthz")).status == 200
            clock.advance(minutes=6)  # the ticker stood still (the fake clock moved alone)
            health = await scrape(bot.health, "/healthz")
            assert health.status == 503
            assert health.json()["failing"] == ["last_tick"]
            assert health.json()["last_tick_age_seconds"] == 360.0

    asyncio.run(scenario())


def test_a_channel_nobody_polls_fails_health(
    sqlite_engine: Engine, catalogue: Catalogue, clock: FakeClock
) -> None:
    async def scenario() -> None:
        async with running_bot(sqlite_engine, catalogue, clock) as bot:
            # The lease is not renewed in time (the event loop was held up): no poll now.
            clock.advance(seconds=20)
            health = await scrape(bot.health, "/healthz")
            assert health.status == 503
            assert health.json()["channels"] == {"telegram": "not held"}
            assert health.json()["failing"] == ["channels"]

    asyncio.run(scenario())


def test_health_says_503_when_the_database_is_gone(
    tmp_path: Path, catalogue: Catalogue, clock: FakeClock
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'bot.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    metrics = Metrics(sessions, clock)
    health = HealthServer(
        HealthConfig(enabled=True, port=0),
        engine,
        sessions,
        ChannelKeeper(sessions, [], PROCESS, clock=clock),
        [],
        metrics,
        process_id=PROCESS,
        clock=clock,
    )

    async def scenario() -> None:
        async with listening(health):
            assert (await scrape(health, "/healthz")).status == 200
            shutil.rmtree(folder)  # the disk with the database is gone
            engine.dispose()
            answer = await scrape(health, "/healthz")
            assert answer.status == 503
            assert answer.json()["database"] == "unreachable"
            assert answer.json()["failing"] == ["database"]
            # /metrics still answers, and says the database could not be read.
            metrics_page = await scrape(health, "/metrics")
            assert metrics_page.status == 200
            assert metrics_page.sample("samverkan_database_up") == 0

    asyncio.run(scenario())


def test_the_listener_is_off_by_default_and_on_loopback(tmp_path: Path) -> None:
    assert load_config(None, {}).health == HealthConfig(False, "127.0.0.1", 9464)
    config = tmp_path / "config.toml"
    config.write_text("[health]\nenabled = true\nport = 70000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[health\] port"):
        load_config(config, {})
    config.write_text("[health]\nenabled = true\nlisten_on = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown \[health\] key"):
        load_config(config, {})


def test_a_taken_port_is_one_plain_line(sqlite_engine: Engine, clock: FakeClock) -> None:
    sessions = session_factory(sqlite_engine)

    def server(port: int) -> HealthServer:
        return HealthServer(
            HealthConfig(enabled=True, port=port),
            sqlite_engine,
            sessions,
            ChannelKeeper(sessions, [], PROCESS, clock=clock),
            [],
            Metrics(sessions, clock),
            process_id=PROCESS,
            clock=clock,
        )

    async def scenario() -> None:
        first = server(0)
        async with listening(first):
            with pytest.raises(ConfigError, match=r"\[health\] cannot listen on 127.0.0.1"):
                await server(first.port).start()

    asyncio.run(scenario())
