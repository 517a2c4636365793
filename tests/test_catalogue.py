"""Every text exists in every language, renders, escapes what users wrote, and formats dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.catalogue import (
    ALLOWED_TAGS,
    Catalogue,
    TextFormat,
    available_locales,
    html_to_plain,
    load_locale,
    shorten,
)
from flows.replies import Choice, Reply

# One value for every parameter name any template uses; extra parameters are ignored.
SAMPLE: dict[str, object] = {
    "name": "Alex",
    "case": "K-1",
    "chat": "local-caregiver",
    "path": "/home/alex/.local/share/samverkansboten/filer/mote.ics",
    "meeting_at": datetime(2026, 12, 1, 13, tzinfo=UTC),
    "starts_at": datetime(2026, 12, 1, 13, tzinfo=UTC),
    # Convening (bot/locales/*/convening.toml).
    "by": "Alex",
    "relation": "mormor",
    "requests": 1,
    "suggestions": 2,
    "step": 2,
    "total": 4,
    "part": 1,
    "parts": 3,
    "questions": ["Fråga ett", "Fråga två"],
    "text": "En fråga",
    "current": "whole",
    "max": 1000,
    "shared_count": 2,
    "kind": "question",
    "role": "youth",
    # Coordinator side (cases, invites, plan, status replies, nudges, reports).
    "youth": "Alex",
    "code": "7K2QF-ABCDE",
    "secret_code": "7K2QF-ABCDE",
    "count": 2,
    "counts": {"open": 1, "in_progress": 1, "blocked": 0, "done": 1, "cancelled": 0},
    "status": "in_progress",
    "days": 7,
    "due": date(2026, 12, 15),
    "new_due": date(2026, 12, 18),
    "due_soon": 1,
    "due_today": 1,
    "overdue": 1,
    "empty": False,
    "first": datetime(2026, 12, 1, 12, tzinfo=UTC),
    "at": datetime(2026, 12, 1, 12, tzinfo=UTC),
    "link": True,
    "weeks": 2,
    "owner": "BUP",
    "version": 1,
    "asked": 3,
    "cases": ["K-1", "K-2"],
    "orgs": ["BUP", "Skolan"],
    # Sharing per reader (bot/locales/*/sharing.toml).
    "agenda_people": [
        {
            "name": "Alex",
            "role": "youth",
            "items": [
                {"text": "Varför?", "participation": None, "readers": "coordinator", "orgs": []},
                {"text": "", "participation": "part", "readers": "organisations", "orgs": ["BUP"]},
            ],
        }
    ],
    "exchange": [{"name": "Alex", "orgs": [{"name": "BUP", "yes": False}]}],
    "members": [{"name": "Sara", "role": "professional", "org": "BUP"}],
    "invites": [
        {
            "name": "Kim",
            "role": "caregiver",
            "org": None,
            "expires": datetime(2026, 12, 7, tzinfo=UTC),
        }
    ],
    "people": [
        {
            "name": "Alex",
            "role": "youth",
            "questions": ["Varför?"],
            "views": 2,
            "participation": "part",
            "carried_over": ["Varför?"],
        }
    ],
    # After the meeting (flows/coordinator/notes.py, flows/meeting_notes.py).
    "author": "Alex",
    "number": 1,
    "told": 2,
    "follow_up": 1,
    "lix": 52,
    "words": "samverkan, uppföljning",
    "next_at": datetime(2027, 1, 12, 13, tzinfo=UTC),
    "can_say": True,
    "marked_as": "follow_up",
    "marked": [
        {"text": "Varför?", "status": "answered", "no_answer": False},
        {"text": "Hur?", "status": "follow_up", "no_answer": True},
    ],
    "open_actions": [
        {"text": "Boka", "owner": "", "family": True, "due": date(2026, 12, 15)},
    ],
    "problems": [{"line": 2, "problem": "no_owner"}],
    "items": [{"owner": "", "new_owner": False, "text": "Ansök", "due": date(2026, 12, 4)}],
    "history": [
        {"at": datetime(2026, 12, 1, tzinfo=UTC), "status": "blocked", "note": "x", "new_due": None}
    ],
    "actions": [
        {
            "case": "K-1",
            "text": "Boka",
            "due": date(2026, 12, 15),
            "stage": "overdue",
            # The plan for the family (plan.family) names the owner and the status too.
            "owner": "BUP",
            "family": False,
            "you": False,
            "status": "open",
        }
    ],
    "mine": False,
    # Loop variables of the lists above (the parameter scan cannot tell them apart).
    **{v: None for v in ("a", "h", "i", "m", "o", "p")},
    # The families' side (bot/locales/*/families.toml).
    "meeting_kind": "first",
    "ends_at": datetime(2026, 12, 1, 14, 30, tzinfo=UTC),
    "minutes": 90,
    "low": 15,
    "high": 480,
    "place": "BUP, Storgatan 1",
    "invitees": [
        {"role": "youth", "organisation": None},
        {"role": "professional", "organisation": "BUP"},
    ],
    "organisations": [
        {"name": "BUP", "description": None, "kind": "bup"},
        {"name": "Skolan", "description": "Vi finns här.", "kind": None},
    ],
    "published_at": datetime(2026, 12, 1, 13, tzinfo=UTC),
    "answered": "partly",
    "verdict": "disagree",
    "comment": "Det stämmer inte.",
    # The check-in the day after a meeting (flows/checkin.py).
    "felt": "mixed",
    "heard": "partly",
    "reason": "Det har blivit värre.",
    "asked_at": datetime(2026, 12, 1, 13, tzinfo=UTC),
    "answer": "Vi ses på fredag.",
    "group": True,
    "hidden": 1,
    "family": True,
    "shared": False,
    "groups": [
        {
            "kind": "question",
            "items": [
                {"text": "Fråga", "author": "Kim", "mine": True, "family": False, "shared": True}
            ],
        }
    ],
    "due_at": datetime(2026, 12, 1, 11, tzinfo=UTC),
    "late_by": "2 timmar",
    # privacy.toml
    "platform": "telegram",
    "operator": "Exempelstads kommun",
    "limit": 13,
    "sip": True,
    "waiting": False,
    "stopped": 2,
    "said_no": True,
    "children": [{"name": "Alex", "given": True}, {"name": "Mio", "given": False}],
    "kinds": {"question": 2, "view": 1},
    # family_reports.toml: the family's follow-up and the closing notices
    "done": 1,
    "late": 1,
    "next": 2,
    "full": True,
    "done_items": [{"text": "Boka", "due": date(2026, 12, 1)}],
    "late_items": [{"text": "Ansök", "due": date(2026, 11, 20)}],
    "next_items": [{"text": "Ring", "due": date(2026, 12, 15)}],
    "erase_on": date(2027, 11, 24),
    "erase_year": 2027,
    "to_youth": True,
    # who_is_who.toml and meeting_needs.toml
    "orgs_info": [
        {
            "name": "BUP",
            "description": None,
            "default_kind": "bup",
            "contact": "Maria",
            "contact_role": "kurator",
            "contact_reach": "070-123 45 67",
        }
    ],
    "people_info": [{"name": "Jonas", "role": "professional", "org": "BUP"}],
    "org_kind": "bup",
    "default_kind": "bup",
    "description": "Vi finns här.",
    "contact": "Maria",
    "contact_role": "kurator",
    "contact_reach": "070-123 45 67",
    "saved": True,
    "interpreter": True,
    "language": "arabiska",
    "other": "Pauser",
    "needs": [
        {
            "name": "Kim",
            "role": "caregiver",
            "interpreter": True,
            "language": "arabiska",
            "other": None,
        }
    ],
    # a long list's page turns (flows/paging.py)
    "page": 2,
    "pages": 15,
}


@pytest.fixture(scope="module")
def samples() -> dict[str, object]:
    """SAMPLE, completed with any name the templates use that is not listed above."""
    names: set[str] = set()
    for locale in available_locales():
        for source in load_locale(Catalogue().locales_dir / locale).values():
            names |= set(re.findall(r"{{\s*([a-z_]+)", source))
            names |= set(re.findall(r"{%\s*(?:if|elif)\s+([a-z_]+)", source))
    builtin = {"t", "loop", "q", "c", "i", "o", "g", "not", "language_name", "draft_notice", "n"}
    missing = names - set(SAMPLE) - builtin
    assert not missing, f"add sample values for template parameters {sorted(missing)}"
    return SAMPLE


def test_every_language_has_the_same_messages(catalogue: Catalogue) -> None:
    assert set(catalogue.locales) >= {"sv", "en"}
    for locale in catalogue.locales:
        assert catalogue.message_ids(locale) == catalogue.message_ids("sv"), locale


def test_every_message_renders_in_every_language_and_format(
    catalogue: Catalogue, samples: dict[str, object]
) -> None:
    for locale in catalogue.locales:
        for message_id in sorted(catalogue.message_ids(locale)):
            for fmt in TextFormat:
                text = catalogue.render(message_id, samples, locale, fmt)
                assert text.strip(), f"{locale}:{message_id} renders empty"
                assert "{{" not in text and "{%" not in text


def test_templates_use_only_the_tags_every_platform_shows(catalogue: Catalogue) -> None:
    for locale in catalogue.locales:
        for message_id in catalogue.message_ids(locale):
            tags = set(re.findall(r"</?([a-zA-Z]+)", catalogue.source(message_id, locale)))
            assert tags <= set(ALLOWED_TAGS), f"{locale}:{message_id} uses {tags}"


def test_user_text_is_escaped_in_html_and_literal_in_plain(catalogue: Catalogue) -> None:
    hostile = "<b>hej</b> & {{ 7*7 }} {% if 1 %}x{% endif %}"
    html = catalogue.render("youth.question.edit_ask", {"text": hostile}, "sv", TextFormat.HTML)
    assert "&lt;b&gt;hej&lt;/b&gt; &amp; {{ 7*7 }}" in html
    assert "49" not in html
    plain = catalogue.render("youth.question.edit_ask", {"text": hostile}, "sv", TextFormat.PLAIN)
    assert hostile in plain


def test_missing_parameters_fail_loudly(catalogue: Catalogue) -> None:
    with pytest.raises(Exception, match="undefined"):
        catalogue.render("join.joined", {}, "sv")


def test_dates_read_naturally_in_each_language(catalogue: Catalogue) -> None:
    # 13.00 UTC on 1 December is 14.00 in Stockholm (winter time).
    at = datetime(2026, 12, 1, 13, tzinfo=UTC)
    assert catalogue.format_datetime(at, "sv") == "tisdag 1 december kl. 14.00"
    assert catalogue.format_datetime(at, "en") == "Tuesday 1 December at 14:00"
    assert catalogue.format_date(date(2026, 12, 15), "sv") == "tisdag 15 december"
    summer = datetime(2026, 6, 2, 12, tzinfo=UTC)
    assert catalogue.format_time(summer, "sv") == "14.00"


def test_choices_render_as_plain_labels(catalogue: Catalogue) -> None:
    reply = Reply(
        "youth.review",
        dict(SAMPLE),
        (Choice("t:question:1", "youth.review.item_private", {"text": "<i>x</i>", "kind": "q"}),),
    )
    rendered = catalogue.render_reply(reply, "sv", TextFormat.HTML)
    assert rendered.choices[0].id == "t:question:1"
    assert rendered.choices[0].label == "🔒 Bara jag: <i>x</i>"
    assert rendered.text.startswith("<b>Steg 2 av 4")


def test_an_unknown_language_falls_back_to_the_default(catalogue: Catalogue) -> None:
    assert catalogue.render("common.cancel", {}, "xx") == "Avbryt"


def test_a_new_language_is_a_directory_of_texts(tmp_path: Path) -> None:
    source = Catalogue().locales_dir
    for locale in ("sv", "en"):
        (tmp_path / locale).mkdir()
        for f in (source / locale).glob("*.toml"):
            (tmp_path / locale / f.name).write_text(f.read_text())
    (tmp_path / "ar").mkdir()
    (tmp_path / "ar" / "core.toml").write_text('[common]\ncancel = "إلغاء"\n')
    catalogue = Catalogue(locales_dir=tmp_path)
    assert "ar" in catalogue.locales
    assert catalogue.render("common.cancel", {}, "ar") == "إلغاء"
    # Untranslated texts fall back to Swedish rather than failing.
    assert catalogue.render("common.back", {}, "ar") == "Tillbaka"


def test_a_message_defined_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "sv").mkdir()
    (tmp_path / "sv" / "a.toml").write_text('[common]\nx = "a"\n')
    (tmp_path / "sv" / "b.toml").write_text('[common]\nx = "b"\n')
    with pytest.raises(ValueError, match="defined twice"):
        load_locale(tmp_path / "sv")


def test_helpers() -> None:
    assert html_to_plain("<b>Steg</b> &amp; &lt;b&gt;") == "Steg & <b>"
    assert shorten("kort") == "kort"
    assert shorten("ett två tre fyra fem sex sju åtta nio tio elva tolv", 20) == "ett två tre fyra…"
