"""Nothing private leaks where chats and roles meet: random multi-role conversations over the
private chats and the family group chat, through the real handler, storage and deliverer.

Every free text the young person and the family's adults write is a unique canary. After every
event, every message and file delivered to any chat is checked against the rules of who may
read what (tests/support/disclosure.py, `FamilyWorld.may_read`): no group chat and no other
person ever gets a canary the rules do not allow there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from bot.catalogue import Catalogue, RenderedFile, RenderedMessage
from flows.conversation import ConversationRef
from flows.domain import Role
from flows.family_domain import FamilyItemKind
from tests.support.disclosure import (
    ALEX,
    BY_KEY,
    EVA,
    FAMILY,
    GROUP,
    JONAS,
    KIM,
    ROBIN,
    SARA,
    Delivered,
    FamilyWorld,
    JoinPlan,
    Kind,
    Leak,
    Member,
    family_world,
    migrated_template,
)

# Every command a member can send (flows.conversation.COMMAND_ALIASES, one alias each).
# /glommig has its own, rarer action below: after it, that person is gone for the example.
# The ones that show a person's own words come twice: where a leak would be, look twice.
COMMANDS = (
    "/meny",
    "/minadata",
    "/nyttmote",
    "/bild",
    "/samtycke",
    "/mote",
    "/hjälp",
    "/start",
    "/paus",
    "/sprak",
    # The family's plan: in the group too, it carries nothing anyone wrote for themselves.
    # (/dagordning is left out: what a professional reads there follows per-reader choices
    # this model does not track; the access gate's model-based test covers them.)
    "/plan",
    "/minadata",
    "/nyttmote",
    "/bild",
)
# The coordinator closing the case ends every conversation of the example: never tapped.
NEVER_TAPPED = frozenset({"close"})


class Do(StrEnum):
    """What one person does in one step."""

    NOTHING = "nothing"  # what shrinking makes of a step the failure does not need
    TAP = "tap"  # a button of the conversation (or of a notice in the chat)
    TEXT = "write"  # a canary from the family, a work note from the others
    COMMAND = "command"
    ROUTE = "route"  # a usual way to something, of the person's role (ROUTES)
    NUMBER = "number"  # types a choice's number, as in a terminal
    PUBLISH = "publish"  # the coordinator publishes a new version of the shared picture
    FORGET = "glommig"  # /glommig (rarer than the other commands: it ends the person)


@dataclass(frozen=True)
class Command:
    """A route's step: send this command."""

    text: str


@dataclass(frozen=True)
class Tap:
    """A route's step: tap one of the offered choices with these ids (or "x:" id prefixes);
    none offered ends the route, unless the step is optional."""

    ids: tuple[str, ...]
    optional: bool = False

    def matches(self, choice_id: str) -> bool:
        """True for a choice this step may tap."""
        return any(
            choice_id == i or (i.endswith(":") and choice_id.startswith(i)) for i in self.ids
        )


@dataclass(frozen=True)
class Write:
    """A route's step: write a text (a canary, from the family)."""


Route = tuple[Command | Tap | Write, ...]

# The ways people usually go, by role, so that random conversations reach what is written and
# shared in a few steps instead of by luck: each is only commands, taps and text, as sent.
YOUTH_ROUTES: tuple[Route, ...] = (
    (Command("/meny"), Tap(("questions",)), Tap(("add",)), Write()),
    (Command("/meny"), Tap(("view",)), Write()),
    (Command("/meny"), Tap(("review",)), Tap(("t:",))),
)
ADULT_ROUTES: tuple[Route, ...] = (
    (Command("/meny"), Tap(("add",)), Tap(tuple(FamilyItemKind)), Write()),
    (Command("/meny"), Tap(("mine",)), Tap(("i:",)), Tap(("family", "share"))),
    (Command("/meny"), Tap(("list",))),
)
FAMILY_ROUTES: tuple[Route, ...] = (
    (Command("/bild"), Tap(("partly", "disagree")), Write()),
    (Command("/nyttmote"), Tap(("again",), optional=True), Write()),
)
ROUTES: dict[Role, tuple[Route, ...]] = {
    Role.YOUTH: YOUTH_ROUTES + FAMILY_ROUTES,
    Role.CAREGIVER: ADULT_ROUTES + FAMILY_ROUTES,
    Role.NETWORK: ADULT_ROUTES + FAMILY_ROUTES,
    Role.COORDINATOR: ((Command("/meny"), Tap(("agenda", "report"))),),
    Role.PROFESSIONAL: ((Command("/meny"), Tap(("a:",))),),
}


