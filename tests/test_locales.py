"""Every language directory: complete, the same placeholders, a journey in it, drafts marked,
the app's language as the first guess, and right-to-left text that keeps people's names whole."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from jinja2 import Environment, meta
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import (
    DRAFT_NOTICE,
    ISOLATE_END,
    ISOLATE_START,
    LOCALES_DIR,
    Catalogue,
    TextFormat,
    available_locales,
    load_locale,
)
from bot.matrix.content import message_content
from bot.telegram.html_split import split_html
from bot.telegram.updates import BotIdentity, translate
from flows.conversation import ConversationRef, Inbound, JoinWithCode
from flows.domain import Role
from flows.language import guess
from flows.replies import Choice, Reply
from flows.text_rules import same_label
from flows.wiring import default_engine
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat, Sent
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, seed_family_case
from tests.test_languages import make_test_locale

# Reviewed by people who write them; every other language is a draft until a native
# speaker has read it.
REVIEWED = {"sv", "en"}
_TAG = re.compile(r"</?[a-zA-Z]+\s*/?>")
_JINJA = Environment()
# The catalogue's own filters, for parsing only.
_JINJA.filters.update(dict.fromkeys(("shorten", "date", "datetime", "time"), str))


def _placeholders(template: str) -> tuple[frozenset[str], Counter[str]]:
    """The parameters a template reads and its tags (in any order).

    A language may word a number its own way ({% if count == 1 %}…), so the logic around
    the parameters may differ; which parameters it reads, and its markup, may not."""
    names = meta.find_undeclared_variables(_JINJA.parse(template))
    return frozenset(names), Counter(_TAG.findall(template))


@pytest.mark.parametrize("locale", available_locales())
def test_every_locale_has_every_message_with_the_same_placeholders(locale: str) -> None:
    swedish = load_locale(LOCALES_DIR / "sv")
    texts = load_locale(LOCALES_DIR / locale)
    ids = {k for k in swedish if not k.startswith("_")}
    assert {k for k in texts if not k.startswith("_")} == ids
    for key in ("_format.datetime", "_format.date", "_format.time", "_format.language_name"):
        assert key in texts, f"{locale} lacks {key}"
    for message_id in sorted(ids):
        assert _placeholders(texts[message_id]) == _placeholders(swedish[message_id]), message_id


def test_the_placeholder_check_sees_a_renamed_or_lost_placeholder() -> None:
    assert _placeholders("Hej {{ name }}!") == _placeholders("مرحبا {{name}}!")
    assert _placeholders("Hej {{ name }}!") != _placeholders("مرحبا {{ youth }}!")
    assert _placeholders("{{ t('a') }} {{ name }}") != _placeholders("{{ t('a') }}")
    assert _placeholders("<b>Hej</b> {{ name }}") != _placeholders("Hej {{ name }}")


def test_every_language_but_the_reviewed_ones_is_marked_a_draft(catalogue: Catalogue) -> None:
    for locale in catalogue.locales:
        assert catalogue.is_draft(locale) == (locale not in REVIEWED), locale


def test_the_app_language_points_to_an_offered_language() -> None:
    offered = ("ar", "en", "fa", "so", "sv", "uk")
    assert guess("ar", offered) == "ar"
    assert guess("uk-UA", offered) == "uk"
    assert guess("fa-IR", offered) == "fa"
    assert guess("prs", offered) == "fa"  # Dari is read in the Persian texts
    assert guess("so-SO", offered) == "so"
    assert guess("en_GB", offered) == "en"
    assert guess("de", offered) is None
    assert guess("", offered) is None


def test_telegram_passes_the_app_language_with_the_invite_code() -> None:
    from telegram import Update

    update = Update.de_json(
        {
            "update_id": 7,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "K", "language_code": "fa"},
                "text": "/start ABCDE",
            },
        },
        None,
    )
    translated = translate(update, BotIdentity(1, "samverkan_bot"))
    assert isinstance(translated, Inbound)
    assert translated.event == JoinWithCode("ABCDE", language="fa")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting in a week."""
    return seed_family_case(sessions, clock.now)


def _join_from_app(chat: Chat, code: str, language: str) -> list[Sent]:
    """First contact: `/start CODE` from an app set to `language` (as Telegram passes it)."""
    return chat._run(Inbound(chat.ref, JoinWithCode(code, language=language)))


def _in_locale(catalogue: Catalogue, sent: Sent, locale: str) -> bool:
    """True when the message was written in `locale` (its text and its labels)."""
    expected = catalogue.render_reply(sent.reply, locale, TextFormat.PLAIN)
    return sent.rendered.text == expected.text and sent.rendered.choices == expected.choices


