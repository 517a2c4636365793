"""What an answer link does: shows what will happen (GET), and applies it once (POST).

A status answer goes through the very dialog a tap in chat goes through
(flows/action_status.py `StatusDialog`): the same events a chat sends ("s:done", the reason
as text, "skip" for the note), on the same ports, so the same rules hold — the access gate
decides in `record_update` whether this person may report on the action, one history entry
is written, and the family and the coordinators are told as after a tap. The link's nonce is
recorded in that same transaction, so a second use of the link finds it and changes nothing.

Joining goes through the chat's own path: a `JoinWithCode` event for the person's e-mail
conversation, handed to the pipeline like a `/start CODE`, with the nonce as the inbox id.

GET never changes anything (mail scanners open links to look at them); nothing is logged
but the kind of answer and the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, is_right_to_left
from bot.clock import Clock, system_clock
from bot.email import PLATFORM
from bot.email.links import LinkAnswer, LinkClaim, LinkRefused, LinkSigner
from flows.action_status import StatusDialog, StatusStep, action_params
from flows.conversation import (
    ChoiceMade,
    ConversationRef,
    Event,
    Inbound,
    JoinWithCode,
    TextMessage,
    clean_event,
)
from flows.coordination import ActionItem
from flows.engine import FlowState, StepContext, Transition
from flows.replies import Reply, say
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

EMAIL_PLATFORM = PLATFORM  # the connector's platform: one name for e-mail conversations
# The status dialog's flow name while a link drives it; no conversation state is stored.
LINK_FLOW = "email_link"
_ENDED = "ended"
# The answers that report on a plan action, and the chat's choice for each.
STATUS_CHOICES = {
    LinkAnswer.DONE: "s:done",
    LinkAnswer.IN_PROGRESS: "s:in_progress",
    LinkAnswer.BLOCKED: "s:blocked",
    LinkAnswer.NEW_DATE: "s:new_date",
}
# The form field that carries the one thing an answer asks for.
REASON_FIELD = "reason"
DATE_FIELD = "date"


class PageKind(StrEnum):
    """Which page an answer link shows."""

    CONFIRM = "confirm"
    REASON = "reason"
    DATE = "date"
    JOIN = "join"
    SWITCH = "switch"
    # The person is in a chat already: the reminders can come there only (a button stops e-mail).
    STOP_EMAIL = "stop_email"
    EMAIL_STOPPED = "email_stopped"
    SAVED = "saved"
    JOINED = "joined"
    JOIN_FAILED = "join_failed"
    USED = "used"
    EXPIRED = "expired"
    FORGED = "forged"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AnswerPage:
    """What to show: the kind of page, its HTTP status, the language, and catalogue texts."""

    kind: PageKind
    status: int
    locale: str
    answer: LinkAnswer | None = None
    # Catalogue replies to show, rendered by the page (the action, what was saved, why not).
    replies: tuple[Reply, ...] = ()
    # Why the form was not accepted (the flow's own words), shown above it.
    errors: tuple[Reply, ...] = ()
    # What was typed, given back in the form after an error.
    value: str = ""
    today: date | None = None

    @property
    def right_to_left(self) -> bool:
        """True when the page's language is written right to left."""
        return is_right_to_left(self.locale)


Submit = Callable[[Inbound], Awaitable[None]]


def email_ref(person_id: int) -> ConversationRef:
    """The e-mail conversation of a person (their private chat, by person id)."""
    user = str(person_id)
    return ConversationRef(EMAIL_PLATFORM, user, user)


