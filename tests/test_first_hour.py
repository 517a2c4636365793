"""The first hour with the bot: help that names the commands, wording without slips, a
follow-up picture whose legend leaves its dates readable, and `make demo` without test tools.

The terminal's own part of the first hour (files, pasted plans, Ctrl-C, logs, other people's
messages) is in tests/test_console.py and tests/test_cli_demo.py.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, TextFormat
from bot.timeline import timeline_figure
from flows.conversation import ConversationRef
from flows.coordination import ActionItem, ActionStatus, Owner, OwnerKind
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, coordinator_code
from tests.seed import seed_case

ROOT = Path(__file__).resolve().parent.parent
FAMILY_COMMANDS = ("/meny", "/mote", "/bild", "/nyttmote", "/sprak", "/paus", "/samtycke")
PRIVACY_COMMANDS = ("/minadata", "/glommig")


def test_help_lists_the_commands_a_young_person_can_use(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = Chat(sessions, catalogue, clock, ConversationRef(PLATFORM, "alex", "alex"))
    alex.send(f"/start {case.youth_code}")
    alex.send("/hjälp")
    for command in (*FAMILY_COMMANDS, *PRIVACY_COMMANDS, "/hjälp"):
        assert command in alex.text(), command
    # Still where she was: the menu follows the help.
    assert alex.ids()[-1] == "youth.menu"


def test_help_lists_only_the_commands_of_work_for_a_coordinator(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.send("/help")
    text = maria.text()
    for command in ("/meny", "/mote", "/sprak", "/paus", *PRIVACY_COMMANDS):
        assert command in text, command
    # The family's preparation commands would only say "not for you".
    assert "/bild" not in text and "/nyttmote" not in text


def test_help_in_english_names_the_english_commands(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    rendered = catalogue.render("common.commands", {"role": "youth"}, "en", TextFormat.PLAIN)
    for command in ("/menu", "/meeting", "/picture", "/newmeeting", "/language", "/mydata"):
        assert command in rendered, command


def test_counts_agree_with_their_nouns(catalogue: Catalogue) -> None:
    def plan(count: int, locale: str) -> str:
        return catalogue.render("coord.plan", {"count": count}, locale, TextFormat.PLAIN)

    assert "1 åtgärd." in plan(1, "sv") and "3 åtgärder." in plan(3, "sv")
    assert "1 action." in plan(1, "en") and "3 actions." in plan(3, "en")
    gone = catalogue.render("privacy.forgotten", {"kinds": {}, "total": 1}, "en", TextFormat.PLAIN)
    assert "(1 thing)" in gone


def test_swedish_texts_quote_with_swedish_quotation_marks(catalogue: Catalogue) -> None:
    answered = catalogue.render(
        "request.answered", {"answer": "Tisdag kl 10"}, "sv", TextFormat.PLAIN
    )
    assert "”Tisdag kl 10”" in answered
    for locale in ("sv", "en"):
        for path in (ROOT / "bot" / "locales" / locale).glob("*.toml"):
            assert "«" not in path.read_text(encoding="utf-8"), path


def _make_target(makefile: str, target: str) -> tuple[list[str], list[str]]:
    """A Makefile target's prerequisites and recipe lines."""
    lines = makefile.splitlines()
    for n, line in enumerate(lines):
        match = re.match(rf"^{re.escape(target)}\s*:(?!=)(.*)$", line)
        if match:
            recipe = []
            for following in lines[n + 1 :]:
                if not following.startswith("\t"):
                    break
                recipe.append(following.strip())
            return match.group(1).split(), recipe
    raise AssertionError(f"no target {target}")


def _recipes(makefile: str, goal: str) -> list[str]:
    """Every recipe line `make goal` may run: the goal's and its prerequisites', expanded."""
    variables = dict(re.findall(r"^(\w+)\s*[:?]?=\s*(.*)$", makefile, flags=re.MULTILINE))

    def expand(text: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda m: expand(variables.get(m.group(1), "")), text)

    seen: set[str] = set()
    todo, recipes = [goal], []
    while todo:
        target = todo.pop()
        if target in seen:
            continue
        seen.add(target)
        try:
            prerequisites, recipe = _make_target(makefile, target)
        except AssertionError:
            continue  # a file, not a rule (pyproject.toml)
        recipes += [expand(line) for line in recipe]
        # A rule named by a variable ($(STAMP)) is written so in the Makefile.
        todo += [*prerequisites, *(expand(p) for p in prerequisites)]
    return recipes


def test_make_demo_installs_no_test_tools() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = _recipes(makefile, "demo")
    installs = [line for line in demo if "pip install" in line]
    assert any("-e" in line for line in installs), demo
    assert not any("[test]" in line for line in installs), installs
    assert not any("npm" in line for line in demo), demo
    # `make test` still brings the test tools.
    test = _recipes(makefile, "test")
    assert any("[test]" in line for line in test if "pip install" in line), test


def test_make_test_sets_up_the_browser_and_never_skips_its_test() -> None:
    # The README's test command installs what the answer-page browser test needs (Debian's
    # chromium) and makes a missing browser a failure, so CI (.ci/run: just `make test`)
    # cannot pass with that test skipped.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test = _recipes(makefile, "test")
    assert "bash scripts/install-chromium" in test, test
    assert any("SAMVERKAN_REQUIRE_BROWSER=1" in line and "pytest" in line for line in test)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").split()
    assert ci[-2:] == ["make", "test"]


def test_the_timeline_legend_leaves_the_dates_readable() -> None:
    owners = [Owner(OwnerKind.ORGANISATION, n, f"Verksamhet {n}") for n in range(1, 4)]
    statuses = list(ActionStatus)
    actions = [
        ActionItem(n, 1, "K-1", f"Åtgärd {n}", owners[n % 3], date(2026, 12, 1 + 2 * n), status)
        for n, status in enumerate(statuses * 2)
    ]
    figure = timeline_figure(
        actions, date(2026, 12, 5), "Planen", lambda a: a.owner.name, str, "i dag"
    )
    canvas = FigureCanvasAgg(figure)  # as the PNG is drawn
    canvas.draw()
    renderer = canvas.get_renderer()
    (axes,) = figure.axes
    legend = axes.get_legend() or figure.legends[0]
    legend_box = legend.get_window_extent(renderer)
    dates = [label for label in axes.get_xticklabels() if label.get_text()]
    assert dates
    for label in dates:
        assert not legend_box.overlaps(label.get_window_extent(renderer)), label.get_text()
    # Everything stays inside the picture.
    assert figure.bbox.contains(legend_box.x0, legend_box.y0)
