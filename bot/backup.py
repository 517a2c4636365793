"""`samverkan backup` and `samverkan restore`: the database and the Matrix crypto store, together.

The two belong together (docs/matrix.md, "Backup and restore"): the database names the bot's
Matrix device and its sync position, the store holds that device's keys. A backup is one file:

    samverkan-backup 1 <data key id>\\n<nonce + AES-256-GCM(tar.gz) + tag>

sealed under the data key (storage/crypto.py `Keyring.seal`), so the file is useless without
SAMVERKAN_DATA_KEY (or, after a rotation, the old key in SAMVERKAN_OLD_DATA_KEYS). Inside:
`manifest.json` (format, when, schema revisions, the Matrix user and device; no secrets),
`database.sqlite3`, and `matrix-store/` when there is one. The pickle key is never in it.

SQLite only: the copy is taken with SQLite's online backup API, consistent while the bot runs
(WAL included). PostgreSQL is backed up with `pg_dump` (docs/operations.md).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.clock import system_clock
from bot.config import Config
from bot.instance import AnotherProcessRunning, SqliteProcessLock
from storage import models as m
from storage.crypto import DataKeyError, active_keyring
from storage.db import make_engine
from storage.private_paths import FILE_MODE, make_private_folder
from storage.schema import alembic_config, current_revisions

FORMAT = 1
MAGIC = b"samverkan-backup"
# What a sealed backup is, bound into its encryption: it opens as nothing else.
CONTEXT = MAGIC + b" %d" % FORMAT
MANIFEST = "manifest.json"
DATABASE = "database.sqlite3"
STORE = "matrix-store"
# SQLite's side files: the online backup copies what they hold, a stale one must not survive.
_SIDE_FILES = ("-wal", "-shm", "-journal")
_SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message is one line saying why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup holds: never a secret, enough to decide whether restoring is safe."""

    created_at: datetime
    schema: tuple[str, ...]
    matrix_user_id: str | None
    matrix_device_id: str | None
    has_store: bool

    def to_json(self) -> bytes:
        """The manifest as stored in the archive."""
        return json.dumps(
            {
                "format": FORMAT,
                "created_at": self.created_at.isoformat(),
                "schema": list(self.schema),
                "matrix": {
                    "user_id": self.matrix_user_id,
                    "device_id": self.matrix_device_id,
                    "store": self.has_store,
                },
            },
            indent=2,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Reads a manifest; BackupError for one this version does not understand."""
        try:
            raw = json.loads(data)
            if raw["format"] != FORMAT:
                raise BackupError(
                    f"the backup has format {raw['format']}; this version reads format {FORMAT}"
                )
            matrix = raw["matrix"]
            return cls(
                datetime.fromisoformat(raw["created_at"]).astimezone(UTC),
                tuple(raw["schema"]),
                matrix["user_id"],
                matrix["device_id"],
                bool(matrix["store"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError("the backup's manifest is damaged") from exc


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore put back, for the one line the command prints."""

    manifest: Manifest
    database: Path
    store: Path | None


def sqlite_path(config: Config) -> Path:
    """The SQLite database file of the config; BackupError for PostgreSQL or in-memory."""
    url = make_url(config.database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"the database is {url.get_backend_name()}: back it up with pg_dump and restore "
            "with pg_restore (docs/operations.md, 'Back up and restore'); `samverkan backup` "
            "copies SQLite databases"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database).resolve()


def backup(config: Config, to: Path, now: Callable[[], datetime] = system_clock) -> Manifest:
    """Writes an encrypted backup of the database (and the Matrix store) to `to`."""
    database = sqlite_path(config)
    # An empty file is what opening a database that never was leaves behind.
    if not database.is_file() or database.stat().st_size == 0:
        raise BackupError(f"there is no database at {database}")
    keyring = active_keyring()
    store = Path(config.matrix.store_path)
    with tempfile.TemporaryDirectory(prefix="samverkan-backup-") as work:
        copy = Path(work) / DATABASE
        # The database first, then the store: a store newer than the database only holds
        # more keys, while an older one would lack keys for messages the database has seen.
        _sqlite_copy(database, copy)
        created_at = now()
        schema = _schema_of(copy)
        user_id, device_id = _matrix_device(copy, config.matrix.user_id)
        has_store = config.matrix.enabled and store.is_dir()
        if has_store:
            _copy_store(store, Path(work) / STORE)
        manifest = Manifest(created_at, schema, user_id, device_id, has_store)
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            _add_bytes(tar, MANIFEST, manifest.to_json())
            tar.add(copy, DATABASE)
            if has_store:
                tar.add(Path(work) / STORE, STORE)
    # In memory: a few hundred MB at most for this bot, well under AES-GCM's 64 GB limit.
    kid, sealed = keyring.seal(archive.getvalue(), CONTEXT)
    _write_atomically(to, CONTEXT + b" " + kid.encode() + b"\n" + sealed)
    return manifest


def restore(config: Config, from_: Path, force: bool = False) -> Restored:
    """Puts a backup's database (and Matrix store) back, refusing to go back in time unforced."""
    database = sqlite_path(config)
    archive = _open(from_)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        manifest = Manifest.from_json(_member(tar, MANIFEST))
        known = _known_revisions()
        unknown = set(manifest.schema) - known
        if unknown:
            raise BackupError(
                "the backup was made by a newer version of samverkan (schema "
                f"{', '.join(sorted(unknown))}): install that version first"
            )
        lock = SqliteProcessLock(database) if database.exists() else None
        try:
            if lock is not None:
                lock.acquire()
        except AnotherProcessRunning as exc:
            holder: int | str | None = None
            with contextlib.suppress(OSError):
                holder = lock.holder() if lock else None
            raise BackupError(
                f"the bot is running on {database} (pid {holder or '?'}): stop it before restoring"
            ) from exc
        try:
            if not force and database.exists():
                _refuse_going_back(database, manifest)
            store = Path(config.matrix.store_path) if manifest.has_store else None
            _put_database(tar, database)
            if store is not None:
                _put_store(tar, store)
        finally:
            if lock is not None:
                lock.release()
    return Restored(manifest, database, store)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API, WAL included)."""
    # Opened read-write without creating: read-only could not read a WAL database whose
    # shared-memory file is gone.
    with (
        contextlib.closing(sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        try:
            src.backup(dst)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} cannot be read as a database: {exc}") from exc


def _schema_of(database: Path) -> tuple[str, ...]:
    """The Alembic revisions of a database copy (empty before the first migration)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        try:
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.OperationalError:
            return ()
    return tuple(sorted(row[0] for row in rows))


