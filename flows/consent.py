"""Consent (samtycke): explains the bot honestly and asks before anything personal is stored.

The engine runs this flow after a successful join and before the role's flow, and whenever
consent is missing or withdrawn, a caregiver has a child waiting for their consent, or the
person uses a privacy command (/samtycke, /minadata, /glommig). Young people are asked their
age only after they said yes, and only "under the limit or not" is stored. Under the limit a
caregiver of the same case must also say yes, in their own chat, and can take that yes back
with /samtycke: the child's sharing stops at once. The caregiver cannot erase the child's
words (they are the child's, private even from caregivers); the child can, with /glommig.
Sharing between agencies (SIP) is asked and recorded apart from consent to use the bot.
After a case closes, or a person leaves it, their rights go on while their data is stored:
the engine hands such a former member to this flow alone, which offers only export, erasure
and withdrawing consent (the RIGHTS step).

```mermaid
stateDiagram-v2
    [*] --> explain: joined / no consent
    explain --> more: Berätta mer
    explain --> explain: Språk / Language (språkvalet, sedan frågan igen)
    more --> explain: Tillbaka
    explain --> declined: Nej tack
    declined --> explain: Jag har ändrat mig
    declined --> about: Vad är ett samverkansmöte? (ung person)
    about --> declined: Tillbaka
    declined --> meeting: När är mötet? eller /mote
    meeting --> declined: Tillbaka
    explain --> age: Ja (ung person)
    age --> age: inte en ålder
    age --> waiting: under gränsen
    waiting --> sip: vårdnadshavare sa ja
    age --> sip: över gränsen
    explain --> sip: Ja (vårdnadshavare, nätverk)
    explain --> [*]: Ja (personal)
    sip --> [*]: Ja / Nej
    [*] --> guardian: ett barn väntar på mitt svar
    guardian --> [*]: Ja / Nej
    [*] --> status: /samtycke
    status --> sip: Ändra delning
    status --> withdrawn: Ta tillbaka
    status --> exchange: Vilka verksamheter
    exchange --> exchange: ja / nej per verksamhet
    exchange --> status: Klar
    withdrawn --> forget: Radera allt
    withdrawn --> explain: Behåll
    status --> [*]: Ta tillbaka ja för barnet (vårdnadshavare)
    status --> guardian: Säg ja för barnet (vårdnadshavare)
    [*] --> export: /minadata
    [*] --> forget: /glommig
    forget --> [*]: Ja, glöm mig (allt raderat)
    forget --> [*]: Nej
    [*] --> rights: ärendet stängt / lämnat (bara /minadata, /glommig, /samtycke)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows import language, meeting_info
from flows.conversation import ChoiceMade, Command, CommandIssued, Event, TextMessage
from flows.domain import (
    CONSENTING_ROLES,
    ConsentScope,
    ConsentStatus,
    GuardianConsent,
    GuardianRequest,
    Role,
)
from flows.engine import FORGOTTEN, GATE_PASSED, FlowState, Notice, StepContext, Transition
from flows.replies import Attachment, Choice, Reply, say
from flows.text_rules import same_label

FLOW_NAME = "consent"
# Bumped whenever the explanation's meaning changes; recorded with every consent.
TEXT_VERSION = "2026-11-23.2"
DEFAULT_AGE_LIMIT = 13
# Ages outside this range are typing mistakes, not ages of people in a case.
YOUNGEST, OLDEST = 5, 30
PRIVACY_COMMANDS = {Command.CONSENT, Command.MY_DATA, Command.FORGET}
# Roles whose shared items can go to several agencies, so they are asked about SIP sharing.
SIP_ROLES = {Role.YOUTH, Role.CAREGIVER, Role.NETWORK}


class Step(StrEnum):
    """The steps of the consent flow."""

    EXPLAIN = "explain"
    MORE = "more"
    DECLINED = "declined"
    AGE = "age"
    WAITING = "waiting"
    SIP = "sip"
    GUARDIAN = "guardian"
    STATUS = "status"
    WITHDRAWN = "withdrawn"
    FORGET = "forget"
    RIGHTS = "rights"
    ABOUT = "about"
    MEETING = "meeting"
    EXCHANGE = "exchange"


def _state(step: Step, **data: str | int | None) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


# The steps of someone whose case closed or who left it: their rights, nothing else.
FORMER_STEPS = frozenset({Step.STATUS, Step.WITHDRAWN, Step.FORGET, Step.RIGHTS})
# A choice on the exchange step: the organisation's id follows.
EXCHANGE_TOGGLE = "x:"

# What someone who said no can still do: read what the meeting is and when it is, and
# change their mind. Nothing they type is stored, so nothing of their preparation is offered.
ABOUT = Choice("about", "youth.menu.about")
MEETING = Choice("meeting", "menu.meeting")
AGAIN = Choice("again", "consent.declined.again")
BACK = Choice("back", "common.back")
MEETING_INFO = meeting_info.MeetingInformation()

YES = Choice("yes", "consent.yes")
EXPLAIN_CHOICES = (
    Choice("yes", "consent.explain.yes"),
    Choice("more", "consent.explain.more"),
    Choice("no", "consent.explain.no"),
    # Before anything is agreed: read it in your own language (flows/language.py).
    Choice(language.OPEN_CHOICE, "menu.language"),
)
NO = Choice("no", "consent.no")
# Typed answers to a yes/no question, in both languages (compared as flows.text_rules.same_label
# reads a label, without the punctuation around them): people type "ja" rather than a button's
# words. Only the yes/no questions read them; anywhere else they are text as usual.
TYPED_YES = frozenset(
    {"ja", "japp", "jepp", "jo", "okej", "ok", "okey", "ja tack", "absolut", "visst", "gärna"}
    | {"yes", "yeah", "yep", "sure", "okay", "yes please"}
)
TYPED_NO = frozenset({"nej", "nä", "nää", "nope", "no", "nej tack", "no thanks", "no thank you"})

# Choice ids on a caregiver's /samtycke screen, followed by the child's person id.
CHILD_WITHDRAW = "child_withdraw:"
CHILD_GIVE = "child_give:"


@dataclass(frozen=True, slots=True)
class ConsentFlow:
    """Asks for, shows and withdraws consent; exports and erases on request."""

    age_limit: int = DEFAULT_AGE_LIMIT
    # The data controller named in the explanation; empty: the catalogue's generic words.
    operator: str = ""
    name: str = FLOW_NAME

    # --- the gate ----------------------------------------------------------------------

    def admits(self, event: Event, ctx: StepContext) -> bool:
        """Lets the role's flow go on only with consent and nothing waiting on this person."""
        if isinstance(event, CommandIssued) and event.command in PRIVACY_COMMANDS:
            return False
        if ctx.actor.role not in CONSENTING_ROLES:
            return True
        if not self._status(ctx).effective:
            return False
        return not self._requests(ctx)

    def enter(self, event: Event, ctx: StepContext) -> Transition:
        """Takes over: a privacy command, a missing consent, or a child waiting for an answer."""
        if isinstance(event, CommandIssued):
            if event.command is Command.MY_DATA:
                return self._export(ctx)
            if event.command is Command.FORGET:
                return self._forget(ctx)
            if event.command is Command.CONSENT:
                return self._status_or_explain(ctx)
            if event.command is Command.MEETING and self._said_no(ctx):
                return self._meeting(MEETING_INFO.start(ctx), ctx)
        return self.start(ctx)

    # --- entering steps ------------------------------------------------------------------

    @property
    def home(self) -> FlowState:
        """The consent question."""
        return _state(Step.EXPLAIN)

    def start(self, ctx: StepContext) -> Transition:
        """Shows what is needed now: the explanation, the wait, or a child's request."""
        if ctx.actor.former:
            return self._rights()
        if ctx.actor.role not in CONSENTING_ROLES:
            return Transition(GATE_PASSED, ())
        status = self._status(ctx)
        if status.bot is None:
            return self._explain(ctx)
        if status.bot is False:
            return self._declined(ctx)
        if status.under_age_limit and status.guardian is not True:
            return self._waiting(ctx)
        requests = self._requests(ctx)
        if requests:
            return self._guardian(requests[0].youth_person_id, requests[0].youth_name)
        if ctx.actor.role in SIP_ROLES and status.sip is None:
            return self._sip(ctx)
        return Transition(GATE_PASSED, ())

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again."""
        match Step(state.step):
            case Step.MORE:
                return self._more()
            case Step.AGE:
                return self._age()
            case Step.SIP:
                return self._sip(ctx)
            case Step.STATUS:
                return self._status_or_explain(ctx)
            case Step.EXCHANGE:
                return self._exchange(ctx)
            case Step.FORGET:
                return self._forget(ctx)
            case Step.WITHDRAWN:
                return self._withdrawn_offer()
            case Step.ABOUT:
                return self._about()
            case Step.MEETING:
                return self._meeting(MEETING_INFO.resume(_inner(state), ctx), ctx)
        return self.start(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains what the person can do here, and the privacy commands."""
        return say("consent.help")

    def _rights(self, *before: Reply) -> Transition:
        """Someone whose case closed or who left it: what still works while data is stored."""
        return Transition(_state(Step.RIGHTS), (*before, say("privacy.rights_only")))

    def _explain(self, ctx: StepContext, *before: Reply) -> Transition:
        """The honest explanation, and the question."""
        reply = say(
            "consent.explain",
            *EXPLAIN_CHOICES,
            role=ctx.actor.role.value,
            platform=ctx.ref.platform,
            operator=self.operator,
        )
        return Transition(_state(Step.EXPLAIN), (*before, reply))

    def _more(self) -> Transition:
        """The longer explanation: rights, storage time, who runs the bot."""
        reply = say(
            "consent.more",
            Choice("yes", "consent.explain.yes"),
            Choice("no", "consent.explain.no"),
            # Before anything is agreed: read it in your own language (flows/language.py).
            Choice(language.OPEN_CHOICE, "menu.language"),
            operator=self.operator,
        )
        return Transition(_state(Step.MORE), (reply,))

    def _declined(self, ctx: StepContext, *before: Reply) -> Transition:
        """Nothing is stored; the person can read about the meeting, or change their mind."""
        choices = (ABOUT, MEETING, AGAIN) if ctx.actor.role is Role.YOUTH else (MEETING, AGAIN)
        reply = say("consent.declined", *choices)
        return Transition(_state(Step.DECLINED), (*before, reply))

    def _about(self) -> Transition:
        """What a samverkansmöte is, for a young person who said no (the same plain words)."""
        return Transition(_state(Step.ABOUT), (say("youth.about", BACK),))

    def _meeting(self, shown: Transition, ctx: StepContext) -> Transition:
        """The meeting info for someone who said no: its steps are kept as this flow's (the
        role's flow and its sidetracks stay closed), and its "Tillbaka" comes back here."""
        if shown.state.flow != meeting_info.FLOW_NAME:
            after = self._declined(ctx)
            return Transition(after.state, (*shown.replies, *after.replies))
        return Transition(_state(Step.MEETING, inner=shown.state.step), shown.replies)

    def _age(self, *before: Reply) -> Transition:
        """Asks the young person's age (or birth year)."""
        return Transition(_state(Step.AGE), (*before, say("consent.age")))

    def _waiting(self, ctx: StepContext, *before: Reply) -> Transition:
        """A child waits for a caregiver's yes; says whether anyone has been asked."""
        asked = bool(ctx.ports.privacy.caregivers(ctx.actor.case_id))
        reply = say(
            "consent.waiting",
            Choice("check", "consent.waiting.check"),
            asked=asked,
            # A caregiver said no or took their yes back: nobody is being asked any more.
            said_no=self._status(ctx).guardian is False,
            limit=self.age_limit,
        )
        return Transition(_state(Step.WAITING), (*before, reply))

    def _sip(self, ctx: StepContext, *before: Reply) -> Transition:
        """Asks whether what the person shares may go to every agency in the case."""
        reply = say(
            "consent.sip",
            Choice("yes", "consent.sip.yes"),
            Choice("no", "consent.sip.no"),
        )
        return Transition(_state(Step.SIP), (*before, reply))

    def _guardian(self, youth_id: int, youth_name: str, *before: Reply) -> Transition:
        """Asks a caregiver to consent for a child under the age limit."""
        reply = say("consent.guardian", YES, NO, name=youth_name)
        return Transition(
            _state(Step.GUARDIAN, youth=youth_id, youth_name=youth_name), (*before, reply)
        )

    def _status_or_explain(self, ctx: StepContext) -> Transition:
        """/samtycke: what the person agreed to, and how to change it."""
        if ctx.actor.role not in CONSENTING_ROLES:
            return Transition(GATE_PASSED, (say("consent.at_work"),))
        status = self._status(ctx)
        if status.bot is not True:
            # Someone who left the case is not asked to say yes to it again.
            return self._rights() if ctx.actor.former else self._explain(ctx)
        requests = self._requests(ctx)
        if requests:
            # The notice told the caregiver to answer with /samtycke: the child comes first.
            return self._guardian(requests[0].youth_person_id, requests[0].youth_name)
        choices = [Choice("withdraw", "consent.status.withdraw")]
        if ctx.actor.role in SIP_ROLES and not ctx.actor.former:
            choices.insert(0, Choice("sip", "consent.status.sip"))
            # Samtycke till informationsutbyte per organisation, withdrawable one by one.
            choices.insert(1, Choice("exchange", "sharing.exchange.open"))
        children = self._children(ctx)
        for child in children:
            # A yes in force can be taken back; a no (or a yes taken back) can become a yes.
            action, label = (
                (CHILD_WITHDRAW, "consent.status.child_withdraw")
                if child.given is True
                else (CHILD_GIVE, "consent.status.child_give")
            )
            choices.append(
                Choice(f"{action}{child.youth_person_id}", label, {"name": child.youth_name})
            )
        choices.append(Choice("back", "common.back"))
        reply = say(
            "consent.status",
            *choices,
            sip=status.sip,
            waiting=status.under_age_limit is True and status.guardian is not True,
            children=[{"name": c.youth_name, "given": c.given is True} for c in children],
        )
        return Transition(_state(Step.STATUS), (reply,))

    def _exchange(self, ctx: StepContext, *before: Reply) -> Transition:
        """Each organisation of the case, with whether it may read what the person shares."""
        consents = ctx.ports.sharing.exchange_consents(ctx.actor.person_id, ctx.actor.case_id)
        choices = [
            Choice(
                f"{EXCHANGE_TOGGLE}{c.organisation_id}",
                "sharing.exchange.org_yes" if c.in_effect else "sharing.exchange.org_no",
                {"name": c.name},
            )
            for c in consents
        ]
        reply = say("sharing.exchange", *choices, Choice("back", "sharing.choice.done"))
        return Transition(_state(Step.EXCHANGE), (*before, reply))

    def _on_exchange(self, event: Event, ctx: StepContext) -> Transition:
        """Withdraws or gives the consent for the tapped organisation; at once."""
        choice = _choice(event) or ""
        if choice.startswith(EXCHANGE_TOGGLE) and choice[len(EXCHANGE_TOGGLE) :].isdigit():
            org = int(choice[len(EXCHANGE_TOGGLE) :])
            sharing = ctx.ports.sharing
            current = {
                c.organisation_id: c.in_effect
                for c in sharing.exchange_consents(ctx.actor.person_id, ctx.actor.case_id)
            }
            if org in current:
                given = not current[org]
                sharing.set_exchange_consent(
                    ctx.actor.person_id, ctx.actor.case_id, org, given, ctx.now
                )
                saved = "sharing.exchange.given" if given else "sharing.exchange.withdrawn"
                return self._exchange(ctx, say(saved))
            return self._exchange(ctx)
        return self._status_or_explain(ctx)

    def _withdrawn_offer(self, *before: Reply) -> Transition:
        """After a withdrawal: offers to erase everything."""
        reply = say(
            "consent.withdrawn.offer",
            Choice("forget", "consent.withdrawn.forget"),
            Choice("keep", "consent.withdrawn.keep"),
        )
        return Transition(_state(Step.WITHDRAWN), (*before, reply))

    def _export(self, ctx: StepContext) -> Transition:
        """/minadata: a readable summary, with everything as a JSON file."""
        summary = ctx.ports.privacy.data_summary(ctx.actor.person_id)
        reply = Reply(
            "privacy.export",
            params={
                "kinds": {kind: n for kind, n in summary.counts if n},
                "total": summary.total,
            },
            attachment=Attachment("personal_data", {"person_id": ctx.actor.person_id}),
        )
        if ctx.actor.former:
            return Transition(_state(Step.RIGHTS), (reply,))
        after = self.start(ctx)
        return Transition(after.state, (reply, *after.replies), after.notices)

    def _forget(self, ctx: StepContext) -> Transition:
        """/glommig: says what will be erased, and asks to be sure."""
        summary = ctx.ports.privacy.data_summary(ctx.actor.person_id)
        reply = say(
            "privacy.forget.confirm",
            Choice("forget_yes", "privacy.forget.yes"),
            Choice("forget_no", "privacy.forget.no"),
            kinds={kind: n for kind, n in summary.counts if n},
        )
        return Transition(_state(Step.FORGET), (reply,))

    # --- handling events -----------------------------------------------------------------

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        if isinstance(event, CommandIssued) and event.command in PRIVACY_COMMANDS:
            return self.enter(event, ctx)
        if event == CommandIssued(Command.MEETING) and self._said_no(ctx):
            return self.enter(event, ctx)
        if ctx.actor.former and Step(state.step) not in FORMER_STEPS:
            # A question asked while they were in the case is not answered for it any more.
            return self.start(ctx)
        match Step(state.step):
            case Step.EXPLAIN | Step.MORE:
                return self._on_explain(state, event, ctx)
            case Step.DECLINED:
                return self._on_declined(event, ctx)
            case Step.ABOUT:
                return self.start(ctx)
            case Step.MEETING:
                return self._meeting(MEETING_INFO.handle(_inner(state), event, ctx), ctx)
            case Step.AGE:
                return self._on_age(event, ctx)
            case Step.WAITING:
                return self.start(ctx)
            case Step.SIP:
                return self._on_sip(event, ctx)
            case Step.GUARDIAN:
                return self._on_guardian(state, event, ctx)
            case Step.STATUS:
                return self._on_status(event, ctx)
            case Step.EXCHANGE:
                return self._on_exchange(event, ctx)
            case Step.WITHDRAWN:
                if _choice(event) == "forget":
                    return self._forget(ctx)
                # Without consent now: declined, or (after leaving the case) the rights.
                return self.start(ctx)
            case Step.FORGET:
                return self._on_forget(event, ctx)
        return self.start(ctx)

    def _on_explain(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Records yes or no (tapped, or typed as a word); anything else is not stored, and the
        question is asked again in a few words: the long explanation is still on screen."""
        match _yes_no(event):
            case "more":
                return self._more()
            case "no":
                self._record(ctx, ConsentScope.BOT, given=False)
                return self._declined(ctx)
            case "yes":
                self._record(ctx, ConsentScope.BOT, given=True)
                if ctx.actor.role is Role.YOUTH and self._status(ctx).under_age_limit is None:
                    return self._age(say("consent.thanks_ask_age"))
                return self._next_after_yes(ctx)
        choices = EXPLAIN_CHOICES if Step(state.step) is Step.EXPLAIN else EXPLAIN_CHOICES[::2]
        return Transition(state, (say("consent.ask_again", *choices),))

    def _on_declined(self, event: Event, ctx: StepContext) -> Transition:
        """Opens the meeting explanation or the meeting info, or asks again; text is dropped."""
        match _choice(event):
            case "again":
                return self._explain(ctx)
            case "about" if ctx.actor.role is Role.YOUTH:
                return self._about()
            case "meeting":
                return self._meeting(MEETING_INFO.start(ctx), ctx)
        return self._declined(ctx)

    def _next_after_yes(self, ctx: StepContext, *before: Reply) -> Transition:
        """Goes on to whatever is still missing, thanking the person."""
        after = self.start(ctx)
        if after.state == GATE_PASSED:
            return Transition(GATE_PASSED, (*before, say("consent.thanks")), after.notices)
        return Transition(after.state, (*before, *after.replies), after.notices)

    def _on_age(self, event: Event, ctx: StepContext) -> Transition:
        """Reads an age or a birth year; stores only whether it is under the limit."""
        if not isinstance(event, TextMessage):
            return self._age(say("consent.age.invalid"))
        age = _age_from(event.text, ctx.now)
        if age is None:
            return self._age(say("consent.age.invalid"))
        under = age < self.age_limit
        ctx.ports.privacy.record_age(ctx.actor.person_id, under, self.age_limit, ctx.now)
        if not under:
            return self._next_after_yes(ctx)
        notices = tuple(
            Notice(
                say("consent.guardian.notice", name=ctx.actor.display_name),
                person_id=caregiver,
                dedup_key=f"guardian-consent:{ctx.actor.case_id}:{ctx.actor.person_id}",
                about=(ctx.actor.person_id,),  # the child's name: erased with the child
            )
            for caregiver in ctx.ports.privacy.caregivers(ctx.actor.case_id)
        )
        waiting = self._waiting(ctx)
        return Transition(waiting.state, waiting.replies, notices)

    def _on_sip(self, event: Event, ctx: StepContext) -> Transition:
        """Records the answer about sharing between agencies."""
        choice = _yes_no(event)
        if choice not in ("yes", "no"):
            return self._sip(ctx, say("consent.choose"))
        self._record(ctx, ConsentScope.SIP, given=choice == "yes")
        return Transition(GATE_PASSED, (say(f"consent.sip.saved_{choice}"),))

    def _on_guardian(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Records a caregiver's answer for a child, and tells the child."""
        youth = int(state.data.get("youth") or 0)
        name = str(state.data.get("youth_name") or "")
        choice = _yes_no(event)
        # Asked for the first time, or asked again from /samtycke after a no.
        waiting = {c.youth_person_id for c in self._children(ctx) if c.given is not True}
        if youth not in waiting:
            return self.start(ctx)
        if choice not in ("yes", "no"):
            return self._guardian(youth, name, say("consent.choose"))
        given = choice == "yes"
        ctx.ports.privacy.record_consent(
            youth,
            ctx.actor.case_id,
            ConsentScope.BOT,
            given,
            TEXT_VERSION,
            ctx.now,
            given_by=ctx.actor.person_id,
        )
        notice = Notice(
            say(f"consent.guardian.told_{choice}"),
            person_id=youth,
            dedup_key=f"guardian-answer:{ctx.actor.case_id}:{youth}:{ctx.now.isoformat()}",
        )
        after = self.start(ctx)
        replies = (say(f"consent.guardian.saved_{choice}", name=name), *after.replies)
        return Transition(after.state, replies, (notice, *after.notices))

    def _on_status(self, event: Event, ctx: StepContext) -> Transition:
        """Changes SIP sharing, withdraws consent (own, or a child's), or goes back."""
        choice = _choice(event) or ""
        if choice.startswith((CHILD_WITHDRAW, CHILD_GIVE)):
            return self._on_child(choice, ctx)
        match choice:
            case "sip":
                return self._sip(ctx)
            case "exchange":
                return self._exchange(ctx)
            case "withdraw":
                stopped = ctx.ports.privacy.withdraw(
                    ctx.actor.person_id, ctx.actor.case_id, ctx.now
                )
                return self._withdrawn_offer(say("consent.withdrawn", stopped=stopped))
            case "back":
                return self.start(ctx)
        return self._status_or_explain(ctx)

    def _on_child(self, choice: str, ctx: StepContext) -> Transition:
        """A caregiver takes back the yes for a child (sharing stops at once), or gives it."""
        prefix, _, person = choice.partition(":")
        children = {str(c.youth_person_id): c for c in self._children(ctx)}
        child = children.get(person)
        if child is None:  # a stale button: the child left, or erased everything
            return self._status_or_explain(ctx)
        if f"{prefix}:" == CHILD_GIVE:
            if child.given is True:
                return self._status_or_explain(ctx)
            return self._guardian(child.youth_person_id, child.youth_name)
        if child.given is not True:
            return self._status_or_explain(ctx)
        stopped = ctx.ports.privacy.withdraw_guardian_consent(
            child.youth_person_id, ctx.actor.case_id, ctx.actor.person_id, ctx.now
        )
        told = Notice(
            say("consent.guardian.told_withdrawn"),
            person_id=child.youth_person_id,
            dedup_key=(
                f"guardian-withdrawn:{ctx.actor.case_id}:{child.youth_person_id}:"
                f"{ctx.now.isoformat()}"
            ),
        )
        reply = say("consent.guardian.withdrawn", name=child.youth_name, stopped=stopped)
        return Transition(GATE_PASSED, (reply,), (told,))

    def _on_forget(self, event: Event, ctx: StepContext) -> Transition:
        """Erases everything after a clear yes; anything else keeps it all."""
        if _choice(event) != "forget_yes":
            kept = self.start(ctx)
            return Transition(kept.state, (say("privacy.forget.kept"), *kept.replies), kept.notices)
        removed = ctx.ports.privacy.erase(ctx.actor.person_id, ctx.now)
        reply = say(
            "privacy.forgotten",
            kinds={kind: n for kind, n in removed.counts if n},
            total=removed.total,
        )
        return Transition(FORGOTTEN, (reply,))

    # --- helpers -------------------------------------------------------------------------

    def _status(self, ctx: StepContext) -> ConsentStatus:
        """This person's consents in this case."""
        return ctx.ports.privacy.consent(ctx.actor.person_id, ctx.actor.case_id)

    def _said_no(self, ctx: StepContext) -> bool:
        """True when the person's own answer in force is no (said no, or took a yes back)."""
        return ctx.actor.role in CONSENTING_ROLES and self._status(ctx).bot is False

    def _requests(self, ctx: StepContext) -> tuple[GuardianRequest, ...]:
        """Children waiting for this caregiver (none for other roles)."""
        if ctx.actor.role is not Role.CAREGIVER:
            return ()
        return ctx.ports.privacy.guardian_requests(ctx.actor.person_id, ctx.actor.case_id)

    def _children(self, ctx: StepContext) -> tuple[GuardianConsent, ...]:
        """Children under the age limit this caregiver answers for (none for other roles)."""
        if ctx.actor.role is not Role.CAREGIVER:
            return ()
        return ctx.ports.privacy.guardian_consents(ctx.actor.person_id, ctx.actor.case_id)

    def _record(self, ctx: StepContext, scope: ConsentScope, *, given: bool) -> None:
        """Records the person's own answer against this text version."""
        ctx.ports.privacy.record_consent(
            ctx.actor.person_id, ctx.actor.case_id, scope, given, TEXT_VERSION, ctx.now
        )


def _age_from(text: str, now: datetime) -> int | None:
    """An age ("14", "14 år") or a birth year ("2012"), or None when it is neither."""
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if not digits or len(digits) > 4 or len(text.strip()) > 20:
        return None
    number = int(digits)
    # A birth year: the age they turn this year, which errs towards "younger" (safer).
    age = now.year - number if len(digits) == 4 else number
    return age if YOUNGEST <= age <= OLDEST else None


def _inner(state: FlowState) -> FlowState:
    """The meeting info's own state, kept in this flow's MEETING step."""
    step = str(state.data.get("inner") or meeting_info.Step.SHOWN.value)
    return FlowState(meeting_info.FLOW_NAME, step)


def _yes_no(event: Event) -> str | None:
    """The choice made, or "yes"/"no" for a typed yes or no word; None for anything else."""
    if isinstance(event, TextMessage):
        typed = same_label(event.text.strip(" .!?,"))
        if typed in TYPED_YES:
            return "yes"
        if typed in TYPED_NO:
            return "no"
    return _choice(event)


def _choice(event: Event) -> str | None:
    """The id of the choice made, or None for any other event."""
    return event.choice_id if isinstance(event, ChoiceMade) else None
