"""flows/ stays platform-free and I/O-free (DESIGN.md §4): checked on the source, not by trust."""

from __future__ import annotations

import ast
import re
from pathlib import Path

FLOWS = Path(__file__).resolve().parent.parent / "flows"

# Platforms, the ORM, templating, schedulers and anything that does I/O on its own.
FORBIDDEN_IMPORTS = {
    "telegram",
    "nio",
    "apscheduler",
    "jinja2",
    "sqlalchemy",
    "alembic",
    "babel",
    "httpx",
    "aiohttp",
    "requests",
    "socket",
    "sqlite3",
    "psycopg",
    "subprocess",
    "os",
    "pathlib",
    "logging",
    "bot",
    "storage",
}
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "__import__"}


def imported_roots(tree: ast.AST) -> set[str]:
    """Top-level package names a module imports."""
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def called_names(tree: ast.AST) -> set[str]:
    """Names of plain function calls (open(...), print(...))."""
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def test_flows_import_nothing_platform_orm_or_io_specific() -> None:
    offenders = {
        path.name: sorted(imported_roots(ast.parse(path.read_text())) & FORBIDDEN_IMPORTS)
        for path in sorted(FLOWS.rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_flows_do_no_io_of_their_own() -> None:
    offenders = {
        path.name: sorted(called_names(ast.parse(path.read_text())) & FORBIDDEN_CALLS)
        for path in sorted(FLOWS.rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_would_catch_a_leak() -> None:
    leaky = ast.parse("import telegram\nfrom sqlalchemy.orm import Session\nopen('x')\n")
    assert imported_roots(leaky) & FORBIDDEN_IMPORTS == {"telegram", "sqlalchemy"}
    assert called_names(leaky) & FORBIDDEN_CALLS == {"open"}


def test_every_flow_module_has_a_state_diagram() -> None:
    # Every module that declares steps, in flows/ and its packages (the coordinator, consent).
    flow_modules = [
        p
        for p in FLOWS.rglob("*.py")
        if any(mark in p.read_text() for mark in ("class Step(", "FLOW_NAME =", "STEPS = ("))
        # A package's steps.py names the steps its modules share; each module draws its own.
        and not (p.name == "steps.py" and p.parent != FLOWS)
    ]
    assert flow_modules
    for path in set(flow_modules):
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert "stateDiagram" in docstring, f"{path.name} needs a Mermaid state diagram"


def modules_assigning(name: str) -> list[str]:
    """The modules of bot/, flows/ and storage/ that assign `name` at their top level."""
    root = FLOWS.parent
    found = []
    for package in ("bot", "flows", "storage"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.parse(path.read_text()).body:
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [node.target]
                    if isinstance(node, ast.AnnAssign)
                    else []
                )
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    found.append(str(path.relative_to(root)))
    return found


def test_who_is_asked_for_consent_is_defined_once() -> None:
    # The consent flow and the access gate must never disagree on who consents; storage
    # imports the one set from flows (storage may import flows, never the other way).
    assert modules_assigning("CONSENTING_ROLES") == ["flows/domain.py"]


def test_who_is_asked_about_the_shared_picture_is_defined_once() -> None:
    # The picture reminders (flows) and the families' reads (storage) ask the same people.
    assert modules_assigning("PICTURE_ROLES") == ["flows/domain.py"]


def coordinator_modules() -> list[Path]:
    """The coordinator's modules: flows/coordinator*.py and all of a coordinator package."""
    return sorted(
        p for p in FLOWS.rglob("*.py") if p.relative_to(FLOWS).parts[0].startswith("coordinator")
    )


def diagram_states(docstring: str) -> set[str]:
    """The states named in the Mermaid state diagrams of a docstring (without [*])."""
    states: set[str] = set()
    for block in re.findall(r"```mermaid\n(.*?)```", docstring, re.DOTALL):
        for line in block.splitlines():
            arrow = re.match(r"\s*(\S+)\s*-->\s*([^\s:]+)", line)
            if arrow:
                states |= {arrow[1], arrow[2]}
    return states - {"[*]"}


def test_no_coordinator_module_is_over_400_lines() -> None:
    lengths = {
        str(p.relative_to(FLOWS)): len(p.read_text().splitlines()) for p in coordinator_modules()
    }
    assert lengths
    assert {name: n for name, n in lengths.items() if n > 400} == {}


def test_every_coordinator_step_is_in_a_diagram() -> None:
    # A step the dispatch knows but no diagram shows means the diagram went stale.
    from flows.action_status import STATUS_STEPS
    from flows.coordinator import STEPS, Step

    assert set(STEPS) == set(Step), "every step needs a row in the dispatch table"
    known = {s.value for s in STEPS} | STATUS_STEPS
    drawn: set[str] = set()
    for path in coordinator_modules():
        drawn |= diagram_states(ast.get_docstring(ast.parse(path.read_text())) or "")
    assert known - drawn == set()
    # And no diagram draws a step that no longer exists.
    assert drawn - known == set()


def test_the_diagram_reader_finds_states() -> None:
    doc = "```mermaid\nstateDiagram-v2\n    [*] --> home\n    home --> plan: Planen\n```\n"
    assert diagram_states(doc) == {"home", "plan"}
