"""The one access gate: no code path around it, and no read it should deny.

Two kinds of proof: a static scan that every function touching case-data tables calls the
gate (or lives in a privacy module that is itself the gate's business), and a hypothesis
state machine that drives random people, roles, cases, sharing, consent withdrawals and
erasures and compares every read with an independent model of the rules.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, delete, update

from flows.domain import ConsentScope, ItemKind, Role, ViewAspect
from storage import models as m
from storage.access import CASE_DATA_MODELS, AccessDenied
from storage.crypto import DataKey, Keyring, install_keyring
from storage.db import make_engine, session_factory
from storage.models import Base
from storage.unit_of_work import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
# Modules that are the gate, or privacy operations on a person's own data or a whole closed
# case (each audited): they may name case-data models without calling the gate.
GATE_MODULES = {
    "storage/access.py",
    "storage/erasure.py",
    "storage/retention.py",
    "storage/privacy_repository.py",
}
TABLES = {Base.metadata.tables[getattr(m, name).__tablename__].name for name in CASE_DATA_MODELS}
RAW_SQL = re.compile(
    r"\b(from|join|update|into)\s+\"?(" + "|".join(sorted(TABLES)) + r")\b", re.IGNORECASE
)


# --- no path around the gate ------------------------------------------------------------------


def _names_case_data(node: ast.AST) -> bool:
    """True if the code names a case-data model, or a table of one in raw SQL."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in CASE_DATA_MODELS:
            return True
        if isinstance(sub, ast.Name) and sub.id in CASE_DATA_MODELS:
            return True
        if (
            isinstance(sub, ast.Constant)
            and isinstance(sub.value, str)
            and RAW_SQL.search(sub.value)
        ):
            return True
    return False


def _calls_gate(node: ast.AST) -> bool:
    """True if the function calls a method of `self._gate`."""
    return any(
        isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Attribute)
        and isinstance(sub.func.value, ast.Attribute)
        and sub.func.value.attr == "_gate"
        for sub in ast.walk(node)
    )


def _self_calls(node: ast.AST) -> set[str]:
    """Names of `self.x(...)` methods a function calls."""
    return {
        sub.func.attr
        for sub in ast.walk(node)
        if isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Attribute)
        and isinstance(sub.func.value, ast.Name)
        and sub.func.value.id == "self"
    }


def ungated_functions(source: str, filename: str) -> list[str]:
    """Functions that touch case data without the gate (private helpers count as gated when
    every method of their class that calls them is gated)."""
    tree = ast.parse(source, filename)
    problems: list[str] = []
    if any(
        isinstance(n, ast.ImportFrom)
        and (n.module or "").startswith("storage.models")
        and any(a.name in CASE_DATA_MODELS for a in n.names)
        for n in ast.walk(tree)
    ):
        problems.append(f"{filename}: imports a case-data model by name")
    scopes: list[tuple[str, list[ast.FunctionDef]]] = [
        ("", [n for n in tree.body if isinstance(n, ast.FunctionDef)])
    ]
    scopes += [
        (c.name, [n for n in c.body if isinstance(n, ast.FunctionDef)])
        for c in tree.body
        if isinstance(c, ast.ClassDef)
    ]
    for owner, functions in scopes:
        gated = {f.name for f in functions if _calls_gate(f)}
        for func in functions:
            if not _names_case_data(func) or func.name in gated:
                continue
            callers = [f for f in functions if func.name in _self_calls(f)]
            private = owner and func.name.startswith("_") and callers
            if private and all(c.name in gated for c in callers):
                continue
            problems.append(f"{filename}: {owner + '.' if owner else ''}{func.name}")
    return problems


