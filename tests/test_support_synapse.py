"""End-to-end check of the throwaway Synapse: two matrix-nio clients talk encrypted.

This proves the test homeserver supports everything the Matrix adapter needs
(shared-secret registration, device keys, one-time key claims, to-device
messages, encrypted rooms) and pins down the nio calls that make Megolm work.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinError,
    KeysQueryError,
    KeysUploadError,
    MegolmEvent,
    RoomCreateError,
    RoomMessageText,
    RoomPreset,
    RoomSendError,
    SyncError,
    SyncResponse,
)

from tests.support.synapse import Homeserver, RegisteredUser, running_synapse

_WAIT_S = 30.0
_LONG_POLL_MS = 1_000
_MEGOLM = "m.megolm.v1.aes-sha2"


def _accepts_connections(url: str) -> bool:
    """Return whether anything accepts TCP connections at the URL's host and port."""
    parsed = urllib.parse.urlsplit(url)
    assert parsed.hostname is not None and parsed.port is not None
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return True
    except OSError:
        return False


async def _client(hs: Homeserver, user: RegisteredUser, store: Path) -> AsyncClient:
    """Return an e2e-enabled nio client logged in as user, with its keys uploaded."""
    store.mkdir()
    client = AsyncClient(
        hs.url,
        user.user_id,
        device_id=user.device_id,
        store_path=str(store),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
    )
    # restore_login loads (creates) the Olm account in store_path; the device
    # keys only reach the server with keys_upload.
    client.restore_login(user.user_id, user.device_id, user.access_token)
    assert client.olm is not None, "nio was installed without e2e support"
    assert client.should_upload_keys
    upload = await client.keys_upload()
    assert not isinstance(upload, KeysUploadError), upload
    return client


async def _sync_until(
    client: AsyncClient,
    done: Callable[[SyncResponse], bool],
    what: str,
    timeout: float = _WAIT_S,
) -> None:
    """Long-poll sync until done(response) holds, failing after timeout seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await client.sync(timeout=_LONG_POLL_MS)
        assert not isinstance(response, SyncError), f"{client.user_id} sync failed: {response}"
        if done(response):
            return
        if loop.time() > deadline:
            raise AssertionError(f"{client.user_id}: no {what} within {timeout:.0f}s")


async def _trust_devices_of(client: AsyncClient, other: RegisteredUser) -> None:
    """Fetch other's device keys and mark each of their devices verified."""
    if client.should_query_keys:
        query = await client.keys_query()
        assert not isinstance(query, KeysQueryError), query
    devices = list(client.device_store.active_user_devices(other.user_id))
    assert [device.id for device in devices] == [other.device_id]
    for device in devices:
        client.verify_device(device)
    assert client.olm is not None and client.olm.is_device_verified(devices[0])


async def _encrypted_conversation(hs: Homeserver, tmp_path: Path) -> None:
    alice = hs.register("alice", "alice-password")
    bob = hs.register("bob", "bob-password")
    a = await _client(hs, alice, tmp_path / "alice-store")
    b = await _client(hs, bob, tmp_path / "bob-store")
    try:
        created = await a.room_create(
            is_direct=True,
            preset=RoomPreset.trusted_private_chat,
            invite=[bob.user_id],
            initial_state=[
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": _MEGOLM},
                }
            ],
        )
        assert not isinstance(created, RoomCreateError), created
        room_id: str = created.room_id

        await _sync_until(b, lambda _: room_id in b.invited_rooms, "invite")
        joined = await b.join(room_id)
        assert not isinstance(joined, JoinError), joined

        def both_joined(_: SyncResponse) -> bool:
            room = a.rooms.get(room_id)
            return room is not None and bob.user_id in room.users and room.encrypted

        await _sync_until(a, both_joined, "join by bob")
        await _sync_until(b, lambda _: room_id in b.rooms and b.rooms[room_id].encrypted, "room")

        await _trust_devices_of(a, bob)
        await _trust_devices_of(b, alice)

        body = "Hej! Det här är krypterat."
        sent = await a.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": body},
        )
        assert not isinstance(sent, RoomSendError), sent

        received: list[RoomMessageText] = []
        undecrypted: list[MegolmEvent] = []

        def got_message(response: SyncResponse) -> bool:
            joined_room = response.rooms.join.get(room_id)
            if joined_room is not None:
                for event in joined_room.timeline.events:
                    if isinstance(event, RoomMessageText):
                        received.append(event)
                    elif isinstance(event, MegolmEvent):
                        undecrypted.append(event)
            return bool(received)

        await _sync_until(b, got_message, "decrypted message")
        assert not undecrypted, f"bob could not decrypt: {undecrypted}"
        assert [event.body for event in received] == [body]
        assert received[0].event_id == sent.event_id
        assert received[0].sender == alice.user_id
        assert received[0].decrypted
        assert received[0].verified  # sent from a device bob marked verified

        # On the server the event is only ciphertext.
        history = hs.api(
            "GET",
            f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/messages",
            access_token=alice.access_token,
            query={"dir": "b", "limit": "50"},
        )
        stored = {event["event_id"]: event for event in history["chunk"]}
        event = stored[sent.event_id]
        assert event["type"] == "m.room.encrypted"
        assert event["content"]["algorithm"] == _MEGOLM
        assert "ciphertext" in event["content"]
        assert not any(e["type"] == "m.room.message" for e in history["chunk"])
        assert body not in json.dumps(history)
    finally:
        await a.close()
        await b.close()


@pytest.mark.slow
def test_two_nio_clients_exchange_an_encrypted_message(tmp_path: Path) -> None:
    """Alice sends in an encrypted DM; Bob decrypts it; the server holds ciphertext."""
    with running_synapse() as hs:
        assert hs.server_name == "localhost"
        assert hs.url.startswith("http://127.0.0.1:")
        url = hs.url
        try:
            asyncio.run(asyncio.wait_for(_encrypted_conversation(hs, tmp_path), timeout=120))
        except BaseException:
            print(f"homeserver log tail:\n{hs.log_tail()}")
            raise
    assert not _accepts_connections(url)


@pytest.mark.slow
def test_admin_registration_and_raised_rate_limits() -> None:
    """Admins can be made, and a burst of logins is not rate limited."""
    with running_synapse() as hs:
        admin = hs.register("boss", "boss-password", admin=True)
        whoami = hs.api("GET", "/_matrix/client/v3/account/whoami", admin.access_token)
        assert whoami["user_id"] == admin.user_id == hs.user_id("boss")
        assert whoami["device_id"] == admin.device_id
        user_path = f"/_synapse/admin/v2/users/{urllib.parse.quote(admin.user_id)}"
        user = hs.api("GET", user_path, admin.access_token)
        assert user["admin"] is True
        # The default rc_login.account allows a burst of 5; 12 must all pass.
        for _ in range(12):
            login = hs.api(
                "POST",
                "/_matrix/client/v3/login",
                body={
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": "boss"},
                    "password": admin.password,
                },
            )
            assert login["user_id"] == admin.user_id
