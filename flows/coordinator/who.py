"""Who is who, the coordinator's side: an organisation's kind, plain description and contact.

The organisations list (invites.py) opens one organisation; a new organisation is asked its
kind, so the family reads the default description of that kind instead of a bare name.

```mermaid
stateDiagram-v2
    orgs --> org: en verksamhet
    org_add --> org_kind: namn (verksamheten läggs till)
    org --> org_kind: Ändra typ
    org_kind --> org: typ
    org_kind --> home: Till ärendet (typen lämnas)
    org --> org_desc: Skriv beskrivning
    org_desc --> org: text / avbryt
    org --> org: Använd standardtexten
    org --> org_contact: Kontaktperson
    org_contact --> org: "namn, roll, hur man når hen" / avbryt
    org --> org: Ta bort kontaktpersonen
    org --> orgs: Verksamheter
    org --> home: Till ärendet
```
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.conversation import Event, TextMessage
from flows.coordination import coordination
from flows.coordinator.steps import (
    CANCEL,
    HOME_CHOICE,
    Step,
    StepDef,
    as_int,
    check_name,
    check_text,
    choice_id,
    flow_state,
    show_home,
)
from flows.engine import FlowState, StepContext, Transition
from flows.family_domain import OrganisationKind
from flows.replies import Choice, Reply, say
from flows.who_is_who import OrganisationContact, organisation_params, who_is_who

DESCRIPTION_MAX_CHARS = 400
CONTACT_MAX_CHARS = 160
ROLE_MAX_CHARS = 60
ORGS_CHOICE = Choice("orgs", "orgs.back_to_list")


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
    return Transition(flow_state(Step.ORGS), (*before, reply))


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
    return Transition(flow_state(Step.ORG, org_id=org.id), (*before, reply))


def ask_kind(organisation_id: int, *before: Reply) -> Transition:
    """Asks what kind of organisation it is: the family then reads that kind's description."""
    # A fixed list, not data: ids without a colon, so it is never paged (flows/paging.py).
    choices = [Choice(f"kind_{k.value}", f"orgs.kind.{k.value}") for k in OrganisationKind]
    reply = say("orgs.kind_ask", *choices, HOME_CHOICE)
    return Transition(flow_state(Step.ORG_KIND, org_id=organisation_id), (*before, reply))


def ask_description(organisation_id: int, *before: Reply) -> Transition:
    """Asks for the organisation's plain description."""
    reply = say("orgs.description_ask", CANCEL, max=DESCRIPTION_MAX_CHARS)
    return Transition(flow_state(Step.ORG_DESC, org_id=organisation_id), (*before, reply))


def ask_contact(organisation_id: int, *before: Reply) -> Transition:
    """Asks for the contact person: name, role, how to reach them."""
    reply = say("orgs.contact_ask", CANCEL)
    return Transition(flow_state(Step.ORG_CONTACT, org_id=organisation_id), (*before, reply))


def on_org(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Opens a change of the organisation, or goes back."""
    org_id = as_int(state.data.get("org_id"))
    port = who_is_who(ctx)
    case_id, me = ctx.actor.case_id, ctx.actor.person_id
    match choice_id(event):
        case "kind":
            return ask_kind(org_id)
        case "desc":
            return ask_description(org_id)
        case "desc_default":
            port.set_description(case_id, org_id, None, me, ctx.now)
            return show_org(ctx, org_id, say("orgs.saved"))
        case "contact":
            return ask_contact(org_id)
        case "contact_remove":
            port.set_contact(case_id, org_id, None, me, ctx.now)
            return show_org(ctx, org_id, say("orgs.saved"))
        case "orgs":
            return show_orgs(ctx)
    return show_home(ctx)


def on_kind(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Sets the kind, or ("Till ärendet") leaves it as it is."""
    kinds = {f"kind_{k.value}": k for k in OrganisationKind}
    kind = kinds.get(choice_id(event) or "")
    if kind is None:
        return show_home(ctx)
    org_id = as_int(state.data.get("org_id"))
    who_is_who(ctx).set_kind(ctx.actor.case_id, org_id, kind, ctx.actor.person_id, ctx.now)
    return show_org(ctx, org_id, say("orgs.saved"))


def on_description(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Stores the plain description."""
    org_id = as_int(state.data.get("org_id"))
    if choice_id(event) == CANCEL.id:
        return show_org(ctx, org_id)
    if not isinstance(event, TextMessage):
        return ask_description(org_id, say("common.need_text"))
    checked = check_text(event.text, DESCRIPTION_MAX_CHARS)
    if isinstance(checked, Reply):
        return ask_description(org_id, checked)
    who_is_who(ctx).set_description(
        ctx.actor.case_id, org_id, checked, ctx.actor.person_id, ctx.now
    )
    return show_org(ctx, org_id, say("orgs.saved"))


def on_contact(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Stores the contact person from "namn, roll, hur man når hen"."""
    org_id = as_int(state.data.get("org_id"))
    if choice_id(event) == CANCEL.id:
        return show_org(ctx, org_id)
    if not isinstance(event, TextMessage):
        return ask_contact(org_id, say("common.need_text"))
    contact = parse_contact(event.text)
    if isinstance(contact, Reply):
        return ask_contact(org_id, contact)
    who_is_who(ctx).set_contact(ctx.actor.case_id, org_id, contact, ctx.actor.person_id, ctx.now)
    return show_org(ctx, org_id, say("orgs.saved"))


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


STEPS = {
    Step.ORG: StepDef(
        lambda state, ctx, zone: show_org(ctx, as_int(state.data.get("org_id"))), on_org
    ),
    Step.ORG_KIND: StepDef(
        lambda state, ctx, zone: ask_kind(as_int(state.data.get("org_id"))), on_kind
    ),
    Step.ORG_DESC: StepDef(
        lambda state, ctx, zone: ask_description(as_int(state.data.get("org_id"))), on_description
    ),
    Step.ORG_CONTACT: StepDef(
        lambda state, ctx, zone: ask_contact(as_int(state.data.get("org_id"))), on_contact
    ),
}
