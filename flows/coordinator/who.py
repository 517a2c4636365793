"""Who is who, the coordinator's side: an organisation's kind, plain description and contact.

The organisations list (invites.py) opens one organisation; a new organisation is asked its
kind, so the family reads the default description of that kind instead of a bare name.

```mermaid
stateDiagram-v2
    org --> org_kind: kind
    org --> org_desc: desc
    org --> org: desc_default / contact_remove
    org --> home: desc_default / contact_remove / otherwise / (shown instead)
    org --> org_contact: contact
    org --> orgs: orgs
    org_kind --> org: otherwise
    org_kind --> home: otherwise
    org_desc --> org: cancel / text
    org_desc --> home: cancel / text
    org_desc --> org_desc: text / otherwise
    org_contact --> org: cancel / text
    org_contact --> home: cancel / text
    org_contact --> org_contact: text / otherwise
```
"""

from __future__ import annotations

from flows.coordination import coordination
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
)
from flows.engine import StepContext, Transition
from flows.family_domain import OrganisationKind
from flows.replies import Choice, Reply, say
from flows.steps import Go, Step, Then, Turn
from flows.who_is_who import OrganisationContact, organisation_params, who_is_who

DESCRIPTION_MAX_CHARS = 400
CONTACT_MAX_CHARS = 160
ROLE_MAX_CHARS = 60
ORGS_CHOICE = Choice("orgs", "orgs.back_to_list")
KINDS = {f"kind_{k.value}": k for k in OrganisationKind}


def show_orgs(ctx: StepContext, *before: Reply) -> Transition:
    """The organisations of the case; each opens to its description and contact person."""
    orgs = coordination(ctx).organisations(ctx.actor.case_id)
    reply = say(
        "coord.orgs",
        Choice("add", "coord.orgs_add"),
        *(Choice(f"o:{o.id}", "common.item", {"text": o.name}) for o in orgs),
        HOME_CHOICE,
        orgs=[o.name for o in orgs],
    )
    return Transition(flow_state(StepName.ORGS), (*before, reply))


def added_ask_kind(ctx: StepContext, name: str) -> Transition:
    """Adds a new organisation to the case and asks its kind (until then it is "other")."""
    port = coordination(ctx)
    org = port.add_organisation(ctx.actor.case_id, name)
    listed = say("coord.orgs", orgs=[o.name for o in port.organisations(ctx.actor.case_id)])
    return ask_kind(org.id, say("coord.org_added", name=name), listed)


def show_org(ctx: StepContext, organisation_id: int, *before: Reply) -> Transition:
    """One organisation as the family sees it, with what the coordinator can change."""
    org = who_is_who(ctx).organisation(ctx.actor.case_id, organisation_id, ctx.actor.person_id)
    if org is None:
        return show_home(ctx, *before)
    choices = [Choice("kind", "orgs.change_kind"), Choice("desc", "orgs.write_description")]
    if org.description:
        choices.append(Choice("desc_default", "orgs.use_default"))
    choices.append(Choice("contact", "orgs.set_contact"))
    if org.contact:
        choices.append(Choice("contact_remove", "orgs.remove_contact"))
    choices += [ORGS_CHOICE, HOME_CHOICE]
    reply = say("orgs.show", *choices, org_kind=org.kind.value, **organisation_params(org))
    return Transition(flow_state(StepName.ORG, org_id=org.id), (*before, reply))


def ask_kind(organisation_id: int, *before: Reply) -> Transition:
    """Asks what kind of organisation it is: the family then reads that kind's description."""
    # A fixed list, not data: ids without a colon, so it is never paged (flows/paging.py).
    choices = [Choice(key, f"orgs.kind.{k.value}") for key, k in KINDS.items()]
    reply = say("orgs.kind_ask", *choices, HOME_CHOICE)
    return Transition(flow_state(StepName.ORG_KIND, org_id=organisation_id), (*before, reply))


def ask_description(organisation_id: int, *before: Reply) -> Transition:
    """Asks for the organisation's plain description."""
    reply = say("orgs.description_ask", CANCEL, max=DESCRIPTION_MAX_CHARS)
    return Transition(flow_state(StepName.ORG_DESC, org_id=organisation_id), (*before, reply))


def ask_contact(organisation_id: int, *before: Reply) -> Transition:
    """Asks for the contact person: name, role, how to reach them."""
    reply = say("orgs.contact_ask", CANCEL)
    return Transition(flow_state(StepName.ORG_CONTACT, org_id=organisation_id), (*before, reply))


def _org_id(turn: Turn) -> int:
    """The organisation this step is about."""
    return turn.number("org_id")


def _again(turn: Turn, *before: Reply) -> Transition:
    """The organisation again, after what was said."""
    return show_org(turn.ctx, _org_id(turn), *before)


