"""The consent flow's modules: each small enough to read in one sitting, each drawing its steps."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from tests.test_architecture import FLOWS, diagram_states

CONSENT = FLOWS / "consent"


def consent_modules() -> dict[str, str]:
    """Each module of the consent package by name, with its docstring."""
    return {
        path.name: ast.get_docstring(ast.parse(path.read_text())) or ""
        for path in sorted(CONSENT.glob("*.py"))
    }


def owned_steps(module_name: str) -> set[str]:
    """The steps a module declares in its `STEPS` table (flows/steps.py): the ones it owns."""
    module = importlib.import_module(f"flows.consent.{module_name.removesuffix('.py')}")
    return {step.name for step in getattr(module, "STEPS", ())}


def test_no_consent_module_is_over_400_lines() -> None:
    lengths = {path.name: len(path.read_text().splitlines()) for path in CONSENT.glob("*.py")}
    assert {"gate.py", "asking.py", "guardian.py", "status.py", "rights.py"} <= set(lengths)
    assert {name: n for name, n in lengths.items() if n > 400} == {}


def test_every_consent_step_has_one_owner_that_draws_it() -> None:
    from flows.consent import Step

    owners: dict[str, list[str]] = {}
    for name, docstring in consent_modules().items():
        if name in ("__init__.py", "steps.py"):  # the package's overview and its shared words
            continue
        assert "stateDiagram" in docstring, f"{name} needs a Mermaid state diagram"
        owned = owned_steps(name)
        # A module draws the steps it owns (the diagram may show the steps it leads to, too).
        assert owned - diagram_states(docstring) == set(), name
        for step in owned:
            owners.setdefault(step, []).append(name)
    assert set(owners) == {s.value for s in Step}, "every step stored in a row has an owner"
    assert {step: names for step, names in owners.items() if len(names) > 1} == {}


def test_the_owned_steps_are_the_declared_ones() -> None:
    assert owned_steps("guardian.py") == {"guardian"}
    assert owned_steps("rights.py") == {"rights", "forget"}
    assert owned_steps("gate.py") == set()  # it routes; it declares no step


def test_the_consent_package_is_where_the_rest_of_the_code_imports_it() -> None:
    # The names imported from flows.consent elsewhere (wiring, tests, bench) stay importable.
    from flows import consent

    for name in ("ConsentFlow", "DEFAULT_AGE_LIMIT", "TEXT_VERSION", "FLOW_NAME", "Step"):
        assert hasattr(consent, name), name
    assert Path(consent.__file__).parent == CONSENT


def test_consent_modules_never_touch_storage() -> None:
    # tests/test_access_gate.py checks flows/*.py only; a package's modules need the same rule:
    # consent reads and writes through its ports, never the ORM, storage or the bot.
    imported: dict[str, set[str]] = {}
    for path in sorted(CONSENT.glob("*.py")):
        tree = ast.parse(path.read_text())
        imported[path.name] = {
            (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in n.names
        }
    assert imported
    offenders = {
        name: sorted(i for i in names if i.startswith(("storage", "sqlalchemy", "bot")))
        for name, names in imported.items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}
