"""What a platform is to the bot: a connector that translates updates and sends messages.

A connector only translates and sends. Everything between (per-chat order, the handler's
thread, what a typed number means, error replies, audience checks, the outbox, pacing limits,
retries and parking) is the same for every platform and lives once, in bot/pipeline.py and
bot/delivery_loop.py. The terminal (bot/console.py), Telegram (bot/telegram/service.py) and
Matrix (bot/matrix/service.py) are connectors; docs/development.md shows how to add one.

```mermaid
flowchart LR
    U[platform update] -->|connector.translate| T[Inbound / Unreadable]
    T -->|Pipeline.submit| H[EventHandler: one transaction]
    H -->|outbox rows| D[DeliveryLoop]
    D -->|render, limits| S[connector.send]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.catalogue import RenderedMessage, TextFormat
from flows.conversation import ConversationRef, Inbound


@dataclass(frozen=True, slots=True)
class SendLimits:
    """How fast a platform lets a bot send; None means the platform sets no such limit."""

    # Messages of the whole bot in any one-second window.
    per_second: int | None = None
    # Seconds between two messages in one chat.
    chat_interval: float = 0.0
    # Messages in one group chat in any minute.
    group_per_minute: int | None = None


NO_LIMITS = SendLimits()


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can show, as data the pipeline and the renderer go by."""

    text_format: TextFormat
    # Choices are tappable buttons; otherwise they are numbered lines to type.
    buttons: bool
    # Files are sent as files; otherwise the connector says a file came.
    files: bool
    # The longest text one message may carry (a longer one is split by the connector).
    max_text_length: int
    # The most choices one message may show (long lists are paged below this).
    max_buttons: int
    # A group chat's pointer to the private chat can be a link that opens it.
    opens_private_chat: bool = False
    # A reminder may carry the actions' texts when [nudges] content = "full"; False keeps it
    # neutral on this platform whatever the setting (e-mail is not end-to-end encrypted).
    full_content: bool = True
    limits: SendLimits = NO_LIMITS


# Text alone: choices as numbered lines, no files shown, nobody to rate-limit (the terminal,
# and the recording platforms of the tests).
PLAIN_TEXT = Capabilities(
    text_format=TextFormat.PLAIN,
    buttons=False,
    files=False,
    max_text_length=100_000,
    max_buttons=100,
)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An update from a person that the bot cannot read (a photo, an undecryptable message):
    it gets the connector's honest answer, once (`reply_key` in the catalogue)."""

    ref: ConversationRef
    platform_event_id: str
    reply_key: str


# What a connector makes of one update: an event for the flows, an honest answer, or nothing.
Translated = Inbound | Unreadable | None

U_contra = TypeVar("U_contra", contravariant=True)


class Connector(Protocol[U_contra]):
    """One platform: translate its updates, send rendered messages, say what it can do.

    How a connector receives its updates is its own business (a terminal reads lines,
    Telegram polls or takes a webhook, Matrix syncs); each translation goes to
    `Pipeline.submit` (bot/pipeline.py). It attaches itself to the process's delivery loop
    once it can send (Matrix: after its first sync), and detaches when it stops.
    """

    platform: str
    capabilities: Capabilities

    def translate(self, update: U_contra) -> Translated:
        """The flows' event an update stands for (None: not for the bot)."""
        ...

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Sends one message; raises PermanentSendError, RetryAfter or any error for a retry."""
        ...
