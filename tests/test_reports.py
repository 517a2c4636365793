"""Agenda documents: grouped by person, and what people wrote stays literal text."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.catalogue import Catalogue
from bot.reports import DocumentFormat, escape_markdown, render_agenda
from flows.domain import Agenda, MeetingInfo, MeetingKind, Participation, Role, SharedContribution
from flows.domain import ViewAspect as A

AGENDA = Agenda(
    case_reference="K-7",
    meeting=MeetingInfo(
        1, MeetingKind.FIRST, datetime(2026, 12, 1, 13, tzinfo=UTC), 90, None, None
    ),
    contributions=(
        SharedContribution(
            1,
            "Alex",
            Role.YOUTH,
            ("<script>alert(1)</script>", "# inte en rubrik *eller* fet"),
            ((A.WORKS, "Fotbollen"), (A.HELP, "Sömnen")),
            Participation.PART,
        ),
        SharedContribution(2, "Kim", Role.CAREGIVER, ("Vem gör vad?",), (), None),
    ),
)


def test_markdown_agenda_groups_by_person_and_escapes_markup(catalogue: Catalogue) -> None:
    text = render_agenda(AGENDA, catalogue, "sv", DocumentFormat.MARKDOWN)
    assert text.startswith("# Dagordning för ärende K-7\n")
    assert "Möte tisdag 1 december kl. 14.00" in text
    assert text.index("## Alex (ung person)") < text.index("## Kim (vårdnadshavare)")
    assert r"- \<script\>alert(1)\</script\>" in text
    assert r"- \# inte en rubrik \*eller\* fet" in text
    assert "### Det här går bra\nFotbollen" in text
    assert "### Vill vara med\nEn del av mötet" in text


def test_html_agenda_escapes_what_people_wrote(catalogue: Catalogue) -> None:
    html = render_agenda(AGENDA, catalogue, "en", DocumentFormat.HTML)
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in html
    assert "<script>" not in html
    assert "<h2>Kim (caregiver)</h2>" in html
    assert '<html lang="en">' in html


def test_an_agenda_with_nothing_shared_says_so(catalogue: Catalogue) -> None:
    empty = Agenda("K-1", None, ())
    text = render_agenda(empty, catalogue, "sv", DocumentFormat.MARKDOWN)
    assert "Inget möte är bokat." in text
    assert "Ingen har delat något än." in text


def test_markdown_escaping_keeps_text_on_one_line() -> None:
    assert escape_markdown("rad ett\nrad *två*") == r"rad ett rad \*två\*"


def test_both_agenda_documents_mark_a_question_carried_over(catalogue: Catalogue) -> None:
    alex = SharedContribution(
        1,
        "Alex",
        Role.YOUTH,
        ("Ny fråga", "Gammal fråga"),
        (),
        None,
        carried_over=("Gammal fråga",),
    )
    agenda = Agenda("K-7", None, (alex,))
    text = render_agenda(agenda, catalogue, "sv", DocumentFormat.MARKDOWN)
    assert "- Gammal fråga (från förra mötet, följs upp)\n" in text
    assert "- Ny fråga\n" in text
    html = render_agenda(agenda, catalogue, "en", DocumentFormat.HTML)
    assert "<li>Gammal fråga (from the last meeting, to follow up)</li>" in html
    assert "<li>Ny fråga</li>" in html
