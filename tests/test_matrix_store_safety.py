"""The Matrix device is safe across starts: a lost or wrong crypto store, a wrong pickle key,
backup and restore, the first sync before sending, a homeserver that is not up yet.

Every test runs the bot against a real Synapse, as an operator would meet these situations.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, TextFormat
from bot.config import MatrixConfig
from bot.handler import EventHandler
from bot.matrix import PLATFORM
from bot.matrix.login import MatrixSecrets, MatrixStartError, log_in, new_client
from bot.matrix.service import run_matrix
from flows.replies import say
from flows.wiring import default_engine
from storage import models as m
from storage.crypto import DATA_KEY_ENV
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.matrix_people import (
    PICKLE_KEY,
    Person,
    bot_config,
    bot_environment,
    run,
    start_bot,
    synapse_server,  # noqa: F401  (fixture "hs": the module's Synapse)
    unique,
)
from tests.support.synapse import Homeserver

pytestmark = pytest.mark.slow

BOT_PASSWORD = "bot-password-for-store-tests"


def text(catalogue: Catalogue, message_id: str) -> str:
    """What a catalogue message looks like as plain text."""
    return catalogue.render(message_id, {}, "sv", TextFormat.PLAIN)


def new_bot(hs: Homeserver, tmp_path: Path) -> MatrixConfig:
    """A fresh bot account on the homeserver and its [matrix] settings."""
    user = hs.register(unique("samverkan"), BOT_PASSWORD)
    return bot_config(hs, user.user_id, tmp_path / "bot-store")


def published_keys(hs: Homeserver, asker: Person, user_id: str) -> dict[str, Any]:
    """Every device key of a user as the homeserver hands it out (/keys/query)."""
    answer = hs.api(
        "POST",
        "/_matrix/client/v3/keys/query",
        access_token=asker.user.access_token,
        body={"device_keys": {user_id: []}},
    )
    keys: dict[str, Any] = answer["device_keys"][user_id]
    return keys


def empty_folder(folder: Path) -> None:
    """What a lost volume or a careless clean-up leaves: the folder, nothing in it."""
    shutil.rmtree(folder)
    folder.mkdir(mode=0o700)


async def try_log_in(config: MatrixConfig, sessions: sessionmaker[Session], pickle_key: str) -> str:
    """Starts the bot's device as `samverkan run` does; returns the refusal it met."""
    environ = bot_environment(BOT_PASSWORD) | {"SAMVERKAN_MATRIX_PICKLE_KEY": pickle_key}
    secrets = MatrixSecrets.from_environment(config, environ)
    client = new_client(config, secrets)
    try:
        with pytest.raises(MatrixStartError) as refused:
            await log_in(client, config, secrets, sessions)
    finally:
        await client.close()
    return str(refused.value)


