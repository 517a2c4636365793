"""The Telegram connector at run time: polls (or takes a webhook), translates, sends.

It receives updates through python-telegram-bot, translates each (bot/telegram/updates.py)
and hands it to the process's pipeline (bot/pipeline.py), which keeps each chat's order,
runs the flows and sends the replies through the one delivery loop; sends go out through
TelegramTransport and its pacer, at Telegram's limits (CAPABILITIES.limits). Run on its own
(tests), the service makes a pipeline and delivery loop of its own and sweeps the outbox
itself. Stopping finishes the updates in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import BotCommand, CallbackQuery, Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.catalogue import Catalogue, RenderedMessage, TextFormat
from bot.clock import Clock, system_clock
from bot.config import ConfigError, TelegramConfig, TelegramMode
from bot.connector import Capabilities, Translated, Unreadable
from bot.delivery import Outgoing
from bot.delivery_loop import DeliveryLoop
from bot.files import FileMaker
from bot.handler import EventHandler
from bot.pacing import PacerLimits
from bot.pipeline import Pipeline
from bot.telegram.pacer import Pacer, _retry_after_seconds
from bot.telegram.transport import CAPABILITIES, PLATFORM, TelegramTransport
from bot.telegram.updates import BotIdentity, Ignored, NotText, translate
from flows.conversation import COMMAND_ALIASES, ChoiceMade, Command, ConversationRef, Inbound
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    # Imported where used: aiohttp serves only the webhook mode and takes a noticeable part
    # of start-up to import (bench/startup.py); polling bots do not need it.
    from aiohttp import web

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
# How long a Bot API call may take to answer before it counts as failed (see _build).
SEND_TIMEOUT_S = 20.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TELEGRAM_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
# Waits the given seconds between tries to reach Telegram at start (injected by tests).
Pause = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class StartBackoff:
    """How long to wait before trying Telegram again at start: doubling, up to a ceiling."""

    first_seconds: float = 1.0
    max_seconds: float = 30.0

    def delay(self, failures: int) -> float:
        """The wait after the given number of failed tries in a row (1 or more)."""
        return min(self.first_seconds * 2.0 ** (failures - 1), self.max_seconds)


def menu_commands() -> list[str]:
    """One command name per command, Swedish first, in the characters Telegram allows."""
    names: dict[Command, str] = {}
    for name, command in COMMAND_ALIASES.items():
        if command not in names and set(name) <= TELEGRAM_COMMAND_CHARS:
            names[command] = name
    return list(names.values())


class TelegramService:
    """The Telegram connector: polling or webhook, translation, sending, graceful stop."""

    platform = PLATFORM
    capabilities: Capabilities = CAPABILITIES

    def __init__(
        self,
        settings: TelegramConfig,
        token: str,
        sessions: sessionmaker[Session],
        handler: EventHandler,
        catalogue: Catalogue,
        *,
        webhook_secret: str | None = None,
        pacer: Pacer | None = None,
        clock: Clock = system_clock,
        file_makers: Mapping[str, FileMaker] | None = None,
        start_backoff: StartBackoff | None = None,
        start_pause: Pause | None = None,
        pipeline: Pipeline | None = None,
        application: AnyApplication | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._handler = handler
        self._catalogue = catalogue
        self._clock = clock
        self._webhook_secret = webhook_secret
        self._start_backoff = start_backoff or StartBackoff()
        self._start_pause = start_pause or self._pause_unless_stopped
        self.application: AnyApplication = application or self._build(settings, token)
        limits = PacerLimits.of(self.capabilities.limits)
        self._transport = TelegramTransport(self.application.bot, pacer or Pacer(limits))
        # Run on its own, the service has a pipeline of its own, and sweeps it itself.
        self._sweeps = pipeline is None
        self._pipeline = pipeline or Pipeline(
            handler,
            DeliveryLoop(sessions, catalogue, clock=clock, file_makers=file_makers),
        )
        self._identity: BotIdentity | None = None
        # Answers to button presses on their way (kept so none is collected half-done).
        self._acks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        # Set once the command menu has been sent, which is after polling has started.
        self.menu_sent = asyncio.Event()
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, self._on_message)
        )

    @staticmethod
    def _build(settings: TelegramConfig, token: str) -> AnyApplication:
        """python-telegram-bot's Application for our token and Bot API address."""
        builder = (
            Application.builder()
            .token(token)
            .base_url(settings.api_base_url)
            # Many chats at once; order within a chat is kept by the pipeline.
            .concurrent_updates(True)
            # A send whose answer is late may still have arrived, and Telegram has no
            # idempotency key: giving up after PTB's 5 s and sending again shows the person
            # the message twice. A slow answer is waited for instead (a chat waits meanwhile,
            # the others go on).
            .read_timeout(SEND_TIMEOUT_S)
            .write_timeout(SEND_TIMEOUT_S)
            # No Defaults, callback-data cache or rate limiter here: bot_api.py sends without
            # the named methods that would apply them (the Pacer keeps Telegram's limits).
        )
        if settings.mode is TelegramMode.WEBHOOK:
            builder = builder.updater(None)  # our own aiohttp endpoint feeds update_queue
        return builder.build()

    def ready_with(self, identity: BotIdentity) -> None:
        """Knows who the bot is (getMe), and sends its platform's messages from now on."""
        self._identity = identity
        self._pipeline.delivery.attach(self)

    # --- running -----------------------------------------------------------------------

    def stop(self) -> None:
        """Asks the service to stop; run() returns after the updates in hand are done."""
        self._stopping.set()

    async def run(self, handle_signals: bool = True) -> None:
        """Runs until stop() or SIGINT/SIGTERM, then shuts down cleanly."""
        # httpx logs every request URL at INFO, and a Bot API URL contains the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        try:
            try:
                # getMe checks the token: a refused one stops at once, an unreachable
                # Telegram is tried again until it answers (or we are asked to stop).
                started = await self._until_reachable("getMe", self.application.initialize)
            except InvalidToken as exc:
                raise ConfigError(
                    f"Telegram refused the bot token in {self._settings.token_env}"
                ) from exc
            if not started:
                await self.application.bot.shutdown()  # the HTTP clients getMe opened
                log.info("Telegram bot stopped before it could start")
                return
            async with self.application:
                me = self.application.bot.bot
                self.ready_with(BotIdentity(me.id, me.username or ""))
                webhook = await self._start_receiving()
                if self._stopping.is_set() and webhook is None:
                    # Asked to stop while Telegram was away: nothing was started to stop.
                    log.info("Telegram bot stopped before it could start")
                    return
                await self.application.start()
                # The menu (a request per language) once the first poll is under way: a
                # convenience no answer should wait for (issue 26: start-up).
                menu = asyncio.ensure_future(self._set_commands())
                delivery = self._pipeline.delivery
                if self._sweeps:
                    delivery.start_sweeping()
                log.info("Telegram bot %d running (%s)", me.id, self._settings.mode.value)
                self.ready.set()
                await self._stopping.wait()
                log.info("Telegram bot stopping: finishing the updates in hand")
                menu.cancel()  # (if Telegram was too slow for it: set again next start)
                with contextlib.suppress(asyncio.CancelledError):
                    await menu
                # Stop taking new updates first, then let PTB finish the ones it has.
                if webhook is not None:
                    await webhook.cleanup()
                elif self.application.updater is not None:
                    await self.application.updater.stop()
                await self.application.stop()
                if self._sweeps:
                    await delivery.stop_sweeping()
                # Before the HTTP client closes (leaving `async with`): a send begun on a
                # closing client fails as a network error, to be tried again later.
                delivery.detach(self.platform)
        finally:
            # Another process may take the channel over now: it sends from here on.
            self._pipeline.delivery.detach(self.platform)
            if handle_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
        log.info("Telegram bot stopped")

    async def _until_reachable(self, step: str, call: Callable[[], Awaitable[object]]) -> bool:
        """Makes the call, again with backoff while Telegram is unreachable or answers 5xx;
        False if the service was asked to stop before it succeeded.

        Other refusals (a wrong token, a bad request) are raised at once: waiting would not
        change them. The log line names the step and the error type only, never the URL
        (it contains the token) or Telegram's text.
        """
        failures = 0
        while True:
            try:
                await call()
                return True
            except (NetworkError, RetryAfter) as exc:
                # NetworkError is PTB's name for a refused or dropped connection, a timeout
                # and every 5xx answer (telegram/request/_baserequest.py).
                failures += 1
                delay = self._start_backoff.delay(failures)
                if isinstance(exc, RetryAfter):
                    delay = max(delay, _retry_after_seconds(exc))
                log.warning(
                    "Telegram not reachable at start (%s: %s); trying again in %.0f s",
                    step,
                    type(exc).__name__,
                    delay,
                )
            await self._start_pause(delay)
            if self._stopping.is_set():
                return False

    async def _pause_unless_stopped(self, seconds: float) -> None:
        """Waits between tries to reach Telegram, cut short by stop()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _start_receiving(self) -> web.AppRunner | None:
        """Long polling, or the webhook endpoint behind the operator's reverse proxy."""
        if self._settings.mode is TelegramMode.POLLING:
            updater = self.application.updater
            assert updater is not None
            # Polling needs the webhook gone. PTB deletes it when polling starts, but on a
            # failure logs a traceback and gives up; deleting it here first, with our retry,
            # leaves PTB a call that just worked. Should that one still fail, it is retried
            # the same way.
            bot = self.application.bot
            if await self._until_reachable(
                "deleteWebhook", lambda: bot.delete_webhook(drop_pending_updates=False)
            ):
                await self._until_reachable(
                    "deleteWebhook",
                    lambda: updater.start_polling(
                        allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
                    ),
                )
            return None
        from aiohttp import web

        runner = web.AppRunner(self._webhook_app())
        await runner.setup()
        site = web.TCPSite(runner, self._settings.webhook_listen, self._settings.webhook_port)
        await site.start()
        await self._until_reachable(
            "setWebhook",
            lambda: self.application.bot.set_webhook(
                self._settings.webhook_public_url,
                secret_token=self._webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            ),
        )
        return runner

    def _webhook_app(self) -> web.Application:
        """The HTTP endpoint Telegram posts updates to; it checks the secret token."""
        from aiohttp import web

        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(self._settings.webhook_path, self._on_webhook)
        return app

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Accepts one update from Telegram if it carries our secret token."""
        from aiohttp import web

        given = request.headers.get(SECRET_HEADER, "")
        if self._webhook_secret and not hmac.compare_digest(
            given.encode(), self._webhook_secret.encode()
        ):
            log.warning("webhook call without the right secret token refused")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response(status=200)

    async def _set_commands(self) -> None:
        """The command menu, in Swedish by default and in each other language we have."""
        names = menu_commands()
        for locale in self._catalogue.locales:
            commands = [
                BotCommand(
                    name,
                    self._catalogue.render(
                        f"telegram.command.{name}", {}, locale, TextFormat.PLAIN
                    ),
                )
                for name in names
            ]
            language = None if locale == self._catalogue.default_locale else locale
            try:
                await self.application.bot.set_my_commands(commands, language_code=language)
            except TelegramError as exc:
                # The menu is a convenience; the bot works without it.
                log.warning("could not set the command menu: %s", type(exc).__name__)
        self.menu_sent.set()

    # --- updates -----------------------------------------------------------------------

    async def _on_callback(self, update: Update, context: object) -> None:
        """Answers the button press at once, then in the chat's turn removes the old buttons
        and handles the choice."""
        query = update.callback_query
        assert query is not None
        pressed = self.translate(update)
        # The press takes its place in the chat's order before anything is awaited: a text
        # typed after the tap must not be handled first (it was, while the answer and the
        # keyboard's removal went to Telegram, in bench/latency.py's quick taps).
        self._acknowledge(query)
        if pressed is None:
            return

        async def take_buttons_away() -> None:
            """Buttons that were used must not be pressed twice; the reply brings new ones."""
            if isinstance(pressed, Inbound) and await self._presser_owns_buttons(pressed):
                with contextlib.suppress(TelegramError):
                    await self._remove_buttons(query)

        async def unless_replaced(rows: Outgoing) -> None:
            """The same, unless the answer replaces the tapped message, buttons and all (the
            transport takes them away itself should it send a new message after all)."""
            tapped = pressed.on_message if isinstance(pressed, Inbound) else None
            if tapped is None or all(row.edits_message != tapped for row in rows.claimed):
                await take_buttons_away()

        if pressed.ref.is_group:
            # Who may take a group's buttons away is read from the step before the press.
            await self._pipeline.submit(pressed, first=take_buttons_away)
        else:
            # In a private chat after the press is handled: an answer that replaces the
            # tapped message is then one Bot API call instead of two (issue 26: ten people
            # tapping twice a second asked for 33 calls a second against the bot's 30).
            await self._pipeline.submit(pressed, before_delivery=unless_replaced)

    def _acknowledge(self, query: CallbackQuery) -> None:
        """Answers the press (Telegram's spinner stops) without holding up the chat's turn."""

        async def answer() -> None:
            """The answer itself; a failure only leaves the spinner a little longer."""
            with contextlib.suppress(TelegramError):
                await query.answer()

        task = asyncio.get_running_loop().create_task(answer())
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    async def _remove_buttons(self, query: CallbackQuery) -> None:
        """Takes the pressed buttons off their message (an inline one the library's way)."""
        message = query.message
        if message is None:
            await query.edit_message_reply_markup(reply_markup=None)
            return
        # Through the transport: the edit counts within Telegram's limits (the pacer).
        await self._transport.remove_buttons(str(message.chat.id), message.message_id)

    async def _presser_owns_buttons(self, pressed: Inbound) -> bool:
        """In a group, only the person the buttons were for may take them away.

        Everyone in a group sees every keyboard; a press by someone else (who gets their own
        answer) must not remove the buttons the other person still needs.
        """
        if not pressed.ref.is_group or not isinstance(pressed.event, ChoiceMade):
            return True
        choice = pressed.event.choice_id
        return await asyncio.to_thread(self._offered_to, pressed.ref, choice)

    def _offered_to(self, ref: ConversationRef, choice_id: str) -> bool:
        """True if the person's current step offers this choice."""
        with UnitOfWork(self._sessions) as uow:
            loaded = uow.conversations.load(ref)
        return loaded is not None and choice_id in loaded[0].offered

    async def _on_message(self, update: Update, context: object) -> None:
        """Handles a message: text and commands to the flows, anything else a helpful answer."""
        await self._on_update(update)

    async def _on_update(self, update: Update) -> None:
        """Translates the update and hands it to the pipeline."""
        self._note_newest(update)
        translated = self.translate(update)
        if translated is not None:
            await self._pipeline.submit(translated)

    def _note_newest(self, update: Update) -> None:
        """Notes a person's message as the newest in its chat, on arrival (before the chat's
        turn): an answer then replaces a tapped message only while nothing came after it.

        A tap is not noted: the message it was on may be far up the chat, and only what
        was sent or written since this process started says which message is the newest.
        """
        message = update.message
        if message is not None:
            self._transport.newest.saw(str(message.chat.id), message.message_id)

    # --- the connector ---------------------------------------------------------------------

    def translate(self, update: Update) -> Translated:
        """The flows' event of an update; an answer for what the bot cannot read."""
        assert self._identity is not None
        translated = translate(update, self._identity)
        if isinstance(translated, Ignored):
            log.debug("update %d ignored: %s", update.update_id, translated.value)
            return None
        if isinstance(translated, NotText):
            return Unreadable(translated.ref, translated.platform_event_id, "telegram.not_text")
        return translated

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Sends one rendered message through the Bot API, at Telegram's pace."""
        await self._transport.send(chat_id, message, idempotency_key)