def _project_modules() -> Iterator[Path]:
    """Every module of the three packages, except models and migrations (schema only)."""
    # flows/ cannot reach storage at all (test_flows_never_touch_storage); its domain types
    # share names with models (FamilyItem), so it is not scanned here.
    for package in ("bot", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(("storage/models/", "storage/migrations/")):
                continue
            yield path


def _ungated() -> list[str]:
    """Every function in the project that touches case data without the gate."""
    problems: list[str] = []
    for path in _project_modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel not in GATE_MODULES:
            problems += ungated_functions(path.read_text(), rel)
    return problems


def test_no_code_reads_case_data_around_the_gate() -> None:
    problems = _ungated()
    assert problems == [], (
        "these read or write case data without the access gate (storage/access.py); "
        f"take an AccessGate and call it first: {problems}"
    )


def test_the_scan_catches_a_direct_query() -> None:
    sneaky = """
class Report:
    def questions(self, case_id):
        return self._s.scalars(select(m.Question).where(m.Question.case_id == case_id))
    def raw(self):
        return self._s.execute(text("SELECT text FROM question"))
    def gated(self, viewer, case_id):
        self._gate.require(viewer, case_id)
        return self._helper(case_id)
    def _helper(self, case_id):
        return select(m.View)
"""
    assert ungated_functions(sneaky, "x.py") == ["x.py: Report.questions", "x.py: Report.raw"]


def test_flows_never_touch_storage() -> None:
    for path in sorted((ROOT / "flows").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {
            (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in n.names
        }
        assert not any(i.startswith(("storage", "sqlalchemy", "bot")) for i in imported), path


# --- the rules, modelled independently -----------------------------------------------------


@dataclass
class ModelPerson:
    """A person as the model sees them."""

    id: int
    roles: dict[int, set[Role]] = field(default_factory=dict)  # case -> active roles
    consent: dict[int, bool | None] = field(default_factory=dict)
    sip: dict[int, bool | None] = field(default_factory=dict)
    under_age: bool | None = None
    guardian: dict[int, list[tuple[int, bool]]] = field(default_factory=dict)  # (giver, yes)


@dataclass
class ModelItem:
    """A question or view as the model sees it."""

    kind: ItemKind
    id: int
    case: int
    author: int
    shared: bool = False


class GateModel:
    """What the rules of DESIGN.md §5 say each person may see."""

    def __init__(self) -> None:
        self.people: dict[int, ModelPerson] = {}
        self.items: dict[tuple[ItemKind, int], ModelItem] = {}
        self.closed: set[int] = set()

    def effective(self, person: ModelPerson, case: int) -> bool:
        """Staff need no consent; the family side: own yes, and a caregiver's under the limit."""
        if not person.roles.get(case, set()) & FAMILY:
            return True
        if person.consent.get(case) is not True:
            return False
        if person.under_age is not True:
            return True
        answers = [yes for giver, yes in person.guardian.get(case, []) if giver in self.people]
        return bool(answers) and answers[-1]

    def admitted(self, person_id: int, case: int) -> bool:
        """Active member of an open case with consent in effect."""
        person = self.people.get(person_id)
        return (
            person is not None
            and case not in self.closed
            and bool(person.roles.get(case))
            and self.effective(person, case)
        )

    def visible(self, viewer_id: int, case: int) -> set[tuple[ItemKind, int]] | None:
        """Items the viewer may see in a case, or None when the gate must refuse."""
        if not self.admitted(viewer_id, case):
            return None
        viewer = self.people[viewer_id]
        seen: set[tuple[ItemKind, int]] = set()
        for key, item in self.items.items():
            if item.case != case:
                continue
            if item.author == viewer_id:
                seen.add(key)
                continue
            author = self.people[item.author]
            if not item.shared or not author.roles.get(case) or not self.effective(author, case):
                continue
            family_author = bool(author.roles[case] & FAMILY)
            if (
                viewer.roles[case] == {Role.PROFESSIONAL}
                and family_author
                and author.sip.get(case) is not True
            ):
                continue
            seen.add(key)
        return seen


# --- the state machine ------------------------------------------------------------------------

FAMILY = {Role.YOUTH, Role.CAREGIVER, Role.NETWORK}
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GATE_RUNS = int(os.environ.get("SAMVERKAN_GATE_RUNS", "200"))
CASES = 2


@pytest.fixture(scope="module")
def memory_engine() -> Iterator[Engine]:
    """One in-memory SQLite database, emptied between runs (fast, no files)."""
    engine = make_engine("sqlite://")
    install_keyring(Keyring(DataKey.generate("gate")))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


class GateMachine(RuleBasedStateMachine):
    """Random people, roles, cases, items, sharing, consent, withdrawals and erasures."""

    engine: Engine
    people = Bundle("people")
    items = Bundle("items")

    def __init__(self) -> None:
        super().__init__()
        self.sessions = session_factory(self.engine)
        self.model = GateModel()
        self.tick = 0
        self.case_ids: list[int] = []

    def now(self) -> datetime:
        """Time moves a second per step, so "latest answer" is well defined."""
        self.tick += 1
        return NOW + timedelta(seconds=self.tick)

    @initialize()
    def empty_database(self) -> None:
        """Starts every run from empty tables and two open cases."""
        with self.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
        with UnitOfWork(self.sessions) as uow:
            self.case_ids = [uow.cases.create_case(NOW).id for _ in range(CASES)]
            uow.commit()

    @rule(target=people, case=st.integers(0, CASES - 1), role=st.sampled_from(list(Role)))
    def join(self, case: int, role: Role) -> int:
        """A new person joins a case with a role."""
        case_id = self.case_ids[case]
        with UnitOfWork(self.sessions) as uow:
            person = uow.cases.add_person("P", "sv", NOW)
            uow.cases.add_member(case_id, person.id, role, NOW)
            uow.commit()
        self.model.people[person.id] = ModelPerson(person.id, roles={case_id: {role}})
        return person.id

    @rule(person=people, case=st.integers(0, CASES - 1), role=st.sampled_from(list(Role)))
    def join_another(self, person: int, case: int, role: Role) -> None:
        """Someone already known joins (another) case or takes another role."""
        case_id = self.case_ids[case]
        model = self.model.people.get(person)
        if model is None or role in model.roles.get(case_id, set()):
            return
        with UnitOfWork(self.sessions) as uow:
            rejoined = uow.session.execute(
                update(m.Membership)
                .where(
                    m.Membership.person_id == person,
                    m.Membership.case_id == case_id,
                    m.Membership.role == role,
                )
                .values(active=True, left_at=None)
            )
            if not getattr(rejoined, "rowcount", 0):
                uow.cases.add_member(case_id, person, role, NOW)
            uow.commit()
        model.roles.setdefault(case_id, set()).add(role)

    @rule(person=people, case=st.integers(0, CASES - 1), yes=st.booleans(), sip=st.booleans())
    def answer_consent(self, person: int, case: int, yes: bool, sip: bool) -> None:
        """The person answers the consent questions for a case."""
        model = self.model.people.get(person)
        if model is None:
            return
        case_id = self.case_ids[case]
        with UnitOfWork(self.sessions) as uow:
            uow.privacy.record_consent(person, case_id, ConsentScope.BOT, yes, "t", self.now())
            uow.privacy.record_consent(person, case_id, ConsentScope.SIP, sip, "t", self.now())
            uow.commit()
        model.consent[case_id], model.sip[case_id] = yes, sip

    @rule(person=people, under=st.booleans())
    def tell_age(self, person: int, under: bool) -> None:
        """The person says whether they are under the consent age."""
        if person not in self.model.people:
            return
        with UnitOfWork(self.sessions) as uow:
            uow.privacy.record_age(person, under, 13, self.now())
            uow.commit()
        self.model.people[person].under_age = under

    @rule(child=people, giver=people, case=st.integers(0, CASES - 1), yes=st.booleans())
    def caregiver_answers(self, child: int, giver: int, case: int, yes: bool) -> None:
        """Someone answers for a child (the gate does not care who; the flow does)."""
        if child not in self.model.people or giver not in self.model.people:
            return
        case_id = self.case_ids[case]
        with UnitOfWork(self.sessions) as uow:
            uow.privacy.record_consent(
                child, case_id, ConsentScope.BOT, yes, "t", self.now(), given_by=giver
            )
            uow.commit()
        self.model.people[child].guardian.setdefault(case_id, []).append((giver, yes))

    @rule(person=people, case=st.integers(0, CASES - 1))
    def withdraw(self, person: int, case: int) -> None:
        """The person withdraws: consent off, SIP off, every shared item unshared."""
        model = self.model.people.get(person)
        if model is None:
            return
        case_id = self.case_ids[case]
        with UnitOfWork(self.sessions) as uow:
            uow.privacy.withdraw(person, case_id, self.now())
            uow.commit()
        if model.consent.get(case_id) is not None:
            model.consent[case_id] = False
        if model.sip.get(case_id) is not None:
            model.sip[case_id] = False
        for item in self.model.items.values():
            if item.author == person and item.case == case_id:
                item.shared = False

    @rule(target=items, person=people, case=st.integers(0, CASES - 1), view=st.booleans())
    def write(self, person: int, case: int, view: bool) -> tuple[ItemKind, int]:
        """The person writes a question or a view; refused without membership and consent."""
        case_id = self.case_ids[case]
        allowed = self.model.admitted(person, case_id)
        try:
            with UnitOfWork(self.sessions) as uow:
                if view:
                    uow.preparation.set_view(case_id, person, ViewAspect.HARD, "v", self.now())
                    prep = uow.preparation.preparation(case_id, person)
                    item_id = next(v.id for v in prep.views if v.aspect is ViewAspect.HARD)
                else:
                    item_id = uow.preparation.add_question(case_id, person, "q", self.now())
                uow.commit()
        except AccessDenied:
            assert not allowed, "the gate refused a write it should allow"
            return (ItemKind.QUESTION, -1)
        assert allowed, "the gate allowed a write it should refuse"
        key = (ItemKind.VIEW if view else ItemKind.QUESTION, item_id)
        self.model.items.setdefault(key, ModelItem(key[0], item_id, case_id, person))
        return key

    @rule(person=people, item=items, shared=st.booleans())
    def share(self, person: int, item: tuple[ItemKind, int], shared: bool) -> None:
        """Someone (maybe not the author) tries to share or unshare an item."""
        model_item = self.model.items.get(item)
        if model_item is None:
            return
        allowed = self.model.admitted(person, model_item.case)
        try:
            with UnitOfWork(self.sessions) as uow:
                changed = uow.preparation.set_shared(item[0], item[1], person, shared, self.now())
                uow.commit()
        except AccessDenied:
            assert not allowed
            return
        assert allowed
        assert changed == (person == model_item.author)
        if changed:
            model_item.shared = shared

    @rule(person=people, case=st.integers(0, CASES - 1))
    def leave(self, person: int, case: int) -> None:
        """The person leaves a case (membership ends)."""
        model = self.model.people.get(person)
        case_id = self.case_ids[case]
        if model is None or not model.roles.get(case_id):
            return
        with UnitOfWork(self.sessions) as uow:
            uow.session.execute(
                update(m.Membership)
                .where(m.Membership.person_id == person, m.Membership.case_id == case_id)
                .values(active=False, left_at=NOW)
            )
            uow.commit()
        model.roles[case_id] = set()

    @rule(case=st.integers(0, CASES - 1))
    def close(self, case: int) -> None:
        """The coordinator closes a case."""
        case_id = self.case_ids[case]
        with UnitOfWork(self.sessions) as uow:
            uow.session.execute(
                update(m.Case).where(m.Case.id == case_id).values(status="closed", closed_at=NOW)
            )
            uow.commit()
        self.model.closed.add(case_id)

    @rule(person=consumes(people))
    def erase(self, person: int) -> None:
        """ "Glöm mig": the person and everything they wrote are gone."""
        if person not in self.model.people:
            return
        with UnitOfWork(self.sessions) as uow:
            uow.privacy.erase(person, self.now())
            uow.commit()
        del self.model.people[person]
        self.model.items = {k: i for k, i in self.model.items.items() if i.author != person}

    @rule(viewer=people, case=st.integers(0, CASES - 1))
    def read(self, viewer: int, case: int) -> None:
        """One read through the gate, compared with the model."""
        self._check(viewer, self.case_ids[case])

    @invariant()
    def nobody_sees_what_the_rules_deny(self) -> None:
        """Every person's view of every case matches the model (after each step)."""
        for viewer in list(self.model.people)[:6]:
            for case_id in self.case_ids:
                self._check(viewer, case_id)

    def _check(self, viewer: int, case_id: int) -> None:
        """The gate's answer for one viewer and case equals the model's."""
        expected = self.model.visible(viewer, case_id)
        with UnitOfWork(self.sessions) as uow:
            try:
                got = {(i.kind, i.id) for i in uow.gate.visible_items(viewer, case_id, NOW)}
            except AccessDenied:
                got = None
        assert got == expected, f"viewer {viewer} in case {case_id}: {got} != {expected}"


def test_the_gate_never_lets_through_a_read_the_rules_deny(memory_engine: Engine) -> None:
    GateMachine.engine = memory_engine
    run_state_machine_as_test(
        GateMachine,
        settings=settings(
            max_examples=GATE_RUNS,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