@dataclass(frozen=True)
class Act:
    """One step: who, in which chat, does what; `route` and `pick` choose among the routes
    of their role and among what the bot offers then."""

    who: str
    in_group: bool
    do: Do
    route: int
    pick: int

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """One short line in Hypothesis's report of a failing example (not five)."""
        where = "family" if self.in_group else "own chat"
        printer.text(f"<{self.who}@{where}: {self.do.value} route={self.route} pick={self.pick}>")


# Weights by repetition; the first is what shrinking moves towards.
DOINGS = [Do.NOTHING, *[Do.ROUTE] * 8, *[Do.TAP] * 5, *[Do.COMMAND] * 6, *[Do.TEXT] * 2]
DOINGS += [Do.NUMBER, Do.PUBLISH, Do.FORGET]
# The young person and the adults do most; the professional has least to do.
WHO = [ALEX.key] * 3 + [KIM.key] * 2 + [ROBIN.key, EVA.key] + [SARA.key] * 2 + [JONAS.key]

acts = st.builds(
    Act,
    who=st.sampled_from(WHO),
    in_group=st.booleans(),
    do=st.sampled_from(DOINGS),
    route=st.integers(min_value=0, max_value=7),
    pick=st.integers(min_value=0, max_value=255),
)
plans = st.fixed_dictionaries(
    {
        member.key: st.builds(
            JoinPlan,
            # Mostly yes and old enough: a no (or a wait for a caregiver) leaves less to leak.
            consents=st.sampled_from([True] * 5 + [False]),
            under_age=st.sampled_from([False] * 3 + [True]),
            sip=st.booleans(),
        )
        for member in FAMILY
    }
)
# Long enough for someone to write privately and later act in the group (17 acts on average).
conversations = st.lists(acts, min_size=8, max_size=26)
# Who of the family joins first (each in their private chat, before anything else happens).
join_orders = st.permutations([member.key for member in FAMILY])


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """One migrated database per test run, copied for every example."""
    return migrated_template(tmp_path)


def play(world: FamilyWorld, act: Act) -> None:
    """Does one act (nothing at all for someone erased)."""
    member: Member = BY_KEY[act.who]
    if act.do is Do.PUBLISH:
        if SARA.key not in world.erased:  # the picture is hers to publish
            world.publish_picture()
        return
    if act.do is Do.NOTHING or member.key in world.erased:
        return
    ref = member.in_group if act.in_group else member.private
    if act.do is Do.TEXT:
        world.write(member, ref)
    elif act.do is Do.COMMAND:
        world.command(member, ref, COMMANDS[act.pick % len(COMMANDS)])
    elif act.do is Do.FORGET:
        world.command(member, ref, "/glommig")
    elif act.do is Do.ROUTE:
        routes = ROUTES[member.role]
        follow(world, member, ref, routes[act.route % len(routes)], act.pick)
    elif act.do is Do.NUMBER and (numbered := world.numbered(ref, NEVER_TAPPED)):
        world.type_number(member, ref, numbered[act.pick % len(numbered)].id)
    else:
        buttons = [c for c in world.buttons(ref) if c.id not in NEVER_TAPPED]
        if not buttons:
            world.command(member, ref, "/meny")
            return
        world.tap(member, ref, buttons[act.pick % len(buttons)].id)


def follow(
    world: FamilyWorld, member: Member, ref: ConversationRef, route: Route, pick: int
) -> None:
    """Takes a route as far as the bot offers it; `pick` chooses where a step has a choice."""
    for step in route:
        if isinstance(step, Command):
            world.command(member, ref, step.text)
        elif isinstance(step, Write):
            world.write(member, ref)
        else:
            offered = world.numbered(ref, NEVER_TAPPED)
            matching = [c for c in offered if step.matches(c.id)]
            if not matching:
                if step.optional:
                    continue
                return
            world.tap(member, ref, matching[pick % len(matching)].id)
            pick //= len(matching)


