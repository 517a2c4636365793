"""Every message id the code uses exists in every language, with the same placeholders.

tests/test_catalogue.py checks the catalogue against itself (every language has the same ids
and each renders); this file checks the code against the catalogue, by reading the source:
a typo in `say("youth.qestion")` would otherwise only show when someone reaches that step.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import meta

from bot.catalogue import Catalogue

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("flows", "bot")
ID = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
# Calls whose argument (position or keyword) is always a message id.
MESSAGE_ARGUMENTS = {
    ("say", 0),
    ("say_to_anyone", 0),
    ("Reply", 0),
    ("Reply", "message_id"),
    ("render", 0),
    ("render_reply", 0),
    ("Choice", 1),
    ("Choice", "label"),
    ("Unreadable", 2),
}
# Strings shaped like ids in a message area that name something else: audit actions.
NOT_MESSAGES = {"meeting.add", "meeting.move", "meeting.cancel"}
# A template's `t("area.key")` names another message.
NESTED = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']\s*[,)]""")


def called(node: ast.Call) -> str:
    """The name a call is made by: `say` for say(...) and for self.catalogue.say(...)."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def sources() -> Iterator[tuple[str, ast.Module]]:
    """Each scanned module's path (relative to the repository) and its syntax tree."""
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def id_strings(tree: ast.AST, areas: set[str]) -> Iterator[tuple[str, int]]:
    """Literal ids in a module: at a message argument, or shaped like an id of a known area.

    The second rule finds ids kept in tables and constants (`_JOIN_FAILURES`, a step's
    prompt) that reach `say` through a variable.
    """
    in_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = called(node)
            arguments: list[tuple[int | str | None, ast.expr]] = [
                *enumerate(node.args),
                *((k.arg, k.value) for k in node.keywords),
            ]
            for key, value in arguments:
                if (
                    (name, key) in MESSAGE_ARGUMENTS
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    yield value.value, value.lineno
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in in_fstrings
            and ID.match(node.value)
            and node.value.split(".")[0] in areas
            and node.value not in NOT_MESSAGES
        ):
            yield node.value, node.lineno


def id_prefixes(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """The constant start of ids built at run time: f"youth.help.{step}" gives "youth.help."."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and re.match(r"^[a-z_]+\.[a-z0-9_.]*$", first.value)
            ):
                yield first.value, node.lineno


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The shipped catalogue, every locale directory under bot/locales."""
    return Catalogue()


def used_ids(catalogue: Catalogue) -> dict[str, list[str]]:
    """Every literal message id in flows/ and bot/, with where it is used."""
    areas = {message_id.split(".")[0] for message_id in catalogue.message_ids("sv")}
    used: dict[str, list[str]] = {}
    for path, tree in sources():
        for message_id, line in id_strings(tree, areas):
            where = f"{path}:{line}"
            if where not in used.setdefault(message_id, []):
                used[message_id].append(where)
    for locale in catalogue.locales:
        for owner in catalogue.message_ids(locale):
            for nested in NESTED.findall(catalogue.source(owner, locale)):
                used.setdefault(nested, []).append(f"{locale}:{owner}")
    return used


def test_the_scan_finds_the_ids_the_flows_use(catalogue: Catalogue) -> None:
    used = used_ids(catalogue)
    # One of each way an id reaches the catalogue: say(), a Choice's label, a table of ids
    # (flows/engine.py _JOIN_FAILURES), a connector's Unreadable and a template's t().
    assert {"youth.about", "youth.about.start", "join.expired", "telegram.not_text"} <= set(used)
    assert any(where.startswith("sv:") for where in used["coord.family"])
    assert len(used) > 250


def test_every_message_id_the_code_uses_exists_in_every_language(catalogue: Catalogue) -> None:
    used = used_ids(catalogue)
    assert set(catalogue.locales) >= {"sv", "en"}
    for locale in catalogue.locales:
        known = catalogue.message_ids(locale)
        missing = {i: where for i, where in sorted(used.items()) if i not in known}
        assert missing == {}, f"not in bot/locales/{locale}/"


def test_every_id_built_at_run_time_starts_like_a_message(catalogue: Catalogue) -> None:
    known = catalogue.message_ids("sv")
    dead = [
        f"{path}:{line} {prefix!r}"
        for path, tree in sources()
        for prefix, line in id_prefixes(tree)
        if prefix.split(".")[0] in {k.split(".")[0] for k in known}
        and not any(k.startswith(prefix) for k in known)
    ]
    assert dead == []


def test_every_language_uses_the_placeholders_swedish_does(catalogue: Catalogue) -> None:
    env = catalogue._environment("sv")

    def placeholders(message_id: str, locale: str) -> set[str]:
        """The Jinja variables a message reads, besides the helpers every template has."""
        names = meta.find_undeclared_variables(env.parse(catalogue.source(message_id, locale)))
        return names - set(env.globals)

    differ = {
        (message_id, locale): sorted(placeholders(message_id, locale))
        for message_id in sorted(catalogue.message_ids("sv"))
        for locale in catalogue.locales
        if placeholders(message_id, locale) != placeholders(message_id, "sv")
    }
    assert differ == {}
