"""The one access gate: no code path around it, and no read it should deny.

Two kinds of proof: a static scan that every function touching case-data tables calls the
gate (or lives in a privacy module that is itself the gate's business), and a hypothesis
state machine that drives random people, roles, cases, sharing, consent withdrawals,
erasures, plan actions (added, reported on), family items (private, family list, shared) and
shared pictures with answers, and compares every read and write with an independent model
of the rules.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, delete, update

from flows.coordination import ActionStatus, NewAction, Owner, OwnerKind
from flows.domain import ConsentScope, ItemKind, Role, ViewAspect
from flows.family_domain import FamilyItemKind, Verdict
from flows.sharing import COORDINATOR_ONLY, EVERYONE, Readers, ShareTarget, chosen_organisations
from storage import models as m
from storage.access import CASE_DATA_MODELS, AccessDenied, Purpose
from storage.crypto import DataKey, Keyring, install_keyring
from storage.db import make_engine, session_factory
from storage.families_repository import FamiliesRepository
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
    for path in sorted((ROOT / "flows").rglob("*.py")):
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
    # The organisation (0 or 1 of the case's two) they are a professional of, per case.
    organisation: dict[int, int] = field(default_factory=dict)
    # Samtycke till informationsutbyte per (case, organisation index): the newest answer.
    exchange: dict[tuple[int, int], bool] = field(default_factory=dict)


# Chosen readers in the model: "coordinator", "meeting", or organisation indexes of the case.
ModelReaders = str | frozenset[int] | None


@dataclass
class ModelItem:
    """A question or view as the model sees it."""

    kind: ItemKind
    id: int
    case: int
    author: int
    shared: bool = False
    readers: ModelReaders = None


@dataclass
class ModelAction:
    """A plan action: owned by a person, the case's organisation, the family, or nobody."""

    id: int
    case: int
    owner: int | None = None
    organisation: bool = False
    family: bool = False


@dataclass
class ModelFamilyItem:
    """A caregiver's or network member's item: private, on the family list, shared."""

    id: int
    case: int
    author: int
    in_list: bool = False
    shared: bool = False
    readers: ModelReaders = None


# What a read returns when the gate must refuse it.
DENIED = "denied"


