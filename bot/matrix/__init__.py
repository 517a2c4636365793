"""Matrix adapter: DMs and group rooms through matrix-nio, end-to-end encrypted.

- `content`: what a rendered message looks like as Matrix event content, and back.
- `rooms`: which conversation a room event belongs to (direct room or group room).
- `login`: the bot's device, kept across restarts, and its encrypted crypto store.
- `transport`: sends outbox messages (txn id = outbox idempotency key).
- `adapter`: the sync loop: invites, events, crypto upkeep, the stored sync token.
"""

PLATFORM = "matrix"
