"""Invitations: the case's organisations, inviting someone by role, and who has joined.

```mermaid
stateDiagram-v2
    home --> orgs: Verksamheter
    orgs --> org_add: Lägg till
    orgs --> org: en verksamhet (who.py)
    org_add --> org_kind: namn (who.py)
    orgs --> orgs: namn (skrivet direkt)
    orgs --> home: tillbaka
    org_add --> orgs: avbryt
    home --> invite_role: Bjud in
    invite_role --> invite_org: yrkesperson
    invite_role --> orgs: yrkesperson, ingen verksamhet än
    invite_role --> invite_name: annan roll
    invite_role --> home: avbryt
    invite_org --> invite_name: verksamhet
    invite_org --> home: avbryt
    invite_name --> home: namn (koden visas en gång) / avbryt
    invite_name --> invite_how: yrkesperson, när boten skickar e-post
    invite_how --> home: jag ger koden (visas en gång)
    invite_how --> invite_email: med e-post
    invite_email --> home: adress (inbjudan går med e-post) / avbryt
    home --> members: Vilka är med
    members --> home
```
"""

from __future__ import annotations

import re
from dataclasses import replace
from zoneinfo import ZoneInfo

from flows.conversation import ConversationRef, Event, TextMessage
from flows.coordination import coordination
from flows.coordinator import who
from flows.coordinator.steps import (
    CANCEL,
    HOME_CHOICE,
    Step,
    StepDef,
    back_home,
    check_name,
    check_text,
    choice_id,
    flow_state,
    show_home,
)
from flows.coordinator.who import show_orgs
from flows.domain import Role
from flows.engine import FlowState, Notice, StepContext, Transition
from flows.replies import Choice, ParamValue, Reply, say

ORG_MAX_CHARS = 80
# The e-mail platform (bot/email/) and the choice its invite shows as the join link.
EMAIL_PLATFORM = "email"
EMAIL_JOIN = "email:join"
# Set in the state by the coordinator flow when the deployment sends e-mail.
EMAIL_ENABLED = "email"
ADDRESS_MAX_CHARS = 254
# One @, something on each side, a dot in the domain, no spaces: typos are caught, and the
# SMTP server judges the rest.
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
INVITE_ROLES = (Role.YOUTH, Role.CAREGIVER, Role.PROFESSIONAL, Role.NETWORK, Role.COORDINATOR)


def is_address(text: str) -> bool:
    """True for what looks like an e-mail address (the professional's own switch uses it too)."""
    return len(text) <= ADDRESS_MAX_CHARS and _ADDRESS.fullmatch(text) is not None


def ask_org(*before: Reply) -> Transition:
    """Asks for an organisation's name."""
    return Transition(flow_state(Step.ORG_ADD), (*before, say("coord.org_ask", CANCEL)))


def ask_invite_role(*before: Reply) -> Transition:
    """Asks whom to invite, by role."""
    choices = [Choice(f"r:{r.value}", f"coord.invite_role.{r.value}") for r in INVITE_ROLES]
    reply = say("coord.invite_role_ask", *choices, CANCEL)
    return Transition(flow_state(Step.INVITE_ROLE), (*before, reply))


def ask_invite_org(ctx: StepContext, *before: Reply) -> Transition:
    """Asks which organisation the professional comes from."""
    orgs = coordination(ctx).organisations(ctx.actor.case_id)
    if not orgs:
        return show_orgs(ctx, *before, say("coord.invite_need_org"))
    choices = [Choice(f"o:{o.id}", "common.item", {"text": o.name}) for o in orgs]
    reply = say("coord.invite_org_ask", *choices, CANCEL)
    return Transition(flow_state(Step.INVITE_ORG, role=Role.PROFESSIONAL.value), (*before, reply))


def ask_invite_name(state: FlowState, *before: Reply) -> Transition:
    """Asks for the invitee's first name."""
    reply = say("coord.invite_name_ask", CANCEL, role=str(state.data.get("role")))
    return Transition(flow_state(Step.INVITE_NAME, **state.data), (*before, reply))


def show_members(ctx: StepContext) -> Transition:
    """Who has joined, and which invites are still open."""
    port = coordination(ctx)
    members: list[ParamValue] = [
        {"name": m.name, "role": m.role.value, "org": m.organisation}
        for m in port.members(ctx.actor.case_id)
    ]
    invites: list[ParamValue] = [
        {"name": i.name, "role": i.role.value, "org": i.organisation, "expires": i.expires_at}
        for i in port.open_invites(ctx.actor.case_id, ctx.now)
    ]
    reply = say("coord.members", HOME_CHOICE, members=members, invites=invites)
    return Transition(flow_state(Step.MEMBERS), (reply,))