def test_a_young_persons_first_contact_runs_in_every_language(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    engine = default_engine(catalogue.locales)
    case = seed_family_case(sessions, clock.now)
    for locale in catalogue.locales:
        with UnitOfWork(sessions) as uow:
            code = uow.cases.create_invite(case.case_id, Role.YOUTH, "Alex", clock.now)
            uow.commit()
        ref = ConversationRef(PLATFORM, f"young-{locale}", f"young-{locale}")
        young = Chat(sessions, catalogue, clock, ref, engine=engine, auto_consent=False)
        _join_from_app(young, code, locale)
        assert young.ids() == ["join.joined", "consent.explain"], locale
        young.tap("yes")
        assert young.ids() == ["consent.thanks_ask_age", "consent.age"], locale
        young.send("15")
        assert young.said("consent.sip"), locale
        young.tap("yes")
        assert "youth.menu" in young.ids(), locale
        young.tap("questions")
        assert young.ids()[0].startswith("youth."), (locale, young.ids())
        for sent in young.history:
            assert _in_locale(catalogue, sent, locale), (locale, sent.message_id)
            if locale != "sv" and not sent.message_id.startswith("youth.step"):
                swedish = catalogue.render_reply(sent.reply, "sv", TextFormat.PLAIN)
                assert sent.rendered.text != swedish.text, (locale, sent.message_id)
        with UnitOfWork(sessions) as uow:
            actor = uow.members.actor_for(ref)
            assert actor is not None and actor.locale == locale


def test_the_language_can_be_chosen_before_consent_and_the_question_comes_back(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    young = Chat.for_user(sessions, catalogue, clock, "young")
    young = Chat(sessions, catalogue, clock, young.ref, auto_consent=False)
    young.send(f"/start {case.youth_code}")
    assert "Språk / Language" in young.choices()
    young.choose("Språk / Language")
    assert young.ids() == ["language.pick"]
    young.choose("English")
    assert young.ids() == ["language.saved", "consent.explain"]
    assert young.choices()[0] != "Ja, det är okej"
    young.tap("yes")
    assert young.ids() == ["consent.thanks_ask_age", "consent.age"]


def test_sprak_says_in_a_draft_language_that_it_awaits_review(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, tmp_path: Path
) -> None:
    locales = make_test_locale(tmp_path / "locales")
    notice = "هذه الترجمة مسودة."
    with (locales / "ar" / "all.toml").open("a", encoding="utf-8") as extra:
        extra.write(f'"{DRAFT_NOTICE}" = "{notice}"\n')
    drafts = Catalogue(locales_dir=locales)
    case = seed_family_case(sessions, clock.now)
    engine = default_engine(drafts.locales)
    young = Chat(sessions, drafts, clock, ConversationRef(PLATFORM, "y", "y"), engine=engine)
    young.send(f"/start {case.youth_code}")
    young.send("/sprak")
    assert notice not in young.text()  # Swedish is no draft
    young.choose("العربية")
    assert young.ids()[0] == "language.saved"
    assert notice in young.text()
    young.send("/sprak")
    assert young.ids() == ["language.pick"]
    assert young.text().endswith(notice)


# --- right to left -------------------------------------------------------------------------

NAME = "Alex <Svensson>"
ISOLATED = f"{ISOLATE_START}Alex &lt;Svensson&gt;{ISOLATE_END}"


@pytest.fixture(scope="module")
def with_arabic(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The real sv and en with a test Arabic (every Swedish text, marked)."""
    return Catalogue(locales_dir=make_test_locale(tmp_path_factory.mktemp("rtl") / "locales"))


def test_a_name_in_an_arabic_sentence_is_isolated_on_telegram(with_arabic: Catalogue) -> None:
    reply = Reply("join.joined", {"name": NAME})
    rendered = with_arabic.render_reply(reply, "ar", TextFormat.HTML)
    (part,) = split_html(rendered.text)
    assert ISOLATED in part
    # Swedish stays exactly as before: nothing to isolate in a left-to-right sentence.
    swedish = with_arabic.render_reply(reply, "sv", TextFormat.HTML)
    assert ISOLATE_START not in swedish.text and "Alex &lt;Svensson&gt;" in swedish.text


def test_a_name_in_an_arabic_sentence_is_isolated_on_matrix(with_arabic: Catalogue) -> None:
    reply = Reply(
        "youth.review",
        {"step": 2, "total": 4, "questions": [], "shared_count": 0, "empty": True},
        (Choice("t:question:1", "youth.review.item_private", {"text": NAME, "kind": "q"}),),
    )
    rendered = with_arabic.render_reply(reply, "ar", TextFormat.HTML)
    content = message_content(rendered)
    # The label is plain text, escaped once by the list item; the isolates stay around it.
    assert f"{ISOLATE_START}Alex &lt;Svensson&gt;{ISOLATE_END}</li>" in content["formatted_body"]
    assert f"{ISOLATE_START}{NAME}{ISOLATE_END}" in content["body"]
    # Numbers and the catalogue's own words (a nested message) are not wrapped.
    assert f"{ISOLATE_START}2{ISOLATE_END}" not in content["formatted_body"]
    # A label typed without the invisible isolates is still the same label.
    label = rendered.choices[0].label
    assert same_label(label) == same_label(
        label.replace(ISOLATE_START, "").replace(ISOLATE_END, "")
    )


def test_sprak_in_each_draft_language_says_so_in_that_language(catalogue: Catalogue) -> None:
    for locale in catalogue.locales:
        pick = catalogue.render("language.pick", {"current": locale}, locale, TextFormat.PLAIN)
        if locale in REVIEWED:
            continue
        notice = catalogue.render(DRAFT_NOTICE, {}, locale, TextFormat.PLAIN)
        assert pick.endswith(notice), locale


@pytest.mark.parametrize("locale", available_locales())
def test_the_help_now_numbers_are_the_same_in_every_language(locale: str) -> None:
    info = load_locale(LOCALES_DIR / locale)["help_now.info"]
    for number in ("112", "116 111", "90101", "1177", "bris.se", "mind.se"):
        assert number in info, (locale, number)
