"""`samverkan backup` and `samverkan restore`: lose everything, restore, carry on where it was.

The SQLite tests walk a conversation with tests/chat.py; the Matrix round trip runs the bot
against the suite's Synapse (slow), as tests/test_matrix_store_safety.py does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.backup import backup, restore
from bot.catalogue import Catalogue, TextFormat
from bot.cli import main
from bot.config import Config
from bot.instance import SqliteProcessLock
from flows.conversation import ConversationRef
from storage import models as m
from storage.crypto import DATA_KEY_ENV, DataKey
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.matrix_people import (
    Person,
    bot_config,
    run,
    start_bot,
    synapse_server,  # noqa: F401  (fixture "hs": the module's Synapse)
    unique,
)
from tests.seed import seed_case
from tests.support.synapse import Homeserver

ALEX = ConversationRef(PLATFORM, "alex", "alex")
BOT_PASSWORD = "bot-password-for-backup-tests"


@dataclass
class Bot:
    """The bot's database file, as `samverkan` finds it through --db."""

    path: Path
    engine: Engine

    @property
    def url(self) -> str:
        """The --db URL."""
        return f"sqlite:///{self.path}"

    def chat(self, catalogue: Catalogue, clock: FakeClock) -> Chat:
        """Alex's private chat with the bot as it is now (a fresh handler: a started bot)."""
        return Chat(session_factory(self.engine), catalogue, clock, ALEX)

    def questions(self) -> list[str]:
        """Alex's questions as stored."""
        with UnitOfWork(session_factory(self.engine)) as uow:
            return list(uow.session.scalars(select(m.Question.text).order_by(m.Question.id)))

    def lose(self) -> None:
        """The disk is gone: the database and its side files."""
        self.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def reopen(self) -> None:
        """A new engine on the (restored) file."""
        self.engine.dispose()
        self.engine = make_engine(self.url)


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    """A migrated SQLite database in its own folder."""
    path = tmp_path / "state" / "bot.sqlite3"
    path.parent.mkdir()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    running = Bot(path, engine)
    yield running
    running.engine.dispose()


