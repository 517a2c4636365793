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

Each step is declared once in `STEPS` (flows/steps.py); the diagram is generated from it
(`python -m scripts.diagrams`). What it cannot draw: "book" on a request leaves this sidetrack
for the coordinator flow's `meeting_when` step, with the request's id in that step's state;
a request or suggestion answered meanwhile (by another coordinator) shows the list again with
"convene.gone".

```mermaid
stateDiagram-v2
    [*] --> list
    list --> request: r
    list --> suggestion: s
    list --> [*]: otherwise
    request --> answer: words
    request --> list: book / otherwise / (shown instead)
    answer --> list: cancel / text
    suggestion --> list: yes / no / otherwise / (shown instead)
```
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from flows.convening_port import (
    NOTICE_OPEN_CHOICE,
    OPEN_CHOICE,
    REQUEST_KEY,
    OpenRequest,
    Suggestion,
    convening,
)
from flows.conversation import ChoiceMade, Event
from flows.coordination import coordination
from flows.coordinator.meetings import ask_meeting_when
from flows.coordinator.steps import check_text
from flows.domain import Role
from flows.engine import Notice, Transition
from flows.meeting_request import answer_notice
from flows.replies import Choice, ParamValue, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import DONE, Go, StepFlow, Then, Turn, declared
from flows.steps import Step as StepDef

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


def _item(turn: Turn) -> int:
    """The id of the request or suggestion the step is about."""
    return turn.number("id")


def _list(turn: Turn) -> Reply:
    """Every open request and suggestion of this coordinator's cases, oldest first."""
    ctx = turn.ctx
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
    return say(
        "convene.list",
        *choices,
        HOME,
        requests=len(requests),
        suggestions=len(suggestions),
    )


def _gone(turn: Turn, *before: Reply) -> Transition:
    """The list again: what was tapped has been answered or withdrawn meanwhile."""
    return turn.go(Step.LIST.value, *before, say("convene.gone"))


def _leave(turn: Turn) -> Transition:
    """Back to the coordinator's own flow ("till ärendet", or anything else on the list)."""
    return turn.done()


# --- a meeting request ----------------------------------------------------------------------


def _open_request(turn: Turn) -> Transition:
    """Opens the request tapped on the list ("r:12")."""
    return turn.go(Step.REQUEST.value, id=int((turn.choice or "")[2:]))


def _request(turn: Turn) -> Reply | Transition:
    """One request: who asked, when and why; answer with words or book a meeting."""
    ctx = turn.ctx
    request = convening(ctx.ports).open_request(_item(turn), ctx.actor.person_id)
    if request is None:
        return _gone(turn)
    return say(
        "convene.request",
        Choice("words", "convene.answer_words"),
        Choice("book", "convene.answer_book"),
        BACK,
        **_asker(request),
    )


def _words(turn: Turn) -> Transition:
    """Asks for the answer's words, about the same request."""
    return turn.go(Step.ANSWER.value, id=_item(turn))


def _ask_answer(turn: Turn) -> Reply:
    """Asks for the answer's words."""
    return say("convene.answer_ask", CANCEL, max=ANSWER_MAX_CHARS)


def _need_text(turn: Turn) -> Transition:
    """The answer is written, not tapped."""
    return turn.again(say("common.need_text"))


def _answer(turn: Turn) -> Transition:
    """Sends the answer to the person who asked, privately, and marks the request answered."""
    ctx = turn.ctx
    checked = check_text(turn.text or "", ANSWER_MAX_CHARS)
    if isinstance(checked, Reply):
        return turn.again(checked)
    request_id = _item(turn)
    asked_by = convening(ctx.ports).answer_request(
        request_id, ctx.actor.person_id, checked, ctx.now
    )
    if asked_by is None:
        return _gone(turn)
    notice = answer_notice(asked_by, request_id, checked)
    listed = turn.go(Step.LIST.value, say("convene.answered"))
    return replace(listed, notices=(notice,))