_examples: Iterator[int] = itertools.count()


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    # No explain phase: its reruns cost half a minute and the transcript says more.
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=plans, join_order=join_orders, acts=conversations)
def test_no_group_and_no_other_person_ever_reads_a_canary_the_rules_keep_from_them(
    template: Path,
    tmp_path: Path,
    catalogue: Catalogue,
    plans: dict[str, JoinPlan],
    join_order: list[str],
    acts: list[Act],
) -> None:
    with family_world(template, tmp_path, catalogue, f"example{next(_examples)}") as world:
        try:
            for key in join_order:
                world.join(BY_KEY[key], plans[key])
            for act in acts:
                play(world, act)
            world.finish()
        except Leak:
            raise  # it tells the conversation itself
        except Exception:
            note("\n".join(world.transcript))
            raise
        event(f"{len(world.transcript) // 10 * 10}s events")
        if world.refused:
            event("an event ended in AccessRefused")


# --- the harness itself: it follows what writers do, and it does catch a leak ----------------


def test_the_rules_follow_what_the_young_person_does_with_her_words(
    template: Path, tmp_path: Path, catalogue: Catalogue
) -> None:
    with family_world(template, tmp_path, catalogue, "youth") as world:
        world.join(ALEX, JoinPlan())
        follow(world, ALEX, ALEX.private, YOUTH_ROUTES[0], 0)
        question = world.canaries[1]
        assert question.kind is Kind.YOUTH_ITEM and not question.shared
        assert world.may_read(question, ALEX.key)
        assert not any(world.may_read(question, chat) for chat in (GROUP, SARA.key, KIM.key))

        follow(world, ALEX, ALEX.private, YOUTH_ROUTES[2], 0)  # Steg 4: shares the question
        assert question.shared
        assert world.may_read(question, SARA.key)
        assert not any(world.may_read(question, chat) for chat in (GROUP, KIM.key, JONAS.key))

        world.command(ALEX, ALEX.private, "/samtycke")
        world.tap(ALEX, ALEX.private, "withdraw")
        assert not question.shared and not world.may_read(question, SARA.key)


def test_the_rules_follow_what_an_adult_does_with_an_item(
    template: Path, tmp_path: Path, catalogue: Catalogue
) -> None:
    with family_world(template, tmp_path, catalogue, "adult") as world:
        world.join(KIM, JoinPlan())
        world.join(ROBIN, JoinPlan())
        follow(world, KIM, KIM.private, ADULT_ROUTES[0], 3)  # "Inte inför barnet"
        item = world.canaries[1]
        assert item.kind is Kind.FAMILY_ITEM and item.not_with_child and not item.family
        assert not world.may_read(item, ROBIN.key)

        follow(world, KIM, KIM.private, ADULT_ROUTES[1], 0)  # "Visa för de andra vuxna"
        assert item.family
        assert world.may_read(item, ROBIN.key) and world.may_read(item, EVA.key)
        assert not world.may_read(item, GROUP)  # never in front of the child
        assert not world.may_read(item, SARA.key) and not world.may_read(item, ALEX.key)

        follow(world, KIM, KIM.private, ADULT_ROUTES[1], 1)  # "Dela med mötet"
        assert item.shared and world.may_read(item, SARA.key)


def test_a_canary_where_the_rules_do_not_allow_it_is_a_leak(
    template: Path, tmp_path: Path, catalogue: Catalogue
) -> None:
    with family_world(template, tmp_path, catalogue, "leak") as world:
        world.join(ALEX, JoinPlan())
        follow(world, ALEX, ALEX.private, FAMILY_ROUTES[1], 0)  # a reason for a new meeting
        reason = world.canaries[1]
        assert reason.kind is Kind.MEETING_REASON and world.may_read(reason, SARA.key)
        data = RenderedFile("mina-data.json", "application/json", reason.token.encode())
        in_a_file = RenderedMessage("Det här har jag sparat om dig", (), data)
        with pytest.raises(Leak, match=f"{reason.token}.*\n.*chat 'family' in a file"):
            world.check(Delivered(GROUP, "privacy.export", in_a_file))
        world.check(Delivered(SARA.key, "alert.meeting_request", in_a_file))
