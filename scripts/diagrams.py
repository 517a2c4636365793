"""Writes each declarative flow's generated Mermaid diagram into its module's docstring.

Run `python -m scripts.diagrams` after changing a flow's `STEPS`; tests/test_step_diagrams.py
fails while a diagram is stale (`--check` does the same here and exits 1).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from flows.steps import StepFlow, step_flows

BLOCK = re.compile(r"```mermaid\n.*?```", re.DOTALL)


def diagram(flow: StepFlow) -> str:
    """The fenced Mermaid block a flow's docstring must hold."""
    return f"```mermaid\n{flow.mermaid()}\n```"


def stale() -> list[tuple[Path, StepFlow]]:
    """The flows whose module file does not hold their current diagram."""
    found = []
    for flow in step_flows():
        path = Path(sys.modules[type(flow).__module__].__file__ or "")
        if diagram(flow) not in path.read_text(encoding="utf-8"):
            found.append((path, flow))
    return found


def main(argv: list[str]) -> int:
    """Rewrites stale diagrams (or only reports them with --check)."""
    outdated = stale()
    for path, flow in outdated:
        if "--check" in argv:
            print(f"stale diagram: {path} ({flow.name})")
            continue
        text, block = path.read_text(encoding="utf-8"), diagram(flow)
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
