"""The menu choices every young person and adult has: the meeting, the plan, the picture, a
new meeting, "I cannot come", someone who matters (the young person and caregivers).

Each choice's id opens a sidetrack (the engine routes it), so a role's flow only lists them.
"""

from __future__ import annotations

from flows import (
    cannot_come,
    family_plan,
    language,
    meeting_info,
    meeting_needs,
    meeting_notes,
    meeting_request,
    people_who_matter,
    picture_loop,
)
from flows.engine import StepContext
from flows.meeting_notes_ports import notes_port
from flows.replies import Choice


def family_menu_choices(ctx: StepContext) -> tuple[Choice, ...]:
    """Meeting info, the plan, the shared picture (once there is one), the notes (once
    written), needs at the meeting, ask for a meeting or say one cannot come, suggest someone,
    language."""
    # The plan is always offered: before the meeting it says that it is made there.
    choices = [Choice(meeting_info.OPEN_CHOICE, "menu.meeting"), family_plan.MENU_CHOICE]
    picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
    if picture is not None:
        answered = ctx.ports.families.picture_answer(picture.id, ctx.actor.person_id)
        label = "menu.picture" if answered else "menu.picture_new"
        choices.append(Choice(picture_loop.OPEN_CHOICE, label))
    # The notes once there are some: which of her questions were answered is there too.
    if notes_port(ctx.ports).notes_for(ctx.actor.case_id, ctx.actor.person_id) is not None:
        choices.append(meeting_notes.MENU_CHOICE)
    # Before the meeting's requests: what one needs at the meeting (interpreter, breaks).
    choices.append(meeting_needs.MENU_CHOICE)
    choices += [Choice(meeting_request.OPEN_CHOICE, "menu.request"), cannot_come.MENU_CHOICE]
    if ctx.actor.role in people_who_matter.FOR_ROLES.roles:
        choices.append(people_who_matter.MENU_CHOICE)
    choices.append(Choice(language.OPEN_CHOICE, "menu.language"))
    return tuple(choices)
