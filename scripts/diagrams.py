"""Writes each module's generated Mermaid diagram of the steps it declares into its docstring.

A module that declares steps holds them in a module-level `STEPS` tuple (flows/steps.py); its
docstring's ```mermaid block is generated from that tuple (with `[*] --> home` in the module
that declares a flow's home step). A flow split over a package (the coordinator's) has one
diagram per module. Run `python -m scripts.diagrams` after changing a `STEPS`;
tests/test_step_diagrams.py fails while a diagram is stale (`--check` reports and exits 1).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

from flows.steps import Step, mermaid, step_flows

BLOCK = re.compile(r"```mermaid\n.*?```", re.DOTALL)


def declaring_modules() -> list[ModuleType]:
    """The imported flow modules that declare steps (a module-level tuple `STEPS` of Step)."""
    step_flows()  # imports every wired flow module
    return [
        module
        for name, module in sorted(sys.modules.items())
        if name.startswith("flows.")
        and isinstance(steps := getattr(module, "STEPS", None), tuple)
        and steps
        and all(isinstance(s, Step) for s in steps)
    ]


def diagram(module: ModuleType) -> str:
    """The fenced Mermaid block a module's docstring must hold."""
    steps: tuple[Step, ...] = module.STEPS
    homes = [f.home_step for f in step_flows() if any(f.steps[f.home_step] is s for s in steps)]
    return f"```mermaid\n{mermaid(steps, homes[0] if homes else None)}\n```"


def stale() -> list[tuple[Path, str]]:
    """The modules whose file does not hold their current diagram, with that diagram."""
    found = []
    for module in declaring_modules():
        path, block = Path(module.__file__ or ""), diagram(module)
        if block not in path.read_text(encoding="utf-8"):
            found.append((path, block))
    return found


def main(argv: list[str]) -> int:
    """Rewrites stale diagrams (or only reports them with --check)."""
    outdated = stale()
    for path, block in outdated:
        if "--check" in argv:
            print(f"stale diagram: {path}")
            continue
        text = path.read_text(encoding="utf-8")
        found = BLOCK.search(text)
        if found is None:
            print(f"no mermaid block to replace in {path}")
            return 1
        start, end = found.span()
        path.write_text(text[:start] + block + text[end:], encoding="utf-8")
        print(f"wrote {path}")
    return 1 if outdated and "--check" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
