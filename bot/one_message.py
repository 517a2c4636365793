"""One message per step: a step's confirmation and its next prompt go out as one message.

A step often says two things to the chat in hand: "Sparat!" and then the next question with
its buttons. Sent as two messages they cost two sends and, under Telegram's per-chat pacing,
a second of waiting between them. `combine` makes consecutive replies one reply when all but
the last have no choices and no file: the last one stays the message (its id, parameters,
choices and file), and the earlier ones ride along in its parameters under `PARTS_BEFORE`,
so they are stored, encrypted, erased and de-duplicated exactly as the one row they are in.
The catalogue renders such a reply as the parts' texts joined by a blank line
(bot/catalogue.py `Catalogue.render_reply`); the deliverer sends the parts one by one when
the joined text would be longer than the platform takes in one message (bot/delivery.py).

Audience: the handler checks every part against the chat before combining; the combined
reply carries the narrowest audience of its parts, so any later check sees the strictest one.
"""

from __future__ import annotations

from dataclasses import replace

from flows.replies import Audience, ParamValue, Reply
from storage.codec import SECRET_PARAM_PREFIX
from storage.outbox_repository import DUE_AT_PARAM, EXPIRES_AT_PARAM

# The parameter that holds the earlier parts of a combined reply: [{"message", "params"}].
PARTS_BEFORE = "_parts_before"
# Narrowest first: a combined reply is for whom its most private part is for.
_NARROWEST = (Audience.PERSON, Audience.FAMILY, Audience.ANYONE)


def may_lead(reply: Reply) -> bool:
    """True when a reply can be an earlier part of a combined one.

    It must show nothing but text (no buttons, no file); and its parameters must need no
    column of their own: a secret (forgotten by name once sent), a due or expiry time (read
    from the top-level parameters into the outbox's columns) keep their reply a row of its own.
    """
    if reply.choices or reply.attachment is not None or PARTS_BEFORE in reply.params:
        return False
    return not holds_secret(reply) and not any(
        name in (DUE_AT_PARAM, EXPIRES_AT_PARAM) for name in reply.params
    )


def holds_secret(reply: Reply) -> bool:
    """True when a reply carries a secret (a code shown once, forgotten by name once sent)."""
    return any(name.startswith(SECRET_PARAM_PREFIX) for name in reply.params)


def combine(replies: tuple[Reply, ...]) -> tuple[Reply, ...]:
    """The replies with every run of text-only replies joined to the reply that follows it."""
    combined: list[Reply] = []
    run: list[Reply] = []
    for reply in replies:
        if may_lead(reply):
            run.append(reply)
            continue
        if run and may_end(reply):
            combined.append(_joined(run, reply))
        else:
            if run:
                combined.append(_joined(run[:-1], run[-1]))
            combined.append(reply)
        run = []
    if run:
        combined.append(_joined(run[:-1], run[-1]))
    return tuple(combined)


def may_end(reply: Reply) -> bool:
    """True when a reply can carry earlier parts (a secret would outlive its sending in them)."""
    return PARTS_BEFORE not in reply.params and not holds_secret(reply)


def parts_before(reply: Reply) -> list[tuple[str, dict[str, ParamValue]]]:
    """The earlier parts of a combined reply as (message id, parameters); [] for any other."""
    raw = reply.params.get(PARTS_BEFORE)
    if not isinstance(raw, list):
        return []
    parts: list[tuple[str, dict[str, ParamValue]]] = []
    for part in raw:
        if isinstance(part, dict):
            message, params = part.get("message"), part.get("params")
            if isinstance(message, str) and isinstance(params, dict):
                parts.append((message, params))
    return parts


def own_params(reply: Reply) -> dict[str, ParamValue]:
    """The parameters of a reply's own message, without the parts that ride along."""
    return {k: v for k, v in reply.params.items() if k != PARTS_BEFORE}


def message_ids(reply: Reply) -> list[str]:
    """Every catalogue id a reply shows, its earlier parts first."""
    return [message for message, _params in parts_before(reply)] + [reply.message]


def _joined(before: list[Reply], last: Reply) -> Reply:
    """One reply: `last` with `before` riding along, for the narrowest audience of them all."""
    if not before:
        return last
    parts: list[ParamValue] = [{"message": r.message, "params": dict(r.params)} for r in before]
    audiences = {r.audience for r in (*before, last)}
    audience = next(a for a in _NARROWEST if a in audiences)
    return replace(last, params={**last.params, PARTS_BEFORE: parts}, audience=audience)