class GateModel:
    """What the rules of DESIGN.md §5 (storage/access.py rules 1-9) say each may see and do."""

    def __init__(self) -> None:
        self.people: dict[int, ModelPerson] = {}
        self.items: dict[tuple[ItemKind, int], ModelItem] = {}
        self.closed: set[int] = set()
        self.actions: dict[int, ModelAction] = {}
        self.family_items: dict[int, ModelFamilyItem] = {}
        self.pictures: dict[int, list[int]] = {}  # case -> picture ids, oldest first
        self.answers: dict[int, set[int]] = {}  # picture -> who answered

    def roles(self, person_id: int, case: int) -> set[Role]:
        """Active roles of a person in a case (none for an erased person)."""
        person = self.people.get(person_id)
        return set(person.roles.get(case, set())) if person is not None else set()

    def exchange(self, author_id: int, case: int, organisation: int) -> bool:
        """The author's consent to exchange with one organisation: its newest answer, else SIP."""
        author = self.people[author_id]
        return author.exchange.get((case, organisation), author.sip.get(case) is True)

    def reads(self, viewer_id: int, author_id: int, case: int, readers: ModelReaders) -> bool:
        """Sharing per reader: the coordinator reads all; the chosen readers (with no choice,
        the author's first-contact answer) and, for a professional, the author's consent to
        exchange with their organisation (withdrawn: not read, at once)."""
        roles = self.roles(viewer_id, case)
        if Role.COORDINATOR in roles:
            return True
        family_author = bool(self.roles(author_id, case) & FAMILY)
        if readers is None:
            sip_yes = self.people[author_id].sip.get(case) is True
            readers = "meeting" if not family_author or sip_yes else "coordinator"
        viewer = self.people[viewer_id]
        orgs = {viewer.organisation[case]} if Role.PROFESSIONAL in roles else set()
        if readers == "coordinator":
            return False
        if isinstance(readers, frozenset):
            return any(
                o in orgs and (not family_author or self.exchange(author_id, case, o))
                for o in readers
            )
        if roles != {Role.PROFESSIONAL} or not family_author:
            return True
        return any(self.exchange(author_id, case, o) for o in orgs)

    # --- the plan (rules 5 and 6)

    def owns(self, person_id: int, action: ModelAction) -> bool:
        """The person is the owner, the organisation's professional, or a family caregiver."""
        roles = self.roles(person_id, action.case)
        if action.owner is not None:
            return action.owner == person_id
        if action.organisation:
            # Owned by the case's first organisation: its professionals answer for it.
            person = self.people[person_id]
            return Role.PROFESSIONAL in roles and person.organisation.get(action.case) == 0
        return action.family and Role.CAREGIVER in roles

    def plan(self, viewer_id: int, case: int) -> set[int] | str:
        """Action ids of a case the viewer sees: all for staff, else the ones they own."""
        if not self.admitted(viewer_id, case):
            return DENIED
        staff = bool(self.roles(viewer_id, case) & {Role.COORDINATOR, Role.PROFESSIONAL})
        return {
            a.id
            for a in self.actions.values()
            if a.case == case and (staff or self.owns(viewer_id, a))
        }

    def may_update(self, person_id: int, action: ModelAction) -> bool:
        """An admitted owner, or an admitted coordinator of the case."""
        if not self.admitted(person_id, action.case):
            return False
        return Role.COORDINATOR in self.roles(person_id, action.case) or self.owns(
            person_id, action
        )

    # --- family items (rule 7)

    def sees_family_item(self, viewer_id: int, item: ModelFamilyItem) -> bool:
        """Own; else an admitted adult author's list item for adults, shared ones by rule 4."""
        if item.author == viewer_id:
            return True
        author_roles = self.roles(item.author, item.case)
        if not author_roles & ADULTS or not self.admitted(item.author, item.case):
            return False
        if item.in_list and self.roles(viewer_id, item.case) & ADULTS:
            return True
        return item.shared and self.reads(viewer_id, item.author, item.case, item.readers)

    def family_list(self, viewer_id: int, case: int) -> set[int] | str:
        """What the caregiver's list shows: own items and the family list, as far as seen."""
        if not self.admitted(viewer_id, case):
            return DENIED
        return {
            i.id
            for i in self.family_items.values()
            if i.case == case
            and (i.author == viewer_id or i.in_list)
            and self.sees_family_item(viewer_id, i)
        }

    def shared_family(self, viewer_id: int, case: int) -> set[int] | str:
        """Family items shared with the meeting, as far as this viewer sees them."""
        if not self.admitted(viewer_id, case):
            return DENIED
        return {
            i.id
            for i in self.family_items.values()
            if i.case == case and i.shared and self.sees_family_item(viewer_id, i)
        }

    # --- the shared picture (rule 8)

    def latest_picture(self, viewer_id: int, case: int) -> int | str | None:
        """The newest picture id of the case for an admitted member."""
        if not self.admitted(viewer_id, case):
            return DENIED
        return self.pictures.get(case, [None])[-1]

    def picture_answers(self, viewer_id: int, case: int, picture: int) -> set[int] | str:
        """Who answered a picture: for the case's admitted coordinators only."""
        if not self.admitted(viewer_id, case) or Role.COORDINATOR not in self.roles(
            viewer_id, case
        ):
            return DENIED
        return {p for p in self.answers.get(picture, set()) if p in self.people}

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
            if not self.reads(viewer_id, item.author, case, item.readers):
                continue
            seen.add(key)
        return seen


# --- the state machine ------------------------------------------------------------------------

