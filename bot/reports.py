"""Reports as documents (Markdown and HTML), rendered with Jinja2 from the catalogue's texts."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.catalogue import Catalogue, TextFormat
from flows.domain import Agenda

TEMPLATES_DIR = Path(__file__).parent / "templates"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


class DocumentFormat(StrEnum):
    """The document formats a report can be printed in."""

    MARKDOWN = "md"
    HTML = "html"


def escape_markdown(text: str) -> str:
    """Makes user text literal in Markdown: specials escaped, line breaks kept inside the item."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_agenda(agenda: Agenda, catalogue: Catalogue, locale: str, fmt: DocumentFormat) -> str:
    """The agenda of the next meeting as a document."""
    is_html = fmt is DocumentFormat.HTML
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=is_html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue.add_locale_helpers(env, locale, TextFormat.HTML if is_html else TextFormat.PLAIN)
    env.filters["md"] = escape_markdown
    template = env.get_template(f"agenda.{fmt.value}.j2")
    return template.render(agenda=agenda, locale=locale).strip() + "\n"
