"""Invitations: the case's organisations, inviting someone by role, and who has joined.

The invite's code is shown once, under the menu (the outbox forgets it once sent). When the
deployment sends e-mail, a professional's invite may go by e-mail instead (invite_how,
invite_email): the code is then never shown in the chat. A new organisation is asked its kind
next (who.py).

```mermaid
stateDiagram-v2
    orgs --> org_add: add / text
    orgs --> org: o
    orgs --> home: o / otherwise
    orgs --> org_kind: text
    org_add --> orgs: cancel
    org_add --> org_add: text / otherwise
    org_add --> org_kind: text
    invite_role --> invite_org: r:youth / r:caregiver / r:professional / r:network / r:coordinator
    invite_role --> invite_name: r:youth / r:caregiver / r:professional / r:network / r:coordinator
    invite_role --> home: otherwise
    invite_org --> invite_name: o
    invite_org --> home: o / otherwise
    invite_org --> orgs: (shown instead)
    invite_name --> home: cancel / text
    invite_name --> invite_name: text / otherwise
    invite_name --> invite_how: text
    invite_how --> home: code / cancel
    invite_how --> invite_email: email
    invite_how --> invite_how: otherwise
    invite_email --> home: cancel / text
    invite_email --> invite_email: text / otherwise
    members --> home: otherwise
```
"""

from __future__ import annotations

import re
from dataclasses import replace

from flows.conversation import ConversationRef
from flows.coordination import coordination
from flows.coordinator import who
from flows.coordinator.steps import (
    CANCEL,
    HELP,
    HOME_CHOICE,
    StepName,
    check_name,
    check_text,
    flow_state,
    home,
    show_home,
    state_of,
)
from flows.coordinator.who import show_orgs
from flows.domain import Role
from flows.engine import FlowState, Notice, StepContext, Transition
from flows.replies import Choice, ParamValue, Reply, say
from flows.steps import Go, Step, Then, Turn

ORG_MAX_CHARS = 80
# The e-mail platform (bot/email/) and the choice its invite shows as the join link.
EMAIL_PLATFORM = "email"
EMAIL_JOIN = "email:join"
# Set in the state of invite_name by the coordinator flow when the deployment sends e-mail
# (CoordinatorFlow.handle), and carried on through the e-mail steps.
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
    return Transition(flow_state(StepName.ORG_ADD), (*before, say("coord.org_ask", CANCEL)))


def ask_invite_role(*before: Reply) -> Transition:
    """Asks whom to invite, by role."""
    choices = [Choice(f"r:{r.value}", f"coord.invite_role.{r.value}") for r in INVITE_ROLES]
    reply = say("coord.invite_role_ask", *choices, CANCEL)
    return Transition(flow_state(StepName.INVITE_ROLE), (*before, reply))


def ask_invite_org(ctx: StepContext, *before: Reply) -> Transition:
    """Asks which organisation the professional comes from."""
    orgs = coordination(ctx).organisations(ctx.actor.case_id)
    if not orgs:
        return show_orgs(ctx, *before, say("coord.invite_need_org"))
    choices = [Choice(f"o:{o.id}", "common.item", {"text": o.name}) for o in orgs]
    reply = say("coord.invite_org_ask", *choices, CANCEL)
    return Transition(
        flow_state(StepName.INVITE_ORG, role=Role.PROFESSIONAL.value), (*before, reply)
    )


def ask_invite_name(state: FlowState, *before: Reply) -> Transition:
    """Asks for the invitee's first name."""
    reply = say("coord.invite_name_ask", CANCEL, role=str(state.data.get("role")))
    return Transition(flow_state(StepName.INVITE_NAME, **state.data), (*before, reply))


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
    return Transition(flow_state(StepName.MEMBERS), (reply,))


def _need_org_name(turn: Turn) -> Transition:
    """Anything but a typed name: asks for it again."""
    return ask_org(say("common.need_text"))


def _add_org(turn: Turn) -> Transition:
    """Adds the organisation to the case."""
    checked = check_text(turn.text or "", ORG_MAX_CHARS)
    if isinstance(checked, Reply):
        return ask_org(checked)
    # The kind is asked next, so the family reads a plain description, not a bare name.
    return who.added_ask_kind(turn.ctx, checked)


def _open_org(turn: Turn) -> Transition:
    """Opens one organisation (who.py); a broken id goes home."""
    key = (turn.choice or "").removeprefix("o:")
    if key.isdecimal():
        return who.show_org(turn.ctx, int(key))
    return show_home(turn.ctx)


def _pick_role(turn: Turn) -> Transition:
    """Remembers the role; a professional also needs an organisation."""
    role = Role((turn.choice or "").removeprefix("r:"))
    if role is Role.PROFESSIONAL:
        return ask_invite_org(turn.ctx)
    return ask_invite_name(flow_state(StepName.INVITE_NAME, role=role.value))


