"""The answer pages as plain HTML: no JavaScript, a label for every field, keyboard first.

Every text comes from the catalogue (bot/locales/<lang>/email_links.toml and the status
dialog's own texts), in the person's language. The form posts back to the page's own URL,
which carries the signed token: that is the whole CSRF protection a capability link needs.
Colours keep at least 4.5:1 contrast (WCAG AA), and the focus ring is always visible.
"""

from __future__ import annotations

from jinja2 import Environment
from markupsafe import Markup

from bot.catalogue import Catalogue
from bot.email.answers import DATE_FIELD, REASON_FIELD, AnswerPage, PageKind
from bot.email.links import LinkAnswer
from flows.action_status import NOTE_MAX_CHARS
from flows.replies import Reply

# Text #1a1a1a on white is 17:1; the button's white on #0b4f8a is 8.6:1; the error's
# #a30000 on white is 7.6:1; the focus ring #b35900 against white is 4.6:1.
_PAGE = """<!doctype html>
<html lang="{{ lang }}" dir="{{ 'rtl' if rtl else 'ltr' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; font-size: 1.125rem; line-height: 1.5;
  color: #1a1a1a; background: #ffffff; max-width: 38rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; }
label { display: block; font-weight: bold; margin: 1.25rem 0 0.25rem; }
textarea, input { font: inherit; color: #1a1a1a; background: #ffffff; width: 100%;
  box-sizing: border-box; padding: 0.5rem; border: 2px solid #4d4d4d; border-radius: 4px; }
.hint { margin: 0.25rem 0 0; color: #4d4d4d; }
button { font: inherit; margin-top: 1.25rem; padding: 0.6rem 1.4rem; border: 2px solid #0b4f8a;
  border-radius: 4px; color: #ffffff; background: #0b4f8a; cursor: pointer; }
a { color: #0b4f8a; }
:focus-visible { outline: 3px solid #b35900; outline-offset: 3px; }
.error { color: #a30000; border-inline-start: 4px solid #a30000; padding-inline-start: 0.75rem; }
</style>
</head>
<body>
<main>
<h1>{{ heading }}</h1>
{% for text in shown %}<p>{{ text }}</p>
{% endfor %}
{% for text in errors %}<p class="error" role="alert">{{ text }}</p>
{% endfor %}
{% if form %}<form method="post">
{% if form == "reason" %}<label for="reason">{{ label }}</label>
<textarea id="reason" name="{{ reason_field }}" rows="4" maxlength="{{ max_chars }}" required
 aria-describedby="reason-hint"{% if errors %} aria-invalid="true"{% endif %}>{{ value }}</textarea>
<p class="hint" id="reason-hint">{{ hint }}</p>
{% elif form == "date" %}<label for="date">{{ label }}</label>
<input type="date" id="date" name="{{ date_field }}" required min="{{ today }}" value="{{ value }}"
 aria-describedby="date-hint"{% if errors %} aria-invalid="true"{% endif %}>
<p class="hint" id="date-hint">{{ hint }}</p>
{% endif %}<button type="submit">{{ button }}</button>
</form>
{% endif %}{% if footer %}<p class="hint">{{ footer }}</p>{% endif %}
</main>
</body>
</html>
"""

# The heading of each page; a form page's field label, hint and button follow its answer.
_HEADINGS = {
    PageKind.CONFIRM: "email_links.heading.confirm",
    PageKind.REASON: "email_links.heading.blocked",
    PageKind.DATE: "email_links.heading.new_date",
    PageKind.JOIN: "email_links.heading.join",
    PageKind.SWITCH: "email_links.heading.switch",
    PageKind.STOP_EMAIL: "email_switch.page_heading",
    PageKind.EMAIL_STOPPED: "email_switch.stopped_heading",
    PageKind.SAVED: "email_links.heading.saved",
    PageKind.JOINED: "email_links.heading.joined",
    PageKind.JOIN_FAILED: "email_links.heading.not_joined",
    PageKind.USED: "email_links.heading.used",
    PageKind.EXPIRED: "email_links.heading.expired",
    PageKind.FORGED: "email_links.heading.forged",
    PageKind.REFUSED: "email_links.heading.refused",
}
# What a page says below the heading when it has no reply of the flow to show.
_BODIES = {
    PageKind.JOIN: "email_links.join",
    PageKind.SWITCH: "email_links.switch",
    PageKind.STOP_EMAIL: "email_switch.page",
    PageKind.EMAIL_STOPPED: "email_switch.stopped",
    PageKind.JOINED: "email_links.joined",
    PageKind.JOIN_FAILED: "email_links.not_joined",
    PageKind.USED: "email_links.used",
    PageKind.EXPIRED: "email_links.expired",
    PageKind.FORGED: "email_links.forged",
}
_FORMS = {PageKind.CONFIRM, PageKind.REASON, PageKind.DATE, PageKind.JOIN, PageKind.STOP_EMAIL}
# A form's button, when it is not the answer's own (email_links.button.<answer>).
_BUTTONS = {PageKind.STOP_EMAIL: "email_switch.button"}


class PageRenderer:
    """Renders answer pages from the catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        # Autoescaped: catalogue texts arrive as Markup, anything typed is escaped.
        self._template = Environment(autoescape=True).from_string(_PAGE)

    def render(self, page: AnswerPage) -> str:
        """The page's HTML."""
        t = self._text(page.locale)
        shown = [self._reply(r, page.locale) for r in page.replies]
        body = _BODIES.get(page.kind)
        if body is not None:
            shown.append(t(body))
        form = _form(page.kind)
        answer = (page.answer or LinkAnswer.DONE).value
        return self._template.render(
            lang=page.locale,
            rtl=page.right_to_left,
            title=t("email_links.title"),
            heading=t(_HEADINGS[page.kind]),
            shown=shown,
            errors=[self._reply(r, page.locale) for r in page.errors],
            form=form,
            label=t(f"email_links.label.{form}") if form in ("reason", "date") else "",
            hint=t(f"email_links.hint.{form}") if form in ("reason", "date") else "",
            button=t(_BUTTONS.get(page.kind, f"email_links.button.{answer}")) if form else "",
            value=page.value,
            today=page.today.isoformat() if page.today else "",
            reason_field=REASON_FIELD,
            date_field=DATE_FIELD,
            max_chars=NOTE_MAX_CHARS,
            footer=t("email_links.footer"),
        )

    def _text(self, locale: str) -> _Texts:
        """Renders page texts (no parameters) in one language."""
        return _Texts(self, locale)

    def _reply(self, reply: Reply, locale: str) -> Markup:
        """A catalogue text as safe HTML (the catalogue escapes its parameters)."""
        return Markup(self._catalogue.render(reply.message, reply.params, locale))


class _Texts:
    """`t("key")`: one language's page texts."""

    def __init__(self, renderer: PageRenderer, locale: str) -> None:
        self._renderer = renderer
        self._locale = locale

    def __call__(self, message: str) -> Markup:
        """One text, as safe HTML."""
        return self._renderer._reply(Reply(message), self._locale)


def _form(kind: PageKind) -> str:
    """Which form a page shows: "reason", "date", "confirm" (a button alone), or none."""
    if kind not in _FORMS:
        return ""
    return {PageKind.REASON: "reason", PageKind.DATE: "date"}.get(kind, "confirm")