def _use_default(turn: Turn) -> Transition:
    """Drops the written description: the family reads the kind's default text."""
    ctx = turn.ctx
    who_is_who(ctx).set_description(
        ctx.actor.case_id, _org_id(turn), None, ctx.actor.person_id, ctx.now
    )
    return _again(turn, say("orgs.saved"))


def _remove_contact(turn: Turn) -> Transition:
    """Removes the contact person."""
    ctx = turn.ctx
    who_is_who(ctx).set_contact(
        ctx.actor.case_id, _org_id(turn), None, ctx.actor.person_id, ctx.now
    )
    return _again(turn, say("orgs.saved"))


def _set_kind(turn: Turn) -> Transition:
    """Sets the kind a "kind_<kind>" choice names; anything else ("Till ärendet") goes home
    and leaves the kind as it is."""
    ctx = turn.ctx
    kind = KINDS.get(turn.choice or "")
    if kind is None:
        return show_home(ctx)
    who_is_who(ctx).set_kind(ctx.actor.case_id, _org_id(turn), kind, ctx.actor.person_id, ctx.now)
    return _again(turn, say("orgs.saved"))


def _need_description(turn: Turn) -> Transition:
    """Anything but text: asks for the description again."""
    return ask_description(_org_id(turn), say("common.need_text"))


def _set_description(turn: Turn) -> Transition:
    """Stores the plain description."""
    ctx = turn.ctx
    checked = check_text(turn.text or "", DESCRIPTION_MAX_CHARS)
    if isinstance(checked, Reply):
        return ask_description(_org_id(turn), checked)
    who_is_who(ctx).set_description(
        ctx.actor.case_id, _org_id(turn), checked, ctx.actor.person_id, ctx.now
    )
    return _again(turn, say("orgs.saved"))


def _need_contact(turn: Turn) -> Transition:
    """Anything but text: asks for the contact person again."""
    return ask_contact(_org_id(turn), say("common.need_text"))


def _set_contact(turn: Turn) -> Transition:
    """Stores the contact person from "namn, roll, hur man når hen"."""
    ctx = turn.ctx
    contact = parse_contact(turn.text or "")
    if isinstance(contact, Reply):
        return ask_contact(_org_id(turn), contact)
    who_is_who(ctx).set_contact(
        ctx.actor.case_id, _org_id(turn), contact, ctx.actor.person_id, ctx.now
    )
    return _again(turn, say("orgs.saved"))


def parse_contact(text: str) -> OrganisationContact | Reply:
    """ "Maria, kurator, 070-123 45 67": a first name, then optionally a role and how to reach."""
    name, _, rest = text.partition(",")
    role, _, reach = rest.partition(",")
    checked_name = check_name(name)
    if isinstance(checked_name, Reply):
        return checked_name
    checked_role = check_text(role, ROLE_MAX_CHARS) if role.strip() else None
    if isinstance(checked_role, Reply):
        return checked_role
    checked_reach = check_text(reach, CONTACT_MAX_CHARS) if reach.strip() else None
    if isinstance(checked_reach, Reply):
        return checked_reach
    return OrganisationContact(checked_name, checked_role, checked_reach)


HOME = Then(home, to=("home",))
TO_ORG = Then(_again, to=("org", "home"))

STEPS = (
    Step(
        "org",
        show=lambda turn: show_org(turn.ctx, _org_id(turn)),
        choices={
            "kind": Then(lambda turn: ask_kind(_org_id(turn)), to=("org_kind",)),
            "desc": Then(lambda turn: ask_description(_org_id(turn)), to=("org_desc",)),
            "desc_default": Then(_use_default, to=("org", "home")),
            "contact": Then(lambda turn: ask_contact(_org_id(turn)), to=("org_contact",)),
            "contact_remove": Then(_remove_contact, to=("org", "home")),
            ORGS_CHOICE.id: Go("orgs"),
        },
        otherwise=HOME,
        # An organisation that is gone (or another case's): home.
        handovers=("home",),
        help=HELP,
    ),
    Step(
        "org_kind",
        show=lambda turn: ask_kind(_org_id(turn)),
        # The kinds' ids are "kind_bup", "kind_skola", ...: one handler reads them all.
        otherwise=Then(_set_kind, to=("org", "home")),
        help=HELP,
    ),
    Step(
        "org_desc",
        show=lambda turn: ask_description(_org_id(turn)),
        choices={CANCEL.id: TO_ORG},
        text=Then(_set_description, to=("org_desc", "org", "home")),
        otherwise=Then(_need_description, to=("org_desc",)),
        help=HELP,
    ),
    Step(
        "org_contact",
        show=lambda turn: ask_contact(_org_id(turn)),
        choices={CANCEL.id: TO_ORG},
        text=Then(_set_contact, to=("org_contact", "org", "home")),
        otherwise=Then(_need_contact, to=("org_contact",)),
        help=HELP,
    ),
)
