"""One family case through the real Telegram adapter: what is private stays out of the group.

Alex (the young person), Kim and Robin (caregivers) join in their private chats and write
private things, each a unique canary. Then the family uses its group chat, with the
coordinator Sara in it too, and tries every command that shows something private. The group
must see no canary in any text, button or file, no file at all, and get a short pointer to
the private chat for each private-only command; the private chats must keep working (Alex's
/minadata there does carry her canaries, which proves the test can see a leak).
"""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.files import FileMaker
from bot.followup_report import file_makers
from bot.ics import meeting_file_makers
from bot.privacy_files import PersonalDataFile
from flows.conversation import ConversationRef
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, publish, seed_family_case
from tests.support.strict_bot_api import StrictBotApi
from tests.support.telegram_driver import (
    RunningBot,
    TelegramUser,
    running_bot,
    visible,
)
from tests.support.telegram_emulator import BotMessage, EmulatedUser, EmulatorClient

pytestmark = pytest.mark.slow

ALEX = EmulatedUser(id=6001, first_name="Alex", language_code="sv")
KIM = EmulatedUser(id=6002, first_name="Kim", language_code="sv")
ROBIN = EmulatedUser(id=6003, first_name="Robin", language_code="sv")
SARA = EmulatedUser(id=6004, first_name="Sara", language_code="sv")
FAMILY_GROUP = -100600

# Letters and digits only: no HTML escaping or JSON \u-escaping can hide one from a search.
ALEX_QUESTION = "KanarieFraga4QX7"
ALEX_VIEW = "KanarieBild8ZR2"
ALEX_COMMENT = "KanarieDelvis3MW9"
ALEX_REASON = "KanarieMote5TK1"
KIM_PRIVATE = "KanarieKim2PV6"
ALEX_CANARIES = (ALEX_QUESTION, ALEX_VIEW, ALEX_COMMENT, ALEX_REASON)
CANARIES = (*ALEX_CANARIES, KIM_PRIVATE)

PICTURE = "Alex trivs med fotbollen men har svårt att sova."
# What the consent text says in a private chat; it is false in a group, where others read.
PRIVATE_PROMISE = re.compile(r"det du skriver (här )?ser bara du", re.IGNORECASE)


def family_case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """The families' seed, its coordinator Sara on Telegram, and a published shared picture."""
    case = seed_family_case(sessions, clock.now)
    with UnitOfWork(sessions) as uow:
        uow.cases.link_identity(
            case.coordinator_id, ConversationRef("telegram", str(SARA.id), str(SARA.id))
        )
        uow.commit()
    # Published before anyone is on Telegram: no notice arrives in the middle of a turn.
    publish(sessions, case, PICTURE, clock.now)
    return case


def the_products_files(clock: FakeClock) -> dict[str, FileMaker]:
    """The file makers `samverkan run` registers: exports, calendar files, reports."""
    return {
        **file_makers(clock),
        **meeting_file_makers(),
        PersonalDataFile.kind: PersonalDataFile(),
    }


def shown(message: BotMessage) -> str:
    """Everything a reader of a message sees: its text or caption and its button labels."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    labels = [str(button.get("text", "")) for row in rows for button in row]
    return "\n".join([visible(message), *labels])


def links(message: BotMessage) -> list[str]:
    """The URLs a message offers: its URL buttons and the links in its HTML text."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    urls = [str(button["url"]) for row in rows for button in row if "url" in button]
    text = str(message.get("text") or message.get("caption") or "")
    in_text = re.findall(r"""href=["']([^"']+)["']""", text)
    in_text += [u.rstrip(".,;:!?)") for u in re.findall(r"https?://[^\s<>\"'«»]+", text)]
    return urls + in_text


def pointer_problems(turn: list[BotMessage], bot_username: str) -> list[str]:
    """What keeps a turn from being one short message with "privat" and a t.me link to us."""
    if len(turn) != 1:
        return [f"{len(turn)} messages instead of one pointer: {[shown(m) for m in turn]}"]
    [pointer] = turn
    problems = []
    if "privat" not in visible(pointer).lower():
        problems.append(f"no «privat» in {shown(pointer)!r}")
    to_bot = re.compile(rf"https://t\.me/{re.escape(bot_username)}([/?#].*)?$", re.IGNORECASE)
    if not any(to_bot.match(url) for url in links(pointer)):
        problems.append(f"no link to t.me/{bot_username} in {shown(pointer)!r}")
    return problems


def canaries_in(messages: list[BotMessage], canaries: tuple[str, ...]) -> list[str]:
    """Each message (text, caption, button labels) that shows a canary, with the canaries."""
    found = []
    for message in messages:
        leaked = [c for c in canaries if c in shown(message)]
        if leaked:
            found.append(f"{leaked} in {shown(message)!r}")
    return found


