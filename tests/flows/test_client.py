"""The fast client itself: a message id that is not in the catalogue fails the test."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from flows.conversation import Event
from flows.engine import Engine, FlowState, StepContext, Transition
from flows.replies import Reply, say
from testkit.client import FastBot, UndeclaredStep, UnknownMessage, _check_declared
from tests.flows.family import family


@dataclass(frozen=True)
class Typo:
    """A flow whose first words have a typo in their message id."""

    name: str = "typo"

    def start(self, ctx: StepContext) -> Transition:
        """Says a message the catalogue does not have."""
        return Transition(FlowState(self.name, "start"), (say("youth.menuu"),))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Says it again."""
        return self.start(ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Says it again."""
        return self.start(ctx)

    def help(self, state: FlowState) -> Reply:
        """Nothing to explain."""
        return say("common.help")


def test_a_message_id_missing_from_the_catalogue_fails_loudly() -> None:
    f = family()
    bot = FastBot(world=f.bot.world, engine=Engine({}, fallback=Typo()))
    with pytest.raises(UnknownMessage, match=r"youth\.menuu"):
        bot.client("alex").join("YOUTH")


def test_a_step_the_table_does_not_name_fails_loudly() -> None:
    """A declarative flow that jumps where its table (and so its diagram) does not say fails."""
    menu = FlowState("youth_prep", "menu")
    with pytest.raises(UndeclaredStep, match="menu -> readers"):
        _check_declared(menu, FlowState("youth_prep", "readers"))
    _check_declared(menu, FlowState("youth_prep", "questions"))  # declared: no error
    _check_declared(menu, FlowState("meeting_info", "shown"))  # another flow: not a step


def test_a_step_may_end_where_the_step_it_opens_hands_over() -> None:
    """Deleting her last item opens "mine", which has nothing to show and hands over to the
    list: that is in the table, so the client lets it pass."""
    _check_declared(FlowState("caregiver_prep", "delete"), FlowState("caregiver_prep", "list"))
    with pytest.raises(UndeclaredStep):
        _check_declared(FlowState("caregiver_prep", "delete"), FlowState("caregiver_prep", "share"))
