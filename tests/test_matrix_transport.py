"""Sending to Matrix through a real Synapse: txn ids, rate limits, files in encrypted rooms."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nio import (
    DownloadError,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomMessageText,
)
from nio.crypto.attachments import decrypt_attachment
from sqlalchemy import Engine, select

from bot.catalogue import Catalogue, RenderedFile, RenderedMessage, TextFormat
from bot.delivery import Deliverer, RetryAfter
from flows.replies import Attachment, Params, Reply, say
from storage import models as m
from storage.db import session_factory
from storage.unit_of_work import UnitOfWork
from tests.matrix_people import (
    Person,
    RunningBot,
    bot_config,
    run,
    start_bot,
    synapse_server,  # noqa: F401  (fixture "hs": the module's Synapse)
    unique,
)
from tests.support.synapse import Homeserver

pytestmark = pytest.mark.slow

BOT_PASSWORD = "bot-password"
# The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"


class PngMaker:
    """A file maker as bot/files.py defines them: a picture made at send time."""

    kind = "test_png"

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """The one-pixel PNG, named in the recipient's language."""
        return RenderedFile(f"picture-{locale}.png", "image/png", PNG)


def now() -> datetime:
    """The wall clock: the bot under test runs on it."""
    return datetime.now(UTC)


async def bot_and_alex_in_a_dm(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> tuple[RunningBot, Person, str]:
    """A running bot, and Alex in an encrypted DM with it, greeted and keys exchanged."""
    sessions = session_factory(sqlite_engine)
    bot_user = hs.register(unique("samverkan"), BOT_PASSWORD)
    config = bot_config(hs, bot_user.user_id, tmp_path / "bot-store")
    bot = await start_bot(config, BOT_PASSWORD, sessions, catalogue)
    alex = await Person.start(hs, "alex", tmp_path)
    dm = await alex.open_dm(bot.user_id)
    await alex.next_from(bot.user_id, dm)
    await alex.knows_devices_of(dm, bot.user_id)
    return bot, alex, dm


def test_a_resend_with_the_same_idempotency_key_is_shown_once(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    async def scenario() -> None:
        bot, alex, dm = await bot_and_alex_in_a_dm(hs, sqlite_engine, catalogue, tmp_path)
        try:
            message = RenderedMessage("Hej <b>igen</b>", ())
            # The first send went through, but the crash came before it was marked sent.
            await bot.transport.send(alex.user_id, message, "outbox-key-1")
            await bot.transport.send(alex.user_id, message, "outbox-key-1")
            await bot.transport.send(alex.user_id, RenderedMessage("Sist", ()), "outbox-key-2")
            texts = [e.body for e in await alex.next_from(bot.user_id, dm, 2)]
            assert texts == ["Hej igen", "Sist"]
            assert alex.unread_from(bot.user_id, dm) == []
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


def test_synapse_rate_limit_becomes_retry_after_and_the_outbox_waits(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    admin = hs.register(unique("admin"), "admin-password", admin=True)
    sessions = session_factory(sqlite_engine)

    async def scenario() -> None:
        bot, alex, _ = await bot_and_alex_in_a_dm(hs, sqlite_engine, catalogue, tmp_path)
        try:
            # Synapse's own admin API, used the other way round: a tight limit for the bot.
            hs.api(
                "POST",
                f"/_synapse/admin/v1/users/{urllib.parse.quote(bot.user_id)}/override_ratelimit",
                access_token=admin.access_token,
                body={"messages_per_second": 1, "burst_count": 1},
            )
            waits: list[float] = []
            for n in range(5):
                try:
                    await bot.transport.send(alex.user_id, RenderedMessage(f"nr {n}", ()), f"k{n}")
                except RetryAfter as exc:
                    waits.append(exc.seconds)
            assert waits, "Synapse never said M_LIMIT_EXCEEDED"
            assert all(0 < w <= 5 for w in waits)

            now = datetime.now(UTC)
            with UnitOfWork(sessions) as uow:
                ids = uow.outbox.enqueue(
                    "matrix", alex.user_id, (say("matrix.undecryptable"),) * 3, "sv", now
                )
                uow.commit()
            sent = await bot.delivery.deliver(ids)
            with UnitOfWork(sessions) as uow:
                rows = uow.session.execute(
                    select(m.Outbox.status, m.Outbox.last_error, m.Outbox.next_attempt_at).where(
                        m.Outbox.id.in_(ids)
                    )
                ).all()
            waiting = [r for r in rows if r.status == "pending"]
            assert sent < 3 and len(waiting) == 3 - sent
            assert all(r.last_error == "RetryAfter" for r in waiting)
            assert all(r.next_attempt_at > now for r in waiting)
            assert all(r.next_attempt_at < now + timedelta(seconds=10) for r in waiting)
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())


def test_files_are_uploaded_encrypted_and_open_for_the_recipient(
    hs: Homeserver, sqlite_engine: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    sessions = session_factory(sqlite_engine)

    async def scenario() -> None:
        bot, alex, dm = await bot_and_alex_in_a_dm(hs, sqlite_engine, catalogue, tmp_path)
        try:
            invitation = RenderedMessage(
                "Här är mötet", (), RenderedFile("möte.ics", "text/calendar", ICS)
            )
            picture = RenderedMessage("En bild", (), RenderedFile("bild.png", "image/png", PNG))
            await bot.transport.send(alex.user_id, invitation, "file-key-1")
            await bot.transport.send(alex.user_id, picture, "file-key-2")
            text1, ics, text2, png = await alex.next_from(bot.user_id, dm, 4)
            assert isinstance(text1, RoomMessageText) and text1.body == "Här är mötet"
            assert isinstance(text2, RoomMessageText) and text2.body == "En bild"
            assert isinstance(ics, RoomEncryptedFile) and ics.body == "möte.ics"
            assert isinstance(png, RoomEncryptedImage) and png.body == "bild.png"
            for event, data in ((ics, ICS), (png, PNG)):
                assert event.decrypted
                download = await alex.client.download(mxc=event.url)
                assert not isinstance(download, DownloadError), download
                # The homeserver only ever held ciphertext.
                assert download.body != data
                plain = decrypt_attachment(
                    download.body, event.key["k"], event.hashes["sha256"], event.iv
                )
                assert plain == data

            # The real path: an outbox row with an attachment, made at send time.
            with UnitOfWork(sessions) as uow:
                reply = Reply("matrix.undecryptable", attachment=Attachment("test_png"))
                ids = uow.outbox.enqueue("matrix", alex.user_id, (reply,), "en", now())
                uow.commit()
            deliverer = Deliverer(
                sessions, catalogue, {"matrix": bot.transport}, file_makers={"test_png": PngMaker()}
            )
            assert await deliverer.deliver(ids) == 1
            text, image = await alex.next_from(bot.user_id, dm, 2)
            assert text.body == catalogue.render("matrix.undecryptable", {}, "en", TextFormat.PLAIN)
            assert isinstance(image, RoomEncryptedImage) and image.body == "picture-en.png"
        finally:
            await alex.stop()
            await bot.stop()

    run(hs, scenario())
