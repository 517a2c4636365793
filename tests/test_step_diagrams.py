"""Every declarative flow's diagram is generated from its steps, and no step leads nowhere."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.catalogue import Catalogue
from flows.private_chat import PrivateChatOnly
from flows.replies import say
from flows.steps import Go, Step, StepFlow, step_flows
from flows.wiring import default_engine
from scripts.diagrams import diagram, stale


def test_every_declarative_flow_has_its_current_diagram_in_its_docstring() -> None:
    """A step added, removed or re-routed without `python -m scripts.diagrams` fails here."""
    assert step_flows(), "no declarative flow found"
    assert [str(path) for path, _ in stale()] == []


def test_the_youth_diagram_names_every_step_and_way_out() -> None:
    """The generated diagram is the table: each step, each choice by id, typed text."""
    youth = next(flow for flow in step_flows() if flow.name == "youth_prep")
    text = youth.mermaid()
    assert "[*] --> menu" in text
    assert "questions --> question_add: add / text" in text
    assert "questions --> questions: text" in text
    assert "question_pick --> questions: otherwise / (shown instead)" in text
    assert set(youth.steps) <= {line.split()[0] for line in text.splitlines()[2:]}


class _Broken(StepFlow):
    """A flow whose only step leads to a step that is not declared."""

    def __init__(self) -> None:
        super().__init__(
            "broken",
            (
                Step(
                    "home", show=lambda _t: say("common.not_understood"), choices={"x": Go("gone")}
                ),
            ),
            home_step="home",
            help_prefix="broken.help",
        )


def test_a_step_that_leads_to_an_undeclared_step_is_refused_at_once() -> None:
    """A typo in a step name fails when the flow is built, not when someone taps."""
    with pytest.raises(ValueError, match="gone"):
        _Broken()


def test_a_stale_diagram_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module whose docstring's diagram is not the one its STEPS make is reported."""
    youth = sys.modules["flows.youth_prep"]
    assert diagram(youth).startswith("```mermaid\nstateDiagram-v2\n    [*] --> menu\n")
    source = tmp_path / "example.py"
    source.write_text('"""```mermaid\nstateDiagram-v2\n    a --> b: old\n```"""\n')
    example = ModuleType("flows._example")
    example.__file__ = str(source)
    example.STEPS = (Step("a", show=lambda _t: say("common.help"), choices={"x": Go("a")}),)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flows._example", example)
    assert [path for path, _ in stale()] == [source]


def test_every_step_of_every_declarative_flow_has_its_help_in_every_language() -> None:
    """/hjälp in any step has a text to show, in every shipped language."""
    catalogue = Catalogue()
    for flow in step_flows():
        for locale in catalogue.locales:
            known = catalogue.message_ids(locale)
            missing = [s for s in flow.steps if flow.help_id(s) not in known]
            assert missing == [], f"{flow.name}: no help in {locale} for {missing}"


def test_every_flow_the_bot_wires_is_a_table_of_steps() -> None:
    """Each conversation is declared step by step (flows/steps.py); a wrapper that keeps a
    flow out of group chats (flows/private_chat.py) wraps one."""
    engine = default_engine(email_invites=True)
    undeclared = [
        flow.name
        for flow in engine.flows()
        if not isinstance(flow.inner if isinstance(flow, PrivateChatOnly) else flow, StepFlow)
    ]
    assert undeclared == []
    assert {flow.name for flow in step_flows()} >= {flow.name for flow in engine.flows()}
