"""The one step where an owner chooses who reads what they share: the coordinator only,
everyone in the meeting, or chosen organisations of the case. The young person's review and
the adults' "Dela med mötet" both use it, so both ask the same question the same way."""

from __future__ import annotations

from dataclasses import dataclass

from flows.replies import Choice, Reply, say
from flows.sharing import (
    COORDINATOR_ONLY,
    EVERYONE,
    Readers,
    ReaderScope,
    chosen_organisations,
)

STOP = "stop_sharing"
DONE = "readers_done"
ORG_PREFIX = "org:"


@dataclass(frozen=True, slots=True)
class ReadersChoice:
    """What a tap in the step means: new readers, stop sharing, or done."""

    readers: Readers | None = None
    stop: bool = False
    done: bool = False


def readers_step(
    text: str,
    current: Readers | None,
    default: Readers,
    organisations: tuple[tuple[int, str], ...],
    *,
    message: str,
) -> Reply:
    """The question "who may read this?", with the current readers marked."""
    shown = current or default
    chosen = shown.organisations if shown.scope is ReaderScope.ORGANISATIONS else frozenset()
    choices = [
        Choice("coordinator", "sharing.choice.coordinator", {"current": shown.coordinator_only}),
        Choice(
            "meeting", "sharing.choice.meeting", {"current": shown.scope is ReaderScope.MEETING}
        ),
        *(
            Choice(
                f"{ORG_PREFIX}{org}",
                "sharing.choice.organisation",
                {"name": name, "current": org in chosen},
            )
            for org, name in organisations
        ),
    ]
    if current is not None:
        choices.append(Choice(STOP, "sharing.choice.stop"))
    choices.append(Choice(DONE, "sharing.choice.done"))
    return say(
        message,
        *choices,
        text=text,
        shared=current is not None,
        status=shown.scope.value if not shown.coordinator_only else "coordinator",
        orgs=[name for org, name in organisations if org in chosen],
        default_everyone=default.scope is ReaderScope.MEETING,
    )


def read_readers_choice(
    choice: str | None, current: Readers | None, default: Readers
) -> ReadersChoice | None:
    """The meaning of a tap in the readers step (None: not one of its choices)."""
    if choice == "coordinator":
        return ReadersChoice(COORDINATOR_ONLY)
    if choice == "meeting":
        return ReadersChoice(EVERYONE)
    if choice == STOP:
        return ReadersChoice(stop=True)
    if choice == DONE:
        return ReadersChoice(done=True)
    if choice is not None and choice.startswith(ORG_PREFIX) and choice[len(ORG_PREFIX) :].isdigit():
        org = int(choice[len(ORG_PREFIX) :])
        shown = current or default
        orgs = shown.organisations if shown.scope is ReaderScope.ORGANISATIONS else frozenset()
        # Each organisation is a toggle: several may be chosen.
        return ReadersChoice(chosen_organisations(orgs ^ {org}))
    return None