def _matrix_device(database: Path, user_id: str) -> tuple[str | None, str | None]:
    """The Matrix user and device the database names (for the manifest), if any."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        try:
            row = db.execute(
                "SELECT user_id, device_id FROM matrix_account WHERE user_id = ?", (user_id,)
            ).fetchone()
        except sqlite3.OperationalError:
            return None, None  # a database from before Matrix
    return (row[0], row[1]) if row else (None, None)


def _copy_store(store: Path, target: Path) -> None:
    """Copies the crypto store: its SQLite files with the backup API, anything else as is."""
    make_private_folder(target)
    for path in sorted(store.rglob("*")):
        relative = path.relative_to(store)
        if path.is_dir():
            make_private_folder(target / relative)
        elif path.is_file() and not path.name.endswith(_SIDE_FILES):
            with path.open("rb") as handle:
                header = handle.read(len(_SQLITE_HEADER))
            if header == _SQLITE_HEADER:
                _sqlite_copy(path, target / relative)
            else:
                shutil.copy2(path, target / relative)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Adds a file made in memory to the archive."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = FILE_MODE
    tar.addfile(info, io.BytesIO(data))


def _write_atomically(path: Path, data: bytes) -> None:
    """Writes a 0600 file through a temporary one beside it: never half a file."""
    path = path.resolve()
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _open(path: Path) -> bytes:
    """The decrypted archive of a backup file."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from exc
    header, newline, sealed = content.partition(b"\n")
    prefix = CONTEXT + b" "
    if not newline or not header.startswith(prefix):
        if header.startswith(MAGIC + b" "):
            raise BackupError(f"{path} is a backup of another format than this version reads")
        raise BackupError(f"{path} is not a samverkan backup")
    kid = header[len(prefix) :].decode("ascii", errors="replace")
    try:
        return active_keyring().unseal(kid, sealed, CONTEXT)
    except DataKeyError as exc:
        if kid not in active_keyring().key_ids:
            raise BackupError(
                f"{path} was made under data key {kid!r}, which is not set: set it in "
                "SAMVERKAN_DATA_KEY (or SAMVERKAN_OLD_DATA_KEYS after a rotation)"
            ) from exc
        raise BackupError(
            f"data key {kid!r} does not open {path}: it was made under another key of that "
            "name, or the file is damaged"
        ) from exc


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    """One file of the archive."""
    try:
        handle = tar.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise BackupError(f"the backup has no {name}")
    return handle.read()


def _known_revisions() -> set[str]:
    """Every migration this version of samverkan knows."""
    from alembic.script import ScriptDirectory

    # The script directory needs no database; the engine attribute is never read here.
    scripts = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    return {revision.revision for revision in scripts.walk_revisions()}