def _pick_org(turn: Turn) -> Transition:
    """Remembers the professional's organisation (one of this case's)."""
    key = (turn.choice or "").removeprefix("o:")
    orgs = {o.id for o in coordination(turn.ctx).organisations(turn.ctx.actor.case_id)}
    if not key.isdecimal() or int(key) not in orgs:
        return show_home(turn.ctx)
    return ask_invite_name(
        flow_state(StepName.INVITE_NAME, role=Role.PROFESSIONAL.value, org_id=int(key))
    )


def _need_name(turn: Turn) -> Transition:
    """Anything but a typed name: asks for it again."""
    return ask_invite_name(state_of(turn), say("common.need_text"))


def _name_given(turn: Turn) -> Transition:
    """Creates the invite and shows the code once (or asks how, when e-mail is possible)."""
    state = state_of(turn)
    checked = check_name(turn.text or "")
    if isinstance(checked, Reply):
        return ask_invite_name(state, checked)
    role = Role(str(state.data.get("role")))
    if role is Role.PROFESSIONAL and _email_enabled(turn):
        return ask_invite_how(flow_state(StepName.INVITE_HOW, **{**state.data, "name": checked}))
    return invite_with_code(state, turn.ctx, checked)


def _email_enabled(turn: Turn) -> bool:
    """The deployment sends e-mail: a professional may be invited by e-mail."""
    return bool(turn.data.get(EMAIL_ENABLED))


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
    return Transition(flow_state(StepName.INVITE_HOW, **state.data), (*before, reply))


def _give_code(turn: Turn) -> Transition:
    """The coordinator gives the code: shown here, once."""
    return invite_with_code(state_of(turn), turn.ctx, turn.word("name"))


def ask_invite_address(state: FlowState, *before: Reply) -> Transition:
    """Asks for the professional's e-mail address."""
    reply = say("email.invite_address_ask", CANCEL)
    return Transition(flow_state(StepName.INVITE_EMAIL, **state.data), (*before, reply))


def _need_address(turn: Turn) -> Transition:
    """Anything but a typed address: asks for it again."""
    return ask_invite_address(state_of(turn), say("common.need_text"))


def _email_invite(turn: Turn) -> Transition:
    """Creates the invite and sends it to the address; the code is never shown here."""
    state, ctx = state_of(turn), turn.ctx
    address = (turn.text or "").strip()
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
    menu = show_home(ctx, say("email.invite_emailed", name=name))
    return replace(menu, notices=(*menu.notices, Notice(letter, chat=to)))


HOME = Then(home, to=("home",))

STEPS = (
    Step(
        "orgs",
        show=lambda turn: show_orgs(turn.ctx),
        choices={"add": Go("org_add"), "o:": Then(_open_org, to=("org", "home"))},
        # A name typed straight into the list adds the organisation.
        text=Then(_add_org, to=("org_add", "org_kind")),
        otherwise=HOME,
        help=HELP,
    ),
    Step(
        "org_add",
        show=lambda turn: ask_org(),
        choices={CANCEL.id: Go("orgs")},
        text=Then(_add_org, to=("org_add", "org_kind")),
        otherwise=Then(_need_org_name, to=("org_add",)),
        help=HELP,
    ),
    Step(
        "invite_role",
        show=lambda turn: ask_invite_role(),
        choices={
            **{
                f"r:{r.value}": Then(_pick_role, to=("invite_org", "invite_name"))
                for r in INVITE_ROLES
            }
        },
        otherwise=HOME,
        help=HELP,
    ),
    Step(
        "invite_org",
        show=lambda turn: ask_invite_org(turn.ctx),
        choices={"o:": Then(_pick_org, to=("invite_name", "home"))},
        otherwise=HOME,
        # No organisation yet: the list of organisations, to add one first.
        handovers=("orgs",),
        help=HELP,
    ),
    Step(
        "invite_name",
        show=lambda turn: ask_invite_name(state_of(turn)),
        choices={CANCEL.id: HOME},
        text=Then(_name_given, to=("invite_name", "invite_how", "home")),
        otherwise=Then(_need_name, to=("invite_name",)),
        help=HELP,
    ),
    Step(
        "invite_how",
        show=lambda turn: ask_invite_how(state_of(turn)),
        choices={
            "code": Then(_give_code, to=("home",)),
            "email": Then(lambda turn: ask_invite_address(state_of(turn)), to=("invite_email",)),
            CANCEL.id: HOME,
        },
        otherwise=Then(lambda turn: ask_invite_how(state_of(turn)), to=("invite_how",)),
        help=HELP,
    ),
    Step(
        "invite_email",
        show=lambda turn: ask_invite_address(state_of(turn)),
        choices={CANCEL.id: HOME},
        text=Then(_email_invite, to=("invite_email", "home")),
        otherwise=Then(_need_address, to=("invite_email",)),
        help=HELP,
    ),
    Step(
        "members",
        show=lambda turn: show_members(turn.ctx),
        # Any answer returns home.
        otherwise=HOME,
        help=HELP,
    ),
)