FAMILY = {Role.YOUTH, Role.CAREGIVER, Role.NETWORK}
ADULTS = {Role.CAREGIVER, Role.NETWORK}
OWNER_KINDS = ("person", "organisation", "family")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GATE_RUNS = int(os.environ.get("SAMVERKAN_GATE_RUNS", "200"))
CASES = 2
READERS = st.sampled_from(
    [None, "coordinator", "meeting", frozenset(), frozenset({0}), frozenset({1}), frozenset({0, 1})]
)


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
    actions = Bundle("actions")
    family_items = Bundle("family_items")

    def __init__(self) -> None:
        super().__init__()
        self.sessions = session_factory(self.engine)
        self.model = GateModel()
        self.tick = 0
        self.case_ids: list[int] = []
        self.organisations: dict[int, tuple[int, int]] = {}  # case -> its two organisations
        self.coordinators: list[int] = []  # the first coordinator of each case
        self.caregivers: list[int] = []  # the first caregiver of each case

    def now(self) -> datetime:
        """Time moves a second per step, so "latest answer" is well defined."""
        self.tick += 1
        return NOW + timedelta(seconds=self.tick)

    @initialize(target=people)
    def empty_database(self) -> MultipleResults[int]:
        """Starts every run from empty tables and two open cases, each with a coordinator (so
        plans and pictures get made often enough to be checked)."""
        with self.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
        with UnitOfWork(self.sessions) as uow:
            self.case_ids = [uow.cases.create_case(NOW).id for _ in range(CASES)]
            # Two organisations per case (named for it), so sharing with one can be tried
            # against a professional of the other.
            self.organisations = {
                case_id: (
                    uow.coordination.add_organisation(case_id, f"BUP {case_id}").id,
                    uow.coordination.add_organisation(case_id, f"Skolan {case_id}").id,
                )
                for case_id in self.case_ids
            }
            uow.commit()
        self.coordinators = [self._new(case, Role.COORDINATOR, False) for case in range(CASES)]
        self.caregivers = [self._new(case, Role.CAREGIVER, True) for case in range(CASES)]
        youth = [self._new(case, Role.YOUTH, True) for case in range(CASES)]
        return multiple(*self.coordinators, *self.caregivers, *youth)

    @rule(
        target=people,
        case=st.integers(0, CASES - 1),
        role=st.sampled_from(list(Role)),
        consents=st.booleans(),
    )
    def join(self, case: int, role: Role, consents: bool) -> int:
        """A new person joins a case with a role, and maybe says yes to the bot at once."""
        return self._new(case, role, consents)

    def _new(self, case: int, role: Role, consents: bool) -> int:
        """Adds a person with one membership (and maybe consent) to the database and model."""
        case_id = self.case_ids[case]
        with UnitOfWork(self.sessions) as uow:
            person = uow.cases.add_person("P", "sv", NOW)
            uow.cases.add_member(case_id, person.id, role, NOW)
            self._works_for_the_organisation(uow, case_id, person.id, role)
            if consents:
                uow.privacy.record_consent(
                    person.id, case_id, ConsentScope.BOT, True, "t", self.now()
                )
            uow.commit()
        model = ModelPerson(person.id, roles={case_id: {role}})
        if role is Role.PROFESSIONAL:
            model.organisation[case_id] = person.id % 2
        if consents:
            model.consent[case_id] = True
        self.model.people[person.id] = model
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
            self._works_for_the_organisation(uow, case_id, person, role)
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

    @rule(person=people, item=items, readers=READERS)
    def choose_readers(
        self, person: int, item: tuple[ItemKind, int], readers: ModelReaders
    ) -> None:
        """Someone (maybe not the author) shares an item with chosen readers, or stops."""
        model_item = self.model.items.get(item)
        if model_item is None:
            return
        allowed = self.model.admitted(person, model_item.case)
        target = ShareTarget(item[0].value)
        try:
            with UnitOfWork(self.sessions) as uow:
                changed = uow.sharing.share(
                    target, item[1], person, self._readers(model_item.case, readers), self.now()
                )
                uow.commit()
        except AccessDenied:
            assert not allowed, "the gate refused the author's choice of readers"
            return
        assert allowed, "the gate let someone not let in choose readers"
        assert changed == (person == model_item.author)
        if changed:
            self._chosen(person, model_item.case, readers)
            model_item.shared = readers is not None
            model_item.readers = readers if readers is not None else None

    @rule(person=people, item=family_items, readers=READERS)
    def choose_family_readers(self, person: int, item: int, readers: ModelReaders) -> None:
        """Someone (maybe not the author) shares a family item with chosen readers, or stops."""
        model_item = self.model.family_items.get(item)
        if model_item is None:
            return
        author = person == model_item.author
        allowed = author and self.model.admitted(person, model_item.case)
        allowed = allowed and bool(self.model.roles(person, model_item.case) & ADULTS)
        try:
            with UnitOfWork(self.sessions) as uow:
                changed = uow.sharing.share(
                    ShareTarget.FAMILY,
                    item,
                    person,
                    self._readers(model_item.case, readers),
                    self.now(),
                )
                uow.commit()
        except AccessDenied:
            assert author and not allowed, "the gate refused the author"
            return
        assert changed == allowed, "only the admitted author chooses an item's readers"
        if changed:
            self._chosen(person, model_item.case, readers)
            model_item.shared = readers is not None
            model_item.readers = readers

    @rule(
        person=people,
        case=st.integers(0, CASES - 1),
        organisation=st.integers(0, 1),
        yes=st.booleans(),
    )
    def answer_exchange(self, person: int, case: int, organisation: int, yes: bool) -> None:
        """A member gives or withdraws consent to exchange with one organisation: at once."""
        case_id = self.case_ids[case]
        allowed = self.model.admitted(person, case_id)
        try:
            with UnitOfWork(self.sessions) as uow:
                uow.sharing.set_exchange_consent(
                    person, case_id, self.organisations[case_id][organisation], yes, self.now()
                )
                uow.commit()
        except AccessDenied:
            assert not allowed, "the gate refused a member's own consent"
            return
        assert allowed, "the gate recorded consent for someone not let in"
        self.model.people[person].exchange[(case_id, organisation)] = yes

    def _readers(self, case_id: int, readers: ModelReaders) -> Readers | None:
        """The model's readers as the product's."""
        if readers is None:
            return None
        if readers == "coordinator":
            return COORDINATOR_ONLY
        if readers == "meeting":
            return EVERYONE
        assert isinstance(readers, frozenset)
        return chosen_organisations(frozenset(self.organisations[case_id][i] for i in readers))

    def _chosen(self, person: int, case_id: int, readers: ModelReaders) -> None:
        """Choosing organisations is consent to exchange with them; choosing everyone agrees
        with those not answered yet."""
        answers = self.model.people[person].exchange
        if isinstance(readers, frozenset):
            for i in readers:
                answers[(case_id, i)] = True
        elif readers == "meeting":
            for i in (0, 1):
                answers.setdefault((case_id, i), True)

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
        self.model.family_items = {
            k: i for k, i in self.model.family_items.items() if i.author != person
        }
        for action in self.model.actions.values():
            if action.owner == person:
                action.owner = None  # the plan stays with the case; nobody owns it now

    # --- the plan -------------------------------------------------------------------------

    @rule(
        target=actions,
        person=people,
        case=st.integers(0, CASES - 1),
        kind=st.sampled_from(OWNER_KINDS),
        owner=people,
    )
    def add_action(self, person: int, case: int, kind: str, owner: int) -> int:
        """Someone (maybe not a coordinator) adds an action owned by a person, BUP or family."""
        return self._add_action(person, case, kind, owner)

    @rule(
        target=actions,
        case=st.integers(0, CASES - 1),
        kind=st.sampled_from(OWNER_KINDS),
        owner=people,
    )
    def coordinator_adds_action(self, case: int, kind: str, owner: int) -> int:
        """The case's first coordinator adds an action (allowed while they are let in)."""
        return self._add_action(self.coordinators[case], case, kind, owner)

    def _add_action(self, person: int, case: int, kind: str, owner: int) -> int:
        """Adds an action through the repository and checks the gate's answer."""
        case_id = self.case_ids[case]
        if owner not in self.model.people:
            return -1
        allowed = self.model.admitted(person, case_id) and Role.COORDINATOR in self.model.roles(
            person, case_id
        )
        new_owner = {
            "person": Owner(OwnerKind.PERSON, owner, "P"),
            "organisation": Owner(OwnerKind.ORGANISATION, self.organisations[case_id][0], "BUP"),
            "family": Owner(OwnerKind.FAMILY, None, ""),
        }[kind]
        try:
            with UnitOfWork(self.sessions) as uow:
                (action_id,) = uow.coordination.add_actions(
                    case_id, [NewAction(new_owner, "a", date(2026, 12, 1))], person, self.now()
                )
                uow.commit()
        except AccessDenied:
            assert not allowed, "the gate refused a coordinator's new action"
            return -1
        assert allowed, "the gate let a non-coordinator add to the plan"
        self.model.actions[action_id] = ModelAction(
            action_id,
            case_id,
            owner=owner if kind == "person" else None,
            organisation=kind == "organisation",
            family=kind == "family",
        )
        return action_id

    @rule(person=people, action=actions, done=st.booleans())
    def report_on_action(self, person: int, action: int, done: bool) -> None:
        """Someone reports on an action: only an owner or the case's coordinator may."""
        model_action = self.model.actions.get(action)
        if model_action is None:
            return
        allowed = self.model.may_update(person, model_action)
        status = ActionStatus.DONE if done else ActionStatus.BLOCKED
        with UnitOfWork(self.sessions) as uow:
            assert uow.coordination.may_update(action, person) == allowed
            try:
                uow.coordination.record_update(action, person, status, None, None, self.now())
                uow.commit()
            except AccessDenied:
                assert not allowed, "the gate refused an owner's or coordinator's report"
                return
        assert allowed, f"person {person} reported on action {action} they may not touch"

    # --- the family's items -----------------------------------------------------------------

    @rule(target=family_items, person=people, case=st.integers(0, CASES - 1), in_list=st.booleans())
    def write_family_item(self, person: int, case: int, in_list: bool) -> int:
        """Someone writes a family item: only the family's admitted adults may."""
        return self._write_family_item(person, case, in_list)

    def _write_family_item(self, person: int, case: int, in_list: bool) -> int:
        """Writes a family item through the repository and checks the gate's answer."""
        case_id = self.case_ids[case]
        allowed = self.model.admitted(person, case_id) and bool(
            self.model.roles(person, case_id) & ADULTS
        )
        try:
            with UnitOfWork(self.sessions) as uow:
                item_id = uow.families.add_family_item(
                    case_id, person, FamilyItemKind.QUESTION, "f", in_list, self.now()
                )
                uow.commit()
        except AccessDenied:
            assert not allowed, "the gate refused a caregiver's own item"
            return -1
        assert allowed, "the gate let someone outside the family's adults write an item"
        self.model.family_items[item_id] = ModelFamilyItem(item_id, case_id, person, in_list)
        return item_id

    @rule(target=family_items, case=st.integers(0, CASES - 1), in_list=st.booleans())
    def caregiver_writes_family_item(self, case: int, in_list: bool) -> int:
        """The case's first caregiver writes an item (allowed while they are let in)."""
        return self._write_family_item(self.caregivers[case], case, in_list)

    @rule(person=people, item=family_items, in_list=st.booleans(), shared=st.booleans())
    def flag_family_item(self, person: int, item: int, in_list: bool, shared: bool) -> None:
        """Someone (maybe not the author) moves an item to the family list or shares it."""
        model_item = self.model.family_items.get(item)
        if model_item is None:
            return
        author = person == model_item.author
        allowed = author and self.model.admitted(person, model_item.case)
        allowed = allowed and bool(self.model.roles(person, model_item.case) & ADULTS)
        try:
            with UnitOfWork(self.sessions) as uow:
                changed = uow.families.set_family_item_flags(
                    item, person, self.now(), in_family_list=in_list, shared=shared
                )
                uow.commit()
        except AccessDenied:
            assert author and not allowed, "the gate refused the author"
            return
        assert changed == allowed, "only the admitted author changes an item"
        if changed:
            model_item.in_list, model_item.shared = in_list, shared

    # --- the shared picture -----------------------------------------------------------------

    @rule(person=people, case=st.integers(0, CASES - 1), by_coordinator=st.booleans())
    def publish_picture(self, person: int, case: int, by_coordinator: bool) -> None:
        """Someone (often the case's first coordinator) publishes a shared picture: only the
        case's coordinator may."""
        person = self.coordinators[case] if by_coordinator else person
        case_id = self.case_ids[case]
        allowed = self.model.admitted(person, case_id) and Role.COORDINATOR in self.model.roles(
            person, case_id
        )
        try:
            with UnitOfWork(self.sessions) as uow:
                published = uow.families.publish(case_id, person, "bild", self.now())
                uow.commit()
        except AccessDenied:
            assert not allowed, "the gate refused the coordinator's picture"
            return
        assert allowed, "the gate let a non-coordinator publish the shared picture"
        self.model.pictures.setdefault(case_id, []).append(published.picture.id)

    @rule(person=people, case=st.integers(0, CASES - 1))
    def answer_picture(self, person: int, case: int) -> None:
        """Someone answers the latest picture: only the family's admitted members may."""
        case_id = self.case_ids[case]
        pictures = self.model.pictures.get(case_id)
        if not pictures:
            return
        allowed = self.model.admitted(person, case_id) and bool(
            self.model.roles(person, case_id) & FAMILY
        )
        try:
            with UnitOfWork(self.sessions) as uow:
                uow.families.answer_picture(pictures[-1], person, Verdict.AGREE, None, self.now())
                uow.commit()
        except AccessDenied:
            assert not allowed, "the gate refused a family member's answer"
            return
        assert allowed, "the gate let someone outside the family answer the picture"
        self.model.answers.setdefault(pictures[-1], set()).add(person)

    @rule(viewer=people, case=st.integers(0, CASES - 1))
    def read(self, viewer: int, case: int) -> None:
        """One read through the gate, compared with the model."""
        self._check(viewer, self.case_ids[case])

    @invariant()
    def nobody_sees_what_the_rules_deny(self) -> None:
        """Every person's view of every case matches the model (after each step)."""
        everyone = list(self.model.people)
        for viewer in dict.fromkeys(everyone[:3] + everyone[-4:]):
            for case_id in self.case_ids:
                self._check(viewer, case_id)

    def _check(self, viewer: int, case_id: int) -> None:
        """The gate's answers for one viewer and case equal the model's, for every kind."""
        expected = self.model.visible(viewer, case_id)
        with UnitOfWork(self.sessions) as uow:
            try:
                got = {(i.kind, i.id) for i in uow.gate.visible_items(viewer, case_id, NOW)}
            except AccessDenied:
                got = None
            assert got == expected, f"viewer {viewer} in case {case_id}: {got} != {expected}"
            coordination, families = uow.coordination, uow.families
            self._same(
                "plan",
                self.model.plan(viewer, case_id),
                lambda: {a.id for a in coordination.actions(case_id, viewer)},
            )
            for action in self.model.actions.values():
                if action.case != case_id:
                    continue
                seen = coordination.action(action.id, viewer) is not None
                plan = self.model.plan(viewer, case_id)
                assert seen == (plan != DENIED and action.id in plan), "one action by its id"
            self._same(
                "family list",
                self.model.family_list(viewer, case_id),
                lambda: {i.id for i in families.family_items(case_id, viewer)},
            )
            self._same(
                "shared family items",
                self.model.shared_family(viewer, case_id),
                lambda: {i.id for i in families.shared_family_items(case_id, viewer)},
            )
            latest = families.latest_picture
            self._same(
                "latest picture",
                self.model.latest_picture(viewer, case_id),
                lambda: p.id if (p := latest(case_id, viewer)) else None,
            )
            for picture in self.model.pictures.get(case_id, [])[-1:]:
                answers = self.model.picture_answers(viewer, case_id, picture)
                self._same(
                    "picture answers", answers, partial(_answered, families, picture, viewer)
                )
            # The system's report sees an open case's whole plan, never a closed one's.
            report = uow.gate.for_system(Purpose.REPORT)
            every = {a.id for a in self.model.actions.values() if a.case == case_id}
            self._same(
                "report",
                DENIED if case_id in self.model.closed else every,
                lambda: {a.id for a in coordination.actions(case_id, report)},
            )

    def _works_for_the_organisation(
        self, uow: UnitOfWork, case_id: int, person: int, role: Role
    ) -> None:
        """A professional comes from the case's organisation (and so owns its actions)."""
        if role is Role.PROFESSIONAL:
            # Every membership of the person in the case takes the organisation: the same one
            # each time (by the person's id), as the model assumes.
            index = person % 2
            organisation = self.organisations[case_id][index]
            uow.families.set_member_organisation(case_id, person, organisation)
            self.model.people.setdefault(person, ModelPerson(person)).organisation[case_id] = index

    @staticmethod
    def _same(what: str, expected: object, read: Callable[[], object]) -> None:
        """One read through the gate (DENIED when it refuses) equals the model's answer."""
        try:
            got = read()
        except AccessDenied:
            got = DENIED
        assert got == expected, f"{what}: the gate gave {got}, the rules say {expected}"


def _answered(families: FamiliesRepository, picture: int, viewer: int) -> set[int]:
    """Who answered a picture, as the gate lets this viewer read it."""
    return {person for person, _, _ in families.picture_answers(picture, viewer)}


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
