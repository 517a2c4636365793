"""Convening: the coordinator answers the family's meeting requests and decides on the people
they suggest, in the chat.

A sidetrack for coordinators: "Att svara på" in their home menu, or the button on the alert
about a new request or suggestion, opens the list of every open one across their cases. A
request is answered with words (the person who asked gets them privately) or by booking a
meeting: the coordinator's own booking step (flows/coordinator/meetings.py) runs with the
request's id in its state, and the booking hook (flows/convening_port.py) marks the request
answered and tells the person who asked when the meeting is. A suggested person approved
becomes a network invite (the code is shown to the coordinator once, as any invite's); the
one who suggested is told either way.

```mermaid
stateDiagram-v2
    [*] --> list: Att svara på / knapp på en avisering
    list --> request: en begäran
    list --> suggestion: ett förslag
    list --> [*]: till ärendet
    request --> answer: Svara med ord
    request --> meeting_when: Boka ett möte (coordinator flow, request id in state)
    request --> list: tillbaka
    answer --> list: svaret (skickas) / avbryt
    suggestion --> list: ja (inbjudan skapas) / nej / tillbaka
```
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from flows.convening_port import (
    NOTICE_OPEN_CHOICE,
    OPEN_CHOICE,
    REQUEST_KEY,
    OpenRequest,
    Suggestion,
    convening,
)
from flows.conversation import ChoiceMade, Event, TextMessage
from flows.coordination import coordination
from flows.coordinator.meetings import ask_meeting_when
from flows.coordinator.steps import check_text
from flows.domain import Role
from flows.engine import RETURN, FlowState, Notice, StepContext, Transition
from flows.meeting_request import answer_notice
from flows.replies import Choice, ParamValue, Reply, say
from flows.sidetrack_roles import SidetrackRoles

FLOW_NAME = "convening"
ANSWER_MAX_CHARS = 500
BACK = Choice("back", "common.back")
CANCEL = Choice("cancel", "common.cancel")
HOME = Choice("home", "coord.to_home")
FOR_ROLES = SidetrackRoles(
    frozenset({Role.COORDINATOR}),
    {
        Role.YOUTH: "convene.not_here",
        Role.CAREGIVER: "convene.not_here",
        Role.NETWORK: "convene.not_here",
        Role.PROFESSIONAL: "convene.not_here",
    },
)


class Step(StrEnum):
    """The steps of answering; stored in conversation rows, never rename one."""

    LIST = "list"
    REQUEST = "request"
    ANSWER = "answer"
    SUGGESTION = "suggestion"


def _state(step: Step, **data: int) -> FlowState:
    """A state of this sidetrack."""
    return FlowState(FLOW_NAME, step.value, dict(data))


def _choice(event: Event) -> str | None:
    """The id of the choice made, or None."""
    return event.choice_id if isinstance(event, ChoiceMade) else None


@dataclass(frozen=True, slots=True)
class Convening:
    """The coordinator's list of what awaits an answer, and answering each."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """The home menu's entry or an alert's button opens it."""
        return _choice(event) in (OPEN_CHOICE, NOTICE_OPEN_CHOICE)

    @property
    def home(self) -> FlowState:
        """The list of requests and suggestions."""
        return _state(Step.LIST)

    def start(self, ctx: StepContext) -> Transition:
        """Shows the list."""
        return FOR_ROLES.turned_away(ctx) or self._list(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the step again (the list, or the item being answered)."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        if state.step == Step.REQUEST.value:
            return self._request(ctx, int(state.data.get("id") or 0))
        if state.step == Step.ANSWER.value:
            return self._ask_answer(int(state.data.get("id") or 0))
        if state.step == Step.SUGGESTION.value:
            return self._suggestion(ctx, int(state.data.get("id") or 0))
        return self._list(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains answering requests and suggestions."""
        return say("convene.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        choice = _choice(event)
        item = int(state.data.get("id") or 0)
        match state.step:
            case Step.REQUEST.value:
                return self._on_request(ctx, item, choice)
            case Step.ANSWER.value:
                return self._on_answer(ctx, item, event)
            case Step.SUGGESTION.value:
                return self._on_suggestion(ctx, item, choice)
        if choice is not None and choice.startswith("r:"):
            return self._request(ctx, int(choice[2:]))
        if choice is not None and choice.startswith("s:"):
            return self._suggestion(ctx, int(choice[2:]))
        return Transition(RETURN, ())

    # --- the list ---------------------------------------------------------------------------

    def _list(self, ctx: StepContext, *before: Reply) -> Transition:
        """Every open request and suggestion of this coordinator's cases, oldest first."""
        port = convening(ctx.ports)
        requests = port.open_requests(ctx.actor.person_id)
        suggestions = port.open_suggestions(ctx.actor.person_id)
        choices = [
            Choice(
                f"r:{r.id}",
                "convene.request_choice",
                {"case": r.case_reference, "name": r.asked_by_name or "", "asked_at": r.created_at},
            )
            for r in requests
        ]
        choices += [
            Choice(
                f"s:{s.id}",
                "convene.suggestion_choice",
                {"case": s.case_reference, "name": s.name, "relation": s.relation},
            )
            for s in suggestions
        ]
        reply = say(
            "convene.list",
            *choices,
            HOME,
            requests=len(requests),
            suggestions=len(suggestions),
        )
        return Transition(_state(Step.LIST), (*before, reply))

    # --- a meeting request ------------------------------------------------------------------

    def _request(self, ctx: StepContext, request_id: int, *before: Reply) -> Transition:
        """One request: who asked, when and why; answer with words or book a meeting."""
        request = convening(ctx.ports).open_request(request_id, ctx.actor.person_id)
        if request is None:
            return self._list(ctx, *before, say("convene.gone"))
        reply = say(
            "convene.request",
            Choice("words", "convene.answer_words"),
            Choice("book", "convene.answer_book"),
            BACK,
            **_asker(request),
        )
        return Transition(_state(Step.REQUEST, id=request_id), (*before, reply))

    def _on_request(self, ctx: StepContext, request_id: int, choice: str | None) -> Transition:
        """Answer with words, or book a meeting from the request."""
        if choice == "words":
            return self._ask_answer(request_id)
        if choice == "book":
            return self._book(ctx, request_id)
        return self._list(ctx)

    def _ask_answer(self, request_id: int, *before: Reply) -> Transition:
        """Asks for the answer's words."""
        reply = say("convene.answer_ask", CANCEL, max=ANSWER_MAX_CHARS)
        return Transition(_state(Step.ANSWER, id=request_id), (*before, reply))

    def _on_answer(self, ctx: StepContext, request_id: int, event: Event) -> Transition:
        """Sends the answer to the person who asked, privately, and marks the request answered."""
        if _choice(event) == CANCEL.id:
            return self._list(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_answer(request_id, say("common.need_text"))
        checked = check_text(event.text, ANSWER_MAX_CHARS)
        if isinstance(checked, Reply):
            return self._ask_answer(request_id, checked)
        asked_by = convening(ctx.ports).answer_request(
            request_id, ctx.actor.person_id, checked, ctx.now
        )
        if asked_by is None:
            return self._list(ctx, say("convene.gone"))
        notice = answer_notice(asked_by, request_id, checked)
        listed = self._list(ctx, say("convene.answered"))
        return replace(listed, notices=(notice,))

    def _book(self, ctx: StepContext, request_id: int) -> Transition:
        """Enters the coordinator's booking step with the request's id in its state."""
        request = convening(ctx.ports).open_request(request_id, ctx.actor.person_id)
        if request is None:
            return self._list(ctx, say("convene.gone"))
        before: list[Reply] = [say("convene.book_intro", case=request.case_reference)]
        if request.case_id != ctx.actor.case_id:
            # The booking step books in the coordinator's current case: make it this one.
            coordination(ctx).select_case(ctx.actor.person_id, request.case_id, ctx.now)
        asked = ask_meeting_when(*before)
        state = replace(asked.state, data={**asked.state.data, REQUEST_KEY: request_id})
        return replace(asked, state=state)

    # --- a suggested person -----------------------------------------------------------------

    def _suggestion(self, ctx: StepContext, suggestion_id: int, *before: Reply) -> Transition:
        """One suggestion: whom, what they are to the young person, who suggested them."""
        found = next(
            (
                s
                for s in convening(ctx.ports).open_suggestions(ctx.actor.person_id)
                if s.id == suggestion_id
            ),
            None,
        )
        if found is None:
            return self._list(ctx, *before, say("convene.gone"))
        reply = say(
            "convene.suggestion",
            Choice("yes", "convene.approve"),
            Choice("no", "convene.decline"),
            BACK,
            **_suggester(found),
        )
        return Transition(_state(Step.SUGGESTION, id=suggestion_id), (*before, reply))

    def _on_suggestion(
        self, ctx: StepContext, suggestion_id: int, choice: str | None
    ) -> Transition:
        """Yes makes a network invite (code shown once); no declines; the suggester is told."""
        if choice not in ("yes", "no"):
            return self._list(ctx)
        approved = choice == "yes"
        decided = convening(ctx.ports).decide(suggestion_id, ctx.actor.person_id, approved, ctx.now)
        if decided is None:
            return self._list(ctx, say("convene.gone"))
        shown: list[Reply] = []
        if approved:
            code = coordination(ctx).create_invite(
                decided.case_id, Role.NETWORK, decided.name, None, ctx.actor.person_id, ctx.now
            )
            # "secret_": the outbox forgets the code once the message is sent (storage/codec.py).
            shown.append(
                say(
                    "coord.invite_created",
                    secret_code=code,
                    name=decided.name,
                    role=Role.NETWORK.value,
                )
            )
        else:
            shown.append(say("convene.declined", name=decided.name))
        notices: tuple[Notice, ...] = ()
        if decided.suggested_by is not None:
            told = say("matter.approved" if approved else "matter.declined", name=decided.name)
            notices = (
                Notice(
                    told,
                    person_id=decided.suggested_by,
                    dedup_key=f"suggestion-decided:{decided.id}",
                ),
            )
        return replace(self._list(ctx, *shown), notices=notices)


def _asker(request: OpenRequest) -> dict[str, ParamValue]:
    """A request's parameters for the coordinator's texts."""
    return {
        "case": request.case_reference,
        "name": request.asked_by_name,
        "role": request.asked_by_role.value if request.asked_by_role else None,
        "asked_at": request.created_at,
        "reason": request.reason,
    }


def _suggester(suggestion: Suggestion) -> dict[str, ParamValue]:
    """A suggestion's parameters for the coordinator's texts."""
    return {
        "case": suggestion.case_reference,
        "name": suggestion.name,
        "relation": suggestion.relation,
        "by": suggestion.suggested_by_name,
        "role": suggestion.suggested_by_role.value if suggestion.suggested_by_role else None,
    }