def _book(turn: Turn) -> Transition:
    """Enters the coordinator's booking step (flows/coordinator/meetings.py, another flow)
    with the request's id in its state."""
    ctx = turn.ctx
    request_id = _item(turn)
    request = convening(ctx.ports).open_request(request_id, ctx.actor.person_id)
    if request is None:
        return _gone(turn)
    before: list[Reply] = [say("convene.book_intro", case=request.case_reference)]
    if request.case_id != ctx.actor.case_id:
        # The booking step books in the coordinator's current case: make it this one.
        coordination(ctx).select_case(ctx.actor.person_id, request.case_id, ctx.now)
    asked = ask_meeting_when(*before)
    state = replace(asked.state, data={**asked.state.data, REQUEST_KEY: request_id})
    return replace(asked, state=state)


# --- a suggested person ---------------------------------------------------------------------


def _open_suggestion(turn: Turn) -> Transition:
    """Opens the suggestion tapped on the list ("s:12")."""
    return turn.go(Step.SUGGESTION.value, id=int((turn.choice or "")[2:]))


def _suggestion(turn: Turn) -> Reply | Transition:
    """One suggestion: whom, what they are to the young person, who suggested them."""
    ctx = turn.ctx
    found = next(
        (
            s
            for s in convening(ctx.ports).open_suggestions(ctx.actor.person_id)
            if s.id == _item(turn)
        ),
        None,
    )
    if found is None:
        return _gone(turn)
    return say(
        "convene.suggestion",
        Choice("yes", "convene.approve"),
        Choice("no", "convene.decline"),
        BACK,
        **_suggester(found),
    )


def _decide(turn: Turn) -> Transition:
    """Yes makes a network invite (code shown once); no declines; the suggester is told."""
    ctx = turn.ctx
    approved = turn.choice == "yes"
    decided = convening(ctx.ports).decide(_item(turn), ctx.actor.person_id, approved, ctx.now)
    if decided is None:
        return _gone(turn)
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
    return replace(turn.go(Step.LIST.value, *shown), notices=notices)


TO_LIST = Go(Step.LIST.value)

STEPS = (
    StepDef(
        Step.LIST.value,
        show=_list,
        choices={
            "r:": Then(_open_request, to=(Step.REQUEST.value,)),
            "s:": Then(_open_suggestion, to=(Step.SUGGESTION.value,)),
        },
        # "Till ärendet" (HOME), and anything else: back to the coordinator's own flow.
        otherwise=Then(_leave, to=(DONE,)),
        help="convene.help",
    ),
    StepDef(
        Step.REQUEST.value,
        show=_request,
        choices={
            "words": Then(_words, to=(Step.ANSWER.value,)),
            # Or into the coordinator flow's `meeting_when`, which the table cannot name.
            "book": Then(_book, to=(Step.LIST.value,)),
        },
        otherwise=TO_LIST,
        handovers=(Step.LIST.value,),
        help="convene.help",
    ),
    StepDef(
        Step.ANSWER.value,
        show=_ask_answer,
        choices={CANCEL.id: TO_LIST},
        text=Then(_answer, to=(Step.LIST.value,)),
        otherwise=Then(_need_text, to=()),
        help="convene.help",
    ),
    StepDef(
        Step.SUGGESTION.value,
        show=_suggestion,
        choices={
            "yes": Then(_decide, to=(Step.LIST.value,)),
            "no": Then(_decide, to=(Step.LIST.value,)),
        },
        otherwise=TO_LIST,
        handovers=(Step.LIST.value,),
        help="convene.help",
    ),
)


@declared
class Convening(StepFlow):
    """The coordinator's list of what awaits an answer, and answering each."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME,
            STEPS,
            home_step=Step.LIST.value,
            help_prefix="convene.",
            guard=FOR_ROLES.turned_away,
        )

    def opens(self, event: Event) -> bool:
        """The home menu's entry or an alert's button opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id in (
            OPEN_CHOICE,
            NOTICE_OPEN_CHOICE,
        )


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