def test_an_emptied_crypto_store_is_refused_and_the_device_keys_stay_as_they_were(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            device = bot.device_id
            await bot.stop()
            keys_before = published_keys(hs, alex, config.user_id)
            assert list(keys_before) == [device]

            empty_folder(Path(config.store_path))
            refusal = await try_log_in(config, sessions, PICKLE_KEY)
            assert f"has no keys of the bot's device {device}" in refusal
            assert "docs/matrix.md" in refusal  # where the recovery steps are

            # A second try is refused the same way: nothing was half done the first time.
            assert "has no keys" in await try_log_in(config, sessions, PICKLE_KEY)
            assert published_keys(hs, alex, config.user_id) == keys_before
        finally:
            await alex.stop()

    run(hs, scenario())


def test_a_crypto_store_of_another_device_is_refused(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    config = new_bot(hs, tmp_path)
    other_db = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    upgrade(other_db)
    other = bot_config(hs, config.user_id, tmp_path / "other-store")

    async def scenario() -> None:
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            first = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            await first.stop()
            second = await start_bot(other, BOT_PASSWORD, session_factory(other_db), catalogue)
            await second.stop()
            keys_before = published_keys(hs, alex, config.user_id)
            # The operator copies the wrong store next to the first database.
            shutil.rmtree(config.store_path)
            shutil.copytree(other.store_path, config.store_path)
            refusal = await try_log_in(config, sessions, PICKLE_KEY)
            assert f"has no keys of the bot's device {first.device_id}" in refusal
            assert published_keys(hs, alex, config.user_id) == keys_before
        finally:
            await alex.stop()
            other_db.dispose()

    run(hs, scenario())


def test_with_the_store_lost_for_good_the_operator_starts_over_as_a_new_device(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    config = new_bot(hs, tmp_path)
    admin = hs.register(unique("admin"), "admin-password", admin=True)

    async def scenario() -> None:
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            old_device = bot.device_id
            await bot.stop()
            empty_folder(Path(config.store_path))
            assert "has no keys" in await try_log_in(config, sessions, PICKLE_KEY)

            # docs/matrix.md: sign out the old session, keep the store empty, start.
            user = urllib.parse.quote(config.user_id)
            hs.api(
                "DELETE",
                f"/_synapse/admin/v2/users/{user}/devices/{old_device}",
                access_token=admin.access_token,
            )
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            try:
                assert bot.device_id != old_device
                assert list(published_keys(hs, alex, config.user_id)) == [bot.device_id]
                dm = await alex.open_dm(bot.user_id)
                (greeting,) = await alex.next_from(bot.user_id, dm)
                assert greeting.decrypted
            finally:
                await bot.stop()
        finally:
            await alex.stop()

    run(hs, scenario())


def write_config(path: Path, hs: Homeserver, user_id: str, tmp_path: Path) -> None:
    """An operator's config file: SQLite, no console, Matrix on."""
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "bot.sqlite3"}"

[console]
enabled = false

[matrix]
enabled = true
homeserver = "{hs.url}"
user_id = "{user_id}"
store_path = "{tmp_path / "matrix-store"}"
sync_timeout_seconds = 1
""",
        encoding="utf-8",
    )


def samverkan(*args: str) -> list[str]:
    """The command line of `samverkan`, run by this interpreter from this checkout."""
    return [sys.executable, "-m", "bot.cli", *args]


def test_a_wrong_pickle_key_ends_samverkan_run_with_a_plain_message(
    hs: Homeserver, tmp_path: Path
) -> None:
    bot_user = hs.register(unique("samverkan"), BOT_PASSWORD)
    config = tmp_path / "config.toml"
    write_config(config, hs, bot_user.user_id, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    env |= bot_environment(BOT_PASSWORD)
    # The key the test's own database writes use: the first start below is in-process.
    env[DATA_KEY_ENV] = os.environ[DATA_KEY_ENV]
    upgraded = subprocess.run(
        samverkan("db", "upgrade", "--config", str(config)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    # The first start creates the device and its store (locked with the right key).
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    try:
        matrix = bot_config(hs, bot_user.user_id, tmp_path / "matrix-store")

        async def first_start() -> None:
            bot = await start_bot(matrix, BOT_PASSWORD, session_factory(engine), Catalogue())
            await bot.stop()

        run(hs, first_start())
    finally:
        engine.dispose()

    env["SAMVERKAN_MATRIX_PICKLE_KEY"] = "another-pickle-key-than-before"
    started = subprocess.run(
        samverkan("run", "--config", str(config)),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 2, started.stderr
    assert "Traceback" not in started.stderr
    assert "cannot be opened with SAMVERKAN_MATRIX_PICKLE_KEY" in started.stderr
    for secret in (PICKLE_KEY, "another-pickle-key-than-before", BOT_PASSWORD):
        assert secret not in started.stderr + started.stdout


def sqlite_backup(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database, as `sqlite3 SOURCE ".backup TARGET"` makes."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def test_backup_and_restore_as_the_docs_say_keeps_the_device_and_the_conversation(
    hs: Homeserver, catalogue: Catalogue, tmp_path: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    sessions = session_factory(engine)
    config = new_bot(hs, tmp_path)
    store = Path(config.store_path)
    backup = tmp_path / "backup"

    async def scenario() -> None:
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            dm = await alex.open_dm(bot.user_id)
            await alex.next_from(bot.user_id, dm)
            await alex.knows_devices_of(dm, bot.user_id)
            await bot.stop()
            keys_before = published_keys(hs, alex, config.user_id)

            # docs/matrix.md, "Backup and restore": the bot stopped, database and store together.
            backup.mkdir()
            sqlite_backup(database, backup / "bot.sqlite3")
            shutil.copytree(store, backup / "matrix-store")

            # The disk is lost; a start without the store is refused, not a new identity.
            engine.dispose()
            database.unlink()
            empty_folder(store)
            upgrade(engine)
            sqlite_backup(backup / "bot.sqlite3", database)
            assert "has no keys" in await try_log_in(config, sessions, PICKLE_KEY)

            # Restored as the docs say: the store too.
            shutil.rmtree(store)
            shutil.copytree(backup / "matrix-store", store)
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            try:
                await alex.say(dm, "hej igen")
                (answer,) = await alex.next_from(bot.user_id, dm)
                assert answer.decrypted
                assert answer.body == text(catalogue, "onboarding.need_code")
                assert published_keys(hs, alex, config.user_id) == keys_before
            finally:
                await bot.stop()
        finally:
            await alex.stop()

    try:
        run(hs, scenario())
    finally:
        engine.dispose()


def test_a_notice_queued_before_the_start_goes_out_after_the_first_sync_at_once(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)
    config = new_bot(hs, tmp_path)

    async def scenario() -> None:
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            dm = await alex.open_dm(bot.user_id)
            await alex.next_from(bot.user_id, dm)
            await bot.stop()

            # A reminder the scheduler queued while the bot's Matrix side was down.
            with UnitOfWork(sessions) as uow:
                (row_id,) = uow.outbox.enqueue(
                    PLATFORM, alex.user_id, (say("onboarding.need_code"),), "sv", datetime.now(UTC)
                )
                uow.commit()
            bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
            try:
                (notice,) = await alex.next_from(bot.user_id, dm)
                assert notice.body == text(catalogue, "onboarding.need_code")
            finally:
                await bot.stop()
            with UnitOfWork(sessions) as uow:
                row = uow.session.execute(
                    select(m.Outbox.attempts, m.Outbox.last_error).where(m.Outbox.id == row_id)
                ).one()
            assert (row.attempts, row.last_error) == (1, None)
        finally:
            await alex.stop()

    run(hs, scenario())


@contextlib.asynccontextmanager
async def forwarder(port: int, target: str) -> Any:
    """A TCP port that forwards to the homeserver: the homeserver 'comes up' when it opens."""
    parsed = urllib.parse.urlsplit(target)
    host, target_port = parsed.hostname or "127.0.0.1", parsed.port or 80

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, target_port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield server
    finally:
        server.close()


def free_port() -> int:
    """A TCP port nobody listens on (yet)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def matrix_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The bot's Matrix log lines."""
    with caplog.at_level(logging.INFO, logger="bot.matrix"):
        yield caplog


def test_a_homeserver_that_is_not_up_yet_is_waited_for_with_growing_pauses(
    hs: Homeserver,
    sqlite_engine: Engine,
    catalogue: Catalogue,
    tmp_path: Path,
    matrix_log: pytest.LogCaptureFixture,
) -> None:
    sessions = session_factory(sqlite_engine)
    port = free_port()
    user = hs.register(unique("samverkan"), BOT_PASSWORD)
    proxied = dataclasses.replace(hs, url=f"http://127.0.0.1:{port}")
    config = bot_config(proxied, user.user_id, tmp_path / "bot-store")

    async def scenario() -> None:
        stop = asyncio.Event()
        pauses: list[float] = []
        stack = contextlib.AsyncExitStack()

        async def pause(seconds: float) -> None:
            # The test's clock: no real waiting; the homeserver comes up after two tries.
            pauses.append(seconds)
            if len(pauses) == 2:
                await stack.enter_async_context(forwarder(port, hs.url))

        handler = EventHandler(sessions, default_engine())
        bot = asyncio.create_task(
            run_matrix(
                config,
                sessions,
                handler,
                catalogue,
                environ=bot_environment(BOT_PASSWORD),
                stop=stop,
                pause=pause,
            )
        )
        alex = await Person.start(hs, "alex", tmp_path)
        try:
            dm = await alex.open_dm(user.user_id)
            (greeting,) = await alex.next_from(user.user_id, dm)
            assert greeting.body == text(catalogue, "onboarding.need_code")
            assert pauses == [1.0, 2.0]
            waits = [r.getMessage() for r in matrix_log.records if "not reachable" in r.message]
            assert waits == [
                "matrix: the homeserver is not reachable (ClientConnectorError); "
                f"trying again in {s:.0f} s"
                for s in pauses
            ]
        finally:
            stop.set()
            await asyncio.wait_for(bot, 30)
            await alex.stop()
            await stack.aclose()

    run(hs, scenario())