def alex_writing_a_question(bot: Bot, catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Alex has joined, written one question and is asked for the next one."""
    case = seed_case(session_factory(bot.engine), clock.now)
    alex = bot.chat(catalogue, clock)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Mina frågor")
    alex.send("Varför måste jag byta skola?")
    alex.choose("Skriv en ny fråga")
    assert alex.said("youth.question.ask")
    return alex


def samverkan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Runs `samverkan ARGS` in this process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_conversation_in_progress_goes_on_after_the_database_is_lost_and_restored(
    bot: Bot,
    catalogue: Catalogue,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alex_writing_a_question(bot, catalogue, clock)
    file = tmp_path / "backup.samverkan"
    # Online: the bot's engine is open, its WAL holds the newest rows.
    made = backup(Config(database_url=bot.url), file, now=clock)
    assert made.schema and made.matrix_device_id is None
    sealed = file.read_bytes()
    assert sealed.startswith(b"samverkan-backup 1 test\n")
    assert b"SQLite format 3" not in sealed and b"manifest" not in sealed
    assert file.stat().st_mode & 0o777 == 0o600

    bot.lose()
    code, out, err = samverkan(capsys, "restore", "--db", bot.url, "--from", str(file))
    assert (code, err) == (0, "")
    assert out.startswith(f"restored the database to {bot.path} (backup of 2026-11-23 10:00 UTC)")
    assert bot.path.stat().st_mode & 0o777 == 0o600

    bot.reopen()
    alex = bot.chat(catalogue, clock)
    alex.send("Vem bestämmer om min medicin?")  # the answer to the question asked before
    assert alex.ids() == ["youth.question.saved", "youth.questions"]
    assert "1. Varför måste jag byta skola?\n2. Vem bestämmer om min medicin?" in alex.text()


def test_a_restore_over_a_newer_database_is_refused_unless_forced(
    bot: Bot,
    catalogue: Catalogue,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alex = alex_writing_a_question(bot, catalogue, clock)
    file = tmp_path / "backup.samverkan"
    backup(Config(database_url=bot.url), file, now=clock)
    clock.advance(minutes=5)
    alex.send("Får mamma vara med?")  # after the backup

    code, out, err = samverkan(capsys, "restore", "--db", bot.url, "--from", str(file))
    assert code == 1 and out == ""
    assert err == (
        "samverkan: the database has changes from 2026-11-23 10:05 UTC, after the backup "
        "(2026-11-23 10:00 UTC): restore with --force to lose them\n"
    )
    assert bot.questions() == ["Varför måste jag byta skola?", "Får mamma vara med?"]

    bot.engine.dispose()
    code, _, err = samverkan(capsys, "restore", "--db", bot.url, "--from", str(file), "--force")
    assert (code, err) == (0, "")
    bot.reopen()
    assert bot.questions() == ["Varför måste jag byta skola?"]
    alex = bot.chat(catalogue, clock)
    alex.send("Vem bestämmer om min medicin?")
    assert alex.said("youth.question.saved")


def test_a_backup_opens_only_with_its_data_key_and_says_so_in_one_line(
    bot: Bot,
    catalogue: Catalogue,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alex_writing_a_question(bot, catalogue, clock)
    file = tmp_path / "backup.samverkan"
    code, out, err = samverkan(capsys, "backup", "--db", bot.url, "--to", str(file))
    assert (code, err) == (0, "") and out.startswith(f"backup written to {file}")
    bot.lose()

    monkeypatch.setenv(DATA_KEY_ENV, DataKey.generate("test").encode())
    code, out, err = samverkan(capsys, "restore", "--db", bot.url, "--from", str(file))
    assert code == 1 and out == ""
    assert err == (
        f"samverkan: data key 'test' does not open {file}: it was made under another key of "
        "that name, or the file is damaged\n"
    )
    monkeypatch.setenv(DATA_KEY_ENV, DataKey.generate("k2027").encode())
    code, _, err = samverkan(capsys, "restore", "--db", bot.url, "--from", str(file))
    assert code == 1
    assert err == (
        f"samverkan: {file} was made under data key 'test', which is not set: set it in "
        "SAMVERKAN_DATA_KEY (or SAMVERKAN_OLD_DATA_KEYS after a rotation)\n"
    )
    # Nothing was written: the lost database is still lost (an empty file at most).
    assert not bot.path.exists() or bot.path.stat().st_size == 0


def test_a_restore_while_the_bot_runs_is_refused(
    bot: Bot,
    catalogue: Catalogue,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alex_writing_a_question(bot, catalogue, clock)
    file = tmp_path / "backup.samverkan"
    backup(Config(database_url=bot.url), file, now=clock)
    running = SqliteProcessLock(bot.path.resolve())
    running.acquire()  # what `samverkan run` holds while it runs
    try:
        code, _, err = samverkan(capsys, "restore", "--db", bot.url, "--from", str(file), "--force")
    finally:
        running.release()
    assert code == 1
    assert err.startswith(f"samverkan: the bot is running on {bot.path.resolve()}")
    assert err.endswith("stop it before restoring\n") and err.count("\n") == 1


def test_postgresql_and_files_that_are_no_backup_get_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = samverkan(
        capsys, "backup", "--db", "postgresql+psycopg://bot@127.0.0.1/x", "--to", "b"
    )
    assert code == 1
    assert err.startswith("samverkan: the database is postgresql: back it up with pg_dump")
    assert err.count("\n") == 1

    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    db = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    code, _, err = samverkan(capsys, "restore", "--db", db, "--from", str(other))
    assert (code, err) == (1, f"samverkan: {other} is not a samverkan backup\n")
    code, _, err = samverkan(capsys, "restore", "--db", db, "--from", str(tmp_path / "none"))
    assert code == 1 and err.startswith("samverkan: cannot read") and "Traceback" not in err
    code, _, err = samverkan(capsys, "backup", "--db", db, "--to", str(tmp_path / "b"))
    assert (code, err) == (1, f"samverkan: there is no database at {tmp_path / 'bot.sqlite3'}\n")


@pytest.mark.slow
def test_the_matrix_bot_carries_on_with_the_same_device_after_everything_is_restored(
    hs: Homeserver, catalogue: Catalogue, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    bot = Bot(state / "bot.sqlite3", make_engine(f"sqlite:///{state / 'bot.sqlite3'}"))
    upgrade(bot.engine)
    case = seed_case(session_factory(bot.engine), datetime.now(UTC))
    account = hs.register(unique("samverkan"), BOT_PASSWORD)
    matrix = bot_config(hs, account.user_id, state / "matrix-store")
    config = Config(database_url=bot.url, matrix=matrix)
    file = tmp_path / "backup.samverkan"

    async def scenario() -> None:
        alex = await Person.start(hs, "alex", tmp_path)
        running = await start_bot(matrix, BOT_PASSWORD, session_factory(bot.engine), catalogue)
        try:
            dm = await alex.open_dm(running.user_id)
            await alex.next_from(running.user_id, dm)
            await alex.knows_devices_of(dm, running.user_id)
            await alex.say(dm, f"/start {case.youth_code}")
            await alex.next_from(running.user_id, dm)
            await alex.say(dm, "1")  # Ja, det är okej
            await alex.next_from(running.user_id, dm)
            await alex.say(dm, "15")
            await alex.next_from(running.user_id, dm)
            await alex.say(dm, "1")  # Ja, alla får se det jag delar
            await alex.next_from(running.user_id, dm)
            await alex.choose(dm, running.user_id, "Mina frågor")
            await alex.next_from(running.user_id, dm)
            await alex.say(dm, "Varför måste jag byta skola?")
            await alex.next_from(running.user_id, dm)
            await alex.choose(dm, running.user_id, "Skriv en ny fråga")
            (asked,) = await alex.next_from(running.user_id, dm)
            assert asked.decrypted and asked.body.startswith("Skriv din fråga")

            # Online, while the bot syncs: the database and the store in one file.
            made = backup(config, file)
            assert (made.matrix_user_id, made.matrix_device_id) == (
                running.user_id,
                running.device_id,
            )
            assert made.has_store
            device = running.device_id
        finally:
            await running.stop()

        try:
            # Everything is lost: the database and the crypto store.
            bot.lose()
            shutil.rmtree(matrix.store_path)
            restored = restore(config, file)
            assert restored.store == Path(matrix.store_path)
            bot.reopen()

            running = await start_bot(matrix, BOT_PASSWORD, session_factory(bot.engine), catalogue)
            try:
                assert running.device_id == device
                # Alex answers the question asked before the loss, in the same encrypted DM.
                await alex.say(dm, "Vem bestämmer om min medicin?")
                # Saved, and the list, as one message (bot/one_message.py).
                (questions,) = await alex.next_from(running.user_id, dm)
                assert questions.decrypted
                assert questions.body.startswith(
                    catalogue.render("youth.question.saved", {}, "sv", TextFormat.PLAIN) + "\n\n"
                )
                assert (
                    "1. Varför måste jag byta skola?\n2. Vem bestämmer om min medicin?"
                    in questions.body
                )
                assert alex.unread_from(running.user_id, dm) == []  # nothing said twice
            finally:
                await running.stop()
        finally:
            await alex.stop()

    try:
        run(hs, scenario())
    finally:
        bot.engine.dispose()
