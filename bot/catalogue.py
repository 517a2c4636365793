"""The message catalogue: every user-visible text, by message id, per language.

Texts are Jinja2 templates with autoescape and StrictUndefined. Parameters, which may hold
what users wrote, are escaped and never evaluated as templates. A template renders to the
small HTML subset chat platforms share (<b>, <i>, <code>); plain text is derived from it.
"""

from __future__ import annotations

import html
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

from bot.one_message import own_params, parts_before
from flows.replies import Choice, Params, Reply

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "sv"
ALLOWED_TAGS = ("b", "i", "code")
# Rendered button labels kept per language; plenty for every label the catalogue has.
MAX_CACHED_LABELS = 4096
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\s*/?>")
# A locale whose catalogue has this key is a draft awaiting a native speaker's review; its
# value is the notice (in that language) that /sprak shows.
DRAFT_NOTICE = "_format.draft_notice"
# FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE: a value inside them keeps its own direction,
# so "Alex Svensson" inside an Arabic sentence reads left to right and does not drag the
# punctuation around it. Plain Unicode, so Telegram HTML, Matrix and a terminal all keep it.
ISOLATE_START, ISOLATE_END = "\u2068", "\u2069"

log = logging.getLogger(__name__)


class TextFormat(StrEnum):
    """How a platform wants text: the HTML subset, or plain text."""

    HTML = "html"
    PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class RenderedChoice:
    """A choice ready to show: its opaque id and its label in the user's language."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class RenderedFile:
    """A file made for a message: name, media type and content."""

    filename: str
    media_type: str
    data: bytes


def _keepable(choice: Choice) -> bool:
    """True for a label whose parameters are numbers only: it holds no one's words."""
    return all(type(v) is int or v is None for v in choice.params.values())


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A reply rendered for one language and one text format, maybe with a file."""

    text: str
    choices: tuple[RenderedChoice, ...]
    file: RenderedFile | None = None
    # True when every label came from the catalogue alone (no one's words in it), so an
    # adapter may keep what it builds from the choices for the next message.
    choices_reusable: bool = False
    # A combined reply's parts (bot/one_message.py), each rendered on its own: `text` is
    # them joined by a blank line; the deliverer sends them apart when that is too long.
    parts: tuple[str, ...] = ()
    # The platform's id of a tapped message this one may replace (bot/edit_in_place.py); a
    # connector that cannot edit, or decides not to, sends it as a new message.
    edits_message: str | None = None


def load_locale(directory: Path) -> dict[str, str]:
    """Reads every file of one locale directory into one {message id: template} mapping."""
    merged: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        messages = load_messages(path)
        clash = merged.keys() & messages.keys()
        if clash:
            raise ValueError(f"{path}: message ids defined twice: {', '.join(sorted(clash))}")
        merged.update(messages)
    return merged


def available_locales(locales_dir: Path = LOCALES_DIR) -> list[str]:
    """The languages there are texts for: one directory each."""
    return sorted(p.name for p in locales_dir.iterdir() if p.is_dir() and any(p.glob("*.toml")))


def load_messages(path: Path) -> dict[str, str]:
    """Reads one catalogue file into a flat {message id: template} mapping."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    flat: dict[str, str] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        for key, value in table.items():
            # "_" is the message of the table itself: [youth.menu] _ = "…" is "youth.menu".
            name = prefix if key == "_" else (f"{prefix}.{key}" if prefix else key)
            if isinstance(value, dict):
                walk(name, value)
            else:
                flat[name] = str(value)

    walk("", data)
    return flat


def is_right_to_left(locale: str) -> bool:
    """True for a language written right to left (Babel's locale data: ar, fa, …)."""
    try:
        return Locale.parse(locale).character_order == "right-to-left"
    except (ValueError, UnknownLocaleError):
        return False


def isolate(value: Any) -> Any:
    """A printed value between bidi isolates; the catalogue's own HTML (Markup) and numbers
    stay as they are: only text from outside the template (names, what people wrote, dates)
    can have another direction than the sentence around it."""
    if isinstance(value, Markup) or not isinstance(value, str) or not value:
        return value
    return f"{ISOLATE_START}{value}{ISOLATE_END}"


def html_to_plain(text: str) -> str:
    """Drops the emphasis tags and unescapes entities: the plain-text form of rendered HTML."""
    return html.unescape(_TAG.sub("", text))


def shorten(text: str, width: int = 40) -> str:
    """Cuts a long text at a word boundary with an ellipsis, for button labels."""
    flat = " ".join(str(text).split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1].rsplit(" ", 1)[0] if " " in flat[: width - 1] else flat[: width - 1]
    return cut + "…"