class LinkAnswers:
    """Reads answer links and applies them, each in one transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        signer: LinkSigner,
        catalogue: Catalogue,
        *,
        submit: Submit | None = None,
        clock: Clock = system_clock,
        ref_for: Callable[[int], ConversationRef] = email_ref,
    ) -> None:
        self._sessions = sessions
        self._signer = signer
        self._catalogue = catalogue
        # How a join reaches the flows: the pipeline's submit, as a chat's `/start CODE`.
        self._submit = submit
        self._clock = clock
        self._ref_for = ref_for
        self._timezone: ZoneInfo = catalogue.timezone
        self._default = catalogue.default_locale

    async def show(self, token: str) -> AnswerPage:
        """The page a GET shows; it never changes anything."""
        return await asyncio.to_thread(self._show, token)

    async def answer(self, token: str, form: Mapping[str, str]) -> AnswerPage:
        """Applies the link's answer once (POST) and says what happened."""
        now = self._clock()
        claim = self._read(token, now)
        if isinstance(claim, AnswerPage):
            return claim
        if claim.answer is LinkAnswer.JOIN:
            page = await self._join(claim, now)
        elif claim.answer is LinkAnswer.SWITCH_TO_CHAT:
            page = await asyncio.to_thread(self._stop_email, claim, token, now)
        else:
            page = await asyncio.to_thread(self._apply_status, claim, form, now)
        log.info("answer link %s: %s", claim.answer.value, page.kind.value)
        return page

    def _read(self, token: str, now: datetime) -> LinkClaim | AnswerPage:
        """The link's claim, or the page that refuses it."""
        try:
            return self._signer.read(token, now)
        except LinkRefused as refused:
            log.info("answer link refused: %s", refused.reason)
            if refused.reason == "expired":
                return AnswerPage(PageKind.EXPIRED, 410, self._default)
            return AnswerPage(PageKind.FORGED, 403, self._default)

    def _show(self, token: str) -> AnswerPage:
        """Reads the link and what it is about, in a transaction that is never committed."""
        now = self._clock()
        claim = self._read(token, now)
        if isinstance(claim, AnswerPage):
            return claim
        with UnitOfWork(self._sessions) as uow:
            locale = self._locale(uow, claim)
            if uow.link_nonces.is_used(claim.nonce):
                return AnswerPage(PageKind.USED, 410, locale, claim.answer)
            if claim.answer is LinkAnswer.JOIN:
                return AnswerPage(PageKind.JOIN, 200, locale, claim.answer)
            if claim.answer is LinkAnswer.SWITCH_TO_CHAT:
                in_chat = uow.email.has_chat(claim.person_id)
                kind = PageKind.STOP_EMAIL if in_chat else PageKind.SWITCH
                return AnswerPage(kind, 200, locale, claim.answer)
            found = self._action(uow, claim)
            if isinstance(found, AnswerPage):
                return found
            kind = {
                LinkAnswer.BLOCKED: PageKind.REASON,
                LinkAnswer.NEW_DATE: PageKind.DATE,
            }.get(claim.answer, PageKind.CONFIRM)
            today = now.astimezone(self._timezone).date()
            shown = (_shown(found),)
            return AnswerPage(kind, 200, locale, claim.answer, shown, today=today)

    def _stop_email(self, claim: LinkClaim, token: str, now: datetime) -> AnswerPage:
        """Stops e-mail for a person reached in a chat too, once; otherwise today's page."""
        try:
            with UnitOfWork(self._sessions) as uow:
                locale = self._locale(uow, claim)
                if uow.link_nonces.is_used(claim.nonce):
                    return AnswerPage(PageKind.USED, 410, locale, claim.answer)
                if not uow.email.has_chat(claim.person_id):
                    # Without a chat, stopping e-mail would leave the person unreachable.
                    return AnswerPage(PageKind.SWITCH, 200, locale, claim.answer)
                uow.email.remove_for_person(claim.person_id)
                uow.link_nonces.use(claim.nonce, now, claim.expires_at)
                uow.commit()
                return AnswerPage(PageKind.EMAIL_STOPPED, 200, locale, claim.answer)
        except IntegrityError:
            # The same link answered at the same moment elsewhere: that answer counts.
            return AnswerPage(PageKind.USED, 410, self._locale_by_id(claim), claim.answer)

    def _action(self, uow: UnitOfWork, claim: LinkClaim) -> ActionItem | AnswerPage:
        """The action if the person may see and report on it (the gate decides), or the page
        saying no."""
        locale = self._locale(uow, claim)
        port = uow.coordination
        action = port.action(claim.action_id or 0, claim.person_id)
        if action is None or action.status.is_closed:
            return AnswerPage(PageKind.REFUSED, 410, locale, claim.answer, (say("status.gone"),))
        if not port.may_update(action.id, claim.person_id):
            refusal = (say("status.not_yours"),)
            return AnswerPage(PageKind.REFUSED, 403, locale, claim.answer, refusal)
        return action

    def _apply_status(self, claim: LinkClaim, form: Mapping[str, str], now: datetime) -> AnswerPage:
        """Drives the chat's status dialog with the link's answer, in one transaction."""
        try:
            with UnitOfWork(self._sessions) as uow:
                page = self._status_step(uow, claim, form, now)
                if page.kind is PageKind.SAVED:
                    uow.link_nonces.use(claim.nonce, now, claim.expires_at)
                    uow.commit()
                return page
        except IntegrityError:
            # The same link answered at the same moment elsewhere: that answer counts.
            with UnitOfWork(self._sessions) as uow:
                locale = self._locale(uow, claim)
            return AnswerPage(PageKind.USED, 410, locale, claim.answer)

    def _status_step(
        self, uow: UnitOfWork, claim: LinkClaim, form: Mapping[str, str], now: datetime
    ) -> AnswerPage:
        """Walks the dialog: the pick, the reason or date if asked, and no note."""
        locale = self._locale(uow, claim)
        if uow.link_nonces.is_used(claim.nonce):
            return AnswerPage(PageKind.USED, 410, locale, claim.answer)
        found = self._action(uow, claim)
        if isinstance(found, AnswerPage):
            return found
        shown = (_shown(found),)
        actor = uow.link_nonces.actor_in_case(claim.person_id, found.case_id)
        if actor is None:
            return AnswerPage(PageKind.REFUSED, 403, locale, claim.answer, (say("status.gone"),))
        key = uow.email.key_for_person(claim.person_id)
        ref = (
            ConversationRef(EMAIL_PLATFORM, key, key)
            if key is not None
            else self._ref_for(claim.person_id)
        )
        ctx = StepContext(ref, now, actor, uow)
        dialog = StatusDialog(LINK_FLOW, self._timezone)
        state = FlowState(LINK_FLOW, StatusStep.PICK.value, {"action_id": claim.action_id})
        typed = _typed(claim.answer, form)
        events: list[Event] = [ChoiceMade(STATUS_CHOICES[claim.answer])]
        if typed is not None:
            events.append(clean_event(TextMessage(typed)))
        events.append(ChoiceMade("skip"))
        kind = {LinkAnswer.BLOCKED: PageKind.REASON, LinkAnswer.NEW_DATE: PageKind.DATE}.get(
            claim.answer, PageKind.CONFIRM
        )
        today = now.astimezone(self._timezone).date()
        for event in events:
            transition = dialog.handle(state, event, ctx, _ended)
            if transition.state.step == _ENDED:
                return self._ended(uow, transition, claim, locale, now)
            if transition.state.step == state.step:
                # The dialog asked again: what was typed is not accepted, and it said why.
                errors = transition.replies[:-1] or (say("common.need_text"),)
                value = typed or ""
                return AnswerPage(kind, 400, locale, claim.answer, shown, errors, value, today)
            state = transition.state
        # The dialog always ends on "skip"; should it not, nothing is saved.
        return AnswerPage(kind, 400, locale, claim.answer, shown, today=today)

    def _ended(
        self,
        uow: UnitOfWork,
        transition: Transition,
        claim: LinkClaim,
        locale: str,
        now: datetime,
    ) -> AnswerPage:
        """Saved (the notices go out as after a tap), or the dialog's reason it could not be."""
        saved = any(reply.message == "status.saved" for reply in transition.replies)
        if not saved:
            return AnswerPage(PageKind.REFUSED, 403, locale, claim.answer, transition.replies)
        for notice in transition.notices:
            uow.outbox.enqueue_notice(notice, now, self._default)
        return AnswerPage(PageKind.SAVED, 200, locale, claim.answer, transition.replies)

    async def _join(self, claim: LinkClaim, now: datetime) -> AnswerPage:
        """Joins as a `/start CODE` in the person's e-mail conversation would."""
        first = await asyncio.to_thread(self._join_check, claim)
        if first is not None:
            return first
        ref = await asyncio.to_thread(self._join_ref, claim)
        if self._submit is None or not claim.invite:
            return AnswerPage(PageKind.JOIN_FAILED, 409, self._locale_by_id(claim), claim.answer)
        # The nonce is the inbox id: a second answer of this link is a replay, handled once.
        await self._submit(Inbound(ref, JoinWithCode(claim.invite), f"link:{claim.nonce}"))
        return await asyncio.to_thread(self._join_done, claim, ref, now)

    def _join_ref(self, claim: LinkClaim) -> ConversationRef:
        """The e-mail conversation the invite was sent to (its chat key), so the addresses the
        connector keeps belong to the person who joins; by person id when there is none."""
        with UnitOfWork(self._sessions) as uow:
            key = uow.email.key_for_invite(claim.invite) if claim.invite else None
        if key is None:
            return self._ref_for(claim.person_id)
        return ConversationRef(EMAIL_PLATFORM, key, key)

    def _join_check(self, claim: LinkClaim) -> AnswerPage | None:
        """The page for a join link already used, or None."""
        with UnitOfWork(self._sessions) as uow:
            if uow.link_nonces.is_used(claim.nonce):
                return AnswerPage(PageKind.USED, 410, self._locale(uow, claim), claim.answer)
        return None

    def _join_done(self, claim: LinkClaim, ref: ConversationRef, now: datetime) -> AnswerPage:
        """Records the link as used and says whether the person is now a member."""
        with UnitOfWork(self._sessions) as uow:
            actor = uow.members.actor_for(ref)
            locale = actor.locale if actor is not None else self._locale(uow, claim)
            try:
                uow.link_nonces.use(claim.nonce, now, claim.expires_at)
                uow.commit()
            except IntegrityError:
                uow.session.rollback()
        if actor is None:
            return AnswerPage(PageKind.JOIN_FAILED, 409, locale, claim.answer)
        return AnswerPage(PageKind.JOINED, 200, locale, claim.answer)

    def _locale(self, uow: UnitOfWork, claim: LinkClaim) -> str:
        """The person's language, or the default one."""
        return uow.link_nonces.locale_of(claim.person_id) or self._default

    def _locale_by_id(self, claim: LinkClaim) -> str:
        """The person's language, in a transaction of its own."""
        with UnitOfWork(self._sessions) as uow:
            return self._locale(uow, claim)


def _shown(action: ActionItem) -> Reply:
    """The action as the page names it (what a tap in chat shows above its buttons)."""
    return say("email_links.action", **action_params(action))


def _ended(ctx: StepContext, replies: tuple[Reply, ...]) -> Transition:
    """Where the status dialog hands back: the link's answer is over."""
    return Transition(FlowState(LINK_FLOW, _ENDED), replies)


def _typed(answer: LinkAnswer, form: Mapping[str, str]) -> str | None:
    """What the form carries for this answer: the reason, the date, or nothing."""
    if answer is LinkAnswer.BLOCKED:
        return form.get(REASON_FIELD, "")
    if answer is LinkAnswer.NEW_DATE:
        return form.get(DATE_FIELD, "")
    return None
