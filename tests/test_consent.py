"""Consent comes first: explained honestly, nothing personal kept before a yes, caregivers for
children under the age limit, SIP sharing asked apart, withdrawal stops sharing at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from flows.replies import Choice, say
from storage import models as m
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import SeededCase, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> SeededCase:
    """A case with a meeting next week and invites for Alex and Kim."""
    return seed_case(sessions, clock.now)


def chat(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, ref: ConversationRef
) -> Chat:
    """A private chat of one user."""
    return Chat(sessions, catalogue, clock, ref, auto_consent=False)


def consents(sessions: sessionmaker[Session]) -> list[tuple[str, bool, bool]]:
    """(scope, given, given by someone else) of every consent row, oldest first."""
    with UnitOfWork(sessions) as uow:
        rows = uow.session.scalars(select(m.Consent).order_by(m.Consent.id))
        return [(r.scope, r.given, r.given_by_id is not None) for r in rows]


def test_first_contact_explains_honestly_before_anything_else(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    assert alex.ids() == ["join.joined", "consent.explain"]
    text = alex.text()
    for promise in (
        "Jag är en chattbot",
        "Kommunen som bjöd in dig driver mig",
        "det du skriver ser bara du",
        "Dina föräldrar ser inte det du inte delar",
        "krypterat",
        "raderas när ärendet har varit stängt",
        "/samtycke",
    ):
        assert promise in text
    assert alex.choices() == ["Ja, det är okej", "Berätta mer", "Nej tack", "Språk / Language"]
    alex.choose("Berätta mer")
    assert "/minadata" in alex.text() and "/glommig" in alex.text()


def test_telegram_users_are_told_it_is_not_end_to_end_encrypted(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    tg = Chat(
        sessions, catalogue, clock, ConversationRef("telegram", "42", "42"), auto_consent=False
    )
    tg._transport.platform = "telegram"  # the recording transport stands in for Telegram
    tg._deliverer._transports = {"telegram": tg._transport}
    tg.send(f"/start {case.youth_code}")
    assert "inte krypterade hela vägen" in tg.text()


def test_nothing_personal_is_stored_before_consent(
    tmp_path: Path, catalogue: Catalogue, clock: FakeClock
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'consent.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    case = seed_case(sessions, clock.now)
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    secret = "JagMårDåligtHemmaZQX"
    alex.send(secret)
    assert alex.ids() == ["consent.ask_again"]
    # Typed instead of tapped, the button's words are that choice (flows/choice_reading.py).
    alex.send("nej TACK")
    assert alex.ids() == ["consent.declined"]
    alex.send(f"Kan jag fråga om {secret}?")
    assert alex.said("consent.declined")
    with UnitOfWork(sessions) as uow:
        for model in (m.Question, m.View, m.Preference, m.AgeStatement):
            assert uow.session.scalar(select(func.count()).select_from(model)) == 0
    assert consents(sessions) == [("bot", False, False)]
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert secret.encode() not in raw and "JagMår".encode() not in raw


def test_a_young_person_over_the_age_limit_consents_alone_and_sip_is_asked_apart(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("fjorton")
    assert alex.ids() == ["consent.age.invalid", "consent.age"]
    alex.send("2012")  # a birth year works too: 14 in 2026
    assert alex.ids() == ["consent.sip"]
    alex.choose("Nej, bara den som håller i mötet")
    assert alex.ids() == ["consent.sip.saved_no", "youth.menu"]
    assert consents(sessions) == [("bot", True, False), ("sip", False, False)]
    with UnitOfWork(sessions) as uow:
        (row,) = uow.session.scalars(select(m.AgeStatement))
        assert (row.under_limit, row.age_limit) == (False, 13)


def test_under_13_needs_a_caregiver_who_confirms_in_their_own_chat(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("11")
    assert alex.ids() == ["consent.waiting"]
    assert "Ingen förälder är med här än" in alex.text()
    alex.send("Får jag skriva nu?")
    assert alex.ids() == ["consent.waiting"]
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.Question)) == 0

    kim = chat(sessions, catalogue, clock, KIM)
    kim.send(f"/start {case.caregiver_code}")
    assert kim.ids() == ["join.joined", "consent.explain"]
    assert "Dina föräldrar" not in kim.text()  # the caregiver's own explanation
    kim.choose("Ja, det är okej")
    assert kim.ids() == ["consent.guardian"]
    assert "Alex" in kim.text()
    kim.choose("Ja")
    assert kim.ids() == ["consent.guardian.saved_yes", "consent.sip"]
    kim.choose("Ja, alla får se")
    assert kim.ids()[0] == "consent.sip.saved_yes"  # then the adults' own flow

    alex.receive()
    assert alex.ids() == ["consent.guardian.told_yes"]
    alex.choose("Har de svarat?")
    assert alex.ids() == ["consent.sip"]
    alex.choose("Ja, alla får se")
    assert alex.said("youth.menu")
    assert consents(sessions) == [
        ("bot", True, False),
        ("bot", True, False),
        ("bot", True, True),
        ("sip", True, False),
        ("sip", True, False),
    ]


def test_a_caregiver_already_in_the_case_is_told_and_answers_with_samtycke(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    kim = chat(sessions, catalogue, clock, KIM)
    kim.send(f"/start {case.caregiver_code}")
    kim.choose("Ja, det är okej")
    kim.choose("Nej, bara den som håller i mötet")
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("10")
    assert "Jag har frågat din förälder" in alex.text()
    with UnitOfWork(sessions) as uow:
        sent_to_kim = uow.session.scalars(
            select(m.Outbox.message_id).where(m.Outbox.chat_id == "kim").order_by(m.Outbox.id)
        ).all()
    assert sent_to_kim[-1] == "consent.guardian.notice"
    kim.receive()
    kim.send("/samtycke")
    assert kim.ids() == ["consent.guardian"]
    kim.choose("Nej")
    assert kim.said("consent.guardian.saved_no")
    alex.send("hallå?")
    # Alex hears Kim's answer first (it was waiting for Alex), then where things stand.
    assert alex.ids() == ["consent.guardian.told_no", "consent.waiting"]


def test_withdrawal_stops_sharing_at_once_and_offers_erasure(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("15")
    alex.choose("Ja, alla får se")
    alex.choose("Mina frågor")
    alex.send("Varför byter jag skola?")
    alex.send("/meny")
    alex.choose("Välj vad du delar")
    alex.choose("Varför byter jag skola?")
    with UnitOfWork(sessions) as uow:
        assert len(uow.agenda.agenda(case.case_id, clock.now).contributions) == 1

    alex.send("/samtycke")
    assert alex.ids() == ["consent.status"]
    alex.choose("Ta tillbaka mitt ja")
    assert alex.ids() == ["consent.withdrawn", "consent.withdrawn.offer"]
    assert "(1 st.)" in alex.text()
    with UnitOfWork(sessions) as uow:
        assert uow.agenda.agenda(case.case_id, clock.now).contributions == ()
    alex.choose("Nej, spara det")
    assert alex.ids() == ["consent.declined"]
    alex.send("/meny")  # the role's flow stays closed without consent
    assert alex.ids() == ["consent.declined"]
    alex.choose("Jag har ändrat mig")
    alex.choose("Ja, det är okej")
    assert alex.said("youth.menu")  # age and SIP answers are kept; nothing re-shared


def test_a_caregiver_takes_back_the_yes_for_a_child_and_the_childs_sharing_stops_at_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    # Alex is 11: Kim says yes for Alex, and Alex shares a question with the meeting.
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("11")
    kim = chat(sessions, catalogue, clock, KIM)
    kim.send(f"/start {case.caregiver_code}")
    kim.choose("Ja, det är okej")
    kim.choose("Ja")
    kim.choose("Ja, alla får se")
    alex.receive()
    alex.choose("Har de svarat?")
    alex.choose("Ja, alla får se")
    alex.choose("Mina frågor")
    alex.send("Varför byter jag skola?")
    alex.send("/meny")
    alex.choose("Välj vad du delar")
    alex.choose("Varför byter jag skola?")
    with UnitOfWork(sessions) as uow:
        assert len(uow.agenda.agenda(case.case_id, clock.now).contributions) == 1
        alex_id = uow.members.actor_for(ALEX).person_id  # type: ignore[union-attr]
        kim_id = uow.members.actor_for(KIM).person_id  # type: ignore[union-attr]

    # A few days later Kim sees the yes for Alex under /samtycke and takes it back.
    clock.advance(days=3)
    kim.send("/samtycke")
    assert kim.ids() == ["consent.status"]
    assert "En vårdnadshavare har sagt ja till att Alex använder boten" in kim.text()
    kim.choose("Ta tillbaka ja:et för Alex")
    assert kim.ids()[0] == "consent.guardian.withdrawn"
    told = kim.turn[0].rendered.text
    assert "ingen annan i ärendet det Alex har delat (1 st.)" in told
    assert "Du kan inte radera det" in told and "/glommig" in told
    # Alex's words are Alex's: the caregiver is not offered to erase them.
    assert not [c for c in kim.choices() if "adera" in c]

    # At once: nothing of Alex's is on the agenda, even if an item were still marked shared.
    with UnitOfWork(sessions) as uow:
        assert uow.agenda.agenda(case.case_id, clock.now).contributions == ()
        question = uow.session.scalars(select(m.Question)).one()
        assert question.shared is False
        question.shared = True  # the gate's consent rule alone must keep it off the agenda
        uow.session.flush()
        assert uow.agenda.agenda(case.case_id, clock.now).contributions == ()
        audit = uow.session.scalars(
            select(m.AuditEvent).where(m.AuditEvent.action == "guardian_consent_withdrawn")
        ).one()
        assert (audit.actor_person_id, audit.object_id) == (kim_id, alex_id)

    # Alex is told in plain words, and cannot use the bot until a caregiver says yes again.
    alex.receive()
    assert alex.ids() == ["consent.guardian.told_withdrawn"]
    assert "Din vuxna har tagit tillbaka sitt ja" in alex.text()
    alex.send("hej")
    assert alex.ids() == ["consent.waiting"]
    assert "Din vuxna har inte sagt ja just nu" in alex.text()
    assert "Jag har frågat din förälder" not in alex.text()

    # The next day Kim changes their mind: the yes is given again from /samtycke.
    clock.advance(days=1)
    kim.send("/samtycke")
    kim.choose("Säg ja för Alex")
    assert kim.ids() == ["consent.guardian"]
    kim.choose("Ja")
    assert kim.ids()[0] == "consent.guardian.saved_yes"
    alex.receive()
    assert alex.ids() == ["consent.guardian.told_yes"]
    alex.send("hej")
    assert alex.said("youth.menu")
    with UnitOfWork(sessions) as uow:  # nothing is re-shared behind Alex's back
        assert uow.agenda.agenda(case.case_id, clock.now).contributions == ()


def test_only_a_caregiver_of_the_case_can_take_back_a_childs_yes(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    from storage.access import AccessDenied

    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("11")
    kim = chat(sessions, catalogue, clock, KIM)
    kim.send(f"/start {case.caregiver_code}")
    kim.choose("Ja, det är okej")
    kim.choose("Ja")
    with UnitOfWork(sessions) as uow:
        alex_id = uow.members.actor_for(ALEX).person_id  # type: ignore[union-attr]
        assert uow.privacy.guardian_consents(alex_id, case.case_id) == ()
        with pytest.raises(AccessDenied):
            uow.privacy.withdraw_guardian_consent(alex_id, case.case_id, alex_id, clock.now)
    alex.send("/samtycke")  # the child's own screen has no caregiver buttons
    assert not [c for c in alex.choices() if "Alex" in c]


def test_privacy_commands_are_ascii_for_telegram() -> None:
    from flows.conversation import COMMAND_ALIASES, Command

    for command in (Command.CONSENT, Command.MY_DATA, Command.FORGET):
        names = [n for n, c in COMMAND_ALIASES.items() if c is command]
        assert any(n.isascii() and n.replace("_", "").isalnum() for n in names), command


def test_consent_is_per_engine_configurable(engine: Engine) -> None:
    from flows.consent import ConsentFlow
    from flows.wiring import default_engine

    assert default_engine(consent_age=15)._gate == ConsentFlow(age_limit=15)


def test_the_engine_runs_consent_between_joining_and_the_role_flow_on_pure_ports() -> None:
    from datetime import UTC, datetime

    from flows.conversation import parse_text
    from flows.domain import Role as R
    from flows.engine import FlowState
    from flows.wiring import default_engine
    from testkit.memory import MemoryPorts, World

    ports = MemoryPorts(World(assume_consent=False))
    ports.world.invite("KOD", ports.world.case().id, R.YOUTH, "Alex")
    engine, now, ref = default_engine(), datetime(2026, 11, 23, tzinfo=UTC), ALEX
    state: FlowState | None = None

    def send(text: str) -> list[str]:
        nonlocal state
        transition = engine.step(state, parse_text(text), ref=ref, now=now, ports=ports)
        state = transition.state
        return [r.message for r in transition.replies]

    assert send("/start KOD") == ["join.joined", "consent.explain"]
    assert send("/meny") == ["consent.explain"]  # no way round it
    assert send("1") == ["consent.thanks_ask_age", "consent.age"]
    assert send("16") == ["consent.sip"]
    assert send("2") == ["consent.sip.saved_no", "youth.menu"]
    assert send("/samtycke") == ["consent.status"]
    assert send("/meny") == ["youth.menu"]  # with consent, /meny leaves the consent screen


def test_the_explanation_names_the_operator_from_the_config(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: SeededCase,
    tmp_path: Path,
) -> None:
    from bot.catalogue import TextFormat
    from bot.config import load_config
    from flows.wiring import default_engine

    path = tmp_path / "config.toml"
    path.write_text('[privacy]\noperator_name = "  Exempelstads   kommun "\n')
    operator = load_config(path, environ={}).privacy.operator_name
    assert operator == "Exempelstads kommun"

    alex = Chat(
        sessions,
        catalogue,
        clock,
        ALEX,
        engine=default_engine(operator=operator),
        auto_consent=False,
    )
    alex.send(f"/start {case.youth_code}")
    assert "Exempelstads kommun driver mig" in alex.text()
    assert "krypterat) hos Exempelstads kommun" in alex.text()
    assert "Kommunen som bjöd in dig" not in alex.text()
    alex.choose("Berätta mer")
    assert "Exempelstads kommun driver mig och ansvarar för det jag sparar" in alex.text()

    # The same name in English; without a name, the generic words in both languages.
    english = catalogue.render(
        "consent.explain", {"role": "youth", "platform": "x", "operator": operator}, "en"
    )
    assert "Exempelstads kommun runs me" in english
    assert "at Exempelstads kommun" in english
    generic = {"role": "youth", "platform": "x", "operator": ""}
    assert "The municipality that invited you runs me" in catalogue.render(
        "consent.explain", generic, "en", TextFormat.PLAIN
    )
    assert "Kommunen som bjöd in dig driver mig" in catalogue.render(
        "consent.explain", generic, "sv", TextFormat.PLAIN
    )


@pytest.mark.parametrize("value", ['"x\\ny"', "42", '"' + "k" * 81 + '"'])
def test_a_bad_operator_name_is_named_in_the_error(tmp_path: Path, value: str) -> None:
    from bot.config import ConfigError, load_config

    assert load_config(None, environ={}).privacy.operator_name == ""  # the generic words
    path = tmp_path / "config.toml"
    path.write_text(f"[privacy]\noperator_name = {value}\n")
    with pytest.raises(ConfigError, match="operator_name"):
        load_config(path, environ={})


def test_a_reminders_button_waits_until_the_consent_question_is_answered(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    assert alex.choices() == ["Ja, det är okej", "Berätta mer", "Nej tack", "Språk / Language"]
    # A reminder with a button reached Alex's chat before Alex answered (its choices are
    # then the ones a typed number means).
    with UnitOfWork(sessions) as uow:
        (row,) = uow.outbox.enqueue(
            PLATFORM, ALEX.chat_id, (say("member.home", Choice("n:home", "member.refresh")),),
            "sv", clock.now,
        )  # fmt: skip
        uow.outbox.mark_sent(row, clock.now)
        uow.commit()
    for answer in (lambda: alex.send("1"), lambda: alex.tap("n:home")):
        answer()
        assert alex.ids()[0] == "common.stale_choice"  # the consent question comes first
        assert alex.choices() == ["Ja, det är okej", "Berätta mer", "Nej tack", "Språk / Language"]
    assert consents(sessions) == []


@pytest.mark.parametrize("typed", ["ja", "Japp!", "okej", "yes", "Ja, det är okej"])
def test_a_typed_yes_is_a_yes(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: SeededCase,
    typed: str,
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.send(typed)
    assert alex.ids() == ["consent.thanks_ask_age", "consent.age"]
    assert consents(sessions) == [("bot", True, False)]


@pytest.mark.parametrize("typed", ["nej", "Nä.", "no"])
def test_a_typed_no_is_a_no(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: SeededCase,
    typed: str,
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.send(typed)
    assert alex.ids() == ["consent.declined"]
    assert consents(sessions) == [("bot", False, False)]


def test_an_answer_that_is_no_yes_or_no_is_asked_again_briefly(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    alex = chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.send("kanske")
    # The long explanation is not sent again: a short question with the same three buttons.
    assert alex.ids() == ["consent.ask_again"]
    assert "Innan vi börjar" not in alex.text()
    assert len(alex.text()) < 120
    assert alex.choices() == ["Ja, det är okej", "Berätta mer", "Nej tack", "Språk / Language"]
    alex.send("japp")
    assert alex.said("consent.age")


def test_a_caregiver_answers_the_sharing_question_by_typing_yes(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> None:
    kim = chat(sessions, catalogue, clock, KIM)
    kim.send(f"/start {case.caregiver_code}")
    kim.send("ja")
    assert kim.said("consent.sip")
    kim.send("nej")
    assert kim.said("consent.sip.saved_no")
    assert consents(sessions) == [("bot", True, False), ("sip", False, False)]
