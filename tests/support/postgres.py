"""Throwaway PostgreSQL cluster for tests that need a real server."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

URL_ENV = "SAMVERKAN_TEST_POSTGRES_URL"
DATABASE = "samverkan_test"
SUPERUSER = "postgres"

_START_TIMEOUT_S = 30
_STOP_TIMEOUT_S = 15
_PORT_ATTEMPTS = 3

# Durability is worthless for a cluster that is deleted after the run; these
# settings trade it away for speed and keep the server to loopback only.
_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "50",
    "shared_buffers": "32MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


class PostgresUnavailable(RuntimeError):
    """Raised when the throwaway cluster cannot be created or started."""


def find_binary(name: str) -> str:
    """Return the path of a PostgreSQL binary, preferring PATH, then version 15."""
    on_path = shutil.which(name)
    if on_path:
        return on_path
    # Debian/Ubuntu keep server binaries off PATH; prefer 15, then the newest.
    candidates = [f"/usr/lib/postgresql/15/bin/{name}"]
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise PostgresUnavailable(
        f"PostgreSQL binary {name!r} not found on PATH or in /usr/lib/postgresql"
    )


def _free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env() -> dict[str, str]:
    """Return the environment without PG* variables that could redirect the tools."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _as_owner(argv: Sequence[str], owner: str | None) -> list[str]:
    """Wrap argv so it runs as owner; the server refuses to run as root."""
    if owner is None:
        return list(argv)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if not os.access(runuser, os.X_OK):
        raise PostgresUnavailable("runuser is needed to run PostgreSQL as root")
    return [runuser, "-u", owner, "--", *argv]


def _run(
    argv: Sequence[str], owner: str | None, cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a command as owner, capturing output, with a hard timeout."""
    return subprocess.run(
        _as_owner(argv, owner),
        cwd=cwd,  # the owner may not be able to read the caller's cwd (e.g. /root)
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _log_tail(log: Path, lines: int = 30) -> str:
    """Return the last lines of the server log, or a note that it is missing."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(server log unavailable: {exc})"


def _failure(
    what: str, result: subprocess.CompletedProcess[str] | None, log: Path
) -> PostgresUnavailable:
    """Build an error that carries the command output and the server log tail."""
    parts = [what]
    if result is not None:
        parts.append(f"exit status {result.returncode}")
        parts.append(f"output:\n{(result.stdout + result.stderr).strip()}")
    # The log is deleted with the temp dir, so its tail is copied into the error.
    parts.append(f"server log tail:\n{_log_tail(log)}")
    return PostgresUnavailable("\n".join(parts))


def _stop(pg_ctl: str, data: Path, owner: str | None, workdir: Path) -> None:
    """Stop the server fast, then immediately, then by SIGKILL as a last resort."""
    for mode in ("fast", "immediate"):
        with suppress(subprocess.TimeoutExpired):
            result = _run(
                [pg_ctl, "stop", "-D", str(data), "-m", mode, "-w", "-t", str(_STOP_TIMEOUT_S)],
                owner,
                workdir,
                timeout=_STOP_TIMEOUT_S + 5,
            )
            if result.returncode == 0 or not (data / "postmaster.pid").exists():
                return
    # pg_ctl gave up; kill the postmaster so no server outlives the test run.
    with suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Yield a SQLAlchemy URL for a fresh PostgreSQL database, removed on exit."""
    external = os.environ.get(URL_ENV)
    if external:
        yield external
        return

    initdb = find_binary("initdb")
    pg_ctl = find_binary("pg_ctl")
    createdb = find_binary("createdb")
    # Root may not run the server, so as root every server-side step runs as
    # the postgres OS user; otherwise the current user owns the cluster.
    owner = SUPERUSER if os.geteuid() == 0 else None

    workdir = Path(tempfile.mkdtemp(prefix="samverkan-pg-"))
    data = workdir / "data"
    sockets = workdir / "sock"
    log = workdir / "server.log"
    started = False
    try:
        sockets.mkdir()
        if owner is not None:
            account = pwd.getpwnam(owner)
            for path in (workdir, sockets):
                os.chown(path, account.pw_uid, account.pw_gid)

        result = _run(
            [
                initdb,
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            owner,
            workdir,
            timeout=120,
        )
        if result.returncode != 0:
            raise _failure("initdb failed", result, log)

        # Appending keeps the file's postgres ownership; later settings win.
        settings = {**_SERVER_SETTINGS, "unix_socket_directories": f"'{sockets}'"}
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# samverkan throwaway test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

        # The free port can be taken between probing and binding, so retry
        # with a new one when the server reports the address in use.
        port = 0
        for attempt in range(_PORT_ATTEMPTS):
            port = _free_port()
            started = True  # pg_ctl may leave a server behind even when it fails
            try:
                result = _run(
                    [
                        pg_ctl,
                        "start",
                        "-D",
                        str(data),
                        "-l",
                        str(log),
                        "-o",
                        f"-p {port}",
                        "-w",
                        "-t",
                        str(_START_TIMEOUT_S),
                    ],
                    owner,
                    workdir,
                    timeout=_START_TIMEOUT_S + 10,
                )
            except subprocess.TimeoutExpired as exc:
                raise _failure(
                    f"pg_ctl start did not return within {_START_TIMEOUT_S + 10}s", None, log
                ) from exc
            if result.returncode == 0:
                break
            if "Address already in use" not in _log_tail(log) or attempt == _PORT_ATTEMPTS - 1:
                raise _failure(
                    f"PostgreSQL failed to start on port {port} (waited up to {_START_TIMEOUT_S}s)",
                    result,
                    log,
                )

        result = _run(
            [createdb, "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, DATABASE],
            owner,
            workdir,
            timeout=_START_TIMEOUT_S,
        )
        if result.returncode != 0:
            raise _failure(f"createdb {DATABASE} failed", result, log)

        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            _stop(pg_ctl, data, owner, workdir)
        shutil.rmtree(workdir, ignore_errors=True)
