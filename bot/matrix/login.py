"""The bot's Matrix device: logged in once, then restored from the database on every start.

A new device per start would be bad twice over: people's clients would see a stream of
unknown devices, and the keys of earlier encrypted messages would be lost with the old
device. So the access token and device id are stored (storage/models/matrix.py), and the
Olm/Megolm keys live in nio's SQLite crypto store, encrypted with the configured pickle key.

The database and the store belong together. A start whose store has no keys (or other keys)
for the device the homeserver knows refuses: nio would make new identity keys and upload them
under the old device id, which people's apps reject and the homeserver then refuses for good.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    KeysUploadError,
    LoginError,
    WhoamiError,
)
from nio.api import MATRIX_API_PATH_V3
from sqlalchemy.orm import Session, sessionmaker
from vodozemac import LibolmPickleException, PickleException

from bot.clock import Clock, system_clock
from bot.config import MatrixConfig, check_matrix_secrets
from bot.log_safety import register_secret
from storage.private_paths import make_private_folder
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Requests that time out are retried this many times before the error reaches us.
MAX_TIMEOUTS = 2


# Where an operator finds the recovery steps for a store that does not fit the database.
RECOVERY = "see 'Backup and restore' in docs/matrix.md"


class MatrixStartError(RuntimeError):
    """The bot cannot log in or open its crypto store; the message says what to fix."""


class MatrixUnreachable(MatrixStartError):
    """The homeserver did not answer (network, 5xx): worth trying again later."""


@dataclass(frozen=True, slots=True)
class MatrixSecrets:
    """The secrets the [matrix] section names, read from the environment."""

    pickle_key: str = field(repr=False)
    password: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(
        cls, config: MatrixConfig, environ: Mapping[str, str] | None = None
    ) -> MatrixSecrets:
        """Reads the variables named in the config; a ConfigError naming one that is missing."""
        env = os.environ if environ is None else environ
        # Checked here, when Matrix starts, not when the config is read (bot/config.py).
        check_matrix_secrets(config, env)
        return cls(
            pickle_key=env[config.pickle_key_env],
            password=env.get(config.password_env) or None,
            access_token=env.get(config.access_token_env) or None,
        )


def new_client(config: MatrixConfig, secrets: MatrixSecrets) -> AsyncClient:
    """An encryption-enabled nio client whose crypto store is locked with our pickle key."""
    store = Path(config.store_path)
    make_private_folder(store)
    client_config = AsyncClientConfig(
        encryption_enabled=True,
        # The sync token lives in our database, next to the state it belongs to.
        store_sync_tokens=False,
        pickle_key=secrets.pickle_key,
        # Rate limits go back to the outbox, which waits without blocking other work.
        max_limit_exceeded=0,
        max_timeouts=MAX_TIMEOUTS,
        request_timeout=config.sync_timeout_seconds + 30,
    )
    return AsyncClient(
        config.homeserver, config.user_id, store_path=str(store), config=client_config
    )


async def log_in(
    client: AsyncClient,
    config: MatrixConfig,
    secrets: MatrixSecrets,
    sessions: sessionmaker[Session],
    clock: Clock = system_clock,
) -> str | None:
    """Restores the stored device (or logs in once) and uploads keys; returns the sync token.

    Refuses (MatrixStartError) when the crypto store does not hold the keys the homeserver
    has for the device: new keys under a known device id would break it for good.
    """
    with UnitOfWork(sessions) as uow:
        stored = uow.matrix.session_for(config.user_id)
    # Opened before any network: a wrong pickle key is reported at once.
    held = _keys_in_store(client, config, stored.device_id) if stored else None
    token = secrets.access_token or (stored.access_token if stored else None)
    if token is not None:
        device_id = await _device_of_token(client, token)
        if device_id is None and secrets.password is None:
            raise MatrixStartError(
                "the Matrix access token is no longer valid; set a new one or the password"
            )
    else:
        device_id = None
    if device_id is None:
        if secrets.password is None:
            raise MatrixStartError("no Matrix password or access token in the environment")
        # Logging in again with the stored device id keeps the device (and its keys), but
        # only if the store holds them; otherwise a new device rather than new keys on it.
        keep_device = stored is not None and held is not None
        if stored is not None and not keep_device:
            log.warning("matrix: the store has no keys of device %s; new device", stored.device_id)
        client.device_id = stored.device_id if stored and keep_device else None
        response = await client.login(secrets.password, device_name=config.device_name)
        if isinstance(response, LoginError):
            if _server_trouble(response):
                raise MatrixUnreachable(f"Matrix login failed: {response.status_code}")
            raise MatrixStartError(f"Matrix login failed: {response.status_code}")
        device_id, token = response.device_id, response.access_token
        log.info("matrix: logged in; device %s", device_id)
    assert token is not None
    register_secret(token)  # nio may put it in a URL or a header it logs
    client.access_token = token
    local = held if stored and stored.device_id == device_id else None
    if local is None:
        local = _keys_in_store(client, config, device_id)
    _check_store_fits(config, device_id, local, await _published_keys(client, device_id))
    try:
        client.restore_login(config.user_id, device_id, token)
    except (PickleException, LibolmPickleException) as exc:
        raise _wrong_pickle_key(config) from exc
    if client.olm is None:
        raise MatrixStartError("matrix-nio was installed without end-to-end encryption")
    keep_token = None if secrets.access_token else token
    sync_token = stored.sync_token if stored and stored.device_id == device_id else None
    if stored is None or stored.device_id != device_id or stored.access_token != keep_token:
        if stored is not None and stored.device_id != device_id:
            log.warning("matrix: device changed from %s to %s", stored.device_id, device_id)
        with UnitOfWork(sessions) as uow:
            uow.matrix.save_login(config.user_id, device_id, keep_token, clock())
            uow.commit()
    if client.should_upload_keys:
        uploaded = await client.keys_upload()
        if isinstance(uploaded, KeysUploadError):
            if _server_trouble(uploaded):
                raise MatrixUnreachable(f"uploading the device keys failed: {uploaded.status_code}")
            raise MatrixStartError(f"uploading the device keys failed: {uploaded.status_code}")
    # Operators compare this with what people's clients show to verify the bot's device.
    log.info(
        "matrix: device %s, ed25519 fingerprint %s",
        device_id,
        client.olm.account.identity_keys["ed25519"],
    )
    return sync_token


IdentityKeys = dict[str, str]


def _keys_in_store(
    client: AsyncClient, config: MatrixConfig, device_id: str
) -> IdentityKeys | None:
    """The identity keys the crypto store holds for a device, or None; never makes keys."""
    store_class = client.config.store
    store = store_class(
        config.user_id,
        device_id,
        client.store_path,
        client.config.pickle_key,
        client.config.store_name,
    )
    try:
        account = store.load_account()
    except (PickleException, LibolmPickleException) as exc:
        raise _wrong_pickle_key(config) from exc
    finally:
        store.database.close()
    if account is None:
        return None
    keys: IdentityKeys = dict(account.identity_keys)
    return keys


async def _published_keys(client: AsyncClient, device_id: str) -> IdentityKeys | None:
    """The identity keys the homeserver hands out for the bot's device, or None."""
    user_id: str = client.user_id
    response = await client.send(
        "POST",
        f"{MATRIX_API_PATH_V3}/keys/query",
        json.dumps({"device_keys": {user_id: [device_id]}}),
        {"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"},
    )
    async with response:
        if response.status >= 500:
            raise MatrixUnreachable(f"the homeserver did not answer keys/query: {response.status}")
        if response.status != 200:
            raise MatrixStartError(f"the homeserver refused keys/query: {response.status}")
        answer = await response.json()
    device = answer.get("device_keys", {}).get(user_id, {}).get(device_id)
    if not device:
        return None
    keys = device.get("keys", {})
    return {
        "curve25519": keys.get(f"curve25519:{device_id}"),
        "ed25519": keys.get(f"ed25519:{device_id}"),
    }