def test_a_family_group_sees_nothing_private_and_gets_pointers_to_the_private_chat(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    case = family_case(db, clock)

    async def conversation() -> None:
        async with running_bot(
            emulator, strict, db, catalogue, clock=clock, file_makers=the_products_files(clock)
        ) as bot:
            username = bot.service.application.bot.username
            await in_private_chats(bot, case)
            # Every finding in the group is listed, not just the first.
            findings = await in_the_family_group(bot, username)
            assert findings == [], "the family group:\n" + "\n".join(findings)
            await private_chats_still_work(bot)
            assert strict.state.rejected == []

    asyncio.run(conversation())


async def in_private_chats(bot: RunningBot, case: FamilyCase) -> None:
    """Everyone joins by deep link and says yes; Alex and Kim write private things."""
    kim_code, robin_code = case.caregiver_codes
    alex = bot.user(ALEX)
    await alex.command("/start", case.youth_code)
    assert "Välkommen, Alex! Nu är du med." in alex.text()
    await alex.says_yes()
    await alex.tap("Mina frågor")
    await alex.say(ALEX_QUESTION)
    assert "Sparat!" in alex.text() and ALEX_QUESTION in alex.text()
    await alex.command("/meny")
    await alex.tap("Min bild")
    await alex.say(ALEX_VIEW)  # what works well
    assert "Vad är svårt" in alex.text(), "the view was taken, the next part asked"
    await alex.command("/bild")
    assert PICTURE in alex.text()
    await alex.tap("Stämmer delvis")
    await alex.say(ALEX_COMMENT)
    assert "Tack" in alex.text()
    await alex.command("/nyttmote")
    await alex.say(ALEX_REASON)
    assert "Be om ett nytt möte" in alex.labels(), "back at the menu after the request"

    kim = bot.user(KIM)
    await kim.command("/start", kim_code)
    await kim.says_yes(youth=False)
    await kim.tap("Skriv något nytt")
    await kim.tap("Vår bild")
    await kim.say(KIM_PRIVATE)
    assert f"{KIM_PRIVATE} (Kim, bara du)" in kim.text()

    robin = bot.user(ROBIN)
    await robin.command("/start", robin_code)
    await robin.says_yes(youth=False)
    assert "Hej Robin!" in robin.text()


async def in_the_family_group(bot: RunningBot, username: str) -> list[str]:
    """Every private command in the group; what went wrong there (nothing, when it works)."""
    alex, kim, robin, sara = (
        bot.user(person, FAMILY_GROUP, "group") for person in (ALEX, KIM, ROBIN, SARA)
    )
    findings: list[str] = []

    async def private_only(person: TelegramUser, command: str) -> None:
        """A command whose answer is private to the sender gets only a pointer here."""
        await person.command(f"/{command}@{username}")
        problems = pointer_problems(person.turn, username)
        findings.extend(f"{person.user.first_name} /{command}: {p}" for p in problems)

    # In a group Telegram sends the bot only commands addressed to it (privacy mode).
    await private_only(alex, "minadata")
    await private_only(alex, "nyttmote")
    # The shared picture is the whole case's; answering it again must not quote the
    # earlier private comment here.
    await alex.command(f"/bild@{username}")
    if any("Stämmer delvis" in label for label in alex.labels()):
        await alex.tap("Stämmer delvis")
    await private_only(alex, "meny")

    # The adults' menu is for the group too; the list there holds no one's private line
    # (Kim's own "bara du" line included: Robin reads the group).
    for adult in (robin, kim):
        await adult.command(f"/meny@{username}")
        if any("Vår lista" in label for label in adult.labels()):
            await adult.tap("Vår lista")

    await private_only(sara, "meny")  # the coordinator's menu: invites, agenda
    # The agenda as Sara may read it holds what the family shared with her: never here.
    await private_only(sara, "dagordning")
    # The plan is the family's together; in the group it may show, but nothing private.
    await alex.command(f"/plan@{username}")
    await kim.command(f"/plan@{username}")
    # Consent is Kim's own; if the group is shown anything, it must be true there.
    await kim.command(f"/samtycke@{username}")
    if any("privat" in visible(m).lower() for m in kim.turn):
        findings.extend(f"Kim /samtycke: {p}" for p in pointer_problems(kim.turn, username))
    await private_only(kim, "glommig")

    group = await bot.emulator.bot_messages(FAMILY_GROUP)
    findings.extend(f"canary {found}" for found in canaries_in(group, CANARIES))
    findings.extend(
        f"a file: {m['upload'].get('filename') if 'upload' in m else m.get('document')}"
        for m in group
        if {"document", "photo", "upload"} & m.keys()
    )
    for upload in bot.strict.state.uploads:
        leaked = [c for c in CANARIES if c.encode() in upload.data]
        if upload.chat_id == str(FAMILY_GROUP) and leaked:
            findings.append(f"canaries {leaked} in the file {upload.filename}")
    findings.extend(
        f"a text that says only the writer sees: {visible(m)!r}"
        for m in group
        if PRIVATE_PROMISE.search(visible(m))
    )
    return findings


async def private_chats_still_work(bot: RunningBot) -> None:
    """Afterwards each private chat answers as before; Alex's export has her canaries."""
    alex = bot.user(ALEX)
    await alex.command("/minadata")
    [export] = [u for u in bot.strict.state.uploads if u.chat_id == str(ALEX.id)]
    assert export.method == "sendDocument" and export.filename.endswith(".json")
    for canary in ALEX_CANARIES:
        assert canary.encode() in export.data, f"{canary} missing from Alex's own export"

    kim = bot.user(KIM)
    await kim.command("/meny")
    await kim.tap("Vår lista")
    assert f"{KIM_PRIVATE} (Kim, bara du)" in kim.text(), "Kim still sees her own line"

    robin = bot.user(ROBIN)
    await robin.command("/meny")
    await robin.tap("Vår lista")
    assert "Listan är tom." in robin.text(), "Kim's line is hers until she shows it"

    # Nobody else's private chat got what Alex or Kim wrote for themselves. The coordinator
    # is told Alex's picture comment and meeting reason: that is what they are written for.
    for person, canaries in (
        (KIM, ALEX_CANARIES),
        (ROBIN, CANARIES),
        (SARA, (ALEX_QUESTION, ALEX_VIEW, KIM_PRIVATE)),
    ):
        found = canaries_in(await bot.emulator.bot_messages(person.id), canaries)
        assert found == [], f"{person.first_name}'s private chat: {found}"