class Catalogue:
    """All languages' messages, rendered with the locale's date formats and time zone."""

    def __init__(
        self,
        locales_dir: Path = LOCALES_DIR,
        default_locale: str = DEFAULT_LOCALE,
        timezone: str = "Europe/Stockholm",
    ) -> None:
        self.default_locale = default_locale
        self.locales_dir = locales_dir
        self.timezone = ZoneInfo(timezone)
        self._messages = {
            locale: load_locale(locales_dir / locale) for locale in available_locales(locales_dir)
        }
        if default_locale not in self._messages:
            raise ValueError(f"no messages for the default locale {default_locale!r}")
        self._environments = {loc: self._environment(loc) for loc in self._messages}
        self._compiled: dict[tuple[str, str], Template] = {}
        self._labels: dict[tuple[object, ...], str] = {}

    @property
    def locales(self) -> tuple[str, ...]:
        """The languages the catalogue has."""
        return tuple(self._messages)

    def message_ids(self, locale: str | None = None) -> frozenset[str]:
        """Every message id of one language (the default one if not given)."""
        return frozenset(
            k for k in self._messages[locale or self.default_locale] if not k.startswith("_")
        )

    def source(self, message_id: str, locale: str) -> str:
        """The template text of a message, falling back to the default language."""
        messages = self._messages.get(locale, self._messages[self.default_locale])
        if message_id in messages:
            return messages[message_id]
        if locale != self.default_locale:
            log.warning("message %s missing in locale %s; using default", message_id, locale)
        return self._messages[self.default_locale][message_id]

    def render(
        self, message_id: str, params: Params, locale: str, fmt: TextFormat = TextFormat.HTML
    ) -> str:
        """Renders one message in one language and format."""
        locale = locale if locale in self._messages else self.default_locale
        key = (locale, message_id)
        template = self._compiled.get(key)
        if template is None:
            template = self._environments[locale].from_string(self.source(message_id, locale))
            self._compiled[key] = template
        text = template.render(**params)
        return html_to_plain(text) if fmt is TextFormat.PLAIN else text

    def render_reply(
        self, reply: Reply, locale: str, fmt: TextFormat = TextFormat.HTML
    ) -> RenderedMessage:
        """Renders a reply with its choices' labels (labels are always plain text); a
        combined reply's parts are joined by a blank line."""
        before = parts_before(reply)
        parts: tuple[str, ...] = ()
        if before:
            parts = (
                *(self.render(message, params, locale, fmt) for message, params in before),
                self.render(reply.message, own_params(reply), locale, fmt),
            )
            text = "\n\n".join(parts)
        else:
            text = self.render(reply.message, reply.params, locale, fmt)
        return RenderedMessage(
            text=text,
            parts=parts,
            choices=tuple(RenderedChoice(c.id, self.label(c, locale)) for c in reply.choices),
            choices_reusable=all(_keepable(c) for c in reply.choices),
        )

    def label(self, choice: Choice, locale: str) -> str:
        """A choice's label in plain text; labels with numbers only as parameters are
        rendered once per language (most buttons: "Mina frågor", "Steg 2 av 4")."""
        params = choice.params
        if not _keepable(choice):
            # A label with text in it may hold what someone wrote: never kept in memory.
            return self.render(choice.label, params, locale, TextFormat.PLAIN)
        key = (locale, choice.label, tuple(sorted(params.items())))
        label = self._labels.get(key)
        if label is None:
            if len(self._labels) >= MAX_CACHED_LABELS:
                self._labels.clear()  # a bound, never reached by the catalogue's own labels
            label = self.render(choice.label, params, locale, TextFormat.PLAIN)
            self._labels[key] = label
        return label

    def is_draft(self, locale: str) -> bool:
        """True when the language's texts still await review by a native speaker."""
        return DRAFT_NOTICE in self._messages.get(locale, {})

    def format_datetime(self, value: datetime, locale: str) -> str:
        """A date and time in the locale's words, in the configured time zone."""
        pattern = self.source("_format.datetime", locale)
        return format_datetime(value, pattern, tzinfo=self.timezone, locale=locale)

    def format_time(self, value: datetime, locale: str) -> str:
        """A time of day in the locale's form, in the configured time zone."""
        pattern = self.source("_format.time", locale)
        return format_datetime(value, pattern, tzinfo=self.timezone, locale=locale)

    def format_date(self, value: date, locale: str) -> str:
        """A date in the locale's words (a datetime is first moved to the time zone)."""
        if isinstance(value, datetime):
            value = value.astimezone(self.timezone).date()
        return format_date(value, self.source("_format.date", locale), locale=locale)

    def add_locale_helpers(self, env: Environment, locale: str, fmt: TextFormat) -> None:
        """Adds the date filters, `shorten` and `t()` (another message, in `fmt`) to `env`."""
        env.filters.update(
            datetime=lambda v: self.format_datetime(v, locale),
            date=lambda v: self.format_date(v, locale),
            time=lambda v: self.format_time(v, locale),
            shorten=shorten,
        )

        def nested(message_id: str, **params: Any) -> Markup | str:
            text = self.render(message_id, params, locale, fmt)
            # HTML from the catalogue is already escaped: mark it safe so it isn't escaped twice.
            return Markup(text) if fmt is TextFormat.HTML else text

        env.globals["t"] = nested
        # A language's name in that language ("svenska", "English"), so a language menu
        # lists a new locale directory with no new message.
        # Catalogue text, not someone's words: Markup, so it is not isolated as a value.
        env.globals["language_name"] = lambda code: Markup.escape(
            self.source("_format.language_name", code)
        )

        def draft_notice(code: str) -> Markup | str:
            """The language's own "this is a draft" notice, or nothing when it is reviewed."""
            if not self.is_draft(code):
                return ""
            text = "\n\n" + self.render(DRAFT_NOTICE, {}, code, fmt)
            return Markup(text) if fmt is TextFormat.HTML else text

        env.globals["draft_notice"] = draft_notice

    def _environment(self, locale: str) -> Environment:
        """The Jinja2 environment that renders this locale's messages."""
        # In a right-to-left language every value printed into a sentence is isolated
        # (finalize runs on each {{ … }} before escaping; {% if %} still sees the raw value).
        finalize = isolate if is_right_to_left(locale) else None
        env = Environment(autoescape=True, undefined=StrictUndefined, finalize=finalize)
        self.add_locale_helpers(env, locale, TextFormat.HTML)
        return env
