"""Every platform is one connector of one shape, and what lies between exists once.

The terminal, Telegram, Matrix and e-mail only translate and send (bot/connector.py). Per-chat order
(bot/pipeline.py), what a typed number or label means (flows/choice_reading.py), delivery
(bot/delivery_loop.py) and paging (flows/paging.py) are shared, so a fourth platform is one
module plus its tests.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from bot.connector import Capabilities, Connector
from bot.console import ConsoleConnector
from bot.email.connector import EmailConnector
from bot.matrix.adapter import MatrixAdapter
from bot.telegram.service import TelegramService
from flows.paging import PAGE_SIZE

ROOT = Path(__file__).resolve().parent.parent
CONNECTORS: list[type] = [ConsoleConnector, TelegramService, MatrixAdapter, EmailConnector]


@pytest.mark.parametrize("connector", CONNECTORS, ids=lambda c: c.__name__)
def test_each_platform_is_a_connector_of_the_one_shape(connector: type) -> None:
    assert isinstance(connector.platform, str) and connector.platform
    assert isinstance(connector.capabilities, Capabilities)
    for name in ("translate", "send"):
        ours = inspect.signature(getattr(connector, name))
        theirs = inspect.signature(getattr(Connector, name))
        assert list(ours.parameters) == list(theirs.parameters), name
    assert inspect.iscoroutinefunction(connector.send)


@pytest.mark.parametrize("connector", CONNECTORS, ids=lambda c: c.__name__)
def test_a_page_of_a_long_list_fits_on_every_platform(connector: type) -> None:
    # A page, its two page buttons and the few fixed choices of a step (back, home, ...).
    assert PAGE_SIZE + 2 + 10 <= connector.capabilities.max_buttons <= 100


def test_telegrams_limits_are_data_the_pacer_keeps() -> None:
    limits = TelegramService.capabilities.limits
    assert (limits.per_second, limits.chat_interval, limits.group_per_minute) == (30, 1.0, 20)


def _calls_in(path: Path) -> set[str]:
    """The names of everything a module calls (functions and methods)."""
    calls: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                calls.add(func.attr)
            elif isinstance(func, ast.Name):
                calls.add(func.id)
    return calls


CONNECTOR_MODULES = [
    ROOT / "bot" / "console.py",
    ROOT / "bot" / "telegram" / "service.py",
    ROOT / "bot" / "telegram" / "updates.py",
    ROOT / "bot" / "matrix" / "adapter.py",
    ROOT / "bot" / "matrix" / "transport.py",
    ROOT / "bot" / "email" / "connector.py",
    ROOT / "bot" / "email" / "compose.py",
]


@pytest.mark.parametrize("module", CONNECTOR_MODULES, ids=lambda p: p.name)
def test_no_connector_keeps_order_reads_numbers_or_runs_the_handler_itself(module: Path) -> None:
    calls = _calls_in(module)
    # Order is the pipeline's (one lock per chat there); nobody else locks a chat.
    assert not calls & {"Lock", "KeyedLocks"}, "per-chat order is bot/pipeline.py's"
    # What "2" or a typed label means is flows/choice_reading.py's.
    assert not calls & {"isdecimal", "same_label", "read_choice", "typed_number"}
    # The flows run in the pipeline, and messages leave through the one delivery loop.
    assert not calls & {"handle", "answer_unreadable", "Deliverer", "deliver"}


def test_only_the_pipeline_and_the_pacer_hold_locks() -> None:
    holders = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "bot").rglob("*.py")
        if "Lock" in _calls_in(path)
    }
    # The pacer's per-chat lock spaces sends; log_safety's guards its list of secrets;
    # later's makes sure the conversations built behind the start are built once.
    assert holders == {"bot/pipeline.py", "bot/pacing.py", "bot/log_safety.py", "bot/later.py"}
