"""Throwaway Synapse homeserver on loopback for tests that need a real Matrix server.

``running_synapse()`` writes a config into a fresh temp dir (SQLite, one plain
HTTP client listener on 127.0.0.1, no federation, rate limits raised high),
starts ``python -m synapse.app.homeserver`` from the running interpreter as a
subprocess, waits until ``/_matrix/client/versions`` answers, and stops and
deletes everything on exit. Nothing is downloaded and nothing but 127.0.0.1 is
contacted.

Users are made with the shared-secret admin registration API, which needs no
open registration and returns an access token and device id directly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER_NAME = "localhost"

_START_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 15.0
_HTTP_TIMEOUT_S = 30.0
_POLL_INTERVAL_S = 0.1
_PORT_ATTEMPTS = 3

# Every rate limiter Synapse 1.163 reads from config, raised far above
# anything a test does. Admin users are not exempt from most of these, and
# the defaults (e.g. 0.17/s with a burst of 3 for registration, 0.003/s for
# logins) break even small suites.
_UNLIMITED: dict[str, float] = {"per_second": 10_000, "burst_count": 100_000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {
        "address": _UNLIMITED,
        "account": _UNLIMITED,
        "failed_attempts": _UNLIMITED,
    },
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {
        "per_room": _UNLIMITED,
        "per_user": _UNLIMITED,
        "per_issuer": _UNLIMITED,
    },
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}


class SynapseUnavailable(RuntimeError):
    """Raised when the throwaway homeserver cannot be configured or started."""


class SynapseRequestError(RuntimeError):
    """Raised when a request to the homeserver gets a non-2xx answer."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> HTTP {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RegisteredUser:
    """A user made through the admin API, already logged in on one device."""

    user_id: str
    access_token: str = field(repr=False)
    device_id: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Homeserver:
    """A running throwaway Synapse; valid only inside ``running_synapse()``."""

    url: str
    server_name: str
    registration_shared_secret: str = field(repr=False)
    base_dir: Path
    log_path: Path
    startup_seconds: float

    def user_id(self, localpart: str) -> str:
        """Return the full Matrix user id for a localpart on this server."""
        return f"@{localpart}:{self.server_name}"

    def register(self, localpart: str, password: str, admin: bool = False) -> RegisteredUser:
        """Create a user with the shared-secret admin registration API.

        The nonce comes from ``GET /_synapse/admin/v1/register`` and the MAC is
        HMAC-SHA1 over ``nonce NUL localpart NUL password NUL admin|notadmin``
        keyed by ``registration_shared_secret``.
        """
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = str(request_json("GET", endpoint)["nonce"])
        mac = hmac.new(self.registration_shared_secret.encode("utf-8"), digestmod=hashlib.sha1)
        mac.update(nonce.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(localpart.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(password.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        answer = request_json("POST", endpoint, body=body)
        return RegisteredUser(
            user_id=str(answer["user_id"]),
            access_token=str(answer["access_token"]),
            device_id=str(answer["device_id"]),
            password=password,
        )

    def api(
        self,
        method: str,
        path: str,
        access_token: str | None = None,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Make a raw API call, e.g. ``api("GET", "/_matrix/client/v3/account/whoami", token)``.

        ``path`` starts at the server root (``/_matrix/...`` or ``/_synapse/...``);
        percent-encode room ids and user ids in it yourself.
        """
        url = f"{self.url}{path}"
        if query:
            url = f"{url}?{urllib.parse.urlencode(query)}"
        return request_json(method, url, body=body, access_token=access_token)

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines of the homeserver log (for failure messages)."""
        return _tail(self.log_path, lines)


def request_json(
    method: str,
    url: str,
    body: Mapping[str, Any] | None = None,
    access_token: str | None = None,
    timeout: float = _HTTP_TIMEOUT_S,
) -> dict[str, Any]:
    """Send a JSON request with urllib and return the decoded JSON object answer."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if access_token is not None:
        request.add_header("Authorization", f"Bearer {access_token}")
    try:
        # Only loopback URLs are ever built here; the proxy-less opener makes
        # sure an http_proxy in the environment cannot divert them.
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", errors="replace")
        raise SynapseRequestError(method, url, exc.code, detail) from exc
    decoded = json.loads(raw) if raw else {}
    if not isinstance(decoded, dict):
        raise SynapseRequestError(method, url, 200, f"expected a JSON object, got {raw!r}")
    return decoded


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int) -> str:
    """Return the last lines of a file, or a note that it cannot be read."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"({path.name} unavailable: {exc})"


def _signing_key_line() -> str:
    """Return a fresh signing key in Synapse's file format.

    The format is ``ed25519 <key version> <unpadded base64 32-byte seed>``;
    any 32 random bytes are a valid ed25519 seed, so no crypto import is needed.
    """
    seed = base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return f"ed25519 a_{secrets.token_hex(2)} {seed}\n"


def _log_config(log_file: Path) -> dict[str, Any]:
    """Return a Python logging dictConfig that writes WARNING and up to one file."""
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                "%(request)s - %(message)s"
            }
        },
        "filters": {"context": {"()": "synapse.logging.context.LoggingContextFilter"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filters": ["context"],
                "filename": str(log_file),
                "encoding": "utf8",
            }
        },
        "loggers": {"synapse.storage.SQL": {"level": "WARNING"}},
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


def _homeserver_config(base: Path, port: int, shared_secret: str) -> dict[str, Any]:
    """Return the homeserver.yaml contents (JSON is valid YAML) for one test server."""
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(base / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {
            "name": "sqlite3",
            "args": {"database": str(base / "homeserver.db")},
        },
        "log_config": str(base / "log.config"),
        "media_store_path": str(base / "media_store"),
        "signing_key_path": str(base / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        "enable_registration": False,
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        # Password hashing dominates registration/login time at the default 12.
        "bcrypt_rounds": 4,
        **_RATE_LIMITS,
    }


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, timeout: float) -> str | None:
    """Poll ``/_matrix/client/versions`` until it answers; return an error or None."""
    versions = f"{url}/_matrix/client/versions"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            return f"synapse exited with status {code} before it answered"
        try:
            answer = request_json("GET", versions, timeout=2.0)
        except (OSError, SynapseRequestError, ValueError):
            answer = None
        if answer is not None and "versions" in answer:
            return None
        # Bounded poll of a server that is still starting; not a blind sleep.
        time.sleep(_POLL_INTERVAL_S)
    return f"synapse did not answer {versions} within {timeout:.1f}s"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the homeserver with SIGTERM, then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_STOP_TIMEOUT_S)


def _diagnostics(log: Path, console: Path) -> str:
    """Return the log tails that explain a failed start (the files are deleted after)."""
    return f"homeserver log tail:\n{_tail(log, 40)}\nstdout/stderr tail:\n{_tail(console, 40)}"


@contextmanager
def running_synapse(start_timeout: float = _START_TIMEOUT_S) -> Iterator[Homeserver]:
    """Run a throwaway Synapse on 127.0.0.1 and yield it; stop and delete it on exit."""
    base = Path(tempfile.mkdtemp(prefix="samverkan-synapse-"))
    log = base / "homeserver.log"
    console = base / "console.log"
    config_path = base / "homeserver.yaml"
    shared_secret = secrets.token_hex(32)
    process: subprocess.Popen[bytes] | None = None
    try:
        (base / "media_store").mkdir()
        (base / "signing.key").write_text(_signing_key_line())
        (base / "log.config").write_text(json.dumps(_log_config(log), indent=2))

        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SYNAPSE_") and key.lower() not in ("http_proxy", "https_proxy")
        }
        env["PYTHONUNBUFFERED"] = "1"

        # The free port can be taken between probing and binding, so retry
        # with a new one when the server reports the address in use.
        for attempt in range(_PORT_ATTEMPTS):
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            config_path.write_text(
                json.dumps(_homeserver_config(base, port, shared_secret), indent=2)
            )
            started = time.monotonic()
            with console.open("ab") as console_file:
                process = subprocess.Popen(
                    [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config_path)],
                    cwd=base,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=console_file,
                    stderr=subprocess.STDOUT,
                )
            error = _wait_until_ready(process, url, start_timeout)
            if error is None:
                yield Homeserver(
                    url=url,
                    server_name=SERVER_NAME,
                    registration_shared_secret=shared_secret,
                    base_dir=base,
                    log_path=log,
                    startup_seconds=time.monotonic() - started,
                )
                return
            _stop(process)
            in_use = "Address already in use" in _diagnostics(log, console)
            if not in_use or attempt == _PORT_ATTEMPTS - 1:
                raise SynapseUnavailable(f"{error} (port {port})\n{_diagnostics(log, console)}")
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(base, ignore_errors=True)