def _check_store_fits(
    config: MatrixConfig,
    device_id: str,
    local: IdentityKeys | None,
    published: IdentityKeys | None,
) -> None:
    """Refuses a store that lacks, or differs from, the keys the homeserver has."""
    if published is None:
        return  # the device has no keys yet: uploading them is its first time
    if local is None:
        raise MatrixStartError(
            f"the Matrix crypto store in {config.store_path} has no keys of the bot's device "
            f"{device_id}, which the homeserver knows. The bot did not start, so that the "
            f"device keeps its keys. Restore the store from the backup taken with the "
            f"database, or start over as a new device; {RECOVERY}"
        )
    if local != published:
        raise MatrixStartError(
            f"the Matrix crypto store in {config.store_path} holds other keys than the "
            f"homeserver has for the bot's device {device_id}: it belongs to another device "
            f"or another backup. Restore the store from the backup taken with the database; "
            f"{RECOVERY}"
        )


def _wrong_pickle_key(config: MatrixConfig) -> MatrixStartError:
    """The plain message for a store locked with another pickle key."""
    return MatrixStartError(
        f"the Matrix crypto store in {config.store_path} cannot be opened with "
        f"{config.pickle_key_env}: it was locked with another key. Set the pickle key that "
        f"belongs to this store; {RECOVERY}"
    )


def _server_trouble(response: object) -> bool:
    """Whether an error answer came from a homeserver in trouble (5xx), not a refusal."""
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", 0)
    return isinstance(status, int) and status >= 500


async def _device_of_token(client: AsyncClient, token: str) -> str | None:
    """The device an access token belongs to, or None if the server no longer accepts it."""
    client.access_token = token
    response = await client.whoami()
    if isinstance(response, WhoamiError):
        if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
            log.warning("matrix: stored access token rejected (%s)", response.status_code)
            return None
        if _server_trouble(response):
            raise MatrixUnreachable(f"the homeserver did not answer whoami: {response.status_code}")
        raise MatrixStartError(f"the homeserver did not answer whoami: {response.status_code}")
    if response.user_id != client.user:
        raise MatrixStartError("the Matrix access token belongs to another user than user_id")
    device_id: str | None = response.device_id
    return device_id