def _ancestors(revisions: tuple[str, ...] | frozenset[str]) -> set[str]:
    """The migrations before (and including) these ones."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    return {r.revision for r in scripts.iterate_revisions(tuple(revisions), "base")}


def _refuse_going_back(database: Path, manifest: Manifest) -> None:
    """Refuses a restore over a database that is newer than the backup (without --force)."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        current = current_revisions(engine)
        if not current:
            return  # an empty database: nothing to lose
        if current != set(manifest.schema) and set(manifest.schema) <= _ancestors(current):
            raise BackupError(
                f"the database's schema ({', '.join(sorted(current))}) is newer than the "
                f"backup's ({', '.join(manifest.schema) or 'none'}): restore with --force to "
                "go back to the backup, then run `samverkan db upgrade`"
            )
        with engine.connect() as connection:
            newest = [
                connection.scalar(select(func.max(column)))
                for column in (
                    m.Outbox.created_at,
                    m.ConversationState.updated_at,
                    m.InboxEvent.received_at,
                )
            ]
    finally:
        engine.dispose()
    latest = max((when for when in newest if when is not None), default=None)
    if latest is not None and latest > manifest.created_at:
        raise BackupError(
            f"the database has changes from {latest:%Y-%m-%d %H:%M} UTC, after the backup "
            f"({manifest.created_at:%Y-%m-%d %H:%M} UTC): restore with --force to lose them"
        )


def _put_database(tar: tarfile.TarFile, database: Path) -> None:
    """Replaces the database file with the backup's, atomically, and drops stale side files."""
    make_private_folder(database.parent)
    with _temp_beside(database) as temp:
        _extract(tar, DATABASE, temp / DATABASE)
        # Side files of the old database would be read as part of the new one: gone first.
        for suffix in _SIDE_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{database}{suffix}")
        os.replace(temp / DATABASE, database)


def _put_store(tar: tarfile.TarFile, store: Path) -> None:
    """Replaces the Matrix store folder with the backup's: the new one in, then the old out."""
    make_private_folder(store.parent)
    with _temp_beside(store) as temp:
        prefix = STORE + "/"
        for member in tar.getmembers():
            if member.name.startswith(prefix) and member.isfile():
                _extract(tar, member.name, temp / member.name)
        make_private_folder(temp / STORE)
        old = temp / "old-store"
        if store.exists():
            os.replace(store, old)
        os.replace(temp / STORE, store)


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[Path]:
    """A private temporary folder in the same folder as `path`, so a rename is atomic."""
    temp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.restore-"))
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _extract(tar: tarfile.TarFile, name: str, target: Path) -> None:
    """Writes one archive file to `target` (0600), never outside it whatever its name says."""
    if name.startswith("/") or ".." in Path(name).parts:
        raise BackupError("the backup holds a file with an unsafe name")
    make_private_folder(target.parent)
    data = _member(tar, name)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def add_backup_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_db_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """`samverkan backup --to FILE` and `samverkan restore --from FILE [--force]`."""
    made = sub.add_parser(
        "backup",
        help="an encrypted copy of the database and the Matrix store (safe while the bot runs)",
        description="Copies the SQLite database and the Matrix crypto store together into one "
        "file encrypted under SAMVERKAN_DATA_KEY. For PostgreSQL use pg_dump.",
    )
    add_db_options(made)
    made.add_argument("--to", required=True, type=Path, help="the backup file to write")
    put_back = sub.add_parser(
        "restore",
        help="put a backup's database and Matrix store back (the bot stopped)",
        description="Refuses to overwrite a database with changes newer than the backup, "
        "or a newer schema, unless --force is given.",
    )
    add_db_options(put_back)
    put_back.add_argument("--from", dest="from_", required=True, type=Path, help="backup file")
    put_back.add_argument(
        "--force", action="store_true", help="overwrite a newer database (its changes are lost)"
    )


def run_backup_command(args: argparse.Namespace, config: Config) -> int:
    """Runs `backup` or `restore` and prints one line: what was done, or why not."""
    try:
        if args.command == "backup":
            manifest = backup(config, args.to)
            device = f", Matrix device {manifest.matrix_device_id}" if manifest.has_store else ""
            print(f"backup written to {args.to} (schema {', '.join(manifest.schema)}{device})")
            return 0
        restored = restore(config, args.from_, force=args.force)
    except BackupError as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a folder we may not write
        print(f"samverkan: {exc.strerror or type(exc).__name__}: {exc.filename}", file=sys.stderr)
        return 1
    made = restored.manifest
    store = f" and the Matrix store to {restored.store}" if restored.store else ""
    print(
        f"restored the database to {restored.database}{store} "
        f"(backup of {made.created_at:%Y-%m-%d %H:%M} UTC)"
    )
    return 0
