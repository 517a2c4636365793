"""JSON encoding of message parameters, keeping dates and times as dates and times."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flows.paging import Pages
from flows.replies import Attachment, Audience, Choice, Params, ParamValue, Reply

_DATETIME = "$datetime"
_DATE = "$date"
# A message parameter named like this holds a secret shown once, such as an invite code
# (only its hash is kept anywhere else). The outbox forgets it as soon as the message is
# sent (storage/outbox_repository.py), so no stored row can show the code again.
SECRET_PARAM_PREFIX = "secret_"


def encode_value(value: ParamValue) -> Any:
    """One parameter value as JSON-able data."""
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: encode_value(v) for k, v in value.items()}
    return value


def decode_value(value: Any) -> ParamValue:
    """Reverses `encode_value`."""
    if isinstance(value, dict):
        if set(value) == {_DATETIME}:
            return datetime.fromisoformat(value[_DATETIME])
        if set(value) == {_DATE}:
            return date.fromisoformat(value[_DATE])
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    result: ParamValue = value
    return result


def encode_params(params: Params) -> dict[str, Any]:
    """Message parameters as JSON-able data."""
    return {k: encode_value(v) for k, v in params.items()}


def decode_params(data: Mapping[str, Any]) -> dict[str, ParamValue]:
    """Reverses `encode_params`."""
    return {k: decode_value(v) for k, v in data.items()}


def without_secrets(params: Params) -> Params | None:
    """The parameters minus every secret one; None when there was no secret to remove."""
    if not any(name.startswith(SECRET_PARAM_PREFIX) for name in params):
        return None
    return {k: v for k, v in params.items() if not k.startswith(SECRET_PARAM_PREFIX)}


def encode_choices(choices: tuple[Choice, ...]) -> list[dict[str, Any]]:
    """Choices as JSON-able data."""
    return [{"id": c.id, "label": c.label, "params": encode_params(c.params)} for c in choices]


def decode_choices(data: list[Any]) -> tuple[Choice, ...]:
    """Reverses `encode_choices`."""
    return tuple(Choice(c["id"], c["label"], decode_params(c["params"])) for c in data)


def encode_attachment(attachment: Attachment | None) -> dict[str, Any] | None:
    """An attachment reference as JSON-able data."""
    if attachment is None:
        return None
    return {"kind": attachment.kind, "params": encode_params(attachment.params)}


def decode_attachment(data: Mapping[str, Any] | None) -> Attachment | None:
    """Reverses `encode_attachment`."""
    if data is None:
        return None
    return Attachment(data["kind"], decode_params(data["params"]))


# The key under which a conversation state's data column keeps a paged list (flows/paging.py);
# a flow's own keys are names, so "$" cannot clash with them.
PAGES_KEY = "$pages"


def encode_pages(pages: Pages) -> dict[str, Any]:
    """A paged list (the whole reply and the page shown) as JSON-able data."""
    reply = pages.reply
    return {
        "page": pages.page,
        "message": reply.message,
        "params": encode_params(reply.params),
        "choices": encode_choices(reply.choices),
        "attachment": encode_attachment(reply.attachment),
        "audience": reply.audience.value,
    }


def decode_pages(data: Mapping[str, Any]) -> Pages:
    """Reverses `encode_pages`."""
    reply = Reply(
        data["message"],
        decode_params(data["params"]),
        decode_choices(data["choices"]),
        decode_attachment(data["attachment"]),
        Audience(data["audience"]),
    )
    return Pages(reply, data["page"])