def on_orgs(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Adds an organisation, or goes home."""
    choice = choice_id(event) or ""
    if choice == "add":
        return ask_org()
    if choice.startswith("o:") and choice[2:].isdecimal():
        return who.show_org(ctx, int(choice[2:]))
    if isinstance(event, TextMessage):
        return on_org_add(state, event, ctx, zone)
    return show_home(ctx)


def on_org_add(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Adds the organisation to the case."""
    if choice_id(event) == "cancel":
        return show_orgs(ctx)
    if not isinstance(event, TextMessage):
        return ask_org(say("common.need_text"))
    checked = check_text(event.text, ORG_MAX_CHARS)
    if isinstance(checked, Reply):
        return ask_org(checked)
    # The kind is asked next, so the family reads a plain description, not a bare name.
    return who.added_ask_kind(ctx, checked)


def on_invite_role(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Remembers the role; a professional also needs an organisation."""
    choice = choice_id(event)
    if choice is None or not choice.startswith("r:"):
        return show_home(ctx)
    role = Role(choice[2:])
    if role is Role.PROFESSIONAL:
        return ask_invite_org(ctx)
    return ask_invite_name(flow_state(Step.INVITE_NAME, role=role.value))


def on_invite_org(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Remembers the professional's organisation."""
    choice = choice_id(event)
    orgs = {o.id for o in coordination(ctx).organisations(ctx.actor.case_id)}
    if choice is None or not choice.startswith("o:") or int(choice[2:]) not in orgs:
        return show_home(ctx)
    return ask_invite_name(
        flow_state(Step.INVITE_NAME, role=Role.PROFESSIONAL.value, org_id=int(choice[2:]))
    )


def on_invite_name(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Creates the invite and shows the code once."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return ask_invite_name(state, say("common.need_text"))
    checked = check_name(event.text)
    if isinstance(checked, Reply):
        return ask_invite_name(state, checked)
    role = Role(str(state.data.get("role")))
    if role is Role.PROFESSIONAL and state.data.get(EMAIL_ENABLED):
        return ask_invite_how(flow_state(Step.INVITE_HOW, **{**state.data, "name": checked}))
    return invite_with_code(state, ctx, checked)


def invite_with_code(state: FlowState, ctx: StepContext, name: str) -> Transition:
    """Creates the invite and shows the code once."""
    checked = name
    role = Role(str(state.data.get("role")))
    org = state.data.get("org_id")
    code = coordination(ctx).create_invite(
        ctx.actor.case_id,
        role,
        checked,
        int(org) if org is not None else None,
        ctx.actor.person_id,
        ctx.now,
    )
    # "secret_": the outbox forgets the code once the message is sent (storage/codec.py).
    created = say("coord.invite_created", secret_code=code, name=checked, role=role.value)
    return show_home(ctx, created)


def ask_invite_how(state: FlowState, *before: Reply) -> Transition:
    """Asks whether the coordinator gives the code or the bot e-mails the invite."""
    reply = say(
        "email.invite_how_ask",
        Choice("code", "email.invite_how_code"),
        Choice("email", "email.invite_how_email"),
        CANCEL,
        name=str(state.data.get("name")),
    )
    return Transition(flow_state(Step.INVITE_HOW, **state.data), (*before, reply))


def on_invite_how(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """The code shown here, or the address asked for."""
    choice = choice_id(event)
    if choice == "code":
        return invite_with_code(state, ctx, str(state.data.get("name")))
    if choice == "email":
        return ask_invite_address(state)
    if choice == "cancel":
        return show_home(ctx)
    return ask_invite_how(state)


def ask_invite_address(state: FlowState, *before: Reply) -> Transition:
    """Asks for the professional's e-mail address."""
    reply = say("email.invite_address_ask", CANCEL)
    return Transition(flow_state(Step.INVITE_EMAIL, **state.data), (*before, reply))


def on_invite_email(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Creates the invite and sends it to the address; the code is never shown here."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return ask_invite_address(state, say("common.need_text"))
    address = event.text.strip()
    if not is_address(address):
        return ask_invite_address(state, say("email.invite_address_bad"))
    name = str(state.data.get("name"))
    org = state.data.get("org_id")
    invite = coordination(ctx).invite_by_email(
        ctx.actor.case_id,
        name,
        int(org) if org is not None else None,
        ctx.actor.person_id,
        address,
        ctx.now,
    )
    # The address's own chat: its key is both the user and the chat (a private one).
    to = ConversationRef(EMAIL_PLATFORM, invite.chat_key, invite.chat_key)
    # "secret_": the outbox forgets the code once the e-mail is sent (storage/codec.py).
    letter = say(
        "email.invite", Choice(EMAIL_JOIN, "email.join_choice"), secret_code=invite.code, name=name
    )
    home = show_home(ctx, say("email.invite_emailed", name=name))
    return replace(home, notices=(*home.notices, Notice(letter, chat=to)))


STEPS = {
    Step.ORGS: StepDef(lambda state, ctx, zone: show_orgs(ctx), on_orgs),
    Step.ORG_ADD: StepDef(lambda state, ctx, zone: ask_org(), on_org_add),
    Step.INVITE_ROLE: StepDef(lambda state, ctx, zone: ask_invite_role(), on_invite_role),
    Step.INVITE_ORG: StepDef(lambda state, ctx, zone: ask_invite_org(ctx), on_invite_org),
    Step.INVITE_NAME: StepDef(lambda state, ctx, zone: ask_invite_name(state), on_invite_name),
    Step.INVITE_HOW: StepDef(lambda state, ctx, zone: ask_invite_how(state), on_invite_how),
    Step.INVITE_EMAIL: StepDef(lambda state, ctx, zone: ask_invite_address(state), on_invite_email),
    Step.MEMBERS: StepDef(lambda state, ctx, zone: show_members(ctx), back_home),
}
