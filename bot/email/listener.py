"""The HTTP listener of the answer links: GET and POST /l/<token>, nothing else.

It runs inside `samverkan run` when [email] is enabled, on `[email] listen` and `[email] port`
(loopback by default), behind the operator's reverse proxy as the Telegram webhook is; only
/l/ needs to be public. No access log: a token in a logged path would be a usable link.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.clock import Clock, system_clock
from bot.config import ConfigError
from bot.email.answers import AnswerPage, LinkAnswers, Submit
from bot.email.links import LINK_KEY_ENV, LinkSigner, link_key_from_env
from bot.email.pages import PageRenderer

if TYPE_CHECKING:
    # aiohttp.web takes a while to import: only a bot with e-mail enabled does (start()).
    from aiohttp import web

log = logging.getLogger(__name__)

# The answer pages are nobody else's business: not cached, not framed, no referrer (the URL
# is the credential), no script, and forms post only to this origin.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
# A reason is at most 1000 characters; a form body far larger is not an answer.
MAX_FORM_BYTES = 64 * 1024


class LinkListener:
    """Serves the answer pages on one address."""

    def __init__(self, answers: LinkAnswers, pages: PageRenderer, listen: str, port: int) -> None:
        self._answers = answers
        self._pages = pages
        self._listen = listen
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose, when asked for port 0)."""
        if self._runner is None:
            raise RuntimeError("the answer link listener is not running")
        return int(self._runner.addresses[0][1])

    def app(self) -> web.Application:
        """The routes: the link's page, and its answer."""
        from aiohttp import web

        app = web.Application(client_max_size=MAX_FORM_BYTES)
        app.router.add_get("/l/{token}", self._get)
        app.router.add_post("/l/{token}", self._post)
        return app

    async def start(self) -> None:
        """Starts listening; a plain ConfigError when the address cannot be bound."""
        from aiohttp import web

        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._listen, self._port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"[email] cannot listen on {self._listen} port {self._port}:"
                f" {exc.strerror or type(exc).__name__}"
            ) from exc
        self._runner = runner
        log.info("answer link listener on %s port %d", self._listen, self.port)

    async def stop(self) -> None:
        """Stops listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _get(self, request: web.Request) -> web.Response:
        """GET /l/<token>: what the link will do; changes nothing."""
        return self._response(await self._answers.show(request.match_info["token"]))

    async def _post(self, request: web.Request) -> web.Response:
        """POST /l/<token>: applies the answer once."""
        form = await request.post()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        return self._response(await self._answers.answer(request.match_info["token"], fields))

    def _response(self, page: AnswerPage) -> web.Response:
        """The page as an HTML response with its status."""
        from aiohttp import web

        return web.Response(
            text=self._pages.render(page),
            status=page.status,
            content_type="text/html",
            charset="utf-8",
            headers=PAGE_HEADERS,
        )


class LinkSettings(Protocol):
    """What the listener reads of the [email] section (bot/config.py)."""

    @property
    def enabled(self) -> bool:
        """E-mail is on: the listener runs."""
        ...

    @property
    def listen(self) -> str:
        """The address to bind (loopback behind a reverse proxy)."""
        ...

    @property
    def port(self) -> int:
        """The port to bind."""
        ...

    @property
    def public_url(self) -> str:
        """The https URL the reverse proxy serves /l/ under."""
        ...


def serve_links(
    settings: LinkSettings | None,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    submit: Submit,
    environ: Mapping[str, str],
    *,
    clock: Clock = system_clock,
) -> LinkListener | None:
    """The listener `samverkan run` starts when [email] is enabled (None when not); a
    ConfigError names what is missing (the key, an https public URL)."""
    if settings is None or not settings.enabled:
        return None
    key = link_key_from_env(environ)
    try:
        signer = LinkSigner(key, settings.public_url)
    except ValueError as exc:
        raise ConfigError(f"[email] public_url: {exc}") from None
    answers = LinkAnswers(sessions, signer, catalogue, submit=submit, clock=clock)
    log.debug("answer links signed with the key from %s", LINK_KEY_ENV)
    return LinkListener(answers, PageRenderer(catalogue), settings.listen, settings.port)


@contextlib.asynccontextmanager
async def listening(listener: LinkListener | None) -> AsyncIterator[None]:
    """Runs the listener (if there is one) for as long as the block runs."""
    if listener is None:
        yield
        return
    await listener.start()
    try:
        yield
    finally:
        await listener.stop()
