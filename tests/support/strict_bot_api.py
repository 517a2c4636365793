"""A strict Bot API front for tests: checks what telegram-test-api does not, injects faults.

It listens on 127.0.0.1 and forwards every call to the emulator after checking it the way
Telegram does: HTML parse mode (only Telegram's tags, balanced, only &lt; &gt; &amp; &quot;
and numeric entities, no bare < or &), text and caption length after entity parsing (UTF-16
units), callback data of 1-64 bytes. A refused call gets Telegram's 400 answer. Tests can
queue faults (429 with retry_after, 5xx, a response that never comes) per method.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import html
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_MARKUP = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>|&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


class HtmlRejected(ValueError):
    """Telegram's 'can't parse entities' error."""


def parse_telegram_html(text: str) -> str:
    """The visible text of a message in HTML parse mode, or HtmlRejected as Telegram would."""
    visible: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _MARKUP.finditer(text):
        _literal(text[position : match.start()], visible)
        position = match.end()
        closing, tag, _attributes, entity = match.groups()
        if entity is not None:
            if entity.startswith("#"):
                number = int(entity[2:], 16) if entity[1:2] in "xX" else int(entity[1:])
                visible.append(chr(number))
            elif entity in NAMED_ENTITIES:
                visible.append(html.unescape(f"&{entity};"))
            else:
                raise HtmlRejected(f'Unsupported HTML entity "&{entity};"')
            continue
        tag = tag.lower()
        if tag not in TAGS:
            raise HtmlRejected(f'Unsupported start tag "{tag}" at byte offset {match.start()}')
        if closing:
            if not stack or stack[-1] != tag:
                raise HtmlRejected(f'Can\'t find end tag corresponding to start tag "{tag}"')
            stack.pop()
        else:
            stack.append(tag)
    _literal(text[position:], visible)
    if stack:
        raise HtmlRejected(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


def _literal(chunk: str, visible: list[str]) -> None:
    """Text between tags: a bare < or & is an error in Telegram's HTML."""
    if "<" in chunk or "&" in chunk:
        raise HtmlRejected("Unexpected end of name token" if "&" in chunk else "Unclosed start tag")
    visible.append(chunk)


def utf16(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Fault:
    """One injected failure for the next call of a method."""

    kind: str  # "429", "401", "403", "500", "502" or "hang"
    retry_after: int = 1


@dataclass(frozen=True)
class Upload:
    """One file the bot uploaded: the call, the chat it went to, its name and bytes."""

    method: str
    chat_id: str
    filename: str
    data: bytes


@dataclass
class StrictState:
    """Calls seen and faults queued, shared between the test and the server thread."""

    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # Files of accepted uploads (sendDocument, sendPhoto): the emulator keeps only a digest,
    # and a test that looks for what must not leak has to read what was sent.
    uploads: list[Upload] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, method: str, *faults: Fault) -> None:
        """Queues faults for the next calls of `method`."""
        with self.lock:
            self.faults.setdefault(method, []).extend(faults)

    def sent(self, method: str = "sendMessage") -> list[dict[str, str]]:
        """The accepted calls of one method, in order."""
        with self.lock:
            return [params for name, params in self.calls if name == method]


def check(method: str, params: dict[str, str]) -> str | None:
    """Telegram's refusal of a call, or None when it would be accepted."""
    try:
        if method in ("sendMessage", "editMessageText"):
            text = params.get("text", "")
            shown = parse_telegram_html(text) if params.get("parse_mode") == "HTML" else text
            if not shown.strip():
                return "Bad Request: message text is empty"
            if utf16(shown) > TEXT_LIMIT:
                return "Bad Request: message is too long"
        if method in ("sendDocument", "sendPhoto") and params.get("caption"):
            caption = params["caption"]
            shown = parse_telegram_html(caption) if params.get("parse_mode") == "HTML" else caption
            if utf16(shown) > CAPTION_LIMIT:
                return "Bad Request: message caption is too long"
    except HtmlRejected as exc:
        return f"Bad Request: can't parse entities: {exc}"
    markup = params.get("reply_markup")
    if markup:
        for row in json.loads(markup).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    return "Bad Request: BUTTON_DATA_INVALID"
    return None


class StrictBotApi:
    """The server: checks, injects faults, forwards to the emulator's Bot API."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.state = StrictState()
        self.base_url = ""

    async def _on_call(self, request: web.Request) -> web.StreamResponse:
        token, method = request.match_info["token"], request.match_info["method"]
        body = await request.read()
        content_type = request.headers.get("Content-Type", "")
        params = _form_fields(content_type, body)
        with self.state.lock:
            queued = self.state.faults.get(method)
            fault = queued.pop(0) if queued else None
        if fault is not None:
            if fault.kind == "hang":
                await asyncio.sleep(3)  # longer than the read timeout of the tests that use it
            if fault.kind == "429":
                return _error(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            return _error(int(fault.kind) if fault.kind.isdigit() else 500, "Internal Server Error")
        refusal = check(method, params)
        if refusal is not None:
            with self.state.lock:
                self.state.rejected.append((method, refusal))
            return _error(400, refusal)
        with self.state.lock:
            self.state.calls.append((method, params))
            self.state.uploads.extend(
                Upload(method, params.get("chat_id", ""), name, data)
                for name, data in _form_files(content_type, body)
            )
        async with httpx.AsyncClient(trust_env=False, timeout=70) as client:
            upstream = await client.post(
                f"{self.upstream}/bot{token}/{method}",
                content=body,
                headers={"Content-Type": content_type} if content_type else {},
            )
        return web.Response(
            status=upstream.status_code,
            body=upstream.content,
            content_type="application/json",
        )


def _form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The text fields of a url-encoded or multipart request (files are skipped)."""
    if content_type.startswith("multipart/form-data"):
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, str] = {}
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str) and part.get_filename() is None:
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    fields[name] = payload.decode()
        return fields
    return {
        k: v[-1] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()
    }


def _form_files(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(filename, bytes) of the file parts of a multipart request."""
    if not content_type.startswith("multipart/form-data"):
        return []
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    files: list[tuple[str, bytes]] = []
    for part in parsed.iter_parts():
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        if filename is not None and isinstance(payload, bytes):
            files.append((filename, payload))
    return files


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    """A Bot API error answer."""
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        payload["parameters"] = parameters
    return web.json_response(payload, status=status)


@contextlib.contextmanager
def running_strict_api(upstream: str, port: int = 0) -> Iterator[StrictBotApi]:
    """Runs the strict front in a thread of its own; `base_url` is for PTB's base_url().

    A given `port` lets a test start "Telegram" late where the bot already looks for it.
    """
    api = StrictBotApi(upstream)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner_box: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", api._on_call)
        # Short shutdown: a long poll still held open must not delay the test's end.
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        api.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/bot"
        runner_box.append(runner)
        started.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, name="strict-bot-api", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("strict Bot API front did not start")
    try:
        yield api
    finally:
        asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
